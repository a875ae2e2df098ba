"""Evaluation on bad input: one line on stderr and a non-zero exit (never a traceback); an empty data file is
refused; one writer per predictions file (a second run on the same --save_dir refuses, naming the holder), while
the shards of one sharded run write their own files side by side."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from tiny_models import REPO_ROOT

from lumos.config import parse_eval_args
from lumos.evaluate import evaluate
from lumos.inference.scripted import ScriptedBackend
from lumos.utils.lock import LockHeld, lock_output


def _eval_cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "HF_HUB_OFFLINE": "1"}
    return subprocess.run([sys.executable, "-m", "eval.gsm.run_eval", *args], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("content,message", [
    (b'{"question": "q", "answer": "#### 3"}\n{"question": "q2"}\n', "test.jsonl:2: missing field 'answer'"),
    (b'{"question": "caf\xe9", "answer": "#### 3"}\n', "test.jsonl:1: not valid UTF-8"),
    (b'{"question": "q", "answer": "#### 3"\n', "test.jsonl:1: not valid JSON"),
    (b"\n", "no examples"),
])
def test_bad_data_gives_one_line_and_a_non_zero_exit(tmp_path, content, message):
    (tmp_path / "test.jsonl").write_bytes(content)
    proc = _eval_cli("--data_dir", str(tmp_path), "--save_dir", str(tmp_path / "out"), "--plan_model", "x",
                     "--ground_model", "y")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("python -m eval.gsm.run_eval: error: ") and message in last


def test_missing_model_root_is_a_usage_error(tmp_path):
    (tmp_path / "test.jsonl").write_text('{"question": "q", "answer": "#### 3"}\n')
    proc = _eval_cli("--data_dir", str(tmp_path), "--save_dir", str(tmp_path / "out"))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "give --model_name_or_path" in proc.stderr.strip().splitlines()[-1]


def _config(tmp_path, *extra):
    (tmp_path / "test.jsonl").write_text("".join(f'{{"question": "What is {i} plus 1?", "answer": "#### {i + 1}"}}\n'
                                                 for i in range(4)))
    config, *_ = parse_eval_args(["--data_dir", str(tmp_path), "--save_dir", str(tmp_path / "out"), "--plan_model",
                                  "p", "--ground_model", "g", "--cache", "none", *extra], benchmark="gsm")
    return config


def test_a_second_writer_on_the_same_save_dir_is_refused(tmp_path):
    config = _config(tmp_path)
    with lock_output(tmp_path / "out" / "predictions.jsonl"):  # another run holds the file
        with pytest.raises(LockHeld, match=f"pid {os.getpid()}"):
            evaluate(config, planner=ScriptedBackend(lambda p: "Yes, I will stop planning."),
                     grounder=ScriptedBackend([]))


def test_shards_of_one_run_do_not_collide(tmp_path):
    config = _config(tmp_path, "--num_shards", "2", "--shard_index", "1")
    with lock_output(tmp_path / "out" / "predictions.0-of-2.jsonl"):  # shard 0 is running
        result = evaluate(config, planner=ScriptedBackend(lambda p: "Yes, I will stop planning."),
                          grounder=ScriptedBackend([]))
    assert result["n"] == 2 and result["shard"] == [1, 2]
