"""The agent loop driven by ScriptedBackend and stub tools: exact prompt bytes (docs/original.md's HotpotQA trace),
stop rule, caps, failure recovery, batching of unfinished episodes only."""

from __future__ import annotations

import json

import pytest

from lumos.agent.episode import Episode, StandardDialogue, bare_answer, final_answer
from lumos.agent.loop import AgentConfig, run_episodes
from lumos.agent.trajectory import Trajectory
from lumos.answers import maths_cot, qa_cot
from lumos.benchmarks.base import Example
from lumos.formats.prompts import GROUND_INSTRUCTION
from lumos.inference.scripted import ScriptedBackend
from lumos.tools.base import ToolError

Q = "Were Scott Derrickson and Ed Wood of the same nationality?"
G_QA = GROUND_INSTRUCTION["complex_qa"]
G_MATHS = GROUND_INSTRUCTION["maths"]
PLAN_HEAD = (
    "<|user|>\nPlease provide a reasonable subgoal-based plan to solve the given task.\n"
    f"Task: {Q}; Initial Environment Description: None.\n<|assistant|>\n"
)
S1 = "Subgoal 1: Obtain the nationality of Scott Derrickson."
S2 = "Subgoal 2: Obtain the nationality of Ed Wood."
S3 = "Subgoal 3: Determine if Scott Derrickson and Ed Wood have the same nationality."
A1 = ("R1 = KnowledgeQuery(Scott Derrickson); R2 = ParagraphRetrieve(R1, Query: What is the nationality of Scott "
      "Derrickson?); R3 = QA([R2], Question: What is the nationality of Scott Derrickson?)")
A2 = ("R4 = KnowledgeQuery(Ed Wood); R5 = ParagraphRetrieve(R4, Query: What is the nationality of Ed Wood?); "
      "R6 = QA([R5], Question: What is the nationality of Ed Wood?)")
A3 = "R7 = QA([R3, R6], Question: Are Scott Derrickson and Ed Wood of the same nationality?)"


def run_agent(tasks, *, planner, grounder, tools, config, domain, max_subgoals=5, execute=None, on_finish=None):
    """Episodes over ``tasks`` sharing ``tools`` (the answer benchmarks' shape), run to the end; their trajectories."""
    eps = [Episode(example=Example(str(i), t, ""), task=t, tools=tools, scorer=lambda ep: {},
                   dialogue=StandardDialogue(domain, list_earlier_results=domain == "complex_qa"), max_subgoals=max_subgoals)
           for i, t in enumerate(tasks)]
    run_episodes(eps, planner=planner, grounder=grounder, config=config, execute=execute, on_finish=on_finish)
    return [ep.trajectory for ep in eps]


def qa_tools(fn_tool):
    def qa(call):
        q = call.action.args.split("Question: ", 1)[1]
        return f"Question: {q}; Answer: {'Yes' if 'same' in q else 'American'}"

    return {
        "KnowledgeQuery": fn_tool("KnowledgeQuery", lambda c: [f"{c.action.args} *** a sentence"]),
        "ParagraphRetrieve": fn_tool("ParagraphRetrieve", lambda c: "Evidence 1: American director.\n"),
        "QA": fn_tool("QA", qa),
    }


def trace_backends():
    planner = ScriptedBackend([S1 + "\nextra line", "No, I will keep planning. " + S2,
                               "No, I will keep planning. " + S3, "Yes, I will stop planning."])
    grounder = ScriptedBackend([A1, A2, A3])
    return planner, grounder


