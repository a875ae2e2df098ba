"""InterCode-SQL's questions (Spider dev as InterCode ships it) and where its files are.

One element of ``ic_spider_dev.json`` (a JSON list of 1,034; the id of a question is its index)::

    {"db": "poker_player", "gold": "SELECT T1.Name FROM people AS T1 JOIN poker_player AS T2 ON ...",
     "query": "What are the names of poker players, ordered ascending by ...?", "hardness": "medium",
     "db_tables": {"poker_player": ["Poker_Player_ID", ...], "people": ["People_ID", ...]}}

``query`` is the natural-language question (InterCode's name), ``gold`` the gold SQL. The MySQL dump
``ic_spider_dbs.sql`` sits beside it. ``data_dir`` may be the shared data root (``intercode_sql/spider__*``),
the folder holding the two files (upstream or ``spider__`` names), or the JSON file itself.

Exercise: ``pytest tests/envs/test_sql_score.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lumos.benchmarks.base import Example, find_data_file
from lumos.utils.io import DataFormatError, read_json, require_field

BENCHMARK = "intercode_sql"
HARDNESS: tuple[str, ...] = ("easy", "medium", "hard", "extra")
DATA_FILES: tuple[str, ...] = (
    "ic_spider_dev.json",
    "spider__ic_spider_dev.json",
    "intercode_sql/ic_spider_dev.json",
    "intercode_sql/spider__ic_spider_dev.json",
)
DUMP_FILES: tuple[str, ...] = ("ic_spider_dbs.sql", "spider__ic_spider_dbs.sql")


@dataclass(frozen=True)
class SqlQuestion:
    """One InterCode-SQL task; ``index`` is its position in the data file (the id predictions use)."""

    index: int
    db: str
    question: str
    gold: str
    hardness: str
    db_tables: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def to_example(self) -> Example:
        """The runtime's ``Example``: the question is the task, the gold query the answer."""
        return Example(id=str(self.index), question=self.question, answer=self.gold,
                       metadata={"db": self.db, "hardness": self.hardness})  # fmt: skip


def find_data(data_dir: str | Path | None = None) -> Path:
    """The questions file (see the module docstring for what ``data_dir`` may be; default ``$LUMOS_DATA_DIR``).

    Raises:
        FileNotFoundError: listing the paths tried.
    """
    return find_data_file(BENCHMARK, Path(data_dir) if data_dir else None, DATA_FILES)


def find_dump(data_file: Path, explicit: str | Path | None = None) -> Path:
    """The MySQL dump: ``explicit``, else beside the questions file.

    Raises:
        FileNotFoundError: naming the paths tried.
    """
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise FileNotFoundError(f"SQL dump {path} not found")
        return path
    tried = [data_file.parent / name for name in DUMP_FILES]
    for path in tried:
        if path.is_file():
            return path
    raise FileNotFoundError(f"no SQL dump beside {data_file}; tried {', '.join(map(str, tried))} (or pass --sql_dump)")


def load_questions(path: str | Path) -> list[SqlQuestion]:
    """All questions of an InterCode-SQL data file, in file order.

    Raises:
        DataFormatError: not a JSON list, or an element without ``db`` / ``gold`` / ``query`` (names the index).
    """
    path = Path(path)
    data: Any = read_json(path)
    if not isinstance(data, list):
        raise DataFormatError(f"{path}: expected a JSON list of questions, got {type(data).__name__}")
    out = []
    for i, rec in enumerate(data):
        where = f"{path}: element {i}"
        if not isinstance(rec, dict):
            raise DataFormatError(f"{where}: expected an object, got {type(rec).__name__}")
        hardness = rec.get("hardness", "")
        if hardness and hardness not in HARDNESS:
            raise DataFormatError(f"{where}: field 'hardness' is {hardness!r}, not one of {', '.join(HARDNESS)}")
        tables = rec.get("db_tables") or {}
        out.append(SqlQuestion(
            index=i,
            db=require_field(rec, "db", where, str),
            question=require_field(rec, "query", where, str),
            gold=require_field(rec, "gold", where, str),
            hardness=hardness,
            db_tables={str(t): tuple(cols) for t, cols in tables.items()},
        ))  # fmt: skip
    return out
