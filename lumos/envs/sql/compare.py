"""How often the SQLite and the MySQL/MariaDB backends disagree, and why.

Each query (the gold queries by default, or a predictions file's queries) runs on both backends; the two
observations are compared as InterCode compares rows (``str`` of each row tuple, in order). A disagreement is
classified by the first normalisation, in this order, that makes the two results equal:

``number type``      the same numbers as ``Decimal('3.5000')`` / ``3.5`` / ``3`` (MySQL's DECIMAL results);
``numeric precision`` numbers equal to 4 decimals (MySQL's AVG gives a DECIMAL with 4 more decimals; FLOAT
                     columns are single precision on MySQL);
``date type``        ``datetime.datetime(2018, 3, 10, 0, 3, 21)`` vs ``'2018-03-10 00:03:21'``;
``row order``        the same rows in another order (NULL ordering, ties without a total ORDER BY, ...);
``case``             equal ignoring letter case (which row's spelling a case-insensitive GROUP BY keeps);
``tie under LIMIT``  otherwise, for a query with ORDER BY ... LIMIT: another row among equals was kept;
``bare column``      otherwise, for a query with MIN()/MAX(): a column outside the aggregate takes its value from
                     the row of the MIN/MAX on SQLite, from any row on MySQL;
``integer division`` otherwise, SQLite's integer result of ``/`` against MySQL's fraction;
``other``            anything else (listed with the query).

With ``--predictions`` the InterCode reward of each query is also computed on both backends and compared.

    $ python -m lumos.envs.sql.compare --data_dir ../shared/data --sql_url mysql://lumos_ro:lumos_ro@127.0.0.1:3399 \\
        --out results/intercode_sql/backend_compare.json
    {"n": 1034, "agree": 1017, "fail_mysql_only": 6, ..., "classes": {"number type": 5, ...}}

Exercise: ``pytest tests/envs/test_sql_compare.py``.
"""

from __future__ import annotations

import argparse
import datetime
import decimal
import json
import logging
import re
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from tqdm import tqdm

from lumos.envs.sql.backend import DEFAULT_MAX_ROWS, DEFAULT_TIMEOUT_S, SqlBackend, SqlBackendError, make_backend
from lumos.envs.sql.data import SqlQuestion, find_data, find_dump, load_questions
from lumos.envs.sql.score import gold_reward, read_predictions, run_with_gold
from lumos.utils.io import DataFormatError, write_json

logger = logging.getLogger(__name__)
Rows = list[tuple[Any, ...]]


def _num(v: Any) -> Any:
    if isinstance(v, bool):
        return v
    if isinstance(v, (int, float, decimal.Decimal)):
        return float(v)
    return v


def _close(a: Any, b: Any) -> bool:
    """Numbers equal up to MySQL's AVG scale (4 decimals) or single precision; anything else exactly."""
    a, b = _num(a), _num(b)
    if isinstance(a, float) and isinstance(b, float):
        return abs(a - b) <= max(5e-5, 1e-6 * abs(a))
    return a == b


def _approx_same(a: Rows, b: Rows) -> bool:
    return len(a) == len(b) and all(len(x) == len(y) and all(map(_close, x, y)) for x, y in zip(a, b))


