"""The server backend: a real MySQL or MariaDB server holding InterCode's dump (InterCode's own setting).

    $ scripts/start_mariadb.sh start          # prints mysql://lumos_ro:lumos_ro@127.0.0.1:3399
    >>> backend = MysqlBackend("mysql://lumos_ro:lumos_ro@127.0.0.1:3399")
    >>> backend.connect("poker_player").execute("SHOW TABLES").rows
    [('people',), ('poker_player',)]

Connections use PyMySQL (pure Python). Each session is put in read-only mode (``SET SESSION TRANSACTION READ
ONLY``) and given a statement time limit (MariaDB ``max_statement_time``, MySQL ``max_execution_time``); use a
read-only account too (``start_mariadb.sh`` creates one). Results are streamed and cut after ``max_rows`` rows (the
connection is then dropped so the rest is never transferred, and reopened on the next statement). A failing
statement gives its server message as ``QueryResult.error``, like InterCode's ``err.msg``.

Exercise: ``pytest tests/envs/test_sql_mariadb.py``.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import unquote, urlsplit

from lumos.envs.sql.backend import DEFAULT_MAX_ROWS, DEFAULT_TIMEOUT_S, QueryResult, SqlBackendError

_SYSTEM_SCHEMAS = frozenset({"information_schema", "mysql", "performance_schema", "sys"})


def parse_url(url: str) -> dict[str, Any]:
    """``mysql://USER:PASS@HOST:PORT`` -> PyMySQL connection arguments (port 3306 by default).

    Raises:
        ValueError: not a ``mysql://`` URL, or no host.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("mysql", "mariadb") or not parts.hostname:
        raise ValueError(f"expected --sql_url mysql://USER:PASS@HOST:PORT, got {url!r}")
    return {"host": parts.hostname, "port": parts.port or 3306, "user": unquote(parts.username or ""),
            "password": unquote(parts.password or "")}  # fmt: skip


def _message(err: Exception) -> str:
    """The server's message without the error code (InterCode shows mysql.connector's ``err.msg``)."""
    args = getattr(err, "args", ())
    if len(args) >= 2 and isinstance(args[1], str):
        return args[1]
    return str(err)


class MysqlBackend:
    """A server holding the dump's databases; connections are opened per session."""

    name = "mysql"

    def __init__(self, url: str, *, timeout_s: float = DEFAULT_TIMEOUT_S, max_rows: int = DEFAULT_MAX_ROWS,
                 connect_timeout_s: float = 10.0) -> None:  # fmt: skip
        self.url = url
        self.params = parse_url(url)
        self.timeout_s = timeout_s
        self.max_rows = max_rows
        self.connect_timeout_s = connect_timeout_s
        probe = self._raw_connect(None)
        try:
            with probe.cursor() as cur:
                cur.execute("SELECT VERSION()")
                self.version: str = cur.fetchall()[0][0]
                cur.execute("SHOW DATABASES")
                self._databases = [r[0] for r in cur.fetchall() if r[0].lower() not in _SYSTEM_SCHEMAS]
        finally:
            probe.close()
        self.mariadb = "mariadb" in self.version.lower()

    def _raw_connect(self, database: str | None) -> Any:
        import pymysql

        # No TLS to a server on this machine (building a TLS context costs ~40 ms per connection).
        local = self.params["host"] in ("127.0.0.1", "localhost", "::1")
        try:
            return pymysql.connect(**self.params, database=database, autocommit=True, charset="utf8mb4",
                                   connect_timeout=self.connect_timeout_s, read_timeout=self.timeout_s + 30,
                                   cursorclass=pymysql.cursors.SSCursor, ssl_disabled=local)  # fmt: skip
        except pymysql.err.OperationalError as e:
            where = f"{self.params['user']}@{self.params['host']}:{self.params['port']}"
            raise SqlBackendError(f"cannot connect to the SQL server {where}: {_message(e)}") from e

    def databases(self) -> list[str]:
        return list(self._databases)

    def find_database(self, name: str) -> str | None:
        low = name.lower()
        return next((d for d in self._databases if d.lower() == low), None)

    def connect(self, database: str) -> MysqlConnection:
        """A read-only, time-limited connection with ``database`` selected.

        Raises:
            SqlBackendError: the server is unreachable or does not hold ``database``.
        """
        found = self.find_database(database)
        if found is None:
            raise SqlBackendError(f"database {database!r} is not on the server {self.params['host']}:{self.params['port']} "
                                  f"(it has {', '.join(self._databases) or 'none'}); load the dump with scripts/start_mariadb.sh")  # fmt: skip
        return MysqlConnection(self, found)

    def session_setup(self) -> list[str]:
        """Statements run on every new connection: read-only mode and the statement time limit."""
        limit = (f"SET SESSION max_statement_time = {self.timeout_s:g}" if self.mariadb
                 else f"SET SESSION max_execution_time = {int(self.timeout_s * 1000)}")  # fmt: skip
        return ["SET SESSION TRANSACTION READ ONLY", limit]

    def describe(self) -> dict[str, Any]:
        return {"backend": "mysql", "server": f"{self.params['host']}:{self.params['port']}", "user": self.params["user"],
                "version": self.version, "timeout_s": self.timeout_s, "max_rows": self.max_rows}  # fmt: skip

    def close(self) -> None:
        """Nothing to release: connections belong to sessions."""


