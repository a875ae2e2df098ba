"""The same checks on a real MariaDB server (started by scripts/start_mariadb.sh through the session fixture)."""

from __future__ import annotations

import pytest
from test_sql_score import HAND_CHECKED

from lumos.envs.sql.data import load_questions
from lumos.envs.sql.score import score_query

# Spider gold queries MariaDB (like MySQL) rejects: a table named `show` (reserved word), a derived table without
# an alias, and `COUNT (*)` with a space. Each appears twice in the data.
MARIADB_GOLD_FAILURES = {164, 178, 225, 531, 638, 802}


@pytest.fixture(scope="module")
def questions(sql_data):
    return load_questions(sql_data / "spider__ic_spider_dev.json")


@pytest.mark.parametrize(("name", "query", "reward"), HAND_CHECKED, ids=[c[0] for c in HAND_CHECKED])
def test_hand_checked_predictions_mariadb(mariadb_backend, questions, name, query, reward):
    score = score_query(mariadb_backend, questions[0], query)
    assert score.reward == pytest.approx(reward)
    assert (score.error is not None) == (name == "syntax error")


def test_read_only_time_and_row_limits(mariadb_url):
    from lumos.envs.sql.backend import make_backend

    backend = make_backend("mysql", url=mariadb_url, timeout_s=1.0, max_rows=100)
    conn = backend.connect("world_1")
    assert conn.execute("DROP TABLE city").error is not None
    assert "denied" in conn.execute("INSERT INTO city (Name) VALUES ('x')").error
    assert "max_statement_time" in conn.execute("SELECT count(*) FROM city a, city b, city c").error
    big = conn.execute("SELECT * FROM city")
    assert big.truncated and len(big.rows) == 100 and "row limit" in big.observation
    assert conn.execute("SELECT count(*) FROM city").rows == [(4079,)]  # reconnected after the cut
    assert conn.execute("SHOW TABLES").rows == [("city",), ("country",), ("countrylanguage",)]
    conn.close()


@pytest.mark.slow
def test_gold_queries_on_mariadb(mariadb_backend, questions):
    failed = {q.index for q in questions if not score_query(mariadb_backend, q, q.gold).success}
    assert failed == MARIADB_GOLD_FAILURES
