"""InterCode's SQL reward, one hand-computed case per line."""

from __future__ import annotations

import pytest

from lumos.envs.sql.reward import intercode_reward, is_success

CASES = [
    ("same rows, same order", [(1, "a"), (2, "b")], [(1, "a"), (2, "b")], 1.0),
    ("both empty", [], [], 1.0),
    ("agent error text", "Error executing query: near 'x'", [(1,)], 0.0),
    ("no result set", None, [(1,)], 0.0),
    ("two rows swapped: tau -1", [(2,), (1,)], [(1,), (2,)], -1.0),
    ("one of three pairs discordant: tau 1/3", [(1,), (2,), (3,)], [(1,), (3,), (2,)], 0.33),
    ("one common row of three: IoU, tau NaN", [(1,), (2,)], [(1,), (3,)], 1 / 3),
    ("multiset IoU: 2 of 3", [(1,), (1,)], [(1,), (1,), (1,)], 2 / 3),
    ("all common rows equal: tau NaN", [(7,), (7,)], [(7,), (7,)], 1.0),
    ("rows ranked as strings, order kept", [(9,), (10,)], [(9,), (10,)], 1.0),
    ("gold failed counts as empty: empty agent wins", [], [], 1.0),
    ("gold failed counts as empty: rows lose", [(1,)], [], 0.0),
    ("Decimal vs float are different strings", [(3.5,)], [(__import__("decimal").Decimal("3.5000"),)], 0.0),
    ("extra row, same order: IoU 2/3 times tau 1", [(1,), (2,), (3,)], [(1,), (2,)], 0.67),
]


@pytest.mark.parametrize(("name", "agent", "gold", "expected"), CASES, ids=[c[0] for c in CASES])
def test_reward(name, agent, gold, expected):
    assert intercode_reward(agent, gold) == pytest.approx(expected)


def test_success_is_reward_exactly_one():
    assert is_success(1.0) and is_success(1) and not is_success(0.99) and not is_success(-1.0)
