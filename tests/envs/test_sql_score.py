"""The scorer on the real data (SQLite): hand-checked predictions, the CLI, and every gold query scoring 1."""

from __future__ import annotations

import json

import pytest

from lumos.envs.sql.data import load_questions
from lumos.envs.sql.score import main, read_predictions, score_query
from lumos.utils.io import DataFormatError

GOLD_0 = "SELECT T1.Name FROM people AS T1 JOIN poker_player AS T2 ON T1.People_ID = T2.People_ID ORDER BY T2.Final_Table_Made"
JOIN_0 = "FROM people AS T1 JOIN poker_player AS T2 ON T1.People_ID = T2.People_ID"
# Question 0 (poker_player): the gold rows are Teodor Salparov, Maksim Botin, Yevgeni Sivozhelez, Semen Poltavskiy,
# Aleksey Ostapenko. Rewards computed by hand from InterCode's definition (see test_sql_reward.py for the rules).
HAND_CHECKED = [
    ("gold reformatted", "select t1.name from people as t1 join poker_player as t2 on t1.people_id = t2.people_id "
                         "order by t2.final_table_made asc", 1.0),
    ("wrong column", f"SELECT T1.Nationality {JOIN_0} ORDER BY T2.Final_Table_Made", 0.0),
    ("syntax error", "SELECT Name FROM people JOIN poker_player ON", 0.0),
    # reversed: string ranks of paired rows (x: 1,3,5,2,4; y: 4,2,5,3,1) give 4 concordant, 6 discordant pairs
    ("rows reversed", f"SELECT T1.Name {JOIN_0} ORDER BY T2.Final_Table_Made DESC", -0.2),
    # alphabetical order: 3 concordant, 7 discordant pairs
    ("rows in another order", f"SELECT T1.Name {JOIN_0} ORDER BY T1.Name", -0.4),
    ("first 3 rows in order: IoU 3/5, tau 1", f"{GOLD_0} LIMIT 3", 0.6),
]


@pytest.fixture(scope="module")
def questions(sql_data):
    return load_questions(sql_data / "spider__ic_spider_dev.json")


def test_data_file(questions):
    assert len(questions) == 1034 and questions[0].gold == GOLD_0 and questions[0].db == "poker_player"
    assert {q.hardness for q in questions} == {"easy", "medium", "hard", "extra"}


@pytest.mark.parametrize(("name", "query", "reward"), HAND_CHECKED, ids=[c[0] for c in HAND_CHECKED])
def test_hand_checked_predictions_sqlite(sqlite_backend, questions, name, query, reward):
    score = score_query(sqlite_backend, questions[0], query)
    assert score.reward == pytest.approx(reward) and score.success == (reward == 1)
    assert (score.error is not None) == (name == "syntax error")


def test_every_gold_query_scores_one_on_sqlite(sqlite_backend, questions):
    failed = [q.index for q in questions if not score_query(sqlite_backend, q, q.gold).success]
    assert failed == []


def test_cli_counts_missing_as_zero_and_reports_unknown_ids(sql_data, tmp_path, capsys):
    preds = tmp_path / "preds.jsonl"
    lines = [{"id": 0, "query": HAND_CHECKED[0][1]}, {"id": "1", "query": None}, {"id": 2, "query": "SELEC"},
             {"id": 5000, "query": "SELECT 1"}, {"id": "x", "query": "SELECT 1"}]
    preds.write_text("".join(json.dumps(r) + "\n" for r in lines))
    details = tmp_path / "details.jsonl"
    argv = ["--data_dir", str(sql_data.parent), "--predictions", str(preds), "--cache_dir", str(tmp_path / "cache"),
            "--details", str(details)]
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["n"] == 1034 and out["success_rate"] == pytest.approx(1 / 1034) and out["reward"] == pytest.approx(1 / 1034)
    assert out["by_hardness"]["medium"]["n"] == 446 and out["by_hardness"]["medium"]["success_rate"] == pytest.approx(1 / 446)
    assert out["unknown_ids"] == [5000, "x"] and out["missing"] == 1031 and out["scored"] == 3
    assert len(details.read_text().splitlines()) == 3


def test_predictions_file_errors_name_the_line(tmp_path):
    bad = tmp_path / "p.jsonl"
    bad.write_text('{"id": 0, "query": "SELECT 1"}\n{"id": 0, "query": "SELECT 2"}\n')
    with pytest.raises(DataFormatError, match=r"p\.jsonl:2: id 0 appears twice"):
        read_predictions(bad)
    bad.write_text('{"query": "SELECT 1"}\n')
    with pytest.raises(DataFormatError, match=r"p\.jsonl:1: expected fields 'id' and 'query'"):
        read_predictions(bad)
