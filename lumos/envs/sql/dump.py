"""Read InterCode's MySQL 8 dump of the Spider dev databases (``ic_spider_dbs.sql``) into typed records.

The dump is ``mysqldump`` output: per database ``CREATE DATABASE`` / ``USE``, then per table::

    CREATE TABLE `museum` (
      `Museum_ID` int NOT NULL AUTO_INCREMENT,
      `Name` text COLLATE utf8mb4_general_ci,
      PRIMARY KEY (`Museum_ID`)
    ) ENGINE=InnoDB AUTO_INCREMENT=9 DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
    INSERT INTO `museum` VALUES (1,'Plaza Museum',62,'2000'),(2,'Capital Plaza Museum',25,'2012');

``parse_dump(path)`` returns ``{database: Database}`` with every table's declared columns (types exactly as
written, so ``DESCRIBE`` can show what MySQL shows), keys and rows. Statements we do not need (``SET``,
``LOCK TABLES``, ``DROP TABLE``, ``CREATE USER``, ``GRANT``, ...) are skipped; a statement we cannot read
raises ``DataFormatError`` naming the file and line.

Exercise: ``pytest tests/envs/test_sql_dump.py``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lumos.utils.io import DataFormatError

# One lexical token of the dump: a quoted string, a backquoted name, a comment, ';', or plain text.
_TOKEN = re.compile(
    r"'(?:[^'\\]|\\.|'')*'"  # single-quoted string with backslash escapes
    r'|"(?:[^"\\]|\\.)*"'
    r"|`[^`]*`"
    r"|--[^\n]*"
    r"|/\*.*?\*/"
    r"|;"
    r"|[^'\"`;/-]+"
    r"|.",
    re.S,
)
_ESCAPES = {"0": "\0", "'": "'", '"': '"', "b": "\b", "n": "\n", "r": "\r", "t": "\t", "Z": "\x1a", "\\": "\\"}
_VALUE = re.compile(
    r"\s*(?:(?P<str>'(?:[^'\\]|\\.|'')*')|(?P<null>NULL)|(?P<num>-?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)"
    r"|(?P<hex>0x[0-9A-Fa-f]+)|(?P<open>\()|(?P<close>\))|(?P<comma>,))",
)
_COLUMN = re.compile(r"`(?P<name>[^`]+)`\s+(?P<type>[a-z]+(?:\([^)]*\))?(?:\s+unsigned)?)(?P<rest>.*)\Z", re.S)
_COLUMN_OPTION = re.compile(
    r"\s*(?:(?P<collate>COLLATE\s+(?P<collation>\w+))|(?P<charset>CHARACTER\s+SET\s+\w+)|(?P<notnull>NOT\s+NULL)"
    r"|(?P<null>NULL)|(?P<default>DEFAULT\s+(?P<dvalue>NULL|'(?:[^'\\]|\\.|'')*'|-?[\d.]+|CURRENT_TIMESTAMP(?:\(\))?))"
    r"|(?P<autoinc>AUTO_INCREMENT)|(?P<onupdate>ON\s+UPDATE\s+CURRENT_TIMESTAMP(?:\(\))?)"
    r"|(?P<comment>COMMENT\s+'(?:[^'\\]|\\.|'')*'))",
    re.I,
)
_NAMES = re.compile(r"`([^`]+)`")
_KEY = re.compile(r"(?P<kind>PRIMARY KEY|UNIQUE KEY|KEY)\s*(?:`(?P<name>[^`]+)`)?\s*\((?P<cols>[^)]*)\)", re.I)
_FOREIGN = re.compile(
    r"CONSTRAINT\s+`(?P<name>[^`]+)`\s+FOREIGN KEY\s*\((?P<cols>[^)]*)\)\s*REFERENCES\s+`(?P<ref>[^`]+)`\s*"
    r"\((?P<refcols>[^)]*)\)",
    re.I,
)
_SKIPPED = ("SET ", "LOCK TABLES", "UNLOCK TABLES", "DROP TABLE", "CREATE USER", "GRANT ", "FLUSH ", "DROP DATABASE")


@dataclass(frozen=True)
class Column:
    """One declared column: ``type`` as the dump writes it (``int``, ``varchar(255)``, ``float(10,2)``)."""

    name: str
    type: str
    nullable: bool = True
    default: str | None = None
    """The default as MySQL's ``DESCRIBE`` reports it (``'0'``, ``''``, ``'CURRENT_TIMESTAMP'``); None for none/NULL."""
    auto_increment: bool = False
    default_generated: bool = False
    """``DEFAULT CURRENT_TIMESTAMP`` (MySQL 8 reports ``DEFAULT_GENERATED`` in ``Extra``)."""
    on_update: str | None = None
    collation: str | None = None


@dataclass(frozen=True)
class Index:
    name: str
    columns: tuple[str, ...]
    unique: bool


@dataclass(frozen=True)
class ForeignKey:
    name: str
    columns: tuple[str, ...]
    ref_table: str
    ref_columns: tuple[str, ...]


