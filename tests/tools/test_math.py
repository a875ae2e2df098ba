"""Maths tools: right answers through the sandboxed sympy worker, safe parsing, number formatting."""

from __future__ import annotations

import json

import httpx
import pytest

from lumos.formats.actions import parse_action
from lumos.tools import symbolic
from lumos.tools.base import ToolCall, ToolError
from lumos.tools.math import SympyEngine, WolframAlphaClient, WolframEngine, math_tools
from lumos.tools.mathtext import MathTextError, answer_text, check_math, substitute


@pytest.fixture(scope="module")
def tools(math_engine):
    return math_tools(math_engine)


# ------------------------------------------------------------------------------------------------
# Through the toolbox (worker process)
# ------------------------------------------------------------------------------------------------
def test_arithmetic(tools, run_lines):
    variables, results = run_lines(
        tools,
        "R1 = Calculator(2 - 0.5); R2 = Calculator(R1 / 0.25)",
        "R3 = Calculator(28 * 1/7); R4 = Calculator(15 / 25%); R5 = Calculator(1 - 25%)",
        "R6 = Calculator(18 + 1/2 * 18); R7 = Calculator($1,200 * 3); R8 = Calculator(18.0)",
    )
    assert all(r.ok for r in results), results
    assert variables == {"R1": "1.5", "R2": "6", "R3": "4", "R4": "60", "R5": "0.75", "R6": "27", "R7": "3600", "R8": "18"}


def test_whole_word_substitution(tools, run_lines):
    # the original replaced "R1" inside "R10" (str.replace)
    variables, results = run_lines(tools, "R10 = Calculator(7)", "R1 = Calculator(2)", "R11 = Calculator(R10 - R1)")
    assert variables["R11"] == "5", results


def test_symbolic_results_and_function_application(tools, run_lines):
    variables, results = run_lines(
        tools,
        "R1 = Define(n-2); R2 = Define(n); R3 = Define(n+2)",
        "R4 = Calculator(R1^2); R5 = Calculator(R2^2); R6 = Calculator(R3^2)",
        "R8 = SolveEquation(R4 + R5 + R6 = 12296)",
        "R9 = Code(If R8 > 0, R8, -R8)",
        "R10 = Calculator(R1(R9)); R11 = Calculator(R2(R9)); R12 = Calculator(R3(R9)); R13 = Calculator(R10 * R11 * R12)",
        "Output = Calculator(R13 / 8)",
    )
    assert all(r.ok for r in results), [r for r in results if not r.ok]
    assert variables["R4"] == "n^2 - 4*n + 4"
    assert variables["R8"] == "64"  # the positive root wins over -64
    assert (variables["R10"], variables["R11"], variables["R12"]) == ("62", "64", "66")
    assert variables["Output"] == "32736"


def test_equation_with_one_unknown(tools, run_lines):
    variables, _ = run_lines(tools, "R1 = Define(p); R2 = Calculator(40% * p); R3 = Calculator(p + 600)",
                             "R4 = Calculator(25% * R3); R5 = SolveEquation(R2 = R4)")  # fmt: skip
    assert variables["R5"] == "1000"


def test_equation_with_two_unknowns_binds_two_variables(tools, run_lines):
    variables, results = run_lines(tools, "R5, R6 = SolveEquation(x + y = 10, x - y = 2)")
    assert results[0].ok and results[0].value == ("6", "4")
    assert variables["R5"] == "6" and variables["R6"] == "4"
    # the PRM example: x - 3y = xy, x - 5y = x/y; then evaluate x - 7y at the solution
    variables, results = run_lines(tools, "R2 = Calculator((x+y) + 2*(-2*y)); R3 = Calculator((x+y) + 3*(-2*y)); R4 = Calculator((x+y) + 4*(-2*y))",
                                   "R5, R6 = SolveEquation(R2=xy, R3=x/y)", "Output = Calculator(R4(R5, R6))")  # fmt: skip
    assert (variables["R5"], variables["R6"], variables["Output"]) == ("-1.125", "-0.6", "3.075"), results


def test_set_equation_then_solve_and_equation_arithmetic(tools, run_lines):
    variables, results = run_lines(tools, "R1 = SetEquation(2x + 6 = 20); R2 = SolveEquation(R1); R3 = Calculator(R1 * 2)")
    assert all(r.ok for r in results), results
    assert variables == {"R1": "2*x + 6 = 20", "R2": "7", "R3": "4*x + 12 = 40"}


def test_solve_equation_without_unknowns_just_computes(tools, run_lines):
    variables, _ = run_lines(tools, "R2 = Calculator(100 * 3/5); R4 = Calculator(75 * 2/3); R5 = SolveEquation(R2 + R4)")
    assert variables["R5"] == "110"


def test_count(tools, run_lines):
    variables, results = run_lines(
        tools,
        "R1 = Count(2^0, 2^1, 2^2, 2^3, 2^4, 2^5, 2^6)",
        "R2 = Count(3^4)",
        "R3 = Count([apple, pear, fig])",
        "R4 = Count(1, 3, ..., 99)",
        "R5 = Define(a, b, c, d); R6 = Count(R5)",
    )
    assert all(r.ok for r in results), results
    assert (variables["R1"], variables["R2"], variables["R3"], variables["R4"], variables["R6"]) == ("7", "1", "3", "50", "4")


def test_solve_inequality(tools, run_lines):
    variables, results = run_lines(tools, "R1 = SolveInequality(2x - 1 > 5)", "R2 = SolveInequality(x^2 < 4)",
                                   "R3 = SolveInequality(3 * n <= 12, n > 0)")  # fmt: skip
    assert all(r.ok for r in results), results
    assert variables == {"R1": "x > 3", "R2": "x > -2 and x < 2", "R3": "n > 0 and n <= 4"}


