"""The embedded backend: InterCode's MySQL dump converted once into one SQLite file per database.

Conversion (``convert_dump``) keeps what the agent and the reward can see of the MySQL setting:

* table names in lower case, as InterCode's server (``lower_case_table_names=1``) shows them;
* each column's declared MySQL type verbatim (``char(52)``, ``float(10,2)``), so SQLite's type affinity follows
  the MySQL type and ``DESCRIBE`` shows what MySQL shows; NOT NULL, defaults, primary, unique and foreign keys;
* the dump's case-insensitive collation (``utf8mb4_general_ci``) as a SQLite collation of the same name: case-
  and accent-insensitive, trailing spaces ignored (``=``, ``GROUP BY``, ``DISTINCT``, ``ORDER BY`` on those columns).

The files live in ``<cache_dir>/intercode_sql/sqlite-<dump sha256[:16]>-v<format>/`` with ``manifest.json``
(per database: its tables and MySQL-shaped ``DESCRIBE`` rows). ``SHOW TABLES``, ``SHOW [FULL] TABLES [LIKE]``,
``DESCRIBE t`` / ``DESC t`` / ``SHOW COLUMNS FROM t``, ``SHOW DATABASES`` and ``USE db`` are answered from the
manifest in MySQL's shape; everything else goes to SQLite. Connections are read-only (``mode=ro``, an
authorizer that allows only reads), interrupted after ``timeout_s`` and keep at most ``max_rows`` rows.

    $ python -m lumos.envs.sql.sqlite --dump ../shared/data/intercode_sql/spider__ic_spider_dbs.sql
    {"cache": "/root/.cache/lumos/intercode_sql/sqlite-61f6e8000cb5bb69-v1", "databases": 20, "conversion_s": 0.21}

Exercise: ``pytest tests/envs/test_sql_backend.py``.
"""

from __future__ import annotations

import argparse
import functools
import json
import logging
import re
import shutil
import sqlite3
import sys
import tempfile
import time
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from lumos.envs.sql.backend import DEFAULT_MAX_ROWS, DEFAULT_TIMEOUT_S, QueryResult, SqlBackendError, default_cache_dir
from lumos.envs.sql.dump import Database, parse_dump
from lumos.utils.io import DataFormatError, file_sha256

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
COLLATION = "utf8mb4_general_ci"
_ALLOWED_ACTIONS = frozenset({sqlite3.SQLITE_READ, sqlite3.SQLITE_SELECT, sqlite3.SQLITE_FUNCTION, 33})  # 33: RECURSIVE
_NAME = r"(?:`[^`]+`|[A-Za-z0-9_$]+)"
_END = r"\s*;?\s*\Z"
_SHOW_TABLES = re.compile(rf"\s*SHOW\s+(?P<full>FULL\s+)?TABLES(?:\s+(?:FROM|IN)\s+(?P<db>{_NAME}))?"
                          rf"(?:\s+LIKE\s+'(?P<like>[^']*)')?{_END}", re.I)  # fmt: skip
_DESCRIBE = re.compile(rf"\s*(?:DESCRIBE|DESC|EXPLAIN)\s+(?P<table>{_NAME}(?:\.{_NAME})?)"
                       rf"(?:\s+(?P<col>{_NAME}|'[^']*'))?{_END}", re.I)  # fmt: skip
_SHOW_COLUMNS = re.compile(rf"\s*SHOW\s+(?:FULL\s+)?(?:COLUMNS|FIELDS)\s+(?:FROM|IN)\s+(?P<table>{_NAME}(?:\.{_NAME})?)"
                           rf"(?:\s+(?:FROM|IN)\s+(?P<db>{_NAME}))?(?:\s+LIKE\s+'(?P<like>[^']*)')?{_END}", re.I)  # fmt: skip
_SHOW_DATABASES = re.compile(rf"\s*SHOW\s+(?:DATABASES|SCHEMAS){_END}", re.I)
_USE = re.compile(rf"\s*USE\s+(?P<db>{_NAME}){_END}", re.I)
_NOT_TABLES = frozenset({"SELECT", "WITH", "INSERT", "UPDATE", "DELETE", "REPLACE", "TABLE", "FORMAT", "EXTENDED",
                         "PARTITIONS", "ANALYZE", "VALUES"})  # fmt: skip


# ------------------------------------------------------------------------------------------------
# The collation
# ------------------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=65536)
def general_ci_key(text: str) -> str:
    """Sort/compare key of MySQL's ``utf8mb4_general_ci`` (approximation): accents dropped, upper case, no
    trailing spaces. ``general_ci_key("Café ") == general_ci_key("CAFE")``."""
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return stripped.upper().rstrip(" ")


