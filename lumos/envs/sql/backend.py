"""The SQL backends behind InterCode-SQL: one interface, an embedded SQLite default and a real MySQL/MariaDB server.

    >>> backend = make_backend("sqlite", dump=Path("../shared/data/intercode_sql/spider__ic_spider_dbs.sql"))
    >>> conn = backend.connect("poker_player")
    >>> conn.execute("SHOW TABLES").rows
    [('people',), ('poker_player',)]
    >>> conn.execute("SELEC 1").observation
    'Error executing query: near "SELEC": syntax error'

A backend is a read-only resource built once per run (``make_backend``) and shared by all episodes; each
episode opens its own ``SqlConnection`` bound to its question's database. Every statement runs read-only, with a
time limit (``timeout_s``) and a row limit (``max_rows``); a statement that fails gives a ``QueryResult`` with
the server's message in ``error`` (never an exception). Only infrastructure failures (no dump, server down)
raise ``SqlBackendError``.

Exercise: ``pytest tests/envs/test_sql_backend.py``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

BackendName = Literal["sqlite", "mysql"]
BACKENDS: tuple[str, ...] = ("sqlite", "mysql")
DEFAULT_TIMEOUT_S = 10.0
DEFAULT_MAX_ROWS = 100_000
ERROR_PREFIX = "Error executing query: "


class SqlBackendError(RuntimeError):
    """The backend itself is unusable (missing dump, server unreachable); not a failing query."""


@dataclass(frozen=True)
class QueryResult:
    """The outcome of one statement.

    ``rows`` is the result set (a list of tuples, at most ``max_rows``) or None when the statement has none
    (``USE db``) or failed; ``error`` is the server's message; ``truncated`` says that more than ``max_rows``
    rows were produced (only the first ``max_rows`` are kept).
    """

    sql: str
    rows: list[tuple[Any, ...]] | None = None
    columns: tuple[str, ...] = ()
    error: str | None = None
    truncated: bool = False
    max_rows: int = DEFAULT_MAX_ROWS
    elapsed_s: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def observation(self) -> list[tuple[Any, ...]] | str | None:
        """What InterCode's environment records as the observation: the rows, ``None`` for a statement without
        a result set, or ``"Error executing query: <message>"``. A result over the row limit is an error here
        (InterCode has no limit; see docs/intercode_sql.md)."""
        if self.error is not None:
            return ERROR_PREFIX + self.error
        if self.truncated:
            return f"{ERROR_PREFIX}the result has more than {self.max_rows} rows (row limit)"
        return self.rows


class SqlConnection(Protocol):
    """One session's connection, bound to a database (``USE other`` switches it, as on MySQL)."""

    database: str

    def execute(self, sql: str) -> QueryResult: ...
    def close(self) -> None: ...


class SqlBackend(Protocol):
    """A shared, read-only set of databases."""

    name: str
    timeout_s: float
    max_rows: int

    def databases(self) -> list[str]: ...
    def connect(self, database: str) -> SqlConnection: ...
    def describe(self) -> dict[str, Any]: ...
    def close(self) -> None: ...


def default_cache_dir() -> Path:
    """``$LUMOS_CACHE_DIR`` or ``~/.cache/lumos``."""
    return Path(os.environ.get("LUMOS_CACHE_DIR") or Path.home() / ".cache" / "lumos")


def make_backend(
    name: str = "sqlite",
    *,
    dump: Path | None = None,
    url: str | None = None,
    cache_dir: Path | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    max_rows: int = DEFAULT_MAX_ROWS,
) -> SqlBackend:
    """Build the backend once per run.

    Args:
        name: ``sqlite`` (default; the dump converted once per database, cached) or ``mysql`` (a real server).
        dump: the MySQL dump (``ic_spider_dbs.sql``); needed for ``sqlite``.
        url: ``mysql://USER:PASS@HOST:PORT``; needed for ``mysql`` (the server must hold the dump's databases).
        cache_dir: where converted SQLite files go (default ``$LUMOS_CACHE_DIR``, else ``~/.cache/lumos``).
        timeout_s: time limit of one statement.
        max_rows: rows kept of one result; more marks the result ``truncated``.

    Raises:
        ValueError: unknown backend name or a missing argument.
        SqlBackendError: the dump is unreadable / the server unreachable.
    """
    if name not in BACKENDS:
        raise ValueError(f"unknown SQL backend {name!r}; choose one of {', '.join(BACKENDS)}")
    if timeout_s <= 0 or max_rows <= 0:
        raise ValueError(f"timeout_s and max_rows must be positive (got {timeout_s}, {max_rows})")
    if name == "sqlite":
        if dump is None:
            raise ValueError("the sqlite backend needs the MySQL dump (ic_spider_dbs.sql) to convert")
        from lumos.envs.sql.sqlite import SqliteBackend

        return SqliteBackend(dump, cache_dir=cache_dir, timeout_s=timeout_s, max_rows=max_rows)
    if not url:
        raise ValueError("the mysql backend needs --sql_url mysql://USER:PASS@HOST:PORT")
    from lumos.envs.sql.mysql import MysqlBackend

    return MysqlBackend(url, timeout_s=timeout_s, max_rows=max_rows)
