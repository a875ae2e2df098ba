"""InterCode-SQL through the runtime: scripted modules, real SQLite execution of the test dump, InterCode's reward,
per-hardness metrics, the environment's table list in the first prompt, earlier results in grounding requests,
and a resumed run that adds nothing."""

from __future__ import annotations

import json
import re

import pytest
from tiny_models import FIXTURES

from lumos.config import parse_eval_args
from lumos.evaluate import evaluate
from lumos.inference.scripted import ScriptedBackend
from lumos.utils.io import read_jsonl

DATA = FIXTURES / "intercode_sql" / "mini_dev.json"
DUMP = FIXTURES / "intercode_sql" / "mini_dbs.sql"
PLANS = ["Subgoal 1: Find the columns of the relevant table.", "Subgoal 2: Write the final query."]
QUERIES = {"best to the worst": ("Shop", "R2 = SELECT Name FROM Shop ORDER BY Rating DESC"),
           "total sale": ("sale", "R2 = SELECT Name FROM Shop"),                         # wrong: reward 0
           "more than two legs": ("animal", "R2 = SELECT kind FROM animal WHERE legs > 2"),
           "hundred legs": ("animal", "R2 = SELECT kind FROM animals WHERE")}      # an error


def _key(prompt: str) -> str:
    return next(k for k in QUERIES if k in prompt)


def plan(prompt: str) -> str:
    k = prompt.count("<|assistant|>")
    return PLANS[k - 1] if k <= 2 else "Yes, I will stop planning."


def ground(prompt: str) -> str:
    table, final = QUERIES[_key(prompt)]
    return f"R1 = DESCRIBE {table}" if prompt.count("<|assistant|>") == 1 else final


def _run(tmp_path, *extra):
    config, *opts = parse_eval_args(["--data_dir", str(DATA), "--sql_dump", str(DUMP), "--save_dir", str(tmp_path / "run"),
                                     "--plan_model", "p", "--ground_model", "g", "--eval_batch_size", "2", *extra],
                                    benchmark="intercode_sql")
    planner, grounder = ScriptedBackend(plan), ScriptedBackend(ground)
    return evaluate(config, opts[0], planner=planner, grounder=grounder), planner, grounder


def test_sql_episodes_end_to_end(tmp_path, monkeypatch):
    monkeypatch.setenv("LUMOS_CACHE_DIR", str(tmp_path / "cache"))
    result, planner, grounder = _run(tmp_path)
    assert result["n"] == 4 and result["metrics"]["success"] == pytest.approx(0.5)
    assert result["by_group"]["hardness"]["easy"]["metrics"]["success"] == 1.0
    assert result["by_group"]["hardness"]["extra"]["metrics"]["reward"] == 0.0
    assert result["ran"]["sql_backend"]["backend"] == "sqlite" and result["models"]["plan"] == "p"
    preds = {r["id"]: r for r in read_jsonl(tmp_path / "run" / "predictions.jsonl")}
    assert preds["0"]["prediction"] == "SELECT Name FROM Shop ORDER BY Rating DESC"
    assert preds["0"]["scores"] == {"reward": 1.0, "success": 1.0}
    assert preds["1"]["scores"]["reward"] == 0.0 and preds["3"]["scores"]["success"] == 0.0
    # a failing query is an observation, not a crash
    err = preds["3"]["trajectory"]["steps"][1]["results"][0]
    assert err["error"] is None and err["value"].startswith("Error executing query")
    # the environment's tables in the first planning prompt; DESCRIBE's columns listed in the next grounding request
    first = next(p for p in planner.calls if "best to the worst" in p)
    assert re.search(r"Initial Environment Description: We have \d SQL tables: [^\n]*shop", first, re.I)
    second_ground = next(p for p in grounder.calls if "best to the worst" in p and p.count("<|assistant|>") == 2)
    assert "The execution result for Subgoal 1 is Shop_ID (type: " in second_ground
    # rerun: nothing to do, nothing duplicated, same metrics
    again, planner2, _ = _run(tmp_path)
    assert planner2.calls == [] and again["metrics"] == result["metrics"]
    assert len(read_jsonl(tmp_path / "run" / "predictions.jsonl")) == 4
    # the scorer gives the same numbers from the predictions
    scored = tmp_path / "preds.jsonl"
    scored.write_text("".join(json.dumps({"id": r["id"], "query": r["prediction"]}) + "\n" for r in preds.values()))
    from lumos.envs.sql.score import main as score_main

    assert score_main(["--data_dir", str(DATA), "--predictions", str(scored), "--sql_dump", str(DUMP)]) == 0


def test_module_domain_picks_other_trained_modules(tmp_path):
    from lumos.runtime import module_paths

    for name in ("lumos_maths_plan_iterative", "lumos_maths_ground_iterative", "lumos_unified_plan_iterative",
                 "lumos_unified_ground_iterative"):
        (tmp_path / name).mkdir()
    config, *_ = parse_eval_args(["--model_name_or_path", str(tmp_path)], benchmark="intercode_sql")
    assert module_paths(config, "unified")[0].endswith("lumos_unified_plan_iterative")
    config, *_ = parse_eval_args(["--model_name_or_path", str(tmp_path), "--module_domain", "maths"],
                                 benchmark="intercode_sql")
    assert module_paths(config, "unified") == (str(tmp_path / "lumos_maths_plan_iterative"),
                                               str(tmp_path / "lumos_maths_ground_iterative"))
