"""Shared by the training tests: two real-shaped conversations, an in-process run, subprocess env, log reader."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from lumos.training.args import TrainArgs

REPO = Path(__file__).resolve().parents[2]

PLAN = [
    {
        "role": "user",
        "content": "Please provide a reasonable subgoal-based plan to solve the given task.\n"
        "Task: Natalia sold clips to 48 of her friends in April; Initial Environment Description: None.",
    },
    {"role": "assistant", "content": "Subgoal 1: Calculate how many clips Natalia sold in May."},
    {"role": "user", "content": "The executed result for Subgoal 1 is 24. Should we stop planning?"},
    {"role": "assistant", "content": "No, I will keep planning. Subgoal 2: Add the clips."},
    {"role": "user", "content": "The executed result for Subgoal 2 is 72. Should we stop planning?"},
    {"role": "assistant", "content": " Yes, I will stop planning.\n"},
]
GROUND = [
    {"role": "system", "content": "You ground subgoals."},
    {"role": "user", "content": "Subgoal to be grounded: Subgoal 1: Find the father of Ada Lovelace.\n"},
    {"role": "assistant", "content": "R1 = KnowledgeQuery(Ada Lovelace); R2 = ParagraphRetrieve(R1, Query: x)"},
]


def write_train_file(folder: Path) -> Path:
    """Twelve rows alternating PLAN and GROUND (last turn numbered, so rows differ)."""
    path = folder / "lumos_maths_plan_iterative.jsonl"
    rows = []
    for i in range(12):
        msgs = [dict(m) for m in (PLAN if i % 2 else GROUND)]
        msgs[-1]["content"] += f" ({i})"
        rows.append({"dataset": "maths", "id": f"maths_{i}", "messages": msgs})
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def run_train(**kwargs) -> dict:
    """Run ``train`` in this process and reset accelerate's singletons afterwards."""
    from accelerate.state import AcceleratorState, GradientState

    from lumos.training.finetune import train

    defaults = {"per_device_train_batch_size": 2, "total_batch_size": 4, "learning_rate": 1e-2, "report_to": ["none"]}
    try:
        return train(TrainArgs(**{**defaults, **kwargs}))
    finally:
        AcceleratorState._reset_state(reset_partial_state=True)
        GradientState._reset_state()


def read_log(output_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (output_dir / "train_log.jsonl").read_text().splitlines()]


def env_for_subprocess(**extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "DS_ACCELERATOR": "cpu",
        "HF_HUB_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
        "NUM_GPUS": "0",
        "PYTHON": sys.executable,
    }
    env.update(extra)
    return env