def test_code_if_rule_and_missing_llm(tools, run_lines):
    variables, results = run_lines(tools, "R1 = Code(If 141 % 1 == 0, 1, 0); R2 = Code(If 148 % 8 == 0, 1, 0)",
                                   "R3 = Code(def f(x): return x * 2)")  # fmt: skip
    assert (variables["R1"], variables["R2"]) == ("1", "0")
    assert not results[2].ok and "no LLM is configured" in results[2].error


def test_comparisons_and_booleans(tools, run_lines):
    variables, _ = run_lines(tools, "R1 = Calculator(16 > 3); R2 = Calculator(100000 - 75000 < 100000 - 100000)")
    assert variables == {"R1": "True", "R2": "False"}


def test_bad_input_is_a_tool_error_not_a_crash(tools, run_lines):
    _, results = run_lines(
        tools,
        "R1 = Calculator(().__class__.__base__.__subclasses__())",
        "R2 = Calculator(__import__('os').system('id'))",
        "R3 = Calculator(1 / (2 - 2))",
        "R4 = SolveEquation(x^2 = -1, y)",
        "R5 = Calculator()",
    )
    assert [r.ok for r in results[:2]] == [False, False]
    assert "not allowed" in results[0].error and "not allowed" in results[1].error
    assert results[2].ok and results[2].value == "zoo"  # sympy's complex infinity, reported as such
    assert not results[4].ok


def test_runaway_computation_times_out_and_the_worker_recovers(run_lines):
    engine = SympyEngine(timeout_s=1.0)
    try:
        tools = math_tools(engine)
        _, results = run_lines(tools, "R1 = Calculator(9^9^9^9)")
        assert not results[0].ok and "no answer within" in results[0].error
        assert engine.restarts == 1
        variables, results = run_lines(tools, "R2 = Calculator(6 * 7)")
        assert variables["R2"] == "42"
    finally:
        engine.close()


# ------------------------------------------------------------------------------------------------
# In-process units (trusted inputs; no worker)
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text, expected",
    [("18.0", "18"), ("37/2", "18.5"), ("1/3", "1/3"), ("0.1 + 0.2", "0.3"), ("sqrt(2)", "1.414213562"),
     ("log(8)/log(2)", "3"), ("2^10", "1024"), ("5!", "120"), ("2x + 3x", "5*x"), ("10/4", "2.5"), ("-9/8", "-1.125")],
)  # fmt: skip
def test_number_formatting(text, expected):
    assert symbolic.calculate(text) == expected


@pytest.mark.parametrize(
    "text",
    ["().__class__", "x.real", "[1, 2][0]", "lambda: 1", "'a' * 3", "__import__", "x if y else z", "a; b", "{1: 2}"],
)
def test_whitelist_rejects(text):
    with pytest.raises(MathTextError):
        check_math(text)
    with pytest.raises(MathTextError):
        symbolic.parse(text)


def test_parse_has_no_builtins():
    # allowed-looking names become sympy symbols/functions, never Python builtins
    assert symbolic.calculate("open(1) + eval(2)") == "2*a*e*l*v + e*n*o*p"


def test_answer_text_and_substitution():
    assert answer_text("Question: How many kids did Genghis Khan have?; Answer: 16.") == "16"
    assert answer_text(["a", "b"]) == "a, b"
    assert substitute("R1 + R10", {"R1": "2", "R10": "x + 1 = 3"}) == "(2) + x + 1 = 3"


def test_worker_protocol_errors_are_replies():
    assert symbolic.handle({"id": 1, "op": "calculate", "args": ["2+2"]}) == {"id": 1, "result": "4"}
    assert "error" in symbolic.handle({"id": 2, "op": "nope", "args": []})
    assert "not allowed" in symbolic.handle({"id": 3, "op": "calculate", "args": ["a.b"]})["error"]


# ------------------------------------------------------------------------------------------------
# WolframAlpha client (a mock transport: no network)
# ------------------------------------------------------------------------------------------------
def test_wolfram_client_and_engine_with_a_mock_transport(math_engine):
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        q = request.url.params["input"]
        seen.append(q)
        assert request.url.params["appid"] == "KEY" and request.url.params["output"] == "json"
        plain = {"2 - 0.5": "1.5", "Solve x + y = 10, x - y = 2": "x = 6 ∧ y = 4", "Expand (x+1)^2": "x^2 + 2 x + 1",
                 "18 + 0": "18.0"}.get(q)  # fmt: skip
        pods = [{"title": "Input", "subpods": [{"plaintext": q}]}]
        if plain is not None:
            pods.append({"title": "Result", "primary": True, "subpods": [{"plaintext": plain}]})
        return httpx.Response(200, text=json.dumps({"queryresult": {"success": plain is not None, "pods": pods}}))

    client = WolframAlphaClient("KEY", transport=httpx.MockTransport(handler))
    assert "KEY" not in repr(client)
    engine = WolframEngine(client, fallback=math_engine)
    assert engine.call("calculate", "2 - 0.5") == "1.5"
    assert engine.call("calculate", "18 + 0") == "18"
    assert engine.call("calculate", "(x+1)^2") == "x^2 + 2 x + 1"
    assert engine.call("solve", ["x + y = 10", "x - y = 2"], 2) == ["6", "4"]
    assert engine.call("count_sequence", "1", "3", "99") == "50"  # falls back to sympy
    with pytest.raises(ToolError, match="no result"):
        client.query("unknowable")
    tool = math_tools(engine)["Calculator"]
    assert tool(ToolCall(parse_action("R1 = Calculator(2 - 0.5)"), {})) == "1.5"
    assert seen[0] == "2 - 0.5"
