"""The executor's rules, the toolbox registry against the grounding prompts, ToolConfig."""

from __future__ import annotations

import pytest

from lumos.formats.actions import parse_actions
from lumos.formats.prompts import GROUND_ACTIONS, GROUND_INSTRUCTION
from lumos.tools.base import ToolError, ToolOutput
from lumos.tools.executor import ToolConfig, build_toolbox, execute_actions, render_value


class Stub:
    """A tool returning fixed values (or raising ToolError), recording the calls it got."""

    def __init__(self, name, value=None, error=None):
        self.name, self.value, self.error, self.calls = name, value, error, []

    def __call__(self, call):
        self.calls.append(call)
        if self.error:
            raise ToolError(self.error)
        return self.value(call) if callable(self.value) else self.value


@pytest.mark.parametrize("domain", ["maths", "complex_qa"])
def test_registered_tools_equal_the_actions_the_grounding_prompt_advertises(domain, mini_corpus, tmp_path):
    tools = build_toolbox(domain, ToolConfig(corpus=mini_corpus, index_dir=tmp_path))
    assert set(tools) == set(GROUND_ACTIONS[domain])
    listed = GROUND_INSTRUCTION[domain].split("The available action list is ")[1].split(".\n")[0]
    assert set(tools) == {name.strip(" '") for name in listed.replace(", and ", ", ").split(", ")}
    assert all(t.name == name for name, t in tools.items())


def test_results_are_bound_in_order_with_one_table():
    tools = {"A": Stub("A", "1"), "B": Stub("B", lambda c: c.variables["R1"] + "+")}
    variables = {}
    results = execute_actions(parse_actions("R1 = A(x); R2 = B(R1)"), tools, variables)
    assert [r.value for r in results] == ["1", "1+"] and variables == {"R1": "1", "R2": "1+"}
    execute_actions(parse_actions("R3 = B(R2)"), tools, variables)  # a later group sees earlier variables
    assert variables["R3"] == "1+"


def test_several_variables_are_bound_from_one_result():
    variables = {}
    results = execute_actions(parse_actions("R5, R6 = S(x)"), {"S": Stub("S", ("-9/8", "-3/5"))}, variables)
    assert results[0].ok and variables == {"R5": "-9/8", "R6": "-3/5"}
    results = execute_actions(parse_actions("R7, R8 = S(x)"), {"S": Stub("S", "one")}, variables)
    assert not results[0].ok and "1 value(s) for the 2 variables" in results[0].error and "R7" not in variables


def test_plain_assignment():
    variables = {"R9": ["a list"], "R2": "2"}
    results = execute_actions(parse_actions("Output = R9; R10 = R2 + 1"), {}, variables)
    assert all(r.ok for r in results)
    assert variables["Output"] == ["a list"] and variables["R10"] == "2 + 1"


def test_unknown_tool_and_unbound_variable_are_error_results():
    variables = {}
    results = execute_actions(parse_actions("R1 = Google(x); R2 = A(R1); R3 = A(y)"), {"A": Stub("A", "ok")}, variables)
    assert results[0].error == "unknown action 'Google'; available: A"
    assert results[1].error == "R1 is not bound"
    assert results[2].ok and variables == {"R3": "ok"}


def test_tool_errors_continue_or_stop_the_group():
    tools = {"F": Stub("F", error="backend refused"), "A": Stub("A", "ok")}
    variables = {}
    results = execute_actions(parse_actions("R1 = F(x); R2 = A(y); R3 = A(R1)"), tools, variables)
    assert [r.ok for r in results] == [False, True, False]
    assert results[0].error == "backend refused" and results[2].error == "R1 is not bound"
    variables = {}
    results = execute_actions(parse_actions("R1 = F(x); R2 = A(y)"), tools, variables, on_error="stop")
    assert [r.ok for r in results] == [False, False] and results[1].extra == {"skipped": True} and variables == {}
    with pytest.raises(ValueError):
        execute_actions([], tools, {}, on_error="ignore")


def test_bugs_in_tools_propagate():
    tools = {"Bug": Stub("Bug", lambda c: 1 / 0)}
    with pytest.raises(ZeroDivisionError):
        execute_actions(parse_actions("R1 = Bug(x)"), tools, {})


def test_context_reaches_the_tools_and_only_the_last_action_is_last():
    stub = Stub("A", ToolOutput("v", extra={"note": 1}))
    results = execute_actions(parse_actions("R1 = A(x); R2 = A(y)"), {"A": stub}, {}, task="T", subgoal="Subgoal 1: s",
                              subgoals=["Subgoal 1: s"], is_last_group=True)  # fmt: skip
    assert [c.is_last for c in stub.calls] == [False, True]
    assert stub.calls[0].task == "T" and stub.calls[0].subgoals == ("Subgoal 1: s",)
    assert results[0].extra == {"note": 1} and results[0].to_dict()["note"] == 1


def test_maths_end_to_end_through_build_toolbox(run_lines):
    tools = build_toolbox("maths")
    try:
        variables, results = run_lines(tools, "R1 = Calculator(48 / 2); R2 = Calculator(48 + R1)")
        assert variables == {"R1": "24", "R2": "72"} and all(r.ok for r in results)
    finally:
        tools["Calculator"].engine.close()


def test_tool_config_validates_and_serialises(tmp_path, scripted_chat):
    with pytest.raises(ValueError, match="unknown retriever"):
        ToolConfig(retriever="tfidf")
    with pytest.raises(ValueError, match="unknown tool domain"):
        build_toolbox("web_agent", ToolConfig())
    with pytest.raises(ValueError, match="needs a corpus"):
        build_toolbox("complex_qa", ToolConfig())
    cfg = ToolConfig(corpus=str(tmp_path / "c.jsonl"), qa_backend=scripted_chat([]), wolfram_app_id="SECRET")
    d = cfg.to_dict()
    assert d["corpus"] == str(tmp_path / "c.jsonl") and d["qa_backend"] == "scripted-chat" and d["wolfram_app_id"] == "set"
    assert "SECRET" not in repr(cfg) and "SECRET" not in str(d)


def test_render_value():
    assert render_value(("6", "4")) == "6, 4" and render_value(None) == "" and render_value("x") == "x"