def test_iterative_hotpotqa_trace_original_style(fn_tool, execute):
    planner, grounder = trace_backends()
    cfg = AgentConfig(formulation="lumos_iterative")
    [traj] = run_agent([Q], planner=planner, grounder=grounder, tools=qa_tools(fn_tool), config=cfg, domain="complex_qa", max_subgoals=5, execute=execute)
    fb = "\n\n<|user|>\nThe executed result for Subgoal {k} is American. Should we stop planning?\n<|assistant|>\n"
    assert planner.calls[0] == PLAN_HEAD
    assert planner.calls[1] == PLAN_HEAD + S1 + fb.format(k=1)
    assert planner.calls[2] == planner.calls[1] + "No, I will keep planning. " + S2 + fb.format(k=2)
    assert planner.calls[3] == (planner.calls[2] + "No, I will keep planning. " + S3 + "\n\n<|user|>\nThe executed "
                                "result for Subgoal 3 is Yes. Should we stop planning?\n<|assistant|>\n")
    g1 = f"<|user|>\n{G_QA}Task: {Q} \nSubgoal to be grounded: {S1}\n<|assistant|>\n"
    assert grounder.calls[0] == g1
    g2 = g1 + A1 + ("\n\n<|user|>\nSubgoal to be grounded: " + S2 + " The grounding could be based on the following "
                    "results: The execution result for Subgoal 1 is American\n<|assistant|>\n")
    assert grounder.calls[1] == g2  # docs/original.md trace, step i=3, byte for byte (keep-planning prefix removed)
    g3 = g2 + A2 + ("\n\n<|user|>\nSubgoal to be grounded: " + S3 + " The grounding could be based on the following "
                    "results: The execution result for Subgoal 1 is American The execution result for Subgoal 2 is "
                    "American\n<|assistant|>\n")
    assert grounder.calls[2] == g3  # docs/original.md trace, step i=5
    assert traj.status == "done" and traj.prediction == "Yes"
    assert [s.subgoals for s in traj.steps] == [[S1], [S2], [S3], []]
    assert traj.steps[-1].stop and traj.steps[0].plan_output == S1  # cut at the newline
    assert traj.steps[0].results[0]["value"] == ["Scott Derrickson *** a sentence"]
    assert traj.variables["R7"].endswith("Answer: Yes")


def test_iterative_consistent_style_uses_eos_between_turns(fn_tool, execute):
    planner, grounder = trace_backends()
    cfg = AgentConfig(formulation="lumos_iterative", prompt_style="consistent")
    run_agent([Q], planner=planner, grounder=grounder, tools=qa_tools(fn_tool), config=cfg, domain="complex_qa", execute=execute)
    assert planner.calls[1] == (PLAN_HEAD + S1 + "</s>\n<|user|>\nThe executed result for Subgoal 1 is American. "
                                "Should we stop planning?\n<|assistant|>\n")
    assert grounder.calls[1].startswith(f"<|user|>\n{G_QA}Task: {Q} \nSubgoal to be grounded: {S1}\n<|assistant|>\n"
                                        + A1 + "</s>\n<|user|>\nSubgoal to be grounded: " + S2)


MATH_Q = "Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May. How many?"
M_PLAN = "Subgoal 1: Calculate the clips sold in May.; Subgoal 2: Calculate the total."
M_GROUND = "R1 = Calculator(48 / 2); Output = Calculator(48 + R1)"