@dataclass
class Table:
    """A table of the dump: its declared schema and its rows (Python values: int, float, str, None, bytes)."""

    name: str
    columns: list[Column]
    primary_key: tuple[str, ...] = ()
    indexes: list[Index] = field(default_factory=list)
    foreign_keys: list[ForeignKey] = field(default_factory=list)
    rows: list[tuple[Any, ...]] = field(default_factory=list)

    def describe(self) -> list[tuple[str, str, str, str, str | None, str]]:
        """MySQL 8's ``DESCRIBE`` rows: ``(Field, Type, Null, Key, Default, Extra)``.

        ``Key``: ``PRI`` for primary-key columns; ``UNI`` for the first column of a single-column unique
        index; ``MUL`` for the first column of any other index; ``PRI`` beats ``UNI`` beats ``MUL``.
        """
        rank = {"PRI": 3, "UNI": 2, "MUL": 1, "": 0}
        key: dict[str, str] = {c: "PRI" for c in self.primary_key}
        for idx in self.indexes:
            kind = "UNI" if idx.unique and len(idx.columns) == 1 else "MUL"
            if rank[kind] > rank[key.get(idx.columns[0], "")]:
                key[idx.columns[0]] = kind
        out = []
        for c in self.columns:
            extra = []
            if c.auto_increment:
                extra.append("auto_increment")
            if c.default_generated:
                extra.append("DEFAULT_GENERATED")
            if c.on_update:
                extra.append(f"on update {c.on_update}")
            nullable = c.nullable and c.name not in self.primary_key
            out.append((c.name, c.type, "YES" if nullable else "NO", key.get(c.name, ""), c.default, " ".join(extra)))
        return out


@dataclass
class Database:
    name: str
    tables: dict[str, Table] = field(default_factory=dict)
    """Keyed by the table name as the dump writes it, in dump order."""

    def table(self, name: str) -> Table | None:
        """Case-insensitive lookup (MySQL with ``lower_case_table_names=1``, SQLite)."""
        low = name.lower()
        return next((t for n, t in self.tables.items() if n.lower() == low), None)


def _unquote(literal: str) -> str:
    """A single-quoted MySQL string literal (quotes included) as text."""
    body = literal[1:-1]
    out, i = [], 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            out.append(_ESCAPES.get(nxt, "\\" + nxt if nxt in "%_" else nxt))
            i += 2
        elif ch == "'" and body[i + 1 : i + 2] == "'":
            out.append("'")
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _statements(text: str) -> list[tuple[int, str]]:
    """Split the dump into ``(line, statement)`` pairs; comments removed, strings kept verbatim."""
    out: list[tuple[int, str]] = []
    parts: list[str] = []
    line = start_line = 1
    for m in _TOKEN.finditer(text):
        tok = m.group(0)
        if not parts and tok.strip() and not tok.startswith(("--", "/*")):
            start_line = line + tok[: len(tok) - len(tok.lstrip())].count("\n")
        if tok == ";":
            stmt = "".join(parts).strip()
            if stmt:
                out.append((start_line, stmt))
            parts = []
        elif not tok.startswith(("--", "/*")) or tok.startswith("/*!") and parts:
            # Version comments inside a statement (``/*!40100 DEFAULT CHARACTER SET ...*/``) are options we
            # do not need; drop them too, but keep a separating space.
            parts.append(" " if tok.startswith("/*") else tok)
        line += tok.count("\n")
    if "".join(parts).strip():
        out.append((start_line, "".join(parts).strip()))
    return out


def _split_top_level(body: str) -> list[str]:
    """Split a ``CREATE TABLE`` body on commas outside parentheses and quotes."""
    items, depth, cur = [], 0, []
    for m in _TOKEN.finditer(body):
        tok = m.group(0)
        if tok[0] in "'\"`":
            cur.append(tok)
            continue
        for ch in tok:
            if ch == "(":
                depth += 1
            elif ch == ")":
                depth -= 1
            if ch == "," and depth == 0:
                items.append("".join(cur).strip())
                cur = []
            else:
                cur.append(ch)
    if "".join(cur).strip():
        items.append("".join(cur).strip())
    return items


def _parse_column(item: str, where: str) -> Column:
    m = _COLUMN.match(item)
    if not m:
        raise DataFormatError(f"{where}: cannot read the column definition {item!r}")
    kw: dict[str, Any] = {}
    rest = m.group("rest")
    pos = 0
    while pos < len(rest.rstrip()):
        o = _COLUMN_OPTION.match(rest, pos)
        if not o or o.end() == pos:
            raise DataFormatError(f"{where}: unknown option {rest[pos:].strip()!r} in column definition {item!r}")
        if o.group("collate"):
            kw["collation"] = o.group("collation")
        elif o.group("notnull"):
            kw["nullable"] = False
        elif o.group("default"):
            value = o.group("dvalue")
            if value.upper().startswith("CURRENT_TIMESTAMP"):
                kw["default"], kw["default_generated"] = "CURRENT_TIMESTAMP", True
            elif value.upper() != "NULL":
                kw["default"] = _unquote(value) if value.startswith("'") else value
        elif o.group("autoinc"):
            kw["auto_increment"] = True
        elif o.group("onupdate"):
            kw["on_update"] = "CURRENT_TIMESTAMP"
        pos = o.end()
    return Column(name=m.group("name"), type=m.group("type"), **kw)


