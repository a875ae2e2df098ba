"""Sharded evaluation: 3 shards run separately, and under ``accelerate launch --multi_gpu --num_processes 3``,
merge into the unsharded run's predictions and metrics; a shard resumes on its own; ``lumos score SAVE_DIR``
reproduces metrics.json; a resumed run with other settings is refused."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys

import pytest
from fake_openai import ScriptedServer
from tiny_models import REPO_ROOT

from lumos.cli import rescore_dir
from lumos.config import parse_eval_args
from lumos.evaluate import RunConfigMismatch, evaluate
from lumos.inference.scripted import ScriptedBackend
from lumos.utils.io import read_jsonl

N = 7
STABLE = ("n", "metrics", "ci95", "correct", "status_counts")


def plan(prompt: str) -> str:
    return "Subgoal 1: Add the numbers." if prompt.count("<|assistant|>") == 1 else "Yes, I will stop planning."


def ground(prompt: str) -> str:
    a, b = re.search(r"What is (\d+) plus (\d+)\?", prompt).groups()
    return f"R1 = Calculator({a} + {b})"


def reply(prompt: str) -> str:
    return ground(prompt) if "Please ground" in prompt else plan(prompt)


@pytest.fixture
def data(tmp_path):
    path = tmp_path / "data" / "test.jsonl"
    path.parent.mkdir()
    # every third gold answer is wrong on purpose, so the metrics are not trivially 1
    rows = [{"question": f"What is {i} plus {2 * i}?", "answer": f"#### {3 * i + (1 if i % 3 == 0 else 0)}"}
            for i in range(1, N + 1)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _eval(data, save_dir, *extra, planner=None):
    config, *_ = parse_eval_args(["--data_dir", str(data), "--save_dir", str(save_dir), "--plan_model", "p",
                                  "--ground_model", "g", "--cache", "none", "--eval_batch_size", "2", *extra],
                                 benchmark="gsm")
    planner = planner or ScriptedBackend(plan)
    return evaluate(config, planner=planner, grounder=ScriptedBackend(ground)), planner


def _by_id(path):
    return {r["id"]: r for r in read_jsonl(path)}


def test_three_shards_merge_into_the_unsharded_run(data, tmp_path):
    whole, _ = _eval(data, tmp_path / "whole")
    assert whole["n"] == N and whole["metrics"]["acc"] == pytest.approx(5 / 7)
    for k in range(3):
        result, _ = _eval(data, tmp_path / "sharded", "--num_shards", "3", "--shard_index", str(k))
    merged = _by_id(tmp_path / "sharded" / "predictions.jsonl")
    assert list(merged) == [r["id"] for r in read_jsonl(tmp_path / "whole" / "predictions.jsonl")]  # example order
    assert merged == _by_id(tmp_path / "whole" / "predictions.jsonl")
    shard_sizes = [len(read_jsonl(tmp_path / "sharded" / f"predictions.{k}-of-3.jsonl")) for k in range(3)]
    assert shard_sizes == [2, 2, 3]
    assert {k: result[k] for k in STABLE} == {k: whole[k] for k in STABLE}
    assert result["merged_shards"] == 3 and result["conflicting_records"] == 0
    # lumos score SAVE_DIR reproduces metrics.json from the shard files
    stored = json.loads((tmp_path / "sharded" / "metrics.json").read_text())
    again = rescore_dir(tmp_path / "sharded")
    assert {k: again[k] for k in STABLE} == {k: stored[k] for k in STABLE}


def test_a_shard_resumes_on_its_own(data, tmp_path):
    _eval(data, tmp_path / "s", "--num_shards", "3", "--shard_index", "2")
    path = tmp_path / "s" / "predictions.2-of-3.jsonl"
    lines = path.read_text().splitlines(keepends=True)
    path.write_text(lines[0] + lines[1][:25])  # killed: one record written, the next torn
    _, planner = _eval(data, tmp_path / "s", "--num_shards", "3", "--shard_index", "2")
    ids = [r["id"] for r in read_jsonl(path)]
    assert ids == ["4", "5", "6"] and len(planner.calls) == 2 * 2  # only the two missing examples ran
    assert not (tmp_path / "s" / "metrics.json").exists()  # shards 0 and 1 have not run
    shard_metrics = json.loads((tmp_path / "s" / "metrics.2-of-3.json").read_text())
    assert shard_metrics["n"] == 3 and shard_metrics["shard"] == [2, 3]


def test_resume_with_other_settings_is_refused(data, tmp_path):
    _eval(data, tmp_path / "r", "--max_num_examples", "2")
    _eval(data, tmp_path / "r", "--max_num_examples", "4")  # extending the selection is fine
    with pytest.raises(RunConfigMismatch, match="prompt_style: 'original' -> 'consistent'"):
        _eval(data, tmp_path / "r", "--prompt_style", "consistent")


def test_accelerate_launch_three_processes(data, tmp_path):
    accelerate = shutil.which("accelerate", path=os.path.dirname(sys.executable))
    if accelerate is None:
        pytest.skip("accelerate is not installed next to this python")
    whole, _ = _eval(data, tmp_path / "whole")
    server = ScriptedServer(reply)
    try:
        env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "HF_HUB_OFFLINE": "1"}
        cmd = [accelerate, "launch", "--multi_gpu", "--num_processes", "3", "--num_machines", "1",
               "--mixed_precision", "no", "--dynamo_backend", "no", "-m", "eval.gsm.run_eval",
               "--data_dir", str(data), "--save_dir", str(tmp_path / "launched"), "--backend", "openai",
               "--base_url", server.url, "--plan_model", "p", "--ground_model", "g", "--cache", "none"]
        proc = subprocess.run(cmd, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300)
    finally:
        server.close()
    assert proc.returncode == 0, proc.stderr[-3000:]
    launched = _by_id(tmp_path / "launched" / "predictions.jsonl")
    reference = _by_id(tmp_path / "whole" / "predictions.jsonl")
    assert list(launched) == list(reference)
    assert {i: (r["prediction"], r["status"], r["scores"]) for i, r in launched.items()} == \
        {i: (r["prediction"], r["status"], r["scores"]) for i, r in reference.items()}
    assert sorted(p.name for p in (tmp_path / "launched").glob("predictions.*-of-3.jsonl")) == \
        [f"predictions.{k}-of-3.jsonl" for k in range(3)]
    metrics = json.loads((tmp_path / "launched" / "metrics.json").read_text())
    assert {k: metrics[k] for k in STABLE} == {k: whole[k] for k in STABLE} and metrics["merged_shards"] == 3
    assert metrics["ran"]["driver"] == "concurrent" and metrics["ran"]["backends"]["plan"]["kind"] == "openai"


def test_rank_0_waits_for_the_other_shards(data, tmp_path):
    import threading
    import time

    from lumos.evaluate import _wait_for_shards
    from lumos.scoring import select_shard
    from lumos.utils.io import append_jsonl

    _eval(data, tmp_path / "w", "--num_shards", "2", "--shard_index", "0")
    examples = list(_examples(data))
    rest = select_shard(examples, 1, 2)
    waited = threading.Thread(target=_wait_for_shards, args=(tmp_path / "w", examples), kwargs={"poll_s": 0.05})
    waited.start()
    path = tmp_path / "w" / "predictions.1-of-2.jsonl"
    for e in rest:  # the other shard appends its records one by one, the last one in two writes
        time.sleep(0.1)
        assert waited.is_alive()
        line = json.dumps({"id": e.id, "prediction": None, "status": "done", "scores": {}}) + "\n"
        if e is rest[-1]:
            with path.open("a") as f:
                f.write(line[:10])
            time.sleep(0.2)
            assert waited.is_alive()  # a torn line does not count
            with path.open("a") as f:
                f.write(line[10:])
        else:
            append_jsonl(path, [json.loads(line)])
    waited.join(timeout=5)
    assert not waited.is_alive()


def _examples(data):
    from lumos.benchmarks import load_benchmark

    return load_benchmark("gsm", data)[1].examples
