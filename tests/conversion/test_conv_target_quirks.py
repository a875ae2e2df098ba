"""Grounding targets the original wrote broken: kept byte for byte by default and counted; dropped with ``--strict_targets``.

The original's ``parse_actions`` re-serialised every action line as ``vars = Name(args)``. On lines GPT-4 wrote
badly it produced targets our agent's parser rejects, or that no longer say what the line said:

* ``R1 = Calculator(48/2 = 24`` (no closing parenthesis): arguments cut at the last ``)`` -> ``Calculator(48/2 = 2)``;
* ``R1 = Calculator(2 + 3)) = 5``: unbalanced -> ``Calculator(2 + 3))``;
* an invisible character in the call name or arguments (``Calculator\\u200b(``, ``\\x08``);
* ``Output = R9 = 40`` -> ``Output = (R9)`` (the original's normal assignment form; counted, never dropped).

Each row below is a real-shaped converted record (GSM8K / StrategyQA style).
"""

from __future__ import annotations

import json
from pathlib import Path

from lumos.conversion import to_train
from lumos.formats import parse_actions

CUT = to_train.QUIRK_CUT
UNBALANCED = to_train.QUIRK_UNBALANCED
NAME = to_train.QUIRK_NAME
INVISIBLE = to_train.QUIRK_INVISIBLE
ASSIGNMENT = to_train.QUIRK_ASSIGNMENT

MATHS = [
    {"id": "gsm8k:train:10", "task": "Weng earns $12 an hour for babysitting. Yesterday, she just did 50 minutes of "
     "babysitting. How much did she earn?", "subgoal_plan":
     "Subgoal 1: Calculate the earnings per minute.\nAction 1-1: R1 = Calculator(12/60) = 0.2\n\n"
     "Subgoal 2: Calculate the earnings for 50 minutes.\nAction 2-1: R2 = Calculator(R1 * 50) = 10"},
    {"id": "gsm8k:train:11", "task": "Natalia sold clips to 48 of her friends in April, and then she sold half as many "
     "clips in May. How many clips did Natalia sell in May?", "subgoal_plan":
     "Subgoal 1: Calculate the clips sold in May.\nAction 1-1: R1 = Calculator(48/2 = 24"},
    {"id": "gsm8k:train:12", "task": "What is 2 plus 3?", "subgoal_plan":
     "Subgoal 1: Add 2 and 3.\nAction 1-1: R1 = Calculator(2 + 3)) = 5"},
    {"id": "gsm8k:train:13", "task": "A pen costs $2. How much do 3 pens cost?", "subgoal_plan":
     "Subgoal 1: Calculate the cost of 3 pens.\nAction 1-1: R1 = Calculator\u200b(2 * 3) = 6"},
    {"id": "gsm8k:train:14", "task": "Tom has 4 boxes of 5 pencils. How many pencils?", "subgoal_plan":
     "Subgoal 1: Calculate the pencils.\nAction 1-1: R1 = Calculator(4 *\x08 5) = 20\n\n"
     "Subgoal 2: Report the answer.\nAction 2-1: Output = R1 = 20"},
]  # fmt: skip
QA = [
    {"id": "strategyqa:train:3", "task": "Could a llama birth twice during the War in Vietnam (1945-46)?",
     "subgoal_plan": "Subgoal 1: Obtain the gestation period of a llama.\n"
     "Action 1-1: R1 = KnowledgeQuery(llama) = WikipediaPage: Llama...\n"
     "Action 1-2: R2 = QA([R1], Question: How long is the gestation period of [a llama?) = 11 months."},
]  # fmt: skip


def build(tmp_path: Path, domain: str, rows: list[dict], formulation: str, *extra: str) -> tuple[Path, dict]:
    root = tmp_path / "train"
    conv = root / domain / "converted"
    conv.mkdir(parents=True, exist_ok=True)
    (conv / f"{domain}_converted.json").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    args = to_train.build_parser().parse_args(["--domain", domain, "--formulation", formulation, "--data_root",
                                               str(root), *extra])  # fmt: skip
    to_train.run(args)
    out = root / domain / "train_annots"
    metrics = json.loads((out / f"metrics_{formulation}.json").read_text())
    return out, metrics


