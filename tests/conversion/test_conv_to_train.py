"""Training files built from held-out converted annotations equal the original's output (docs/original.md, "Training files").

The expected rows below were derived by hand from the original's rules, line by line, for the fixtures in
``tests/fixtures/conversion/<domain>_converted.json``; only the long grounding instruction prefixes are taken from
``lumos.formats.prompts`` (whose text is checked verbatim once here).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from lumos.conversion import baselines, to_train
from lumos.conversion.to_train import parse_training_action
from lumos.formats import render_training_action
from lumos.formats.prompts import GROUND_INSTRUCTION

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "conversion"
PLAN = "Please provide a reasonable subgoal-based plan to solve the given task.\nTask: "
ENV = "; Initial Environment Description: None."
STOP = "Yes, I will stop planning."
KEEP = "No, I will keep planning. "
G_MATHS = GROUND_INSTRUCTION["maths"]
G_QA = GROUND_INSTRUCTION["complex_qa"]
G_WEB = GROUND_INSTRUCTION["web_agent"]


def u(text: str) -> dict[str, str]:
    return {"role": "user", "content": text}


def a(text: str) -> dict[str, str]:
    return {"role": "assistant", "content": text}


def fb(k: int, result: str) -> dict[str, str]:
    return u(f"The executed result for Subgoal {k} is {result}. Should we stop planning?")


def build(tmp_path: Path, domain: str, formulation: str) -> Path:
    root = tmp_path / "train"
    conv = root / domain / "converted"
    conv.mkdir(parents=True, exist_ok=True)
    shutil.copy(FIXTURES / f"{domain}_converted.json", conv / f"{domain}_converted.json")
    args = to_train.build_parser().parse_args(["--domain", domain, "--formulation", formulation, "--data_root", str(root)])
    to_train.run(args)
    return root / domain / "train_annots"


def check_file(path: Path, domain: str, expected: list[list[dict[str, str]]]) -> None:
    rows = [{"dataset": domain, "id": f"{domain}_{i}", "messages": m} for i, m in enumerate(expected)]
    want = "".join(json.dumps(r) + "\n" for r in rows)  # the original wrote json.dumps defaults
    got = path.read_text(encoding="utf-8")
    if got != want:  # a readable diff first
        assert [json.loads(line) for line in got.splitlines()] == rows
    assert got == want


def test_grounding_prefix_is_the_spec_text():
    assert G_MATHS == (
        "Please ground the given subgoal to corresponding executable actions for solving the given task. The grounded "
        "actions must be the one in available action list.\n\nThe available action list is 'Calculator', 'SetEquation', "
        "'SolveEquation', 'Count', 'SolveInequality', 'Code', and 'Define'.\nCalculator(formula): Calculate the input "
        "formula; SetEquation(equation): Set up an equation to be solved; SolveEquation(equation): Solve the previous "
        "set equation; Count(list): Count the number of elements in the given list; SolveInequality(inequality): Solve "
        "the previous set inequality; Code(pseudo_code): Generate a Python function that corresponds to the pseudo "
        "code; Define(variable/number): Define a variable or a number for latter usage.\n\n"
    )


# ------------------------------------------------------------------------------------------------------------------
# maths: 7 records. M1 and M5 end their only subgoal in Output; M4 has a subgoal without actions; M6 / M7 have
# unbalanced parentheses.
# ------------------------------------------------------------------------------------------------------------------
M_TASKS = [
    "A farmer has 3 pens with 4 sheep in each pen. How many sheep does the farmer have?",
    "Two pens cost $1.50 each. How much change do you get from $5?",
    "Some apples and 3 more make 10 apples. How many apples were there at first?",
    "What is 6 times 7?",
    "A spider has 8 legs. How many legs do 2 spiders have?",
    "Take 4 from 10, double it and add 3. What do you get?",
    "What is 2 plus 3?",
]


def test_maths_plan_iterative(tmp_path):
    out = build(tmp_path, "maths", "lumos_iterative")
    expected = [
        # M1 dropped: its last variable is Output and no R<n> was seen before (the original's NameError).
        [u(PLAN + M_TASKS[1] + ENV), a("Subgoal 1: Calculate the price of the two pens."), fb(1, "3"),
         a(KEEP + "Subgoal 2: Calculate the change from $5."), fb(2, "2"), a(STOP)],
        [u(PLAN + M_TASKS[2] + ENV), a("Subgoal 1: Define the unknown number of apples."), fb(1, "x"),
         a(KEEP + "Subgoal 2: Set up and solve the equation for the apples."), fb(2, "7"),
         a(KEEP + "Subgoal 3: Report the number of apples."), fb(3, "7"), a(STOP)],
        # M4 dropped: "Subgoal 1: Read the problem." has no action line.
        [u(PLAN + M_TASKS[4] + ENV), a("Subgoal 1: Calculate the legs of 2 spiders."), fb(1, "16"), a(STOP)],
        [u(PLAN + M_TASKS[5] + ENV), a("Subgoal 1: Calculate the doubled difference."), fb(1, "12"),
         a(KEEP + "Subgoal 2: Add 3 to the result."), fb(2, "15"), a(STOP)],
        [u(PLAN + M_TASKS[6] + ENV), a("Subgoal 1: Add 2 and 3."), fb(1, "5"), a(STOP)],
    ]
    check_file(out / "lumos_maths_plan_iterative.jsonl", "maths", expected)


def test_maths_ground_iterative(tmp_path):
    out = build(tmp_path, "maths", "lumos_iterative")
    first = "Subgoal to be grounded: "
    expected = [
        [u(G_MATHS + f"Task: {M_TASKS[1]} \n{first}Subgoal 1: Calculate the price of the two pens.\n"),
         a("R1 = Calculator(2 * 1.5)"),
         u(f"{first}Subgoal 2: Calculate the change from $5.\n"), a("R2 = Calculator(5 - R1)")],
        [u(G_MATHS + f"Task: {M_TASKS[2]} \n{first}Subgoal 1: Define the unknown number of apples.\n"),
         a("R1 = Define(x)"),
         u(f"{first}Subgoal 2: Set up and solve the equation for the apples.\n"),
         a("R2 = SetEquation(x + 3 = 10); R3 = SolveEquation(R2)"),
         u(f"{first}Subgoal 3: Report the number of apples.\n"),
         a("R4 = (R3)")],  # "Output = R3 = 7" -> "Output = (R3)", Output renamed to R(3+1)
        # M5's Output is renamed after the index left by M3 (the original's variable outlives the record).
        [u(G_MATHS + f"Task: {M_TASKS[4]} \n{first}Subgoal 1: Calculate the legs of 2 spiders.\n"),
         a("R4 = Calculator(2 * 8)")],
        [u(G_MATHS + f"Task: {M_TASKS[5]} \n{first}Subgoal 1: Calculate the doubled difference.\n"),
         a("R1 = Calculator((10 - 4)"),  # the parenthesis never closes: args end at the last ')'
         u(f"{first}Subgoal 2: Add 3 to the result.\n"), a("R2 = Calculator(R1 + 3)")],
        [u(G_MATHS + f"Task: {M_TASKS[6]} \n{first}Subgoal 1: Add 2 and 3.\n"),
         a("R1 = Calculator(2 + 3))")],  # ') = ' not after the matching ')': args run to the last ' = '
    ]
    check_file(out / "lumos_maths_ground_iterative.jsonl", "maths", expected)
    report = json.loads((out / "metrics_lumos_iterative.json").read_text())
    ground = next(f for f in report["files"] if f["path"].endswith("ground_iterative.jsonl"))
    assert ground["rows"] == 5
    assert ground["dropped"] == {
        "Output-like last variable before any R<number> (no index to rename it after)": 1,
        "a subgoal without action lines": 1,
    }


def test_maths_onetime(tmp_path):
    out = build(tmp_path, "maths", "lumos_onetime")
    plans = [
        "Subgoal 1: Calculate the number of sheep.",
        "Subgoal 1: Calculate the price of the two pens.; Subgoal 2: Calculate the change from $5.",
        "Subgoal 1: Define the unknown number of apples.; Subgoal 2: Set up and solve the equation for the apples.; "
        "Subgoal 3: Report the number of apples.",
        "Subgoal 1: Read the problem.; Subgoal 2: Calculate 6 times 7.",
        "Subgoal 1: Calculate the legs of 2 spiders.",
        "Subgoal 1: Calculate the doubled difference.; Subgoal 2: Add 3 to the result.",
        "Subgoal 1: Add 2 and 3.",
    ]
    targets = [
        "Output = Calculator(3 * 4)",  # no Output renaming in one-time targets
        "R1 = Calculator(2 * 1.5); R2 = Calculator(5 - R1)",
        "R1 = Define(x); R2 = SetEquation(x + 3 = 10); R3 = SolveEquation(R2); Output = (R3)",
        "R1 = Calculator(6 * 7)",
        "Output = Calculator(2 * 8)",
        "R1 = Calculator((10 - 4); R2 = Calculator(R1 + 3)",
        "R1 = Calculator(2 + 3))",
    ]
    check_file(out / "lumos_maths_plan_onetime.jsonl", "maths",
               [[u(PLAN + t + ENV), a(p)] for t, p in zip(M_TASKS, plans)])
    check_file(out / "lumos_maths_ground_onetime.jsonl", "maths",
               [[u(G_MATHS + f"Task: {t} \nSubgoals to be grounded: {p}\n"), a(g)] for t, p, g in zip(M_TASKS, plans, targets)])


# ------------------------------------------------------------------------------------------------------------------
# complex_qa: C1 has 11 subgoals (lexicographic order of earlier results), C2 the KnowledgeQuery pattern,
# C3 a Calculator combination.
# ------------------------------------------------------------------------------------------------------------------
C1 = "Which clue comes last?"
C2 = "Were the authors of Dune and Emma born in the same country?"
C3 = "Is a week longer than five days?"
LEXICOGRAPHIC = [1, 10, 2, 3, 4, 5, 6, 7, 8, 9]  # sorted("Subgoal 1" .. "Subgoal 10")


def _c1_ground() -> list[dict[str, str]]:
    msgs = [u(G_QA + f"Task: {C1} \nSubgoal to be grounded: Subgoal 1: Find clue 1.\n"),
            a("R1 = QA([], Question: What is clue 1?)")]
    for k in range(2, 12):
        listed = "".join(f" The execution result for Subgoal {j} is c{j}." for j in LEXICOGRAPHIC if j < k)
        msgs += [u(f"Subgoal to be grounded: Subgoal {k}: Find clue {k}. The grounding could be based on the "
                   f"following results:{listed}\n"),
                 a(f"R{k} = QA([], Question: What is clue {k}?)")]
    return msgs


def test_complex_qa_iterative(tmp_path):
    out = build(tmp_path, "complex_qa", "lumos_iterative")
    c1_plan = [u(PLAN + C1 + ENV)]
    for k in range(1, 12):
        c1_plan += [a(("" if k == 1 else KEEP) + f"Subgoal {k}: Find clue {k}."), fb(k, f"c{k}")]
    plans = [
        [*c1_plan, a(STOP)],
        [u(PLAN + C2 + ENV), a("Subgoal 1: Obtain the author of Dune."), fb(1, "Frank Herbert"),
         a(KEEP + "Subgoal 2: Obtain the author of Emma."), fb(2, "Jane Austen"),
         a(KEEP + "Subgoal 3: Determine if the two authors were born in the same country."), fb(3, "False"), a(STOP)],
        [u(PLAN + C3 + ENV), a("Subgoal 1: Obtain the number of days in a week."), fb(1, "7"),
         a(KEEP + "Subgoal 2: Determine if the number of days is greater than 5."), fb(2, "True"), a(STOP)],
    ]
    check_file(out / "lumos_complex_qa_plan_iterative.jsonl", "complex_qa", plans)
    c11 = _c1_ground()[-2]["content"]
    assert c11 == ("Subgoal to be grounded: Subgoal 11: Find clue 11. The grounding could be based on the following "
                   "results: The execution result for Subgoal 1 is c1. The execution result for Subgoal 10 is c10. The "
                   "execution result for Subgoal 2 is c2. The execution result for Subgoal 3 is c3. The execution result "
                   "for Subgoal 4 is c4. The execution result for Subgoal 5 is c5. The execution result for Subgoal 6 is "
                   "c6. The execution result for Subgoal 7 is c7. The execution result for Subgoal 8 is c8. The "
                   "execution result for Subgoal 9 is c9.\n")
    grounds = [
        _c1_ground(),
        [u(G_QA + f"Task: {C2} \nSubgoal to be grounded: Subgoal 1: Obtain the author of Dune.\n"),
         a("R1 = KnowledgeQuery(Dune (novel)); R2 = ParagraphRetrieve(R1, Query: Who wrote Dune?); "
           "R3 = QA([R2], Question: Who wrote Dune?)"),
         u("Subgoal to be grounded: Subgoal 2: Obtain the author of Emma. The grounding could be based on the "
           "following results: The execution result for Subgoal 1 is Frank Herbert.\n"),
         a("R4 = KnowledgeQuery(Emma (novel)); R5 = ParagraphRetrieve(R4, Query: Who wrote Emma?); "
           "R6 = QA([R5], Question: Who wrote Emma?)"),
         u("Subgoal to be grounded: Subgoal 3: Determine if the two authors were born in the same country. The "
           "grounding could be based on the following results: The execution result for Subgoal 1 is Frank Herbert. "
           "The execution result for Subgoal 2 is Jane Austen.\n"),
         a("R7 = QA([R3, R6], Question: Were Frank Herbert and Jane Austen born in the same country?)")],
        [u(G_QA + f"Task: {C3} \nSubgoal to be grounded: Subgoal 1: Obtain the number of days in a week.\n"),
         a("R1 = KnowledgeQuery(Week); R2 = ParagraphRetrieve(R1, Query: How many days does a week have?); "
           "R3 = QA([R2], Question: How many days does a week have?)"),
         u("Subgoal to be grounded: Subgoal 2: Determine if the number of days is greater than 5. The grounding "
           "could be based on the following results: The execution result for Subgoal 1 is 7.\n"),
         a("R4 = Calculator(R3 > 5)")],
    ]
    check_file(out / "lumos_complex_qa_ground_iterative.jsonl", "complex_qa", grounds)


def test_complex_qa_onetime(tmp_path):
    out = build(tmp_path, "complex_qa", "lumos_onetime")
    c1_plan = "; ".join(f"Subgoal {k}: Find clue {k}." for k in range(1, 12))
    c2_plan = ("Subgoal 1: Obtain the author of Dune.; Subgoal 2: Obtain the author of Emma.; Subgoal 3: Determine if "
               "the two authors were born in the same country.")
    c3_plan = "Subgoal 1: Obtain the number of days in a week.; Subgoal 2: Determine if the number of days is greater than 5."
    check_file(out / "lumos_complex_qa_plan_onetime.jsonl", "complex_qa",
               [[u(PLAN + C1 + ENV), a(c1_plan)], [u(PLAN + C2 + ENV), a(c2_plan)], [u(PLAN + C3 + ENV), a(c3_plan)]])
    c1_target = "; ".join(f"R{k} = QA([], Question: What is clue {k}?)" for k in range(1, 12))
    c2_target = ("R1 = KnowledgeQuery(Dune (novel)); R2 = ParagraphRetrieve(R1, Query: Who wrote Dune?); "
                 "R3 = QA([R2], Question: Who wrote Dune?); R4 = KnowledgeQuery(Emma (novel)); "
                 "R5 = ParagraphRetrieve(R4, Query: Who wrote Emma?); R6 = QA([R5], Question: Who wrote Emma?); "
                 "R7 = QA([R3, R6], Question: Were Frank Herbert and Jane Austen born in the same country?)")
    c3_target = ("R1 = KnowledgeQuery(Week); R2 = ParagraphRetrieve(R1, Query: How many days does a week have?); "
                 "R3 = QA([R2], Question: How many days does a week have?); R4 = Calculator(R3 > 5)")
    check_file(out / "lumos_complex_qa_ground_onetime.jsonl", "complex_qa", [
        [u(G_QA + f"Task: {t} \nSubgoals to be grounded: {p}\n"), a(g)]
        for t, p, g in ((C1, c1_plan, c1_target), (C2, c2_plan, c2_target), (C3, c3_plan, c3_target))])


# ------------------------------------------------------------------------------------------------------------------
# web_agent: W1 normal (a subgoal text containing ': '), W2 without / with two final periods, W3 a subgoal
# without actions.
# ------------------------------------------------------------------------------------------------------------------
W = ["Show laptops sorted by lowest price.", "Search trains from Boston.", "Open the deals page."]


def test_web_agent_iterative(tmp_path):
    out = build(tmp_path, "web_agent", "lumos_iterative")
    plans = [
        [u(PLAN + W[0] + ENV), a("Subgoal 1: Open the laptops category."),
         u("We have already open the laptops category. Should we stop planning?"),
         a(KEEP + "Subgoal 2: Select Price: Low to High in Sort by."),
         u("We have already select Price: Low to High in Sort by. Should we stop planning?"), a(STOP)],
        [u(PLAN + W[1] + ENV), a("Subgoal 1: Click on Trains"),
         u("We have already click on Trains. Should we stop planning?"),
         a(KEEP + "Subgoal 2: Type Boston (MA) in From.."),
         u("We have already type Boston (MA) in From. Should we stop planning?"), a(STOP)],
    ]
    check_file(out / "lumos_web_agent_plan_iterative.jsonl", "web_agent", plans)
    grounds = [
        [u(G_WEB + f"Task: {W[0]} \nSubgoal to be grounded: Subgoal 1: Open the laptops category.\n"),
         a("R1 = CLICK(Env, QUERY: Open the laptops category)"),
         u("Subgoal to be grounded: Subgoal 2: Select Price: Low to High in Sort by.\n"),
         a("R2 = SELECT(R1, QUERY: Select Price: Low to High in Sort by, TEXT: Price: Low to High)")],
        [u(G_WEB + f"Task: {W[1]} \nSubgoal to be grounded: Subgoal 1: Click on Trains\n"),
         a("R1 = CLICK(Env, QUERY: Click on Trains)"),
         u("Subgoal to be grounded: Subgoal 2: Type Boston (MA) in From..\n"),
         a("R2 = TYPE(R1, QUERY: Type Boston (MA) in From, TEXT: Boston (MA))")],
    ]
    check_file(out / "lumos_web_agent_ground_iterative.jsonl", "web_agent", grounds)


def test_web_agent_onetime(tmp_path):
    out = build(tmp_path, "web_agent", "lumos_onetime")
    plans = ["Subgoal 1: Open the laptops category.; Subgoal 2: Select Price: Low to High in Sort by.",
             "Subgoal 1: Click on Trains; Subgoal 2: Type Boston (MA) in From..",
             "Subgoal 1: Open the deals page.; Subgoal 2: Click on Deals."]
    targets = ["R1 = CLICK(Env, QUERY: Open the laptops category); "
               "R2 = SELECT(R1, QUERY: Select Price: Low to High in Sort by, TEXT: Price: Low to High)",
               "R1 = CLICK(Env, QUERY: Click on Trains); R2 = TYPE(R1, QUERY: Type Boston (MA) in From, TEXT: Boston (MA))",
               "R1 = CLICK(Env, QUERY: Click on Deals)"]
    check_file(out / "lumos_web_agent_plan_onetime.jsonl", "web_agent", [[u(PLAN + t + ENV), a(p)] for t, p in zip(W, plans)])
    check_file(out / "lumos_web_agent_ground_onetime.jsonl", "web_agent",
               [[u(G_WEB + f"Task: {t} \nSubgoals to be grounded: {p}\n"), a(g)] for t, p, g in zip(W, plans, targets)])


# ------------------------------------------------------------------------------------------------------------------
# The action-line conventions one by one, and the other formulations
# ------------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("line", "target", "result"), [
    ("Action 1-1: R1 = Calculator(2 * 3) = 6 ", "R1 = Calculator(2 * 3)", "6"),
    ("Action 1-2: R5, R6 = SolveEquation(R2=xy, R3=x/y) = -9/8, -3/5", "R5, R6 = SolveEquation(R2=xy, R3=x/y)", "-9/8, -3/5"),
    ("Action 4-1: Output = R9 = 40 ", "Output = (R9)", "40"),
    ("Action 1-1: R1 = Calculator(2 * 3)", "R1 = Calculator(2 * 3)", "2 * 3"),  # no result: result = args
    ("Action 1-1: R1 = Calculator(2 * 3).", "R1 = Calculator(2 * 3)", "2 * 3"),
    ("Action 1-1: R1 = Calculator(2 * 3) =", "R1 = Calculator(2 * 3)", ""),
    ("Action 1-1: R1 = Calculator(2 * 3) =5", "R1 = Calculator(2 * 3)", "5"),
    ("Action 1-1: R1 = Calculator(2 * (3) = 6", "R1 = Calculator(2 * (3)", "2 * (3"),
])
def test_training_action_conventions(line, target, result):
    action, got = parse_training_action(line, "maths")
    assert (render_training_action(action), got) == (target, result)


def test_web_action_keeps_everything_between_the_outer_parentheses():
    action, result = parse_training_action("Action 3-1: R3 = TYPE(R2, QUERY: Type (a) city, TEXT: Paris). ", "web_agent")
    assert (render_training_action(action), result) == ("R3 = TYPE(R2, QUERY: Type (a) city, TEXT: Paris)", "")


def test_degenerate_records_are_dropped_and_counted(tmp_path):
    conv = tmp_path / "train" / "maths" / "converted"
    conv.mkdir(parents=True)
    rows = [{"task": "t0", "subgoal_plan": "I cannot convert this."},
            {"task": "t1", "subgoal_plan": "Subgoal 1: Add.\nAction 1-1: R1 = Calculator(1 + 1) = 2"},
            {"task": "t2", "subgoal_plan": "Subgoal 1: Add.\nthe answer is 2"}]
    (conv / "b_converted.json").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (conv / "b_converted.json.failed.jsonl").write_text('{"id": "x", "reason": "timeout"}\n')  # side file: skipped
    (conv / "b_converted.json.metrics.json").write_text("{}")
    reports = to_train.build_lumos("maths", conv, tmp_path / "out", "lumos_onetime")
    plan, ground = reports
    assert plan.rows == 2 and plan.dropped_degenerate == {"no 'Subgoal 1' in subgoal_plan": 1}
    assert ground.rows == 1
    assert ground.dropped_degenerate == {"no 'Subgoal 1' in subgoal_plan": 1, "an action line lumos.formats cannot parse": 1}


def test_integrated_holds_plan_then_ground_dialogues(tmp_path):
    out = build(tmp_path, "web_agent", "integrated")
    rows = [json.loads(line) for line in (out / "lumos_web_agent_integrated.jsonl").read_text().splitlines()]
    assert [r["id"] for r in rows] == ["web_agent_plan_0", "web_agent_plan_1", "web_agent_ground_0", "web_agent_ground_1"]
    assert rows[0]["messages"][-1] == a(STOP)
    assert rows[2]["messages"][1] == a("R1 = CLICK(Env, QUERY: Open the laptops category)")


def test_unified_concatenates_iterative_files(tmp_path):
    for domain in ("maths", "web_agent"):
        build(tmp_path, domain, "lumos_iterative")
    root = tmp_path / "train"
    to_train.run(to_train.build_parser().parse_args(["--unified", "maths,web_agent", "--data_root", str(root)]))
    unified = (root / "unified" / "train_annots" / "lumos_unified_plan_iterative.jsonl").read_text()
    parts = [(root / d / "train_annots" / f"lumos_{d}_plan_iterative.jsonl").read_text() for d in ("maths", "web_agent")]
    assert unified == "".join(parts)


def test_cot_and_direct_complex_qa(tmp_path):
    conv = tmp_path / "conv"
    conv.mkdir()
    plan = ("We find relevant facts: A week has seven days. We need to answer these questions: 1. How many days does a "
            "week have? (Can be answered based on paragraph 'Week-1') 2. Is #1 greater than 5? Based on these evidences "
            "and decomposed questions, the answer is True.")
    (conv / "s_converted.json").write_text(json.dumps({"task": C3, "natural_language_plan": plan, "subgoal_plan": "x"}) + "\n")
    [report] = baselines.build_cot("complex_qa", conv, tmp_path / "raw", tmp_path / "out")
    row = json.loads((tmp_path / "out" / "complex_qa_cot.jsonl").read_text())
    assert row["messages"] == [u(C3), a("We find relevant facts: A week has seven days. Based on these evidences and "
                                        "decomposed questions, the answer is True.")]
    raw = tmp_path / "raw"
    raw.mkdir()
    shutil.copy(FIXTURES / "strategyqa_train.json", raw / "strategyqa_train.json")
    shutil.copy(FIXTURES / "musique_train.jsonl", raw / "musique_full_v1.0_train.jsonl")
    baselines.build_direct("complex_qa", raw, tmp_path / "out")
    rows = [json.loads(line) for line in (tmp_path / "out" / "complex_qa_direct.jsonl").read_text().splitlines()]
    assert rows[0]["messages"][1]["content"] == "Ada Fenwick"  # MuSiQue first, as the original
    assert rows[-1]["messages"][1]["content"] in ("True", "False")


def test_cot_maths_from_gsm8k(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    line = {"question": "Q?", "answer": "She has 2 * 3 = <<2*3=6>>6 eggs.\nThen 6 + 1 = <<6+1=7>>7.\n#### 7"}
    (raw / "gsm8k_train.jsonl").write_text(json.dumps(line) + "\n")
    baselines.build_cot("maths", tmp_path / "conv", raw, tmp_path / "out")
    row = json.loads((tmp_path / "out" / "maths_cot.jsonl").read_text())
    assert row["messages"][1]["content"] == "She has 2 * 3 = <<2*3=6>>6 eggs. Then 6 + 1 = <<6+1=7>>7. Answer is 7."
    baselines.build_direct("maths", raw, tmp_path / "out")
    assert json.loads((tmp_path / "out" / "maths_direct.jsonl").read_text())["messages"][1]["content"] == "7"


def test_unknown_formulation_is_an_error(tmp_path):
    args = to_train.build_parser().parse_args(["--formulation", "lumos-iterative", "--data_root", str(tmp_path)])
    assert to_train.main(["--formulation", "lumos-iterative", "--data_root", str(tmp_path)]) == 2
    with pytest.raises(Exception, match="unknown formulation"):
        to_train.run(args)


def test_converted_files_are_read_in_name_order(tmp_path):
    conv = tmp_path / "converted"
    conv.mkdir()
    for name in ("b_converted.json", "a_converted.json", "a_converted.json.failed.jsonl", ".a_converted.json.tmp"):
        (conv / name).write_text(json.dumps({"task": name, "subgoal_plan": "Subgoal 1: x"}) + "\n")
    assert [p.name for p in to_train.converted_files(conv)] == ["a_converted.json", "b_converted.json"]
    assert [rec["task"] for _, rec in to_train.read_converted(conv)] == ["a_converted.json", "b_converted.json"]
