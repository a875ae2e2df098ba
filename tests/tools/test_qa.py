"""LLM tools with a scripted chat backend: exact prompt bytes, retries, the last-action rules, Code."""

from __future__ import annotations

import pytest

from lumos.formats.actions import parse_action
from lumos.tools.base import ToolCall, ToolError
from lumos.tools.code import LLMCode, extract_code
from lumos.tools.qa import QA, QACalculator, QACode, final_answer

EVIDENCE = "Evidence 1: Her father was the poet Lord Byron.\nEvidence 2: She died in 1852.\n"
QUESTION = "Who was the father of Ada Lovelace?"


def call(line: str, variables: dict, **ctx) -> ToolCall:
    return ToolCall(parse_action(line), variables, **ctx)


def test_qa_sends_the_original_prompt_bytes(scripted_chat):
    llm = scripted_chat(["Answer: Lord Byron"])
    out = QA(llm)(call(f"R3 = QA([R2], Question: {QUESTION})", {"R2": EVIDENCE}))
    assert llm.prompts == [
        "Please answer the following question according to the context. Please answer with one brief entity, "
        "beginning with 'Answer: '. If the answer can't be found in the context, answer 'No answer'. No more details "
        "and explanations.\n\nQuestion: Who was the father of Ada Lovelace?\nContext: Evidence 1: Her father was the "
        "poet Lord Byron.\nEvidence 2: She died in 1852.\n"
    ]
    assert out.value == "Question: Who was the father of Ada Lovelace?; Answer: Lord Byron"
    assert out.extra["prompts"] == llm.prompts


def test_qa_context_from_several_variables_and_lists(scripted_chat):
    llm = scripted_chat(["Answer: yes"])
    variables = {"R3": "Question: a?; Answer: 3.", "R6": ["T *** x", "T *** y"]}
    QA(llm)(call("R7 = QA([R3, R6], Question: Is it?)", variables))
    assert llm.prompts[0].endswith("Question: Is it?\nContext: Question: a?; Answer: 3.\nT *** x\nT *** y\n")


def test_no_answer_retries_without_context(scripted_chat):
    llm = scripted_chat(["No answer", "Answer: Lord Byron"])
    out = QA(llm)(call(f"R3 = QA([R2], Question: {QUESTION})", {"R2": EVIDENCE}))
    assert llm.prompts[1] == (
        "Please answer the following question. Please answer with one brief entity, beginning with 'Answer: '. If the "
        "answer can't be answered, output 'No answer'. No more details and explanations.\n\n"
        "Question: Who was the father of Ada Lovelace?\n"
    )
    assert out.value.endswith("; Answer: Lord Byron")


def test_yes_no_questions_are_forced(scripted_chat):
    llm = scripted_chat(["No answer", "Answer: no"])
    out = QA(llm, last_question="yes_no")(call("R7 = QA([R3], Question: Did he write Don Juan?)", {"R3": "x"}, is_last=True))
    assert llm.prompts[1] == (
        "Please answer the following question. Please answer with one brief entity, beginning with 'Answer: '.\n\n"
        "Question: Did he write Don Juan? Must answer yes/no.\n"
    )
    assert out.value == "Question: Did he write Don Juan? Must answer yes/no.; Answer: no"


def test_last_action_asks_the_task_then_falls_back_to_its_own_question(scripted_chat):
    llm = scripted_chat(["No answer", "No answer", "Answer: 1815"])
    task = "When was the daughter of Lord Byron born?"
    out = QA(llm)(call("R5 = QA([R4], Question: When was Ada born?)", {"R4": "x"}, task=task, is_last=True))
    assert [p.split("Question: ")[1].split("\n")[0] for p in llm.prompts] == [task, task, "When was Ada born?"]
    assert out.value == "Question: When was Ada born?; Answer: 1815"
    llm = scripted_chat(["Answer: 1815"])
    QA(llm)(call("R5 = QA([R4], Question: When was Ada born?)", {"R4": "x"}, task=task, is_last=False))
    assert "Question: When was Ada born?\n" in llm.prompts[0]


def test_qa_without_model_or_with_bad_arguments(scripted_chat):
    with pytest.raises(ToolError, match="needs a language model"):
        QA(None)(call("R3 = QA([R2], Question: q)", {"R2": "x"}))
    with pytest.raises(ToolError, match="Question:"):
        QA(scripted_chat(["x"]))(call("R3 = QA(R2 and a question)", {"R2": "x"}))


def test_backend_failures_become_tool_errors(scripted_chat):
    def boom(prompt):
        raise ConnectionError("server down")

    with pytest.raises(ToolError, match="server down"):
        QA(scripted_chat(boom))(call("R3 = QA([R2], Question: q)", {"R2": "x"}))


