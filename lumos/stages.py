"""Resumable pipelines of shell commands: stages with a fingerprint, run once, reused while it holds.

A ``Stage`` is a list of ``Command``s (the repository's public entry points: ``python -m data...``,
``./train.sh``, ``python -m eval.<benchmark>.run_eval``), the ``config`` that decides its outputs (command-line
values, input hashes, the fingerprints of the stages it reads from), its ``outputs`` and the names of the
stages it must wait for (``after``). ``run_stages`` writes one marker per stage, ``<run_dir>/stages/<name>.json``::

    {"name": "train-maths-plan", "status": "done", "fingerprint": "3f0c...", "wall_s": 71.2, "cpu_s": 70.9, ...}

and on the next call reuses every stage whose marker is ``done`` with the same fingerprint and whose outputs
exist. A stage whose settings changed is rerun after deleting its stale outputs (``clean``), and so is
everything downstream (their configs carry its fingerprint). An interrupted stage (marker ``running``, same
fingerprint) is rerun without deleting anything, so training resumes from its checkpoint and evaluation from
its ``predictions.jsonl``.

``jobs > 1`` runs independent stages side by side (each child gets ``cpus // jobs`` threads and writes only
to its log file; the parent logs every start and finish). Used by ``lumos.demo`` and ``lumos.reproduce``;
tests: ``pytest tests/test_stages.py``.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from lumos.paths import REPO_ROOT
from lumos.utils.io import git_commit, read_json, write_json

logger = logging.getLogger("lumos.stages")

OFFLINE_ENV = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
               "DS_ACCELERATOR": "cpu", "TOKENIZERS_PARALLELISM": "false", "PYTHONUNBUFFERED": "1"}
THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


@dataclass(frozen=True)
class Command:
    """One subprocess: ``argv`` run from the repository root with ``env`` added to the environment."""

    argv: tuple[str, ...]
    env: Mapping[str, str] = field(default_factory=dict)

    def shell(self) -> str:
        """The command as a user would type it (for logs and reports)."""
        env = " ".join(f"{k}={v}" for k, v in self.env.items() if k != "PYTHON")
        return (env + " " if env else "") + " ".join(self.argv)


@dataclass(frozen=True)
class Stage:
    """A named unit of work. ``config`` is everything that decides ``outputs``; ``clean`` is deleted when it changed.

    ``after`` names the stages whose outputs this one reads (they run first; only matters with ``jobs > 1``,
    the sequential order is the list order). It is not part of the fingerprint: ``config`` carries the
    upstream fingerprints.
    """

    name: str
    description: str
    commands: tuple[Command, ...]
    config: Mapping[str, Any]
    outputs: tuple[Path, ...]
    expected_s: float
    clean: tuple[Path, ...] = ()
    after: tuple[str, ...] = ()

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.config)


@dataclass(frozen=True)
class StageRecord:
    """How one stage went: ``ran`` (with its measured times) or ``reused`` (times of the run that made it)."""

    name: str
    status: str
    fingerprint: str
    expected_s: float
    wall_s: float
    cpu_s: float
    commands: tuple[str, ...]
    git_commit: str | None = None


# Runs one command, appending its output to the log; returns the CPU seconds it used when it knows them.
Executor = Callable[[Command, Path], "float | None"]


class StageError(RuntimeError):
    """A stage's command failed; the message names the stage, the command and its log file."""


def fingerprint(config: Mapping[str, Any]) -> str:
    """A stable hash of a JSON-serialisable mapping."""
    return hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()[:16]


def rel(path: Path) -> str:
    """A path relative to the repository root when inside it (commands stay short and clone-independent)."""
    try:
        return str(path.resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


def duration(seconds: float) -> str:
    seconds = float(seconds)
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.1f} min"


