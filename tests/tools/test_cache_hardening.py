"""The tool cache survives concurrent creation and refuses damaged files when it opens them.

* Six processes opening one *new* cache file at the same moment all succeed (before: "database is locked"
  at ``PRAGMA journal_mode=WAL`` in a few percent of the trials; 100 trials make a miss very unlikely).
* A file of random bytes, a truncated file and bit-flipped files either raise ``CacheError`` when opened
  (naming the file and how to recover) or, when the flipped bit lies in unused space, serve every row
  exactly as written: never a wrong value, never an error in the middle of a run.
* The CLI prints the error as one line.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import random
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from lumos.tools.cache import CacheError, ToolCache

REPO = Path(__file__).resolve().parents[2]
REQUESTS = [{"tool": "QA", "backend": "hf:m", "args": f"[R1], Question: q{i}?" + " pad" * (i % 40)} for i in range(200)]


def _value(i: int) -> tuple[str, dict]:
    return f"Question: q{i}?; Answer: {i * 7}", {"prompts": [f"prompt {i}"]}


TRIALS = 100


def _open_and_put(root: str, barrier, results) -> None:
    """One of six racers: at each trial, all six open the same new file at the same moment."""
    for trial in range(TRIALS):
        barrier.wait()
        try:
            cache = ToolCache(os.path.join(root, f"t{trial}", "tools.sqlite"))
            cache.put({"tool": "T", "backend": "b", "args": str(os.getpid())}, "v", {})
            cache.close()
            results.put((trial, "ok"))
        except Exception as e:  # noqa: BLE001 - reported to the parent, which asserts on it
            results.put((trial, f"{type(e).__name__}: {e}"))


def test_six_processes_create_one_new_cache_at_once(tmp_path):
    ctx = mp.get_context("fork")
    barrier, results = ctx.Barrier(6), ctx.Queue()
    procs = [ctx.Process(target=_open_and_put, args=(str(tmp_path), barrier, results)) for _ in range(6)]
    for p in procs:
        p.start()
    outcomes = [results.get(timeout=300) for _ in range(6 * TRIALS)]
    for p in procs:
        p.join()
    failures = sorted(f"trial {t}: {o}" for t, o in outcomes if o != "ok")
    assert failures == [], f"{len(failures)} failed openings, e.g. {failures[:3]}"
    assert all(len(ToolCache(tmp_path / f"t{t}" / "tools.sqlite")) == 6 for t in range(TRIALS))


@pytest.fixture
def filled(tmp_path) -> Path:
    path = tmp_path / "filled.sqlite"
    cache = ToolCache(path)
    for i, request in enumerate(REQUESTS):
        cache.put(request, *_value(i))
    cache.close()
    with sqlite3.connect(path) as db:  # everything into the main file, as after a clean shutdown
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


def _serves_everything_exactly(path: Path) -> None:
    cache = ToolCache(path)
    for i, request in enumerate(REQUESTS):
        assert cache.get(request) == _value(i), f"row {i} changed"
    cache.put({"tool": "QA", "backend": "hf:m", "args": "new"}, "v", {})
    cache.close()


def _assert_refused(path: Path) -> CacheError:
    with pytest.raises(CacheError) as info:
        ToolCache(path)
    message = str(info.value)
    assert str(path) in message and "delete it" in message and "none" in message and "\n" not in message
    return info.value


def test_a_file_of_random_bytes_is_refused(tmp_path):
    path = tmp_path / "random.sqlite"
    path.write_bytes(random.Random(1).randbytes(64 * 1024))
    _assert_refused(path)


@pytest.mark.parametrize("keep", [0.25, 0.5, 0.9])
def test_a_truncated_file_is_refused(filled, keep):
    data = filled.read_bytes()
    filled.write_bytes(data[: int(len(data) * keep)])
    _assert_refused(filled)


def test_bit_flips_are_refused_or_harmless(filled):
    original = filled.read_bytes()
    rng = random.Random(7)
    refused = harmless = 0
    for _ in range(60):
        data = bytearray(original)
        pos = rng.randrange(len(data))
        data[pos] ^= 1 << rng.randrange(8)
        filled.write_bytes(bytes(data))
        for side in (filled.with_name(filled.name + "-wal"), filled.with_name(filled.name + "-shm")):
            side.unlink(missing_ok=True)
        try:
            ToolCache(filled).close()
        except CacheError:
            refused += 1
            continue
        filled.write_bytes(bytes(data))  # opening may have rewritten nothing, but check the flipped file itself
        _serves_everything_exactly(filled)
        harmless += 1
    assert refused > 20, (refused, harmless)  # most flips land in rows and pages that are in use


def test_a_flipped_value_is_caught_by_its_checksum(filled):
    data = filled.read_bytes()
    pos = data.index(b"Answer: 7")  # row 1's value: "...Answer: 7" -> "...Answer: 6" is still valid JSON
    filled.write_bytes(data[: pos + 8] + b"6" + data[pos + 9 :])
    _assert_refused(filled)


def test_a_foreign_sqlite_file_is_refused(tmp_path):
    path = tmp_path / "other.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE tool_calls (key TEXT, value TEXT)")
    _assert_refused(path)


def test_an_old_cache_without_checksums_still_opens(tmp_path):
    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE tool_calls (key TEXT PRIMARY KEY, tool TEXT NOT NULL, backend TEXT NOT NULL, "
                   "request TEXT NOT NULL, value TEXT NOT NULL, extra TEXT NOT NULL, created REAL NOT NULL)")  # fmt: skip
        request = {"tool": "T", "backend": "b", "args": "1"}
        from lumos.tools.cache import _canonical

        db.execute("INSERT INTO tool_calls VALUES (?, ?, ?, ?, ?, ?, ?)",
                   (ToolCache.key(request), "T", "b", _canonical(request), '"v"', "{}", 0.0))  # fmt: skip
    cache = ToolCache(path)
    assert cache.get(request) == ("v", {})
    cache.put({"tool": "T", "backend": "b", "args": "2"}, "w", {})
    assert len(cache) == 2


def test_the_cli_reports_a_damaged_cache_in_one_line(tmp_path):
    path = tmp_path / "broken.sqlite"
    path.write_bytes(b"not a database at all" * 100)
    out = subprocess.run([sys.executable, "-m", "lumos.tools.execute", "--domain", "maths", "--cache", str(path),
                          "R1 = Calculator(1 + 1)"], capture_output=True, text=True, cwd=REPO, check=False,
                         env={**os.environ, "PYTHONPATH": str(REPO)})  # fmt: skip
    assert out.returncode == 2, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("python -m lumos.tools.execute: error: ") and str(path) in lines[0]
    assert "Traceback" not in out.stderr