class MysqlConnection:
    """One session's connection. ``USE other_db`` switches databases, as on the server."""

    def __init__(self, backend: MysqlBackend, database: str) -> None:
        self.backend = backend
        self.database = database
        self._conn: Any = None
        self._open()

    def _open(self) -> None:
        conn = self.backend._raw_connect(self.database)
        with conn.cursor() as cur:
            for stmt in self.backend.session_setup():
                cur.execute(stmt)
        self._conn = conn

    def _drop(self) -> None:
        import pymysql

        if self._conn is not None:
            try:
                self._conn.close()
            except (pymysql.err.MySQLError, OSError):  # already closed or a broken socket: discarded anyway
                pass
            self._conn = None

    def close(self) -> None:
        self._drop()

    def _abandon(self, cur: Any) -> None:
        """Drop the connection in the middle of a streamed result, without reading the rest of it (PyMySQL would
        read it to the end when the cursor is closed); the next statement reconnects."""
        result = getattr(cur, "_result", None)
        if result is not None:
            result.unbuffered_active = False
        self._drop()

    def execute(self, sql: str) -> QueryResult:
        """Run one statement; failures come back as ``QueryResult.error`` (the server's message)."""
        import pymysql

        start = time.perf_counter()
        max_rows = self.backend.max_rows
        if not isinstance(sql, str) or not sql.strip():
            return QueryResult(str(sql), error="Query was empty", max_rows=max_rows)
        if self._conn is None:
            self._open()
        cur = self._conn.cursor()
        try:
            cur.execute(sql)
            columns = tuple(d[0] for d in cur.description) if cur.description else ()
            rows = list(cur.fetchmany(max_rows + 1)) if cur.description else None
        except pymysql.err.MySQLError as e:
            lost = isinstance(e, (pymysql.err.OperationalError, pymysql.err.InterfaceError)) and not self._alive()
            if lost:
                self._drop()
            return QueryResult(sql, error=_message(e), max_rows=max_rows, elapsed_s=time.perf_counter() - start)
        truncated = rows is not None and len(rows) > max_rows
        if truncated:
            self._abandon(cur)
            rows = rows[:max_rows]
        else:
            cur.close()
            self._track_database(sql)
        return QueryResult(sql, rows=rows, columns=columns, truncated=truncated, max_rows=max_rows,
                           elapsed_s=time.perf_counter() - start)  # fmt: skip

    def _alive(self) -> bool:
        import pymysql

        try:
            self._conn.ping(reconnect=False)
            return True
        except (pymysql.err.MySQLError, OSError, AttributeError):
            return False

    def _track_database(self, sql: str) -> None:
        """Remember a successful ``USE db`` so a reconnect comes back to it."""
        words = sql.strip().rstrip(";").split()
        if len(words) == 2 and words[0].upper() == "USE":
            self.database = words[1].strip("`")