def _cpu_seconds() -> float:
    """CPU seconds used so far by this process and its finished children."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def run_command(command: Command, log_path: Path, *, echo: bool = True, threads: int | None = None) -> float:
    """Run ``command`` from the repository root, appending its output to ``log_path`` (and stderr when ``echo``).

    ``threads`` sets OMP/MKL/OpenBLAS thread counts of the child (torch follows OMP_NUM_THREADS). Returns the
    CPU seconds of the child and its waited-for descendants.

    Raises:
        StageError: when the command exits with a non-zero status.
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **OFFLINE_ENV, **command.env}
    if threads is not None:
        env.update({var: str(threads) for var in THREAD_VARS})
    with open(log_path, "ab") as log:
        log.write(f"$ {command.shell()}\n".encode())
        log.flush()
        proc = subprocess.Popen(list(command.argv), cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT)
        assert proc.stdout is not None
        while chunk := os.read(proc.stdout.fileno(), 8192):
            if echo:
                sys.stderr.buffer.write(chunk)
                sys.stderr.flush()
            log.write(chunk)
            log.flush()  # tail -f works, and a killed parent loses nothing
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = code = os.waitstatus_to_exitcode(status)
        proc.stdout.close()
    if code != 0:
        raise StageError(f"command failed (exit {code}): {command.shell()}\n  log: {log_path}")
    return usage.ru_utime + usage.ru_stime


def _marker_path(run_dir: Path, name: str) -> Path:
    return run_dir / "stages" / f"{name}.json"


def _read_marker(path: Path) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    data = read_json(path)
    return data if isinstance(data, dict) else None


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


def _reusable(stage: Stage, marker: Mapping[str, Any] | None) -> bool:
    """A finished run with the same fingerprint whose outputs are all on disk."""
    return (marker is not None and marker.get("fingerprint") == stage.fingerprint and marker.get("status") == "done"
            and all(p.exists() for p in stage.outputs))


def _reused_record(stage: Stage, marker: Mapping[str, Any]) -> StageRecord:
    """The record of a finished stage, with the times and commit of the run that made its outputs."""
    return StageRecord(stage.name, "reused", stage.fingerprint, stage.expected_s, float(marker["wall_s"]),
                       float(marker.get("cpu_s", 0.0)), tuple(c.shell() for c in stage.commands),
                       marker.get("git_commit"))


