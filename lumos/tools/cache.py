"""A persistent cache of tool calls (LLM tools included), so that reruns are deterministic.

One sqlite3 file; one row per distinct request. The key is the SHA-256 of the canonical JSON of

    {"tool": "QA", "backend": "hf:models/smollm2-135m-instruct", "args": "[R2], Question: ...",
     "n_out": 1, "vars": {"R2": "Evidence 1: ..."}, "context": {"task": "...", "is_last": false}}

i.e. the tool, the backend identity (model), the action's arguments, the values of the variables it
references and the context fields the tool reads. Only successful results are stored; errors are
retried next time. ``CachedTool`` wraps a tool; a hit returns ``ToolOutput(cached=True)`` so the
executor records ``ToolResult.cached``.

Exercise: ``pytest tests/tools/test_cache.py``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from lumos.tools.base import Tool, ToolCall, ToolOutput
from lumos.utils.cli import ReportedError

logger = logging.getLogger(__name__)

_COLUMNS = ("key", "tool", "backend", "request", "value", "extra", "created", "digest")
_SCHEMA = """CREATE TABLE IF NOT EXISTS tool_calls (
    key TEXT PRIMARY KEY, tool TEXT NOT NULL, backend TEXT NOT NULL, request TEXT NOT NULL,
    value TEXT NOT NULL, extra TEXT NOT NULL, created REAL NOT NULL, digest TEXT)"""
_OPEN_DEADLINE_S = 60.0


class CacheError(ReportedError):
    """The cache file is damaged or is not a tool cache; the message names it and says how to recover."""


def _canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def _digest(value: str, extra: str) -> str:
    """Checksum of a row's stored result (sqlite has none): a flipped bit in a value is found, not served."""
    return hashlib.sha256(f"{value}\x00{extra}".encode()).hexdigest()


def _busy(e: sqlite3.OperationalError) -> bool:
    text = str(e).lower()
    return "locked" in text or "busy" in text


