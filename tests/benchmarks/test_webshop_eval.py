"""WebShop through the runtime on the offline catalogue: scripted modules, the real shop session and tools, the
original's prompts (demonstrations, forced ``R1 = ``), a purchase ending the episode with WebShop's reward, metrics
over all goals, and a resumed run that adds nothing."""

from __future__ import annotations

import json

import pytest

from lumos.config import parse_eval_args
from lumos.evaluate import evaluate
from lumos.formats.webshop_prompts import ground_prefix, plan_prefix
from lumos.inference.scripted import ScriptedBackend
from lumos.utils.io import read_jsonl

S1 = "Subgoal 1: Search two relevant items and the product names according to the instruction."
S2 = "Subgoal 2: Buy the first item."


def plan(prompt: str) -> str:
    k = prompt[len(plan_prefix()):].count("<|assistant|>")
    return S1 if k == 1 else "No, I will keep planning. " + S2


def ground(prompt: str) -> str:
    if prompt.endswith("R1 = "):
        task = prompt[len(ground_prefix()):].split("Task: ", 1)[1].split(" \n", 1)[0]
        return f"Search({task})"
    return "R2 = Pick(Item_names: R1, Item_features: [], Query: the first); R3 = Click(R2); R4 = Click(buy now)"


def _run(data_dir, save_dir):
    config, *opts = parse_eval_args(["--data_dir", str(data_dir), "--save_dir", str(save_dir), "--plan_model", "p",
                                     "--ground_model", "g", "--max_num_examples", "3", "--feature_ranker", "dense"],
                                    benchmark="webshop")
    planner, grounder = ScriptedBackend(plan), ScriptedBackend(ground)
    return evaluate(config, opts[0], planner=planner, grounder=grounder), planner, grounder


def test_webshop_episodes_buy_and_score(shared_data, tmp_path):
    result, planner, grounder = _run(shared_data, tmp_path / "run")
    preds = read_jsonl(tmp_path / "run" / "predictions.jsonl")
    assert result["n"] == 3 and len(preds) == 3
    for rec in preds:
        traj = rec["trajectory"]
        assert rec["status"] == "done" and traj["terminated"] and len(traj["steps"]) == 2
        info = traj["env_info"]
        assert rec["prediction"] == info["asin"] and set(info) >= {"reward", "r_type", "r_att", "options", "price"}
        assert rec["scores"]["score"] == pytest.approx(100 * info["reward"])
    mean = sum(r["trajectory"]["env_info"]["reward"] for r in preds) / 3
    assert result["metrics"]["score"] == pytest.approx(100 * mean)
    assert result["ran"]["webshop_ranker"] and result["ran"]["webshop"]["goals"] == "synthetic" and result["ran"]["spacy_model"]
    # the original's prompts: demonstrations in front, R1 = forced, feedback without "Should we stop planning?"
    assert planner.calls[0].startswith(plan_prefix()) and grounder.calls[0].endswith("\n<|assistant|>\nR1 = ")
    second_plan = next(p for p in planner.calls if p.count("<|user|>") > plan_prefix().count("<|user|>") + 1)
    assert "\n\n<|user|>\nThe executed result for Subgoal 1 is " in second_plan[len(plan_prefix()):]
    assert "Should we stop planning" not in second_plan
    second_ground = next(p for p in grounder.calls if not p.endswith("R1 = "))
    assert "<|assistant|>\nR1 = Search(" in second_ground[len(ground_prefix()):] and "R1 = R1 = " not in second_ground
    # rerun: nothing to do
    again, planner2, _ = _run(shared_data, tmp_path / "run")
    assert planner2.calls == [] and again["metrics"] == result["metrics"]
    stored = json.loads((tmp_path / "run" / "config.json").read_text())
    assert stored["options"]["split"] == "test" and stored["benchmark"] == "webshop"
