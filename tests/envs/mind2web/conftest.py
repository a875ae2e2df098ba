"""Fixtures for the Mind2Web tests: our invented pages in the official format, and the real test splits
(SeeClick's layout) from the shared data folder when present."""

from __future__ import annotations

from pathlib import Path

import pytest

from lumos.envs.mind2web import load_split, load_tasks

OFFICIAL = Path(__file__).resolve().parents[2] / "fixtures" / "mind2web" / "test_task_official.json"


@pytest.fixture(scope="session")
def official_file() -> Path:
    """Our invented tasks in the official format (3 tasks, 7 steps)."""
    return OFFICIAL


@pytest.fixture(scope="session")
def official_tasks(official_file):
    return load_tasks(official_file)


@pytest.fixture
def test_task(shared_data):
    return load_split(shared_data, "test_task")


@pytest.fixture
def test_website(shared_data):
    return load_split(shared_data, "test_website")