def general_ci(a: str, b: str) -> int:
    ka, kb = general_ci_key(a), general_ci_key(b)
    return (ka > kb) - (ka < kb)


# ------------------------------------------------------------------------------------------------
# Conversion
# ------------------------------------------------------------------------------------------------
def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _collation_of(declared: str | None) -> str | None:
    if not declared:
        return None
    return COLLATION if declared.lower().endswith("_ci") else "BINARY"


def _create_statements(db: Database) -> list[str]:
    out = []
    for table in db.tables.values():
        parts = []
        for c in table.columns:
            col = f"{_q(c.name)} {c.type}"
            if not c.nullable:
                col += " NOT NULL"
            if c.default_generated:
                col += " DEFAULT CURRENT_TIMESTAMP"
            elif c.default is not None:
                col += f" DEFAULT {_literal(c.default)}"
            if (coll := _collation_of(c.collation)) is not None:
                col += f" COLLATE {coll}"
            parts.append(col)
        if table.primary_key:
            parts.append(f"PRIMARY KEY ({', '.join(_q(c) for c in table.primary_key)})")
        for fk in table.foreign_keys:
            parts.append(f"FOREIGN KEY ({', '.join(_q(c) for c in fk.columns)}) REFERENCES {_q(fk.ref_table.lower())} "
                         f"({', '.join(_q(c) for c in fk.ref_columns)})")  # fmt: skip
        out.append(f"CREATE TABLE {_q(table.name.lower())} (\n  " + ",\n  ".join(parts) + "\n)")
        for idx in table.indexes:
            name = f"{table.name.lower()}__{idx.name}"
            unique = "UNIQUE " if idx.unique else ""
            out.append(f"CREATE {unique}INDEX {_q(name)} ON {_q(table.name.lower())} ({', '.join(_q(c) for c in idx.columns)})")
    return out


def _write_database(db: Database, path: Path) -> None:
    conn = sqlite3.connect(str(path))
    try:
        conn.create_collation(COLLATION, general_ci)
        conn.execute("PRAGMA journal_mode=OFF")
        with conn:
            for stmt in _create_statements(db):
                conn.execute(stmt)
            for table in db.tables.values():
                if table.rows:
                    marks = ", ".join("?" * len(table.columns))
                    conn.executemany(f"INSERT INTO {_q(table.name.lower())} VALUES ({marks})", table.rows)
    except sqlite3.Error as e:
        raise DataFormatError(f"cannot convert database {db.name} to SQLite: {e}") from e
    finally:
        conn.close()


def _manifest_entry(db: Database) -> dict[str, Any]:
    return {
        "file": f"{db.name}.sqlite",
        "tables": sorted(t.lower() for t in db.tables),
        "describe": {t.name.lower(): [list(r) for r in t.describe()] for t in db.tables.values()},
        "rows": {t.name.lower(): len(t.rows) for t in db.tables.values()},
    }


def convert_dump(dump: Path, out_dir: Path) -> dict[str, Any]:
    """Convert every database of ``dump`` into ``out_dir/<db>.sqlite`` plus ``out_dir/manifest.json``.

    Returns:
        The manifest (``{"dump_sha256", "format", "conversion_s", "databases": {db: {...}}}``).
    """
    start = time.perf_counter()
    databases = parse_dump(dump)
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest: dict[str, Any] = {"dump_sha256": file_sha256(dump), "format": FORMAT_VERSION, "databases": {}}
    for db in databases.values():
        _write_database(db, out_dir / f"{db.name}.sqlite")
        manifest["databases"][db.name] = _manifest_entry(db)
    manifest["conversion_s"] = round(time.perf_counter() - start, 3)
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    return manifest


def ensure_converted(dump: Path, cache_dir: Path | None = None) -> Path:
    """The cache folder holding ``dump`` converted; converts it on the first call (keyed by the dump's sha256).

    Raises:
        SqlBackendError: the dump does not exist.
    """
    dump = Path(dump)
    if not dump.is_file():
        raise SqlBackendError(f"MySQL dump {dump} not found (pass --sql_dump or --data_dir with ic_spider_dbs.sql)")
    root = Path(cache_dir or default_cache_dir()) / "intercode_sql"
    final = root / f"sqlite-{file_sha256(dump)[:16]}-v{FORMAT_VERSION}"
    if (final / "manifest.json").is_file():
        return final
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".converting-", dir=root))
    try:
        manifest = convert_dump(dump, tmp)
        try:
            tmp.rename(final)
        except OSError:  # another process finished first
            if not (final / "manifest.json").is_file():
                raise
        else:
            logger.info("converted %s into %d SQLite databases in %.2f s: %s", dump, len(manifest["databases"]),
                        manifest["conversion_s"], final)  # fmt: skip
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return final


