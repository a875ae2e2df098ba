"""The sqlite tool cache: a rerun hits, is marked cached, and does not call the model again."""

from __future__ import annotations

import sqlite3

from lumos.formats.actions import parse_actions
from lumos.tools.cache import CachedTool, ToolCache
from lumos.tools.executor import ToolConfig, build_toolbox, execute_actions
from lumos.tools.qa import QA


def test_qa_calls_are_cached_across_runs(tmp_path, scripted_chat):
    path = tmp_path / "tools.sqlite"
    llm = scripted_chat(lambda prompt: "Answer: Lord Byron")
    line = "R3 = QA([R2], Question: Who was her father?)"

    def run(cache):
        variables = {"R2": "Evidence 1: Her father was Lord Byron.\n"}
        return execute_actions(parse_actions(line), {"QA": CachedTool(QA(llm), cache)}, variables), variables

    first, _ = run(ToolCache(path))
    assert first[0].ok and not first[0].cached and len(llm.prompts) == 1
    reopened = ToolCache(path)  # a new process would see the same file
    second, variables = run(reopened)
    assert second[0].cached and second[0].value == first[0].value and len(llm.prompts) == 1
    assert second[0].extra["prompts"] == first[0].extra["prompts"]
    assert variables["R3"] == "Question: Who was her father?; Answer: Lord Byron"
    assert reopened.hits == 1 and len(reopened) == 1


def test_the_key_covers_variable_values_backend_and_context(tmp_path, scripted_chat):
    cache = ToolCache(tmp_path / "c.sqlite")
    llm = scripted_chat(lambda prompt: "Answer: x")
    tool = CachedTool(QA(llm), cache)
    line = parse_actions("R3 = QA([R2], Question: q)")
    for variables in ({"R2": "a"}, {"R2": "b"}, {"R2": "a"}):
        execute_actions(line, {"QA": tool}, dict(variables))
    assert len(llm.prompts) == 2  # "a" again was a hit
    execute_actions(line, {"QA": tool}, {"R2": "a"}, task="T", is_last_group=True)  # is_last changes the question
    assert len(llm.prompts) == 3
    other = CachedTool(QA(scripted_chat(lambda p: "Answer: y", name="other-model")), cache)
    results = execute_actions(line, {"QA": other}, {"R2": "a"})
    assert not results[0].cached and results[0].value.endswith("Answer: y")


def test_errors_are_not_cached(tmp_path, scripted_chat):
    cache = ToolCache(tmp_path / "c.sqlite")
    replies = iter([ConnectionError("down"), "Answer: ok"])

    def flaky(prompt):
        r = next(replies)
        if isinstance(r, Exception):
            raise r
        return r

    tool = CachedTool(QA(scripted_chat(flaky)), cache)
    line = parse_actions("R3 = QA([R2], Question: q)")
    assert not execute_actions(line, {"QA": tool}, {"R2": "a"})[0].ok
    assert execute_actions(line, {"QA": tool}, {"R2": "a"})[0].ok
    assert len(cache) == 1


def test_build_toolbox_with_a_cache_path_caches_maths(tmp_path, run_lines):
    path = tmp_path / "tools.sqlite"
    tools = build_toolbox("maths", ToolConfig(cache_path=path))
    try:
        _, first = run_lines(tools, "R1 = Calculator(2 - 0.5); R2, R3 = SolveEquation(x + y = 10, x - y = 2)")
        _, second = run_lines(tools, "R1 = Calculator(2 - 0.5); R2, R3 = SolveEquation(x + y = 10, x - y = 2)")
    finally:
        tools["Calculator"].tool.engine.close()
    assert [r.cached for r in first] == [False, False] and [r.cached for r in second] == [True, True]
    assert second[1].value == ("6", "4")
    rows = sqlite3.connect(path).execute("SELECT tool, backend FROM tool_calls ORDER BY tool").fetchall()
    assert rows[0][0] == "Calculator" and rows[0][1].startswith("sympy-")
