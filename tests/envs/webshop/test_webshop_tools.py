"""The Lumos shop tools over a real session, with a deterministic stub ranker (word overlap)."""

from __future__ import annotations

import pytest

from lumos.envs.webshop.tools import EMPTY_RESULT, FeatureRetrieve, Pick, shop_tools
from lumos.formats.actions import parse_actions
from lumos.formats.prompts import GROUND_ACTIONS
from lumos.tools.base import ToolCall, ToolError

DRESS = "SheIn Women's Sexy One Shoulder Sleeveless Cutout Mini Club Pencil Bodycon Dress"


class OverlapRanker:
    name = "overlap"

    def __init__(self):
        self.calls = []

    def scores(self, query, passages):
        self.calls.append((query, list(passages)))
        q = set(query.lower().split())
        return [len(q & set(p.lower().replace(",", " ").split())) for p in passages]


def _call(line, variables):
    return ToolCall(action=parse_actions(line)[0], variables=variables)


def test_tools_over_a_session(synthetic_shop):
    session = synthetic_shop.session(5)
    ranker = OverlapRanker()
    tools = shop_tools(session, ranker)
    assert tuple(tools) == GROUND_ACTIONS["webshop"]
    assert (tools["Search"].cacheable, tools["Click"].cacheable) == (False, False)
    v = {}
    out = tools["Search"](_call(f"R1 = Search({DRESS})", v))
    v["R1"] = out.value
    first, second = session.clickables[2:4]
    titles = [synthetic_shop.by_asin[a.upper()].title for a in (first, second)]
    assert out.value == f"{first} - {titles[0]} ** {second} - {titles[1]} *"  # the original's trailing " *"
    assert first == "b08zrr3dzt"
    out = tools["Click"](_call(f"R2 = Click({first})", v))
    v["R2"] = out.value
    assert out.value == session.clickables and out.value[5] == "buy now" and out.extra["valid"]
    v["R3"] = tools["FeatureRetrieve"](_call(f"R3 = FeatureRetrieve(R2, Query: {DRESS} black x-large)", v))
    assert v["R3"] == "x-large, black, plain black"  # ties keep page order; the navigation clickables are skipped
    assert ranker.calls[-1][1][0] == "x-small" and ranker.calls[-1][0].endswith("black x-large")
    v["R4"] = tools["Click"](_call("R4 = Click(< prev)", v)).value
    v["R5"] = tools["Click"](_call(f"R5 = Click({second})", v)).value
    v["R6"] = tools["FeatureRetrieve"](_call("R6 = FeatureRetrieve(R5, Query: red)", v))
    v["R7"] = tools["Pick"](_call("R7 = Pick(Item_names: R1, Item_features: [R3, R6], Query: black x-large dress)", v))
    assert v["R7"] == first
    assert tools["Click"](_call("R8 = Click(< prev)", v)).value[:2] == ["back to search", "next >"]
    tools["Click"](_call("R9 = Click(R7)", v))
    assert session.asin == "B08ZRR3DZT"
    tools["Click"](_call("R10 = Click(black)", v))
    out = tools["Click"](_call("R11 = Click(buy now)", v))
    assert session.terminated and isinstance(out.value, float) and out.value == session.info["reward"]
    with pytest.raises(ToolError, match="already ended"):
        tools["Search"](_call("R12 = Search(more)", v))


def test_tool_errors_and_empty_results(synthetic_shop):
    session = synthetic_shop.session(6)
    tools = shop_tools(session, OverlapRanker())
    with pytest.raises(ToolError, match="R3 is not bound"):
        tools["Click"](_call("R4 = Click(R3)", {}))
    with pytest.raises(ToolError, match="one item or one variable"):
        tools["Click"](_call("R4 = Click(R3 and R2)", {"R3": "x"}))
    invalid = tools["Click"](_call("R1 = Click(nothing here)", {}))
    assert invalid.value == ["search"] and not invalid.extra["valid"]
    fr = FeatureRetrieve(OverlapRanker())
    assert fr(_call("R2 = FeatureRetrieve(R1, Query: x)", {"R1": ["back to search", "< prev", "d", "f", "r", "buy now"]})) == EMPTY_RESULT
    with pytest.raises(ToolError, match="not a page's clickables"):
        fr(_call("R2 = FeatureRetrieve(R1, Query: x)", {"R1": "b0 - title"}))
    with pytest.raises(ToolError, match="expected 'Query: ...'"):
        fr(_call("R2 = FeatureRetrieve(R1)", {"R1": []}))
    pick = Pick(OverlapRanker())
    items = "b01 - Red Dress ** b02 - Blue Shirt *"
    assert pick(_call("R7 = Pick(Item_names: R1, Item_features: [R3, R6], Query: blue)", {"R1": items, "R3": ["x"]})) == "b01"
    assert pick(_call("R7 = Pick(Item_names: R1, Item_features: [R3, R6], Query: blue shirt)",
                      {"R1": items, "R3": "red", "R6": "blue"})) == "b02"
    with pytest.raises(ToolError, match="more feature variables than items"):
        pick(_call("R7 = Pick(Item_names: R1, Item_features: [R2, R3], Query: q)", {"R1": "b01 - A", "R2": "x", "R3": "y"}))