def calc_tools(fn_tool):
    def calc(call):
        expr = call.action.args
        for k, v in call.variables.items():
            expr = expr.replace(k, str(v))
        a, op, b = expr.split()
        return {"/": lambda: int(a) // int(b), "+": lambda: int(a) + int(b)}[op]()

    return {"Calculator": fn_tool("Calculator", calc)}


@pytest.mark.parametrize("style,bos_sep", [("original", "\n\n"), ("consistent", "</s>\n")])
def test_onetime_maths_prompts_and_answer(fn_tool, execute, style, bos_sep):
    planner, grounder = ScriptedBackend([M_PLAN]), ScriptedBackend([M_GROUND])
    tools = calc_tools(fn_tool)
    cfg = AgentConfig(formulation="lumos_onetime", prompt_style=style)
    [traj] = run_agent([MATH_Q], planner=planner, grounder=grounder, tools=tools, config=cfg, domain="maths", execute=execute)
    assert planner.calls == [
        "<|user|>\nPlease provide a reasonable subgoal-based plan to solve the given task.\n"
        f"Task: {MATH_Q}; Initial Environment Description: None.\n<|assistant|>\n"
    ]
    assert grounder.calls == [f"<|user|>\n{G_MATHS}Task: {MATH_Q} \nSubgoals to be grounded: {M_PLAN}\n<|assistant|>\n"]
    assert traj.status == "done" and traj.prediction == "72"  # Output wins over the highest R
    assert traj.steps[0].subgoals == ["Subgoal 1: Calculate the clips sold in May.", "Subgoal 2: Calculate the total."]
    assert tools["Calculator"].calls[-1].is_last and tools["Calculator"].calls[-1].subgoals == tuple(traj.subgoals)


def test_iterative_maths_ground_followup_drops_keep_planning_prefix(fn_tool, execute):
    planner = ScriptedBackend(["Subgoal 1: Halve 48.", "No, I will keep planning. Subgoal 2: Add.",
                               "Yes, I will stop planning."])
    grounder = ScriptedBackend(["R1 = Calculator(48 / 2)", "R2 = Calculator(48 + R1)"])
    cfg = AgentConfig(formulation="lumos_iterative")
    [traj] = run_agent([MATH_Q], planner=planner, grounder=grounder, tools=calc_tools(fn_tool), config=cfg, domain="maths", max_subgoals=8,
                       execute=execute)
    assert grounder.calls[1].endswith(
        "R1 = Calculator(48 / 2)\n\n<|user|>\nSubgoal to be grounded: Subgoal 2: Add.\n<|assistant|>\n")
    assert "The executed result for Subgoal 1 is 24. Should we stop planning?" in planner.calls[1]
    assert traj.prediction == "72" and traj.status == "done"


def test_stop_at_first_plan_gives_no_grounding(fn_tool, execute):
    planner, grounder = ScriptedBackend(["Yes, I will stop planning."]), ScriptedBackend([])
    cfg = AgentConfig(formulation="lumos_iterative")
    [traj] = run_agent(["t"], planner=planner, grounder=grounder, tools={}, config=cfg, domain="maths", execute=execute)
    assert traj.status == "done" and grounder.calls == [] and traj.prediction is None


def test_max_subgoals_caps_and_only_unfinished_tasks_are_sent(fn_tool, execute):
    def plan(prompt):
        k = prompt.count("<|assistant|>")
        return "Yes, I will stop planning." if "stop-early" in prompt and k == 2 else f"Subgoal {k}: Step {k}."

    planner = ScriptedBackend(plan)
    grounder = ScriptedBackend(lambda p: f"R{p.count('<|assistant|>')} = Calculator(1 + 1)")
    tools = {"Calculator": fn_tool("Calculator", lambda c: 2)}
    cfg = AgentConfig(formulation="lumos_iterative", batch_size=4)
    trajs = run_agent(["stop-early", "runs-long"], planner=planner, grounder=grounder, tools=tools, config=cfg, domain="maths", max_subgoals=2,
                      execute=execute)
    assert [t.status for t in trajs] == ["done", "max_subgoals"]
    assert [len(t.subgoals) for t in trajs] == [1, 2]
    assert planner.batches == [2, 2]  # round 2: both tasks still unfinished
    assert grounder.batches == [2, 1]  # the stopped task is not grounded again
    assert trajs[1].prediction == "2"


def test_tool_error_ends_only_that_task(fn_tool, execute):
    def calc(call):
        if "bad" in call.task:
            raise ToolError("division by zero")
        return 5

    planner = ScriptedBackend(lambda p: "Subgoal 1: Go." if p.count("<|assistant|>") == 1 else "Yes, I will stop planning.")
    grounder = ScriptedBackend(lambda p: "R1 = Calculator(1 / 0)")
    cfg = AgentConfig(formulation="lumos_iterative")
    trajs = run_agent(["bad task", "good task"], planner=planner, grounder=grounder,
                      tools={"Calculator": fn_tool("Calculator", calc)}, config=cfg, domain="maths", execute=execute)
    assert trajs[0].status == "tool_error" and "division by zero" in trajs[0].error
    assert trajs[0].steps[0].results[0]["error"] == "division by zero" and trajs[0].prediction is None
    assert trajs[1].status == "done" and trajs[1].prediction == "5"


def test_parse_errors_are_recorded(fn_tool, execute):
    planner = ScriptedBackend(lambda p: "I think the answer is 4" if "A" in p else "Subgoal 1: Go.")
    grounder = ScriptedBackend(lambda p: "Calculator 1+1")
    cfg = AgentConfig(formulation="lumos_iterative")
    trajs = run_agent(["A task", "B task"], planner=planner, grounder=grounder, tools={}, config=cfg, domain="maths", execute=execute)
    assert [t.status for t in trajs] == ["parse_error", "parse_error"]
    assert trajs[0].error.startswith("plan:") and trajs[1].error.startswith("ground:")
    assert trajs[1].steps[0].ground_output == "Calculator 1+1"


def test_pool_refills_and_on_finish_once_per_task(execute):
    planner, grounder = ScriptedBackend(lambda p: "garbage"), ScriptedBackend([])
    seen = []
    cfg = AgentConfig(formulation="lumos_onetime", batch_size=2)
    run_agent(["a", "b", "c"], planner=planner, grounder=grounder, tools={}, config=cfg, domain="maths", execute=execute,
              on_finish=lambda ep: seen.append(ep.example.id))
    assert planner.batches == [2, 1] and sorted(seen) == ["0", "1", "2"]


@pytest.mark.parametrize("formulation,output,extract,pred", [
    ("cot", "Natalia sold 48/2 = 24 clips in May. Answer is 72.", maths_cot, "72"),
    ("cot", "Based on these evidences and decomposed questions, the answer is True.", qa_cot, "yes"),
    ("direct", "72", lambda out: out, "72"),
])
def test_cot_and_direct(formulation, output, extract, pred):
    model = ScriptedBackend([output])
    eps = [Episode(example=Example("0", MATH_Q, ""), task=MATH_Q, tools={}, scorer=lambda e: {},
                   answer_of_output=extract)]
    run_episodes(eps, planner=model, grounder=None, config=AgentConfig(formulation=formulation))
    traj = eps[0].trajectory
    assert model.calls == [f"<|user|>\n{MATH_Q}\n<|assistant|>\n"] and traj.prediction == pred


def test_trajectory_json_roundtrip(fn_tool, execute):
    planner, grounder = trace_backends()
    [traj] = run_agent([Q], planner=planner, grounder=grounder, tools=qa_tools(fn_tool),
                       config=AgentConfig(formulation="lumos_iterative"), domain="complex_qa", execute=execute)
    d = json.loads(json.dumps(traj.to_dict()))
    assert Trajectory.from_dict(d).to_dict() == d


def test_answer_helpers():
    assert bare_answer("Question: Who?; Answer: American.") == "American"
    assert bare_answer(["a", "b"]) is None and bare_answer("Evidence 1: x\nEvidence 2: y") is None
    def ep(variables):
        e = Episode(example=Example("0", "t", ""), task="t", tools={}, scorer=lambda e: {})
        e.variables.update(variables)
        return e

    assert final_answer(ep({"R1": "3", "R10": "5", "R2": "4"})) == "5"
    assert final_answer(ep({"R1": "3", "Output": "9"})) == "9" and final_answer(ep({})) is None
    assert maths_cot("no marker") is None


def test_config_rejects_unknown_values():
    with pytest.raises(ValueError, match="lumos_iterative"):
        AgentConfig(formulation="lumos-iterative")
    with pytest.raises(ValueError, match="prompt style"):
        AgentConfig(formulation="cot", prompt_style="fancy")


@pytest.mark.parametrize("policy,status,executed", [("end", "tool_error", 1), ("continue", "done", 2)])
def test_a_failed_action_ends_the_task_as_in_the_original(fn_tool, execute, policy, status, executed):
    def calc(call):
        if "1 / 0" in call.action.args:
            raise ToolError("division by zero")
        return 7

    tool = fn_tool("Calculator", calc)
    planner = ScriptedBackend(lambda p: "Subgoal 1: Go." if p.count("<|assistant|>") == 1 else "Yes, I will stop planning.")
    grounder = ScriptedBackend(lambda p: "R1 = Calculator(1 / 0); R2 = Calculator(3 + 4)")
    [traj] = run_agent(["t"], planner=planner, grounder=grounder, tools={"Calculator": tool}, domain="maths",
                       config=AgentConfig(formulation="lumos_iterative", failed_action=policy), execute=execute)
    assert traj.status == status and len(tool.calls) == executed
    assert traj.prediction == (None if policy == "end" else "7")


@pytest.mark.parametrize("predict_at_cap,prediction", [(True, "2"), (False, None)])
def test_prediction_at_the_subgoal_cap_follows_the_benchmark(fn_tool, execute, predict_at_cap, prediction):
    planner = ScriptedBackend(lambda p: f"Subgoal {p.count('<|assistant|>')}: Again.")
    grounder = ScriptedBackend(lambda p: f"R{p.count('<|assistant|>')} = Calculator(1 + 1)")
    ep = Episode(example=Example("0", "t", ""), task="t", tools={"Calculator": fn_tool("Calculator", lambda c: 2)},
                 scorer=lambda e: {}, max_subgoals=2, predict_at_cap=predict_at_cap)
    run_episodes([ep], planner=planner, grounder=grounder, config=AgentConfig(formulation="lumos_iterative"))
    assert ep.trajectory.status == "max_subgoals" and ep.trajectory.prediction == prediction


@pytest.mark.parametrize("value,feedback,listed", [
    ("24", "24", "24"),
    ("x + 3 = 11", "11", "x + 3 = 11"),                                        # an equation: its right side
    ("Question: Who?; Answer: American.", "American", "American."),            # period kept where training kept it
    ("Question: How many?; Answer: 3 = three", "three", "3 = three"),
    ("U.S.", "U.S", "U.S."),
    (["a", "b"], "a, b", None),
    ("Evidence 1: x\nEvidence 2: y", "Evidence 1: x\nEvidence 2: y", None),
])
def test_feedback_and_listed_results_as_in_the_training_files(value, feedback, listed):
    from lumos.agent.episode import answer_text, feedback_text

    assert feedback_text(value) == feedback and answer_text(value) == listed
