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
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from lumos.tools.base import Tool, ToolCall, ToolOutput

_SCHEMA = """CREATE TABLE IF NOT EXISTS tool_calls (
    key TEXT PRIMARY KEY, tool TEXT NOT NULL, backend TEXT NOT NULL, request TEXT NOT NULL,
    value TEXT NOT NULL, extra TEXT NOT NULL, created REAL NOT NULL)"""


def _canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


class ToolCache:
    """sqlite3-backed store ``request -> (value, extra)``; safe across threads and processes (WAL)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(self.path), timeout=60, check_same_thread=False)
        with self._lock, self._db:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(_SCHEMA)
        self.hits = 0
        self.misses = 0

    @staticmethod
    def key(request: dict[str, Any]) -> str:
        return hashlib.sha256(_canonical(request).encode()).hexdigest()

    def get(self, request: dict[str, Any]) -> tuple[Any, dict[str, Any]] | None:
        with self._lock:
            row = self._db.execute("SELECT value, extra FROM tool_calls WHERE key = ?", (self.key(request),)).fetchone()
        if row is None:
            self.misses += 1
            return None
        self.hits += 1
        return json.loads(row[0]), json.loads(row[1])

    def put(self, request: dict[str, Any], value: Any, extra: dict[str, Any]) -> None:
        row = (self.key(request), request["tool"], request["backend"], _canonical(request),
               _canonical(value), _canonical(extra), time.time())  # fmt: skip
        with self._lock, self._db:
            self._db.execute("INSERT OR REPLACE INTO tool_calls VALUES (?, ?, ?, ?, ?, ?, ?)", row)

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
