"""The conversion prompt: verbatim system message / header / closing, our worked examples in the grammar."""

from __future__ import annotations

from pathlib import Path

import pytest

from lumos.conversion.arith import evaluate, parse_number
from lumos.conversion.instructions import BLOCK_OF_SOURCE, EXAMPLES, INSTRUCTION_BLOCKS, conversion_messages
from lumos.conversion.sources import load_source
from lumos.formats import parse_converted_action, parse_converted_plan
from lumos.formats.prompts import CONVERSION_CLOSING, CONVERSION_CLOSING_SPACED, CONVERSION_SYSTEM

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "conversion"
ALLOWED = {
    "maths_gsm": {"Calculator", "SolveEquation", "Count", "Define"},
    "maths_prm": {"Calculator", "SetEquation", "SolveEquation", "Count", "SolveInequality", "Code", "Define"},
    "complex_qa": {"KnowledgeQuery", "ParagraphRetrieve", "QA", "Calculator", "Code"},
    "web_agent": {"TYPE", "CLICK", "SELECT"},
    "multimodal": {"VQA", "QA"},
}


def test_blocks_keep_the_original_header_and_closing():
    gsm = INSTRUCTION_BLOCKS["maths_gsm"]
    assert gsm.startswith(
        "Please convert natural language plans into a series of subgoals and their corresponding actionsthat lead to "
        "the successful implementation with respect to the given instructions. Please use 'R[number]' to represent the "
        "intermediate results for each subgoal, without generatingany exact values. Please also use functions to "
        "represent the corresponding actions. For the actions, they must be one of 'Calculator', 'SolveEquation', "
        "'Count', and 'Define'.\n\nExample 1:\nTask: "
    )
    assert gsm.endswith(CONVERSION_CLOSING) and INSTRUCTION_BLOCKS["maths_prm"].endswith(CONVERSION_CLOSING)
    for key in ("complex_qa", "web_agent", "multimodal"):
        assert INSTRUCTION_BLOCKS[key].endswith(CONVERSION_CLOSING_SPACED)
    assert "<ACTIONS>" not in "".join(INSTRUCTION_BLOCKS.values())


@pytest.mark.parametrize("key", sorted(EXAMPLES))
def test_worked_examples_are_in_the_grammar_with_the_domain_actions(key):
    assert len(EXAMPLES[key]) >= 2
    for ex in EXAMPLES[key]:
        names = set()
        for block in parse_converted_plan(ex.subgoal_plan):
            assert block.action_lines, block
            for line in block.action_lines:
                action, result = parse_converted_action(line, web=key == "web_agent")
                names.add(action.name)
                if key == "maths_gsm" and action.name == "Calculator" and "R" not in action.args and "%" not in action.args:
                    assert evaluate(action.args) == parse_number(result)
        assert names <= ALLOWED[key], names - ALLOWED[key]


def test_messages_put_the_task_after_the_examples():
    record = load_source(FIXTURES / "gsm8k_train.jsonl")[0]
    system, user = conversion_messages(record)
    assert system == {"role": "system", "content": CONVERSION_SYSTEM}
    assert user["content"].startswith(INSTRUCTION_BLOCKS["maths_gsm"])
    assert user["content"].endswith(f"Task: {record.task}\n\nNatural language plan: {record.plan}\n\n")
    web = load_source(FIXTURES / "mind2web")[0]
    assert conversion_messages(web)[1]["content"].endswith(
        "Natural language plan: [link]  Laptops -> CLICK; [combobox]  Sort by -> SELECT: Price: Low to High\n\n")
    assert set(BLOCK_OF_SOURCE.values()) == set(INSTRUCTION_BLOCKS)


def test_a_record_without_plan_is_refused():
    record = load_source(FIXTURES / "strategyqa_train.json")[1]
    with pytest.raises(ValueError, match="no natural-language plan"):
        conversion_messages(record)
