"""The subgoal grammar: converted plans and planning-module outputs."""

import pytest

from lumos.formats import (
    PlanParseError,
    parse_converted_plan,
    parse_plan_output,
    render_converted_plan,
    render_plan_turn,
    split_onetime_plan,
    strip_keep_planning,
)

CONVERTED = (
    "Subgoal-based plan:\nSubgoal 1: Calculate the clips sold in May.\nAction 1-1: R1 = Calculator(48 / 2) = 24\n\n"
    "Subgoal 2: Calculate the total.\nAction 2-1: R2 = Calculator(48 + R1) = 72"
)


def test_converted_plan_blocks_and_round_trip():
    blocks = parse_converted_plan(CONVERTED)
    assert [b.subgoal for b in blocks] == ["Subgoal 1: Calculate the clips sold in May.", "Subgoal 2: Calculate the total."]
    assert blocks[1].action_lines == ("Action 2-1: R2 = Calculator(48 + R1) = 72",)
    assert render_converted_plan(blocks) == CONVERTED[CONVERTED.index("Subgoal 1") :]
    with pytest.raises(PlanParseError):
        parse_converted_plan("no plan here")


def test_plan_outputs():
    assert parse_plan_output("Subgoal 1: Find X.").index == 1
    step = parse_plan_output("No, I will keep planning. Subgoal 3: Add them.")
    assert (step.kind, step.subgoal, step.index) == ("subgoal", "Subgoal 3: Add them.", 3)
    assert parse_plan_output("Yes, I will stop planning.").kind == "stop"
    with pytest.raises(PlanParseError):
        parse_plan_output("I think the answer is 4")
    assert render_plan_turn(1, "Subgoal 1: A.") == "Subgoal 1: A."
    assert render_plan_turn(2, "Subgoal 2: B.") == "No, I will keep planning. Subgoal 2: B."
    assert strip_keep_planning("No, I will keep planning. Subgoal 2: B.") == "Subgoal 2: B."


def test_onetime_split():
    assert split_onetime_plan("Subgoal 1: A; b.; Subgoal 2: B.") == ["Subgoal 1: A; b.", "Subgoal 2: B."]
    with pytest.raises(PlanParseError):
        split_onetime_plan("Plan: do it")
