"""The web_agent training path on the five real Mind2Web train tasks: rule conversion -> plan/ground iterative files
(prompt prefixes byte-identical, web feedback), whose actions the session can execute; train.sh's file names."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lumos.conversion.convert import main as convert_main
from lumos.conversion.rule_web import parse_action_repr
from lumos.conversion.to_train import main as to_train_main
from lumos.envs.mind2web import load_tasks, parse_web_args
from lumos.formats.actions import parse_actions
from lumos.formats.prompts import GROUND_INSTRUCTION, KEEP_PLANNING, PLAN_INSTRUCTION, STOP_PLANNING

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def train_files(shared_data, tmp_path):
    raw = shared_data / "mind2web" / "openbrowser_mind2web_train_5tasks.json"
    root = tmp_path / "data" / "train"
    converted = root / "web_agent" / "converted" / "mind2web_converted.json"
    assert convert_main(["--domain", "web_agent", "--data_fn", str(raw), "--convert_all", "--backend", "rule",
                         "--output", str(converted)]) == 0  # fmt: skip
    assert to_train_main(["--domain", "web_agent", "--formulation", "lumos_iterative", "--data_root", str(root)]) == 0
    out = root / "web_agent" / "train_annots"
    read = lambda name: [json.loads(x) for x in (out / name).read_text().splitlines()]  # noqa: E731
    return load_tasks(raw), read("lumos_web_agent_plan_iterative.jsonl"), read("lumos_web_agent_ground_iterative.jsonl")


def test_every_real_train_task_becomes_plan_and_ground_rows(train_files):
    tasks, plan, ground = train_files
    assert len(plan) == len(ground) == len(tasks) == 5
    for task, p, g in zip(tasks, plan, ground):
        n = len(task.action_reprs)
        pm, gm = p["messages"], g["messages"]
        assert pm[0] == {"role": "user", "content": f"{PLAN_INSTRUCTION}Task: {task.confirmed_task}; Initial Environment Description: None."}
        assert pm[0]["content"].startswith("Please provide a reasonable subgoal-based plan to solve the given task.\nTask: ")
        assert len(pm) == 2 * n + 2 and pm[-1] == {"role": "assistant", "content": STOP_PLANNING}
        assert pm[1]["content"].startswith("Subgoal 1: ")
        assert all(m["content"].startswith(f"{KEEP_PLANNING}Subgoal {k}: ") for k, m in enumerate(pm[3:-1:2], 2))
        feedback = [m["content"] for m in pm[2::2]]
        assert len(feedback) == n and all(f.startswith("We have already ") and f.endswith(". Should we stop planning?")
                                          for f in feedback)  # fmt: skip
        assert gm[0]["content"].startswith(GROUND_INSTRUCTION["web_agent"] + f"Task: {task.confirmed_task} \nSubgoal to be grounded: Subgoal 1: ")
        assert gm[0]["content"].startswith("Please ground the given subgoal to corresponding executable actions for solving "
                                           "the given task. The grounded actions must be the one in available action list."
                                           "\n\nThe available action list is 'CLICK', 'TYPE', 'SELECT'.\nCLICK(Env, Query): ")
        assert len(gm) == 2 * n and all(m["content"].startswith(f"Subgoal to be grounded: Subgoal {k}: ")
                                        for k, m in enumerate(gm[2::2], 2))  # fmt: skip
        previous = "Env"
        for k, (m, repr_) in enumerate(zip(gm[1::2], task.action_reprs), 1):
            [action] = parse_actions(m["content"])
            _, _, op, value = parse_action_repr(repr_)
            variable, query, text = parse_web_args(action.name, action.args)
            assert (action.variables, action.name, variable, text) == ((f"R{k}",), op, previous, value)
            assert query and "Subgoal" not in query
            previous = f"R{k}"


def test_train_sh_resolves_the_web_agent_files():
    env = {**os.environ, "TASK": "web_agent", "PYTHON": sys.executable, "PYTHONPATH": str(REPO)}
    for module in ("plan", "ground"):
        out = subprocess.run(["bash", str(REPO / "train.sh"), module, "iterative", "--dry_run"], env=env,
                             capture_output=True, text=True, timeout=60, check=True)  # fmt: skip
        assert (f"==> {module}_iterative: data/train/web_agent/train_annots/lumos_web_agent_{module}_iterative.jsonl -> "
                f"models/lumos_web_agent_{module}_iterative") in out.stdout + out.stderr