def timing_summary(records: Sequence[StageRecord], total_wall_s: float) -> dict[str, Any]:
    """The stage part of a run's summary: every record, wall and CPU seconds per stage, totals, the machine."""
    return {"stages": [asdict(r) for r in records], "wall_s": {r.name: r.wall_s for r in records},
            "cpu_s": {r.name: r.cpu_s for r in records},
            "total_wall_s_this_invocation": round(total_wall_s, 2),
            "total_wall_s_all_stages": round(sum(r.wall_s for r in records), 2),
            "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()}}


def _check_graph(stages: Sequence[Stage]) -> None:
    seen: set[str] = set()
    for stage in stages:
        if stage.name in seen:
            raise ValueError(f"two stages are named {stage.name!r}")
        unknown = [a for a in stage.after if a not in seen]
        if unknown:
            raise ValueError(f"stage {stage.name!r} waits for {unknown}, which are not earlier stages")
        seen.add(stage.name)


def _run_one(stage: Stage, head: str, run_dir: Path, execute: Executor, force: bool, commit: str | None,
             serial: bool) -> StageRecord:
    marker_path = _marker_path(run_dir, stage.name)
    marker = _read_marker(marker_path)
    fp = stage.fingerprint
    if not force and _reusable(stage, marker):
        assert marker is not None
        logger.info("%s -- reused (finished earlier in %s; fingerprint %s)", head, duration(marker["wall_s"]), fp)
        return _reused_record(stage, marker)
    if force or (marker is not None and marker.get("fingerprint") != fp):
        why = "--force" if force else f"settings changed (fingerprint {marker.get('fingerprint') if marker else None} -> {fp})"
        for path in stage.clean:
            if path.exists():
                logger.info("%s: removing %s (%s)", stage.name, path, why)
                _remove(path)
    elif marker is not None:
        logger.info("%s: resuming an interrupted run", stage.name)
    log_path = run_dir / "logs" / f"{stage.name}.log"
    logger.info("%s -- expected ~%s%s", head, duration(stage.expected_s), "" if serial else f" (log: {log_path})")
    write_json(marker_path, {"name": stage.name, "status": "running", "fingerprint": fp,
                             "config": stage.config, "started": time.strftime("%Y-%m-%d %H:%M:%S")})
    wall0, cpu0 = time.perf_counter(), _cpu_seconds()
    child_cpu: list[float | None] = []
    for command in stage.commands:
        logger.info("$ %s", command.shell())
        child_cpu.append(execute(command, log_path))
    missing = [str(p) for p in stage.outputs if not p.exists()]
    if missing:
        raise StageError(f"stage {stage.name} finished but did not write {', '.join(missing)}; log: {log_path}")
    wall = time.perf_counter() - wall0
    # Each command's own CPU time when the executor reports it; else this process's children (exact only when serial).
    cpu = sum(c for c in child_cpu if c is not None) if child_cpu and None not in child_cpu else _cpu_seconds() - cpu0
    write_json(marker_path, {"name": stage.name, "status": "done", "fingerprint": fp, "config": stage.config,
                             "wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "expected_s": stage.expected_s,
                             "git_commit": commit, "finished": time.strftime("%Y-%m-%d %H:%M:%S")})
    logger.info("%s done in %s wall (%.0f CPU-s; expected ~%s)", head.split(":")[0], duration(wall), cpu,
                duration(stage.expected_s))
    return StageRecord(stage.name, "ran", fp, stage.expected_s, round(wall, 2), round(cpu, 2),
                       tuple(c.shell() for c in stage.commands), commit)


def finished_records(stages: Sequence[Stage], run_dir: Path) -> list[StageRecord]:
    """Records of the stages that are finished with their current settings (nothing is run)."""
    markers = {s.name: _read_marker(_marker_path(run_dir, s.name)) for s in stages}
    return [_reused_record(s, markers[s.name]) for s in stages if _reusable(s, markers[s.name])]


def run_stages(stages: Sequence[Stage], run_dir: Path, *, execute: Executor | None = None, force: bool = False,
               jobs: int = 1) -> list[StageRecord]:
    """Run each stage unless a finished run with the same fingerprint and all outputs is on disk.

    Every stage announces itself (number, description, expected time) and reports its measured wall and
    CPU seconds. With ``jobs > 1`` up to ``jobs`` stages whose ``after`` stages are done run at once, in list
    order; after a failure no new stage starts, the running ones finish, and the first error is raised.
    Returns one record per stage, in list order.
    """
    if jobs < 1:
        raise ValueError(f"jobs must be >= 1, got {jobs}")
    _check_graph(stages)
    if execute is None:
        execute = run_command if jobs == 1 else functools.partial(
            run_command, echo=False, threads=max(1, (os.cpu_count() or 1) // jobs))
    commit = git_commit()
    reusable = {s.name for s in stages if not force and _reusable(s, _read_marker(_marker_path(run_dir, s.name)))}
    todo = [s for s in stages if s.name not in reusable]
    logger.info("%d stages: %d to run, expected ~%s on an idle 2-core machine%s; %d reused", len(stages), len(todo),
                duration(sum(s.expected_s for s in todo) / jobs), f" with {jobs} at a time" if jobs > 1 else "",
                len(reusable))
    heads = {s.name: f"[{i}/{len(stages)}] {s.name}: {s.description}" for i, s in enumerate(stages, 1)}
    if jobs == 1:
        return [_run_one(s, heads[s.name], run_dir, execute, force, commit, True) for s in stages]

    records: dict[str, StageRecord] = {}
    pending = list(stages)
    running: dict[Future[StageRecord], Stage] = {}
    errors: list[BaseException] = []
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        while pending or running:
            if not errors:
                for stage in [s for s in pending if all(a in records for a in s.after)]:
                    if len(running) >= jobs:
                        break
                    pending.remove(stage)
                    running[pool.submit(_run_one, stage, heads[stage.name], run_dir, execute, force, commit,
                                        False)] = stage
            if not running:
                break
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                stage = running.pop(future)
                try:
                    records[stage.name] = future.result()
                except StageError as err:
                    errors.append(err)
                    logger.error("%s failed; waiting for the %d running stage(s), starting no new one",
                                 stage.name, len(running))
            if running:
                logger.info("%d/%d stages finished; running: %s", len(records), len(stages),
                            ", ".join(s.name for s in running.values()))
    if errors:
        raise errors[0]
    return [records[s.name] for s in stages]