# ------------------------------------------------------------------------------------------------
# Backend and connections
# ------------------------------------------------------------------------------------------------
def _unquote_name(name: str) -> str:
    return name[1:-1] if name.startswith("`") and name.endswith("`") else name


def _like(pattern: str) -> re.Pattern[str]:
    regex = "".join(".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in pattern)
    return re.compile(regex + r"\Z", re.I | re.S)


def _authorize(action: int, arg1: Any, arg2: Any, db: Any, source: Any) -> int:
    return sqlite3.SQLITE_OK if action in _ALLOWED_ACTIONS else sqlite3.SQLITE_DENY


class SqliteBackend:
    """The converted databases, shared by all sessions of a run."""

    name = "sqlite"

    def __init__(self, dump: Path, *, cache_dir: Path | None = None, timeout_s: float = DEFAULT_TIMEOUT_S,
                 max_rows: int = DEFAULT_MAX_ROWS) -> None:  # fmt: skip
        self.dump = Path(dump)
        self.folder = ensure_converted(self.dump, cache_dir)
        self.manifest: dict[str, Any] = json.loads((self.folder / "manifest.json").read_text(encoding="utf-8"))
        self.timeout_s = timeout_s
        self.max_rows = max_rows

    def databases(self) -> list[str]:
        return list(self.manifest["databases"])

    def find_database(self, name: str) -> str | None:
        low = name.lower()
        return next((d for d in self.manifest["databases"] if d.lower() == low), None)

    def connect(self, database: str) -> SqliteConnection:
        """A read-only connection bound to ``database``.

        Raises:
            SqlBackendError: no such database in the dump.
        """
        if self.find_database(database) is None:
            raise SqlBackendError(f"database {database!r} is not in {self.dump} (has {', '.join(self.databases())})")
        return SqliteConnection(self, database)

    def describe(self) -> dict[str, Any]:
        return {"backend": "sqlite", "dump": str(self.dump), "dump_sha256": self.manifest["dump_sha256"],
                "cache": str(self.folder), "sqlite_version": sqlite3.sqlite_version, "timeout_s": self.timeout_s,
                "max_rows": self.max_rows}  # fmt: skip

    def close(self) -> None:
        """Nothing to release: connections belong to sessions."""


class SqliteConnection:
    """One session's read-only connection; MySQL's ``SHOW`` / ``DESCRIBE`` / ``USE`` are answered in MySQL's shape."""

    def __init__(self, backend: SqliteBackend, database: str) -> None:
        self.backend = backend
        self.database = ""
        self._conn: sqlite3.Connection | None = None
        self._deadline: float | None = None
        self._use(database)

    # -- connection management --------------------------------------------------------------
    def _open(self, database: str) -> sqlite3.Connection:
        path = self.backend.folder / self.backend.manifest["databases"][database]["file"]
        conn = sqlite3.connect(f"file:{quote(str(path))}?mode=ro&immutable=1", uri=True, check_same_thread=False)
        conn.create_collation(COLLATION, general_ci)
        conn.set_authorizer(_authorize)
        conn.set_progress_handler(self._check_deadline, 1000)
        return conn

    def _use(self, database: str) -> None:
        found = self.backend.find_database(database)
        if found is None:
            raise SqlBackendError(f"unknown database {database!r}")
        if self._conn is not None:
            self._conn.close()
        self._conn = self._open(found)
        self.database = found

    def _check_deadline(self) -> int:
        return 1 if self._deadline is not None and time.monotonic() > self._deadline else 0

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # -- statements ---------------------------------------------------------------------------
    def _entry(self, database: str | None = None) -> dict[str, Any]:
        return self.backend.manifest["databases"][database or self.database]

    def _emulated(self, sql: str) -> tuple[list[tuple[Any, ...]] | None, tuple[str, ...], str | None] | None:
        """Rows, column names and error of a MySQL-only statement; None if SQLite should run ``sql``."""
        if m := _SHOW_TABLES.match(sql):
            db = self.database
            if m.group("db"):
                found = self.backend.find_database(_unquote_name(m.group("db")))
                if found is None:
                    return None, (), f"Unknown database '{_unquote_name(m.group('db'))}'"
                db = found
            tables = [t for t in self._entry(db)["tables"] if not m.group("like") or _like(m.group("like")).match(t)]
            column = f"Tables_in_{db}" + (f" ({m.group('like')})" if m.group("like") else "")
            if m.group("full"):
                return [(t, "BASE TABLE") for t in tables], (column, "Table_type"), None
            return [(t,) for t in tables], (column,), None
        describe = _DESCRIBE.match(sql)
        if describe and describe.group("table").upper() in _NOT_TABLES:
            describe = None
        if describe or (describe := _SHOW_COLUMNS.match(sql)):
            return self._describe(describe)
        if _SHOW_DATABASES.match(sql):
            return [(d,) for d in sorted(self.backend.databases())], ("Database",), None
        if m := _USE.match(sql):
            name = _unquote_name(m.group("db"))
            if self.backend.find_database(name) is None:
                return None, (), f"Unknown database '{name}'"
            self._use(name)
            return None, (), None
        return None

    def _describe(self, m: re.Match[str]) -> tuple[list[tuple[Any, ...]] | None, tuple[str, ...], str | None]:
        parts = re.fullmatch(rf"(?:(?P<db>{_NAME})\.)?(?P<t>{_NAME})", m.group("table"))
        assert parts is not None  # the statement regexes only match qualified names of this form
        db_name = parts.group("db") or (m.group("db") if m.re is _SHOW_COLUMNS else None)
        db = self.database
        if db_name:
            db = self.backend.find_database(_unquote_name(db_name)) or _unquote_name(db_name)
        table = _unquote_name(parts.group("t"))
        if db not in self.backend.manifest["databases"]:
            return None, (), f"Unknown database '{db}'"
        rows = self._entry(db)["describe"].get(table.lower())
        if rows is None:
            return None, (), f"Table '{db}.{table}' doesn't exist"
        pattern = m.group("like") if m.re is _SHOW_COLUMNS else m.groupdict().get("col")
        if pattern:
            pattern = pattern[1:-1] if pattern[0] in "'`" else pattern
            rows = [r for r in rows if _like(pattern).match(r[0])]
        return [tuple(r) for r in rows], ("Field", "Type", "Null", "Key", "Default", "Extra"), None

    def execute(self, sql: str) -> QueryResult:
        """Run one statement; failures come back as ``QueryResult.error`` (SQLite's message)."""
        start = time.perf_counter()
        max_rows = self.backend.max_rows
        if not isinstance(sql, str) or not sql.strip():
            return QueryResult(str(sql), error="Query was empty", max_rows=max_rows)
        emulated = self._emulated(sql)
        if emulated is not None:
            rows, columns, error = emulated
            return QueryResult(sql, rows=rows, columns=columns, error=error, max_rows=max_rows,
                               elapsed_s=time.perf_counter() - start)  # fmt: skip
        assert self._conn is not None, "connection used after close()"
        self._deadline = time.monotonic() + self.backend.timeout_s
        cur = self._conn.cursor()
        try:
            cur.execute(sql)
            columns = tuple(d[0] for d in cur.description) if cur.description else ()
            rows = cur.fetchmany(max_rows + 1) if cur.description else None
        except sqlite3.OperationalError as e:
            message = str(e)
            if message == "interrupted":
                message = f"Query execution was interrupted (time limit of {self.backend.timeout_s:g} s exceeded)"
            return QueryResult(sql, error=message, max_rows=max_rows, elapsed_s=time.perf_counter() - start)
        except (sqlite3.Error, sqlite3.Warning, OverflowError) as e:
            return QueryResult(sql, error=str(e), max_rows=max_rows, elapsed_s=time.perf_counter() - start)
        finally:
            self._deadline = None
            cur.close()
        truncated = rows is not None and len(rows) > max_rows
        if truncated:
            rows = rows[:max_rows]
        return QueryResult(sql, rows=rows, columns=columns, truncated=truncated, max_rows=max_rows,
                           elapsed_s=time.perf_counter() - start)  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    p = argparse.ArgumentParser(prog="python -m lumos.envs.sql.sqlite", description="Convert the MySQL dump to SQLite (cached).")
    p.add_argument("--dump", type=Path, required=True, help="ic_spider_dbs.sql")
    p.add_argument("--cache_dir", type=Path, default=None, help="default $LUMOS_CACHE_DIR or ~/.cache/lumos")
    args = p.parse_args(argv)
    try:
        folder = ensure_converted(args.dump, args.cache_dir)
    except (SqlBackendError, DataFormatError) as e:
        logger.error("%s", e)
        return 1
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    sys.stdout.write(json.dumps({"cache": str(folder), "databases": len(manifest["databases"]),
                                 "conversion_s": manifest["conversion_s"]}) + "\n")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