def test_calculator_uses_sympy_for_arithmetic(scripted_chat, math_engine):
    llm = scripted_chat([])
    tool = QACalculator(math_engine, llm)
    variables = {"R3": "Question: How many kids did Julius Caesar have?; Answer: 3.",
                 "R6": "Question: How many kids did Genghis Khan have?; Answer: 16."}  # fmt: skip
    out = tool(call("R7 = Calculator(R6 > R3)", variables, subgoal="Subgoal 3: Determine if Genghis Khan had more kids."))
    assert out.value == "Question: Determine if Genghis Khan had more kids.; Answer: yes"  # the form a yes/no question expects
    assert llm.prompts == []
    out = tool(call("R7 = Calculator(R6 < R3)", variables, subgoal="Subgoal 3: True or false: Caesar had more kids?"))
    assert out.value.endswith("Answer: False")
    out = tool(call("R8 = Calculator(100,000 - R3)", variables, subgoal="Subgoal 4: Calculate the difference."))
    assert out.value.endswith("Answer: 99997")


def test_calculator_falls_back_to_the_original_llm_path(scripted_chat, math_engine):
    llm = scripted_chat(["Answer: yes"])
    tool = QACalculator(math_engine, llm)
    variables = {"R3": "Question: Who is older?; Answer: the dog.", "R6": "Question: x?; Answer: a seal."}
    out = tool(call("R7 = Calculator(R6 > R3)", variables, subgoal="No, I will keep planning. Subgoal 3: Is the seal older?"))
    # operators stripped, variables as "value." (the original's context), the subgoal text as question
    assert llm.prompts[0].endswith(
        "Question: Is the seal older?\nContext: Question: x?; Answer: a seal..  Question: Who is older?; Answer: the dog..\n"
    )
    assert out.value == "Question: Is the seal older?; Answer: yes"
    with pytest.raises(ToolError, match="no QA model"):
        QACalculator(math_engine, None)(call("R7 = Calculator(R6 > R3)", variables, subgoal="Subgoal 3: x"))


def test_final_answer_over_question_results(scripted_chat):
    llm = scripted_chat(["Answer: yes"])
    results = ["Question: a?; Answer: American.", ["list", "items"], "Question: b?; Answer: American."]
    value, prompts = final_answer(llm, "Were they of the same nationality?", results)
    assert prompts[0].endswith("Context: Question: a?; Answer: American.; Question: b?; Answer: American.;\n")
    assert value == "Question: Were they of the same nationality?; Answer: yes"


# ------------------------------------------------------------------------------------------------
# Code: LLM writes Python, the sandbox runs it
# ------------------------------------------------------------------------------------------------
def test_code_runs_the_generated_program_in_the_sandbox(scripted_chat):
    llm = scripted_chat(["Here you go:\n```python\nx = 64\nprint('thinking')\nprint(x if x > 0 else -x)\n```"])
    out = QACode(LLMCode(llm, timeout_s=5))(call("R9 = Code(If R8 > 0, R8, -R8)", {"R8": "Question: n?; Answer: 64."}))
    assert llm.prompts[0].endswith("Pseudo code: If 64 > 0, 64, -64\n")
    assert out.value == "64"
    assert out.extra["code"].startswith("x = 64") and out.extra["sandbox"]


def test_code_failures_are_tool_errors(scripted_chat):
    llm = scripted_chat(["```python\nimport os\nos.system('echo hi')\n```", "```python\nx = 1\n```"])
    tool = QACode(LLMCode(llm, timeout_s=5))
    with pytest.raises(ToolError, match="the generated code failed: PermissionError"):
        tool(call("R1 = Code(run a shell)", {}))
    with pytest.raises(ToolError, match="printed nothing"):
        tool(call("R1 = Code(nothing)", {}))
    with pytest.raises(ToolError, match="needs a language model"):
        QACode(None)(call("R1 = Code(x)", {}))


def test_extract_code():
    assert extract_code("```py\nprint(1)\n```") == "print(1)\n"
    assert extract_code("print(2)") == "print(2)"
    with pytest.raises(ToolError):
        extract_code("``````")


def test_unlabelled_replies_are_labelled_with_their_first_line(scripted_chat):
    llm = scripted_chat(["\n Shirley Temple\nShe was an actress.", "Answer: Lord Byron", "No answer", "No answer"])
    out = QA(llm)(call("R3 = QA([R2], Question: Who portrayed Corliss Archer?)", {"R2": "ctx"}))
    assert out.value == "Question: Who portrayed Corliss Archer?; Answer: Shirley Temple"
    out = QA(llm)(call("R3 = QA([R2], Question: Who was his father?)", {"R2": "ctx"}))
    assert out.value == "Question: Who was his father?; Answer: Lord Byron"
    out = QA(llm)(call("R3 = QA([R2], Question: Who?)", {"R2": "ctx"}))
    assert out.value == "Question: Who?; No answer"