def _date(v: Any) -> Any:
    v = _num(v)
    if isinstance(v, float):
        v = round(v, 4)
    if isinstance(v, datetime.datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(v, datetime.date):
        return v.isoformat()
    if isinstance(v, (bytes, bytearray)):
        return bytes(v).decode("utf-8", "replace")
    return v


def _case(v: Any) -> Any:
    v = _date(v)
    return v.casefold() if isinstance(v, str) else v


def _map(rows: Rows, fn: Callable[[Any], Any]) -> list[str]:
    return [str(tuple(fn(v) for v in row)) for row in rows]


def _sorted(rows: Rows, fn: Callable[[Any], Any]) -> list[str]:
    return sorted(_map(rows, fn))


_STEPS: tuple[tuple[str, Callable[[Rows, Rows], bool]], ...] = (
    ("number type", lambda a, b: _map(a, _num) == _map(b, _num)),
    ("numeric precision", _approx_same),
    ("date type", lambda a, b: _map(a, _date) == _map(b, _date)),
    ("row order", lambda a, b: _sorted(a, _date) == _sorted(b, _date)),
    ("case", lambda a, b: _sorted(a, _case) == _sorted(b, _case)),
)
_MINMAX = re.compile(r"\b(?:MIN|MAX)\s*\(", re.I)
_LIMIT = re.compile(r"\bORDER\s+BY\b.*\bLIMIT\s+\d+\s*\)?\s*\Z", re.I | re.S)


def _integer_division(sqlite_rows: Rows, mysql_rows: Rows) -> bool:
    """Some value is an int on SQLite and a fraction on MySQL whose truncation is that int."""
    if len(sqlite_rows) != len(mysql_rows):
        return False
    found = False
    for ra, rb in zip(sqlite_rows, mysql_rows):
        if len(ra) != len(rb):
            return False
        for a, b in zip(ra, rb):
            if isinstance(a, int) and isinstance(b, (float, decimal.Decimal)) and float(b) != int(b):
                if int(b) != a and int(b) != a + (1 if b < 0 else 0):
                    return False
                found = True
    return found


def classify(sql: str, sqlite_rows: Rows, mysql_rows: Rows) -> str:
    """The class of a difference between two result sets (see the module docstring); ``agree`` if none."""
    if [str(r) for r in sqlite_rows] == [str(r) for r in mysql_rows]:
        return "agree"
    for name, same in _STEPS:
        if same(sqlite_rows, mysql_rows):
            return name
    if _LIMIT.search(sql.strip().rstrip(";")):
        return "tie under LIMIT"
    if _MINMAX.search(sql) and len(sqlite_rows) == len(mysql_rows):
        return "bare column"
    if _integer_division(sqlite_rows, mysql_rows):
        return "integer division"
    return "other"


def compare_query(sqlite: SqlBackend, mysql: SqlBackend, question: SqlQuestion, sql: str) -> dict[str, Any]:
    """Run ``sql`` (and the gold query) on both backends; the class of their disagreement and both rewards."""
    out: dict[str, Any] = {"id": question.index, "db": question.db, "query": sql}
    rewards = {}
    observations = {}
    for name, backend in (("sqlite", sqlite), ("mysql", mysql)):
        res, gold = run_with_gold(backend, question, sql)
        observations[name] = res.observation
        rewards[name] = gold_reward(res.observation, gold)
    a, b = observations["sqlite"], observations["mysql"]
    if isinstance(a, list) and isinstance(b, list):
        out["class"] = classify(sql, a, b)
    elif isinstance(a, list) or isinstance(b, list):
        out["class"] = "fails on mysql only" if isinstance(a, list) else "fails on sqlite only"
    else:
        out["class"] = "agree" if a is None and b is None else "fails on both"
    if out["class"] not in ("agree", "fails on both"):
        out["sqlite"] = str(a)[:300]
        out["mysql"] = str(b)[:300]
    out["reward_sqlite"], out["reward_mysql"] = rewards["sqlite"], rewards["mysql"]
    return out


def compare(sqlite: SqlBackend, mysql: SqlBackend, questions: Sequence[SqlQuestion],
            queries: dict[int, str | None] | None = None, *, progress: bool = True) -> dict[str, Any]:  # fmt: skip
    """Compare every question's query (gold when ``queries`` is None) on both backends.

    Returns:
        ``{"n", "agree", "disagree", "classes": {class: count}, "reward_differs", "success_sqlite",
        "success_mysql", "items": [per-query records for every disagreement]}``.
    """
    items = []
    for q in tqdm(questions, desc="comparing", disable=not progress):
        sql = q.gold if queries is None else queries.get(q.index)
        if not sql or not sql.strip():
            continue
        items.append(compare_query(sqlite, mysql, q, sql))
    classes = Counter(it["class"] for it in items)
    return {
        "queries": "gold" if queries is None else "predictions",
        "n": len(items),
        "agree": classes["agree"] + classes["fails on both"],
        "disagree": len(items) - classes["agree"] - classes["fails on both"],
        "classes": dict(classes.most_common()),
        "reward_differs": sum(1 for it in items if it["reward_sqlite"] != it["reward_mysql"]),
        "success_sqlite": sum(1 for it in items if it["reward_sqlite"] == 1),
        "success_mysql": sum(1 for it in items if it["reward_mysql"] == 1),
        "items": [it for it in items if it["class"] != "agree" or it["reward_sqlite"] != it["reward_mysql"]],
    }


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    p = argparse.ArgumentParser(prog="python -m lumos.envs.sql.compare", description=__doc__.split("\n")[0])
    p.add_argument("--data_dir", default=None, help="the data root, the intercode_sql folder or ic_spider_dev.json")
    p.add_argument("--sql_url", required=True, help="mysql://USER:PASS@HOST:PORT of a server holding the dump")
    p.add_argument("--sql_dump", default=None, help="the MySQL dump (default: beside the data file)")
    p.add_argument("--cache_dir", type=Path, default=None)
    p.add_argument("--predictions", type=Path, default=None, help='compare these queries ({"id", "query"} lines) instead of the gold ones')
    p.add_argument("--sql_timeout", type=float, default=DEFAULT_TIMEOUT_S)
    p.add_argument("--sql_max_rows", type=int, default=DEFAULT_MAX_ROWS)
    p.add_argument("--out", type=Path, default=None, help="write the full report (with every disagreement) here")
    args = p.parse_args(argv)
    try:
        data_file = find_data(args.data_dir)
        questions = load_questions(data_file)
        queries = read_predictions(args.predictions)[0] if args.predictions else None
        kw = {"timeout_s": args.sql_timeout, "max_rows": args.sql_max_rows}
        sqlite = make_backend("sqlite", dump=find_dump(data_file, args.sql_dump), cache_dir=args.cache_dir, **kw)
        mysql = make_backend("mysql", url=args.sql_url, **kw)
        report = compare(sqlite, mysql, questions, queries)
    except (FileNotFoundError, DataFormatError, SqlBackendError, ValueError) as e:
        logger.error("%s", e)
        return 1
    if args.out:
        write_json(args.out, report)
    sys.stdout.write(json.dumps({k: v for k, v in report.items() if k != "items"}) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
