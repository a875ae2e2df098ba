"""Tests of lumos/stages.py: running commands, and stages side by side (``jobs``) in dependency order."""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path

import pytest

from lumos.stages import Command, Stage, StageError, run_command, run_stages


def test_run_command_streams_to_the_log_returns_cpu_seconds_and_raises_on_failure(tmp_path):
    log = tmp_path / "logs" / "x.log"
    cpu = run_command(Command((sys.executable, "-c", "import os; print('hello', os.environ['HF_HUB_OFFLINE'])")), log)
    assert "hello 1" in log.read_text()
    busy = run_command(Command((sys.executable, "-c", "import time\nt = time.process_time()\n"
                                "while time.process_time() - t < 0.5: pass")), log)
    assert busy >= 0.5 > cpu
    run_command(Command((sys.executable, "-c", "import os; print('threads', os.environ['OMP_NUM_THREADS'])")), log,
                echo=False, threads=1)
    assert "threads 1" in log.read_text()
    with pytest.raises(StageError, match="exit 3"):
        run_command(Command((sys.executable, "-c", "raise SystemExit(3)")), log)


class SlowExecutor:
    """Each command sleeps, then writes the file named by its first argument; records the overlaps."""

    def __init__(self, fail: str | None = None) -> None:
        self.lock = threading.Lock()
        self.running: set[str] = set()
        self.max_running = 0
        self.started: list[str] = []
        self.finished: list[str] = []
        self.fail = fail

    def __call__(self, command: Command, log_path: Path) -> float:
        name = Path(command.argv[0]).stem
        with self.lock:
            self.running.add(name)
            self.started.append(name)
            self.max_running = max(self.max_running, len(self.running))
        time.sleep(0.02 if name == self.fail else 0.15)  # the failure comes first
        with self.lock:
            self.running.discard(name)
            self.finished.append(name)
        if name == self.fail:
            raise StageError(f"command failed (exit 1): {name}")
        Path(command.argv[0]).write_text("done")
        return 0.25


def _stages(tmp_path: Path) -> list[Stage]:
    """data -> train-a, train-b, train-c (independent) -> eval-a (after a), eval-bc (after b and c)."""
    def stage(name: str, *after: str) -> Stage:
        out = tmp_path / f"{name}.out"
        return Stage(name=name, description=name, commands=(Command((str(out),)),), config={"name": name},
                     outputs=(out,), expected_s=1.0, after=after)

    return [stage("data"), stage("train-a", "data"), stage("train-b", "data"), stage("train-c", "data"),
            stage("eval-a", "train-a"), stage("eval-bc", "train-b", "train-c")]


def test_two_jobs_overlap_and_respect_the_order(tmp_path):
    stages = _stages(tmp_path)
    fake = SlowExecutor()
    records = run_stages(stages, tmp_path / "run", execute=fake, jobs=2)
    assert [r.name for r in records] == [s.name for s in stages] and all(r.status == "ran" for r in records)
    assert fake.max_running == 2
    for stage in stages:
        for upstream in stage.after:
            assert fake.finished.index(upstream) < fake.started.index(stage.name), (upstream, stage.name)
    assert all(r.cpu_s == 0.25 for r in records)  # the executor's own figure, not the process-wide one
    again = SlowExecutor()
    assert all(r.status == "reused" for r in run_stages(stages, tmp_path / "run", execute=again, jobs=2))
    assert again.started == []


def test_one_job_runs_in_list_order(tmp_path):
    fake = SlowExecutor()
    run_stages(_stages(tmp_path), tmp_path / "run", execute=fake, jobs=1)
    assert fake.max_running == 1 and fake.started == [s.name for s in _stages(tmp_path)]


def test_a_failure_starts_nothing_new_and_is_raised_after_the_running_stage_ends(tmp_path):
    fake = SlowExecutor(fail="train-a")
    with pytest.raises(StageError, match="train-a"):
        run_stages(_stages(tmp_path), tmp_path / "run", execute=fake, jobs=2)
    assert set(fake.started) == {"data", "train-a", "train-b"} and set(fake.finished) == set(fake.started)
    markers = {p.stem: json.loads(p.read_text())["status"] for p in (tmp_path / "run" / "stages").glob("*.json")}
    assert markers == {"data": "done", "train-a": "running", "train-b": "done"}
    rerun = SlowExecutor()
    run_stages(_stages(tmp_path), tmp_path / "run", execute=rerun, jobs=2)  # picks up where it stopped
    assert sorted(rerun.started) == ["eval-a", "eval-bc", "train-a", "train-c"]


def test_bad_graphs_are_rejected(tmp_path):
    stages = _stages(tmp_path)
    with pytest.raises(ValueError, match="not earlier stages"):
        run_stages([stages[1], stages[0]], tmp_path / "run", execute=SlowExecutor(), jobs=2)
    with pytest.raises(ValueError, match="two stages"):
        run_stages([stages[0], stages[0]], tmp_path / "run", execute=SlowExecutor())
    with pytest.raises(ValueError, match="jobs"):
        run_stages(stages, tmp_path / "run", execute=SlowExecutor(), jobs=0)
