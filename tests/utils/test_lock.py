"""``FileLock`` / ``lock_output``: one writer per output, across processes, freed when the holder dies (even kill -9)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lumos.utils.lock import FileLock, LockHeld, lock_output, lock_path_for, read_holder

REPO = Path(__file__).resolve().parents[2]
HOLDER = """
import sys, time
from lumos.utils.lock import lock_output
with lock_output(sys.argv[1]):
    print("held", flush=True)
    time.sleep(60)
"""


def hold_in_child(output: Path) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(output)], stdout=subprocess.PIPE, text=True, cwd=REPO,
                            env={**os.environ, "PYTHONPATH": str(REPO)})  # fmt: skip
    assert proc.stdout is not None and proc.stdout.readline() == "held\n"
    return proc


def test_second_taker_fails_at_once_naming_the_holder(tmp_path):
    output = tmp_path / "predictions.jsonl"
    proc = hold_in_child(output)
    try:
        start = time.monotonic()
        with pytest.raises(LockHeld) as info:
            lock_output(output).acquire()
        assert time.monotonic() - start < 1.0
        message = str(info.value)
        assert f"pid {proc.pid} on {socket.gethostname()}" in message and str(output) in message
        assert "lumos.utils.lock" in message or "-c" in message  # the holder's command line
        holder = read_holder(lock_path_for(output))
        assert holder is not None and holder.pid == proc.pid and holder.host == socket.gethostname()
    finally:
        proc.kill()
        proc.wait()


def test_kill_9_frees_the_lock(tmp_path):
    output = tmp_path / "out.json"
    proc = hold_in_child(output)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert lock_path_for(output).exists()  # a stale file stays, and blocks nobody
    with lock_output(output) as lock:
        assert lock.held and read_holder(lock.path).pid == os.getpid()
    assert not lock_path_for(output).exists()


def test_locks_conflict_within_one_process_and_are_reusable(tmp_path):
    output = tmp_path / "x.jsonl"
    first = lock_output(output).acquire()
    with pytest.raises(LockHeld):
        lock_output(output).acquire()
    first.release()
    first.release()  # idempotent
    with lock_output(output):
        pass
    shard0, shard1 = lock_output(tmp_path / "predictions.shard0.jsonl"), lock_output(tmp_path / "predictions.shard1.jsonl")
    with shard0, shard1:  # shards write their own files: no collision
        assert shard0.held and shard1.held


def test_lock_file_content(tmp_path):
    with FileLock(tmp_path / "a.lock", target=tmp_path / "a") as lock:
        data = json.loads(lock.path.read_text())
        assert set(data) == {"pid", "host", "started", "command"} and data["pid"] == os.getpid()
