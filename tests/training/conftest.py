"""Fixtures for the training tests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from training_helpers import GROUND, PLAN


@pytest.fixture
def train_file(tmp_path) -> Path:
    path = tmp_path / "lumos_maths_plan_iterative.jsonl"
    rows = []
    for i in range(12):
        msgs = [dict(m) for m in (PLAN if i % 2 else GROUND)]
        msgs[-1]["content"] += f" ({i})"
        rows.append({"dataset": "maths", "id": f"maths_{i}", "messages": msgs})
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path