class ToolCache:
    """sqlite3-backed store ``request -> (value, extra)``; safe across threads and processes (WAL).

    Opening checks the file (``verify=True``): the sqlite structure (``PRAGMA integrity_check``), the
    table's schema, and every row (the key is the hash of its request, the JSON decodes, the result
    matches its checksum). A damaged file raises ``CacheError`` at once, naming the file and the way out.
    Processes that create the same new file at the same moment wait for each other (retry with backoff).
    """

    def __init__(self, path: str | Path, *, verify: bool = True) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0
        existed = self.path.exists() and self.path.stat().st_size > 0
        self._db = sqlite3.connect(str(self.path), timeout=_OPEN_DEADLINE_S, check_same_thread=False)
        try:
            self._with_retry(self._setup)
            if existed and verify:
                self._with_retry(self._verify)
        except sqlite3.DatabaseError as e:
            self._db.close()
            raise self._damaged(str(e)) from None
        except CacheError:
            self._db.close()
            raise

    def _damaged(self, detail: str) -> CacheError:
        return CacheError(f"{self.path}: the tool cache is damaged or is not a tool cache ({detail}); delete it "
                          f"(rm {self.path}) to start an empty cache, or run without one (--cache none)")  # fmt: skip

    def _with_retry(self, step: Any) -> Any:
        """Run ``step`` again while another process holds the new file's lock (journal-mode switch)."""
        deadline = time.monotonic() + _OPEN_DEADLINE_S
        delay = 0.01
        while True:
            try:
                return step()
            except sqlite3.OperationalError as e:
                if not _busy(e) or time.monotonic() > deadline:
                    raise
                time.sleep(delay * (1 + random.random()))
                delay = min(delay * 2, 0.5)

    def _setup(self) -> None:
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("BEGIN IMMEDIATE")  # one process at a time creates or upgrades the table
            try:
                self._db.execute(_SCHEMA)
                columns = [row[1] for row in self._db.execute("PRAGMA table_info(tool_calls)")]
                if columns == list(_COLUMNS[:-1]):  # a cache written before rows carried a checksum
                    self._db.execute("ALTER TABLE tool_calls ADD COLUMN digest TEXT")
                elif columns != list(_COLUMNS):
                    raise self._damaged(f"table tool_calls has columns {columns}, expected {list(_COLUMNS)}")
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def _verify(self) -> None:
        with self._lock:
            problems = [row[0] for row in self._db.execute("PRAGMA integrity_check(5)")]
            if problems != ["ok"]:
                raise self._damaged("; ".join(problems))
            rows = self._db.execute("SELECT rowid, key, request, value, extra, digest FROM tool_calls")
            for rowid, key, request, value, extra, digest in rows:
                try:
                    ok = hashlib.sha256(request.encode()).hexdigest() == key
                    json.loads(value), json.loads(extra)
                except (ValueError, AttributeError, TypeError):
                    ok = False
                if ok and digest is not None:
                    ok = _digest(value, extra) == digest
                if not ok:
                    raise self._damaged(f"row {rowid} does not match its key or checksum")

    @staticmethod
    def key(request: dict[str, Any]) -> str:
        return hashlib.sha256(_canonical(request).encode()).hexdigest()

    def get(self, request: dict[str, Any]) -> tuple[Any, dict[str, Any]] | None:
        try:
            with self._lock:
                row = self._db.execute("SELECT value, extra FROM tool_calls WHERE key = ?", (self.key(request),)).fetchone()
        except sqlite3.DatabaseError as e:
            raise self._damaged(str(e)) from None
        if row is None:
            self.misses += 1
            return None
        self.hits += 1
        return json.loads(row[0]), json.loads(row[1])

    def put(self, request: dict[str, Any], value: Any, extra: dict[str, Any]) -> None:
        stored_value, stored_extra = _canonical(value), _canonical(extra)
        row = (self.key(request), request["tool"], request["backend"], _canonical(request), stored_value,
               stored_extra, time.time(), _digest(stored_value, stored_extra))  # fmt: skip
        try:
            with self._lock, self._db:
                self._db.execute("INSERT OR REPLACE INTO tool_calls VALUES (?, ?, ?, ?, ?, ?, ?, ?)", row)
        except sqlite3.DatabaseError as e:
            if isinstance(e, sqlite3.OperationalError) and _busy(e):
                raise
            raise self._damaged(str(e)) from None

    def __len__(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM tool_calls").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._db.close()


def cache_request(tool: Any, call: ToolCall) -> dict[str, Any]:
    """The cache key material of ``call`` for ``tool`` (see the module docstring)."""
    variables = {v: call.variables[v] for v in call.action.referenced_variables if v in call.variables}
    context = {f: getattr(call, f) for f in getattr(tool, "context_fields", ())}
    return {
        "tool": tool.name,
        "backend": str(getattr(tool, "backend_id", "")),
        "args": call.action.args,
        "n_out": len(call.action.variables),
        "vars": variables,
        "context": context,
    }


class CachedTool:
    """``tool`` behind ``cache``. Tools with ``cacheable = False`` are passed through."""

    def __init__(self, tool: Tool, cache: ToolCache) -> None:
        self.tool = tool
        self.cache = cache
        self.name = tool.name

    def __call__(self, call: ToolCall) -> Any:
        if not getattr(self.tool, "cacheable", True):
            return self.tool(call)
        request = cache_request(self.tool, call)
        hit = self.cache.get(request)
        if hit is not None:
            value, extra = hit
            if len(call.action.variables) > 1 and isinstance(value, list):
                value = tuple(value)
            return ToolOutput(value, cached=True, extra=extra)
        out = self.tool(call)
        value, extra = (out.value, out.extra) if isinstance(out, ToolOutput) else (out, {})
        self.cache.put(request, value, extra)
        return out