def _names(text: str) -> tuple[str, ...]:
    return tuple(_NAMES.findall(text))


def _parse_create_table(stmt: str, where: str) -> Table:
    m = re.match(r"CREATE TABLE\s+(?:IF NOT EXISTS\s+)?`(?P<name>[^`]+)`\s*\(", stmt, re.I)
    if not m:
        raise DataFormatError(f"{where}: cannot read the CREATE TABLE statement {stmt[:80]!r}")
    close = stmt.rfind(")")
    table = Table(name=m.group("name"), columns=[])
    for item in _split_top_level(stmt[m.end() : close]):
        if item.startswith("`"):
            table.columns.append(_parse_column(item, where))
        elif fk := _FOREIGN.match(item):
            table.foreign_keys.append(ForeignKey(fk.group("name"), _names(fk.group("cols")), fk.group("ref"),
                                                 _names(fk.group("refcols"))))  # fmt: skip
        elif key := _KEY.match(item):
            cols = _names(key.group("cols"))
            kind = key.group("kind").upper()
            if kind == "PRIMARY KEY":
                table.primary_key = cols
            else:
                table.indexes.append(Index(key.group("name") or cols[0], cols, unique=kind == "UNIQUE KEY"))
        else:
            raise DataFormatError(f"{where}: cannot read {item!r} in CREATE TABLE `{table.name}`")
    return table


def _parse_values(text: str, where: str) -> list[tuple[Any, ...]]:
    """The ``(v, ...),(v, ...)`` list of an ``INSERT``: ints, floats, str, None, bytes (``0x..``)."""
    rows: list[tuple[Any, ...]] = []
    row: list[Any] | None = None
    pos = 0
    while pos < len(text):
        m = _VALUE.match(text, pos)
        if not m:
            if not text[pos:].strip():
                break
            raise DataFormatError(f"{where}: cannot read the value at {text[pos:pos + 40]!r}")
        pos = m.end()
        if m.group("open"):
            if row is not None:
                raise DataFormatError(f"{where}: nested parenthesis in INSERT values at {text[m.start():m.start() + 40]!r}")
            row = []
        elif m.group("close"):
            if row is None:
                raise DataFormatError(f"{where}: unbalanced ')' in INSERT values")
            rows.append(tuple(row))
            row = None
        elif m.group("comma"):
            continue
        elif row is None:
            raise DataFormatError(f"{where}: value outside a row at {text[m.start():m.start() + 40]!r}")
        elif m.group("str") is not None:
            row.append(_unquote(m.group("str")))
        elif m.group("null"):
            row.append(None)
        elif m.group("hex"):
            row.append(bytes.fromhex(m.group("hex")[2:]))
        else:
            num = m.group("num")
            row.append(int(num) if re.fullmatch(r"-?\d+", num) else float(num))
    if row is not None:
        raise DataFormatError(f"{where}: unterminated row in INSERT values")
    return rows


def parse_dump(path: str | Path) -> dict[str, Database]:
    """Parse a ``mysqldump`` file into ``{database name: Database}`` (dump order).

    Raises:
        DataFormatError: a statement we cannot read (message: ``file:line: ...``).
    """
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    databases: dict[str, Database] = {}
    current: Database | None = None
    for line, stmt in _statements(text):
        where = f"{path}:{line}"
        upper = stmt[:40].upper()
        if upper.startswith("CREATE DATABASE"):
            m = re.match(r"CREATE DATABASE\s+(?:IF NOT EXISTS\s+)?`([^`]+)`", stmt, re.I)
            if not m:
                raise DataFormatError(f"{where}: cannot read {stmt[:80]!r}")
            databases.setdefault(m.group(1), Database(m.group(1)))
        elif upper.startswith("USE "):
            name = stmt[4:].strip().strip("`")
            current = databases.setdefault(name, Database(name))
        elif upper.startswith("CREATE TABLE"):
            if current is None:
                raise DataFormatError(f"{where}: CREATE TABLE before any USE statement")
            table = _parse_create_table(stmt, where)
            current.tables[table.name] = table
        elif upper.startswith("INSERT INTO"):
            m = re.match(r"INSERT INTO\s+`([^`]+)`\s+VALUES\s*", stmt, re.I)
            table = current.tables.get(m.group(1)) if m and current else None
            if m is None or table is None:
                raise DataFormatError(f"{where}: INSERT into an unknown table: {stmt[:80]!r}")
            rows = _parse_values(stmt[m.end() :], where)
            for r in rows:
                if len(r) != len(table.columns):
                    raise DataFormatError(f"{where}: a row of `{table.name}` has {len(r)} values for {len(table.columns)} columns")
            table.rows.extend(rows)
        elif not upper.startswith(_SKIPPED):
            raise DataFormatError(f"{where}: unexpected statement {stmt[:80]!r}")
    return databases