def ground_report(metrics: dict) -> dict:
    return next(f for f in metrics["files"] if "_ground_" in f["path"])


def targets(path: Path) -> list[list[str]]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return [[m["content"] for m in r["messages"] if m["role"] == "assistant"] for r in rows]


def test_iterative_default_keeps_the_original_bytes_and_counts(tmp_path):
    out, metrics = build(tmp_path, "maths", MATHS, "lumos_iterative")
    got = targets(out / "lumos_maths_ground_iterative.jsonl")
    assert got == [
        ["R1 = Calculator(12/60)", "R2 = Calculator(R1 * 50)"],
        ["R1 = Calculator(48/2 = 2)"],  # what the original wrote: "24" lost its last character
        ["R1 = Calculator(2 + 3))"],
        ["R1 = Calculator\u200b(2 * 3)"],
        ["R1 = Calculator(4 *\x08 5)", "R2 = (R1)"],  # Output renamed after R1, as the original did
    ]
    report = ground_report(metrics)
    assert report["rows"] == 5 and report["target_lines"] == 7
    assert report["target_line_quirks"] == {CUT: 1, UNBALANCED: 1, NAME: 1, INVISIBLE: 2, ASSIGNMENT: 1}
    assert report["rows_with_target_quirks"] == 4
    # every quirk but the cut and the assignment form is one our agent's parser would reject
    for rows in got[2:4]:
        try:
            parse_actions(rows[0])
            raise AssertionError(f"{rows[0]!r} parsed")
        except ValueError:
            pass
    raw = (out / "lumos_maths_ground_iterative.jsonl").read_text(encoding="utf-8")
    assert "Calculator\\u200b(2 * 3)" in raw and "4 *\\b 5" in raw  # json.dumps escapes, as the original's did


def test_onetime_and_complex_qa_are_counted_too(tmp_path):
    _, metrics = build(tmp_path, "maths", MATHS, "lumos_onetime")
    assert ground_report(metrics)["target_line_quirks"] == {CUT: 1, UNBALANCED: 1, NAME: 1, INVISIBLE: 2,
                                                            ASSIGNMENT: 1}  # fmt: skip
    out, metrics = build(tmp_path / "qa", "complex_qa", QA, "lumos_iterative")
    assert targets(out / "lumos_complex_qa_ground_iterative.jsonl") == [
        ["R1 = KnowledgeQuery(llama); R2 = QA([R1], Question: How long is the gestation period of [a llama?)"]]
    assert ground_report(metrics)["target_line_quirks"] == {UNBALANCED: 1}


def test_strict_targets_drops_broken_records_with_a_counted_reason(tmp_path):
    out, metrics = build(tmp_path, "maths", MATHS, "lumos_iterative", "--strict_targets")
    assert targets(out / "lumos_maths_ground_iterative.jsonl") == [["R1 = Calculator(12/60)", "R2 = Calculator(R1 * 50)"]]
    report = ground_report(metrics)
    assert report["dropped"] == {
        f"grounding target: {CUT} (--strict_targets)": 1,
        f"grounding target: {UNBALANCED} (--strict_targets)": 1,
        f"grounding target: {INVISIBLE} (--strict_targets)": 2,
    }
    assert report["target_line_quirks"] == {} and report["rows_with_target_quirks"] == 0
    plan = next(f for f in metrics["files"] if "_plan_" in f["path"])
    assert plan["rows"] == 5 and "target_lines" not in plan  # plan files are not affected
    assert metrics["config"]["strict_targets"] is True


def test_clean_lines_have_no_quirks():
    for line, domain in [("Action 1-1: R1 = Calculator(2 * (3 + 4)) = 14", "maths"),
                         ("Action 1-2: R5, R6 = SolveEquation(R2=xy, R3=x/y) = -9/8, -3/5", "maths"),
                         ("Action 2-1: R2 = ParagraphRetrieve(R1, Query: Who wrote (the) song?) = ...", "complex_qa"),
                         ("Action 3-1: R3 = TYPE(R2, QUERY: Type (a) city, TEXT: Paris). ", "web_agent")]:  # fmt: skip
        action, _ = to_train.parse_training_action(line, domain)
        assert to_train.target_quirks(line, action, domain) == [], line
