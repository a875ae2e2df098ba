"""Slow training checks: 2-process CPU DeepSpeed, a real SIGKILL + resume, the done-when run on SmolLM2-135M."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from training_helpers import PLAN, REPO, env_for_subprocess, read_log, write_train_file

pytestmark = pytest.mark.slow


@pytest.fixture
def train_file(tmp_path) -> Path:
    return write_train_file(tmp_path)


@pytest.mark.parametrize(
    "launch",
    [
        {"DS_CONFIG": "configs/deepspeed/stage2_no_offloading_accelerate.conf", "MIXED_PRECISION": "no"},
        {"DS_CONFIG": "configs/deepspeed/stage3_no_offloading_accelerate.conf", "MIXED_PRECISION": "bf16"},
        {"ACCELERATE_CONFIG": "configs/accelerate/deepspeed_zero3_offload_multi_gpu.yaml"},
    ],
    ids=["zero2-fp32", "zero3-bf16", "accelerate-config-zero3-offload"],
)
def test_two_process_deepspeed_trains_and_keeps_ranks_in_step(tmp_path, tiny_model_dir, train_file, launch):
    from transformers import AutoModelForCausalLM

    out = tmp_path / "ds"
    env = env_for_subprocess(
        TRAIN_FILE=str(train_file),
        OUTPUT_DIR=str(out),
        MODEL_NAME_OR_PATH=str(tiny_model_dir),
        NUM_PROCESSES="2",
        MAX_STEPS="6",
        **launch,
    )
    args = [
        "--per_device_train_batch_size",
        "2",
        "--total_batch_size",
        "8",
        "--learning_rate",
        "1e-2",
        "--max_train_samples",
        "null",
        "--report_to",
        "none",
    ]
    proc = subprocess.run(
        [str(REPO / "train.sh"), "plan", "iterative", *args], env=env, capture_output=True, text=True, timeout=900
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    metrics = json.loads((out / "metrics.json").read_text())
    run = metrics["run"]
    assert run["world_size"] == 2 and run["distributed_type"] == "DistributedType.DEEPSPEED"
    assert run["gradient_accumulation_steps"] == 2 and run["effective_batch_size"] == 8
    assert len(metrics["rank_parameter_fingerprints"]) == 2 and metrics["ranks_in_step"]
    losses = [r["loss"] for r in read_log(out)]
    assert len(losses) == 6 and losses[-1] < losses[0]
    assert all(r["padded_tokens"] > 0 for r in read_log(out))
    AutoModelForCausalLM.from_pretrained(out)


def test_sigkill_then_rerun_resumes_from_the_last_checkpoint(tmp_path, tiny_model_dir, train_file):
    out = tmp_path / "killed"
    cmd = [
        sys.executable,
        "-m",
        "lumos.training.finetune",
        "--train_file",
        str(train_file),
        "--model_name_or_path",
        str(tiny_model_dir),
        "--output_dir",
        str(out),
        "--max_train_steps",
        "120",
        "--checkpointing_steps",
        "10",
        "--per_device_train_batch_size",
        "2",
        "--total_batch_size",
        "2",
        "--report_to",
        "none",
    ]
    env = env_for_subprocess()
    proc = subprocess.Popen(
        cmd, env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    deadline = time.monotonic() + 300
    while not list((out / "checkpoints").glob("step_*[0-9]")) and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (out / "metrics.json").exists(), "the run finished before it could be killed"
    rerun = subprocess.run(cmd, env=env, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    metrics = json.loads((out / "metrics.json").read_text())
    resumed_step = int(Path(metrics["resumed_from"]).name.removeprefix("step_"))
    assert resumed_step >= 10 and f"at step {resumed_step}" in rerun.stderr
    assert [r["step"] for r in read_log(out)] == list(range(1, 121))


def test_done_when_smollm2_plan_iterative(tmp_path, train_file):
    """TASK=maths TRAIN_FILE=... OUTPUT_DIR=... MAX_STEPS=2 ./train.sh plan iterative on the offline base model."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from lumos.formats.chat import render

    if not (REPO / "models/smollm2-135m-instruct/model.safetensors").is_file():
        pytest.skip("models/smollm2-135m-instruct not prepared (./setup.sh)")
    out = tmp_path / "lumos_maths_plan_iterative"
    env = env_for_subprocess(TASK="maths", TRAIN_FILE=str(train_file), OUTPUT_DIR=str(out), MAX_STEPS="2")
    env.pop("MODEL_NAME_OR_PATH", None)
    proc = subprocess.run(
        [str(REPO / "train.sh"), "plan", "iterative"], env=env, capture_output=True, text=True, timeout=1800
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert (out / "model.safetensors").is_file()
    AutoModelForCausalLM.from_pretrained(out)
    tok = AutoTokenizer.from_pretrained(out)
    assert tok.apply_chat_template(PLAN, tokenize=False) == render(PLAN, eos_token=tok.eos_token)  # no BOS
    assert tok.apply_chat_template(PLAN[:1], tokenize=False, add_generation_prompt=True).endswith("<|assistant|>\n")
