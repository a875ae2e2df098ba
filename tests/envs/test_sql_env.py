"""The SQL session and tools through the real executor, the action forms of instruction_icode_sql, and the
SQL prompt texts."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from lumos.conversion.instructions import INSTRUCTION_ICODE_SQL, icode_sql_plan
from lumos.envs.sql.actions import SqlAction, parse_sql_actions, render_sql_actions
from lumos.envs.sql.data import load_questions
from lumos.envs.sql.env import SqlSession, sql_tools
from lumos.formats.actions import ActionParseError
from lumos.formats.prompts import (
    GROUND_ACTIONS_SQL,
    GROUND_INSTRUCTION_SQL,
    ground_first_user,
    plan_first_user,
    sql_environment_description,
)
from lumos.tools.base import ToolError
from lumos.tools.executor import execute_actions

MINI = Path(__file__).resolve().parents[1] / "fixtures" / "intercode_sql"


@pytest.fixture
def questions():
    return load_questions(MINI / "mini_dev.json")


def _block_actions() -> list[str]:
    return [m.group(1) for m in re.finditer(r"Action \d+-\d+: (R\d+ = .*?)(?: = [^\n]*)?\. \n", INSTRUCTION_ICODE_SQL)]


def test_instruction_icode_sql_is_the_originals_byte_for_byte():
    assert hashlib.sha256(INSTRUCTION_ICODE_SQL.encode()).hexdigest() == (
        "ff1975207fbb53349eabbf69b7f8916a0b6afd96763b56fcf399f4ca4f174bac")
    assert len(INSTRUCTION_ICODE_SQL) == 6775


def test_the_blocks_actions_parse_to_our_tools_and_clauses():
    lines = _block_actions()
    assert len(lines) == 25
    names = [parse_sql_actions(line)[0].name for line in lines]
    assert set(names) == {"SHOW TABLES", "DESCRIBE", "SELECT", ""} and set(names) - {""} == set(GROUND_ACTIONS_SQL)
    assert parse_sql_actions('R4 = GovernmentForm = "US Territory"')[0] == SqlAction(("R4",), "", 'GovernmentForm = "US Territory"')


def test_parse_render_round_trip_and_errors():
    text = ("R1 = SHOW TABLES; R2 = DESC `sale`; R3 = Name FROM shop WHERE City = 'a; b'; "
            "R4 = (SELECT 1) UNION (SELECT 2); R5 = SHOW DATABASES")
    actions = parse_sql_actions(text)
    assert [a.name for a in actions] == ["SHOW TABLES", "DESCRIBE", "", "SELECT", "SHOW"]
    assert render_sql_actions(actions) == text
    with pytest.raises(ActionParseError, match="expected '<variable> = <SQL>'"):
        parse_sql_actions("SHOW TABLES")


def test_session_tools_and_score_through_the_executor(mini_backend, questions):
    session = SqlSession(mini_backend, questions[0])
    with pytest.raises(ToolError, match="not open"):
        session.execute("SELECT 1")
    assert session.reset() == "We have 2 SQL tables: sale, shop."
    tools = sql_tools(session)
    assert set(tools) == set(GROUND_ACTIONS_SQL) and not any(t.cacheable for t in tools.values())
    variables: dict = {}
    results = execute_actions(parse_sql_actions(
        "R1 = SHOW TABLES; R2 = DESCRIBE shop; R3 = Name FROM shop; R4 = ORDER BY Rating DESC; R5 = SELECT R3 R4; "
        "R6 = DESCRIBE nothing; R7 = SELECT Nme FROM shop"), tools, variables)
    assert [r.error for r in results] == [None] * 7
    assert variables["R1"] == ["sale", "shop"]
    assert variables["R2"][:2] == ["Shop_ID (type: INT)", "Name (type: TEXT)"]
    assert results[1].extra["describe"][0] == ["Shop_ID", "int", "NO", "PRI", None, "auto_increment"]
    assert variables["R3"] == "Name FROM shop" and variables["R4"] == "ORDER BY Rating DESC"
    assert variables["R5"] == "[('Corner Café',), (\"O'Neil's; Bar\",), ('corner cafe',), ('Big\\nStore',)]"
    assert results[4].extra["sql"] == "SELECT Name FROM shop ORDER BY Rating DESC"
    assert variables["R6"] == "Error executing query: Table 'shop_1.nothing' doesn't exist"
    assert variables["R7"] == "Error executing query: no such column: Nme"
    # the answer is the last complete query: a failing one scores 0; then a correct one scores 1
    assert session.answer == "SELECT Nme FROM shop" and session.score() == {"reward": 0.0, "success": 0.0}
    execute_actions(parse_sql_actions("R8 = SELECT Name FROM Shop ORDER BY Rating DESC."), tools, variables)
    assert session.answer == "SELECT Name FROM Shop ORDER BY Rating DESC" and session.score()["success"] == 1.0
    assert session.info["statements"] == 6 and session.info["errors"] == 2
    session.close()
    assert not session.is_open


def test_empty_gold_result_and_no_answer(mini_backend, questions):
    session = SqlSession(mini_backend, questions[3])
    session.reset()
    assert session.score() == {"reward": 0.0, "success": 0.0}
    session.execute("SELECT kind FROM animal WHERE legs > 50")
    assert session.score() == {"reward": 1.0, "success": 1.0}  # both empty
    session.close()


def test_sql_prompt_texts():
    assert plan_first_user("How many shops?", sql_environment_description(["sale", "shop"])) == (
        "Please provide a reasonable subgoal-based plan to solve the given task.\nTask: How many shops?; "
        "Initial Environment Description: We have 2 SQL tables: sale, shop.")
    assert ground_first_user("intercode_sql", "How many shops?", "Subgoal 1: Find all the related tables.").endswith(
        "Task: How many shops? \nSubgoal to be grounded: Subgoal 1: Find all the related tables.\n")
    advertised = re.search(r"The available action list is (.*)\.\n", GROUND_INSTRUCTION_SQL).group(1)
    assert re.findall(r"'([^']+)'", advertised) == list(GROUND_ACTIONS_SQL)


def test_icode_sql_plan_reproduces_the_blocks_plan_form():
    cols = [("Code", "char(3)"), ("Name", "char(52)"), ("Continent", "text"), ("Region", "char(26)"),
            ("Population", "int"), ("GNP", "float(10,2)"), ("GovernmentForm", "char(45)")]
    plan = icode_sql_plan({"country": cols}, 'SELECT avg(GNP) , sum(Population) FROM country WHERE GovernmentForm = "US Territory"')
    assert f"Natural language plan:\n{plan}\n\n" in INSTRUCTION_ICODE_SQL
