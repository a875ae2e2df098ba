"""The action grammar: exact round trips on held-out lines, converted lines, and a fuzz test."""

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lumos.formats import (
    Action,
    ActionParseError,
    highest_r_variable,
    parse_action,
    parse_actions,
    parse_converted_action,
    render_actions,
    render_training_action,
    substitute_variables,
)

LINES = (Path(__file__).parents[1] / "fixtures" / "formats" / "action_lines.txt").read_text().splitlines()


@pytest.mark.parametrize("line", LINES)
def test_held_out_lines_round_trip(line):
    assert render_actions(parse_actions(line)) == line


def test_parse_fields():
    a, b, c = parse_actions(LINES[0])
    assert a == Action(("R1",), "KnowledgeQuery", "Ada Lovelace")
    assert b.args == "R1, Query: Who was the father of Ada Lovelace?"
    assert c.name == "QA" and c.referenced_variables == ["R2"]
    (multi,) = parse_actions("R5, R6 = SolveEquation(R4)")
    assert multi.variables == ("R5", "R6")
    assert parse_action("Output = R9") == Action(("Output",), "", "R9")
    assert parse_action("R7 = Calculator((2 + 3) * (4 - (1 / 2)))").args == "(2 + 3) * (4 - (1 / 2))"


@pytest.mark.parametrize(
    "bad",
    ["", "   ", "R1 Calculator(2)", "R1 = Calculator(2", "R1 = Calculator(2))", "R1 = Calculator(2) extra",
     "R 1 = Calculator(2)", "R1 = Calc(1); ", "; R1 = Calc(1)", "R1 = Calc(1);R2 = Calc(2)"],
)
def test_malformed_raises_action_parse_error(bad):
    with pytest.raises(ActionParseError) as info:
        parse_actions(bad)
    assert repr(bad)[1:-1] in str(info.value) or bad.strip() == ""


def test_converted_lines():
    act, res = parse_converted_action("Action 1-3: R3 = QA([R2], Question: How many?) = 3.")
    assert act.render() == "R3 = QA([R2], Question: How many?)" and res == "3."
    act, res = parse_converted_action("Action 2-1: Output = R9 = 40")
    assert act.render() == "Output = R9" and res == "40"
    act, res = parse_converted_action("Action 1-1: R1 = Calculator(2 + 3)")
    assert act.render() == "R1 = Calculator(2 + 3)" and res == "2 + 3"
    act, res = parse_converted_action("Action 1-2: R2, R3 = SolveEquation(R1) = x = 4, y = 6")
    assert act.variables == ("R2", "R3") and res == "x = 4, y = 6"
    # a parenthesis that never closes: args up to the last ")", result = args (the original's reading)
    act, res = parse_converted_action("Action 1-1: R1 = Calculator((2 + 3) = 5")
    assert act.args == "(2 + 3" and res == "(2 + 3"
    # unbalanced the other way: args run to one char before the last " = "
    act, res = parse_converted_action("Action 1-1: R1 = Calculator(2 + 3)) = 5")
    assert act.args == "2 + 3)" and res == "5"
    assert render_training_action(parse_converted_action("Action 2-1: Output = R9 = 40")[0]) == "Output = (R9)"
    act, res = parse_converted_action("Action 1-1: R1 = CLICK(Env, QUERY: the (blue) button) = x", web=True)
    assert act.args == "Env, QUERY: the (blue) button" and res == ""
    with pytest.raises(ActionParseError, match="Action i-j"):
        parse_converted_action("R1 = Calculator(2)")


def test_substitution_and_highest():
    assert substitute_variables("R1 + R12 * R3", {"R1": "2", "R12": "5"}, wrap="({})") == "(2) + (5) * R3"
    assert highest_r_variable(["R2", "R10", "Output", "R9"]) == "R10"
    assert highest_r_variable(["Output"]) is None


_pieces = st.sampled_from(["R1", "R2", " = ", "; ", ", ", "(", ")", "[", "]", "Calculator", "QA", "Query: ", "x", " ", "=", "Output", "\n", "é"])


@settings(max_examples=3000, deadline=None)
@given(st.one_of(st.text(max_size=60), st.lists(_pieces, max_size=20).map("".join)))
def test_fuzz_only_value_errors(text):
    try:
        actions = parse_actions(text)
    except ActionParseError:
        return
    assert render_actions(actions) == text


@settings(max_examples=2000, deadline=None)
@given(st.one_of(st.text(max_size=60), st.lists(_pieces, max_size=20).map(lambda p: "Action 1-1: " + "".join(p))))
def test_fuzz_converted_only_value_errors(text):
    try:
        parse_converted_action(text)
    except ActionParseError:
        pass


def test_the_training_files_assignment_form_parses_as_an_assignment():
    # process_for_train writes `Output = (R9)` (renamed `R4 = (R3)` in iterative targets); a grounder trained on it emits it
    assert parse_actions("R4 = (R3)") == [Action(("R4",), "", "R3")]
    assert parse_actions("R1 = Calculator(2 + 2); Output = (R1 + 3)") == [
        Action(("R1",), "Calculator", "2 + 2"), Action(("Output",), "", "R1 + 3")]
    with pytest.raises(ActionParseError):
        parse_actions("R4 = ()")
