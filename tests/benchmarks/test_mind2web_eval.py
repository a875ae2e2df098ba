"""Mind2Web through the teacher-forced runner: scripted modules on the official-format fixtures, real sessions
(bm25 ranking over each step's candidates), the gold history in the planner's prompts, a failed round that moves
on to the next gold step, steps.jsonl with a line per step, metrics over all steps equal to the scorer's, and
a resumed run that adds nothing."""

from __future__ import annotations

import json
import re

import pytest
from tiny_models import FIXTURES

from lumos.config import parse_eval_args
from lumos.conversion.rule_web import parse_action_repr
from lumos.envs.mind2web import load_split
from lumos.envs.mind2web.metrics import score_predictions
from lumos.evaluate import evaluate
from lumos.inference.scripted import ScriptedBackend
from lumos.utils.io import read_jsonl

DATA = FIXTURES / "mind2web" / "test_task_official.json"
TASKS = {t.confirmed_task: t for t in load_split(DATA, "test_task")}


def _task(prompt: str) -> str:
    return re.search(r"Task: (.*?)(?:; Initial| \n)", prompt).group(1)


def plan(prompt: str) -> str:
    k = prompt.count("<|assistant|>")
    return "Yes, I will stop planning." if k == 3 else f"Subgoal {k}: Do the next step."  # the stop is not obeyed


def ground(prompt: str) -> str:
    task = TASKS[_task(prompt)]
    k = prompt.count("<|assistant|>")
    if task.annotation_id == "fx-recipes-2" and k == 1:
        return "this is not an action"                               # a failed round: step 1 fails, step 2 follows
    _, text, op, value = parse_action_repr(task.action_reprs[k - 1])
    page = "Env" if k == 1 else f"R{k - 1}"
    op = "CLICK" if op in ("HOVER", "ENTER") else op
    tail = f", TEXT: {value}" if op in ("TYPE", "SELECT") else ""
    return f"R{k} = {op}({page}, QUERY: {text}{tail})"


def _run(save_dir, *extra):
    config, *opts = parse_eval_args(["--data_dir", str(DATA), "--split", "test_task", "--save_dir", str(save_dir),
                                     "--plan_model", "p", "--ground_model", "g", "--ranker", "bm25",
                                     "--eval_batch_size", "2", *extra], benchmark="mind2web")
    planner, grounder = ScriptedBackend(plan), ScriptedBackend(ground)
    return evaluate(config, opts[0], planner=planner, grounder=grounder), planner, grounder


def test_teacher_forced_runner_end_to_end(tmp_path):
    result, planner, grounder = _run(tmp_path / "run")
    steps = read_jsonl(tmp_path / "run" / "steps.jsonl")
    assert result["n"] == 3 and len(steps) == 7 == sum(len(t.steps) for t in TASKS.values())
    preds = {r["id"]: r for r in read_jsonl(tmp_path / "run" / "predictions.jsonl")}
    assert all(r["status"] == "done" and r["trajectory"]["terminated"] for r in preds.values())
    recipes = preds["fx-recipes-2"]["trajectory"]["steps"]
    assert recipes[0]["error"].startswith("ground:") and recipes[1]["error"] is None
    assert [s["operation"] for s in steps if s["annotation_id"] == "fx-recipes-2"] == [None, "CLICK"]
    # the planner saw the gold history (phrased), not its own outputs; the stop sentence did not end the task
    third = next(p for p in planner.calls if "Find one-way flights" in p and p.count("<|assistant|>") == 3)
    assert "Subgoal 2: " in third and "in the textbox Leaving from" in third
    assert "We have already " in third and "Do the next step" not in third
    assert preds["fx-flights-1"]["trajectory"]["steps"][2]["subgoals"] == ["Yes, I will stop planning."]
    # metrics over all gold steps equal the official scorer's on steps.jsonl
    official = score_predictions(list(TASKS.values()), steps)
    assert result["metrics"]["step_sr_micro"] == pytest.approx(official["step_sr"]["micro"])
    assert result["metrics"]["step_sr_macro"] == pytest.approx(official["step_sr"]["macro"])
    assert result["metrics"]["element_acc_micro"] == pytest.approx(official["element_acc"]["micro"])
    assert result["metrics"]["task_sr"] == pytest.approx(official["task_sr"])
    assert result["metrics"]["lumos_step_sr"] == pytest.approx(official["lumos_step_sr"])
    assert 0 < result["metrics"]["step_sr_micro"] < 1 and result["ran"]["mind2web"]["protocol"] == "ranked"
    # rerun: nothing to do, nothing duplicated
    again, planner2, _ = _run(tmp_path / "run")
    assert planner2.calls == [] and again["metrics"] == result["metrics"]
    assert read_jsonl(tmp_path / "run" / "steps.jsonl") == steps


def test_original_candidate_protocol_offers_the_gold(tmp_path):
    ranked, _, _ = _run(tmp_path / "ranked")
    original, _, _ = _run(tmp_path / "original", "--candidates", "original")
    assert original["ran"]["mind2web"]["protocol"] == "original"
    assert original["metrics"]["element_acc_micro"] >= ranked["metrics"]["element_acc_micro"]
    assert json.loads((tmp_path / "original" / "config.json").read_text())["options"]["candidates"] == "original"
