"""Classes of differences between the SQLite and MySQL results of one query."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from lumos.envs.sql.compare import classify

CASES = [
    ("agree", "SELECT 1", [(1, "a")], [(1, "a")]),
    ("number type", "SELECT avg(x)", [(34.5, 25)], [(Decimal("34.5000"), 25)]),
    ("numeric precision", "SELECT avg(x)", [(10.428571428571429,)], [(Decimal("10.4286"),)]),
    ("date type", "SELECT d", [("2018-03-10 00:03:21",)], [(datetime.datetime(2018, 3, 10, 0, 3, 21),)]),
    ("row order", "SELECT DISTINCT a FROM t", [("b",), ("a",)], [("a",), ("b",)]),
    ("case", "SELECT a FROM t GROUP BY a", [("Cat",)], [("cat",)]),
    ("tie under LIMIT", "SELECT a FROM t GROUP BY a ORDER BY count(*) DESC LIMIT 1", [(12,)], [(10,)]),
    ("bare column", "SELECT a, max(b) FROM t GROUP BY c", [("x", 1)], [("y", 1)]),
    ("integer division", "SELECT a / b FROM t", [(3,)], [(Decimal("3.5000"),)]),
    ("other", "SELECT count(*) FROM t WHERE a > 150", [(18,)], [(10,)]),
]


@pytest.mark.parametrize(("expected", "sql", "sqlite_rows", "mysql_rows"), CASES, ids=[c[0] for c in CASES])
def test_classify(expected, sql, sqlite_rows, mysql_rows):
    assert classify(sql, sqlite_rows, mysql_rows) == expected
