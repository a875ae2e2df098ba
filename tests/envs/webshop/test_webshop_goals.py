"""Goals built, shuffled (seed 233) and split as WebShop does."""

from __future__ import annotations

import random

import pytest

from lumos.envs.webshop.catalog import process_products
from lumos.envs.webshop.goals import Goal, build_goals, human_goals, split_range, synthetic_goals


def _products():
    raw = [
        {"asin": "B1", "name": "Red Dress", "full_description": "", "small_description": [], "pricing": "$12.5",
         "customization_options": {"Size": [{"value": "S"}, {"value": "M"}], "Color": [{"value": "Red"}]},
         "images": ["i"], "category": "fashion", "query": "dresses", "product_category": "A › B"},
        {"asin": "B2", "name": "Lamp", "full_description": "", "small_description": [], "pricing": "$995",
         "customization_options": "", "images": ["i"], "category": "home", "query": "lamps", "product_category": "C"},
    ]
    attrs = {"B1": {"attributes": ["soft"], "instruction": "Find me soft dresses", "instruction_attributes": ["soft"]},
             "B2": {"attributes": ["led"], "instruction": "Find me led lamps", "instruction_attributes": ["led", "soft"]}}
    human = {"B1": [{"instruction": "i want a red dress.", "instruction_attributes": ["soft"], "instruction_options": ["red"]},
                    {"instruction": "skip me", "instruction_attributes": [], "instruction_options": []}]}
    return process_products(raw, attrs, human)


def test_synthetic_goals_one_per_option_combination():
    products = _products()
    rng = random.Random(0)
    goals = synthetic_goals(products, {"B1": 12.5, "B2": 995.0}, rng)
    assert len(goals) == 3
    check = random.Random(0)
    upper = sorted(check.sample([20.0, 30.0, 40.0, 50.0], 2))[1]
    assert goals[0].instruction_text == f"Find me soft dresses with color: red, and size: s, and price lower than {upper:.2f} dollars"
    assert goals[1].goal_options == {"color": "red", "size": "m"} and goals[1].price_upper == upper
    assert goals[2].instruction_text == "Find me led lamps" and goals[2].price_upper == 1000000 and goals[2].goal_options == {}
    # weight: mean over the goal's attributes of 1 / (number of goals with that attribute)
    assert goals[0].weight == pytest.approx(1 / 3) and goals[2].weight == pytest.approx((1 / 1 + 1 / 3) / 2)


def test_human_goals_skip_instructions_without_attributes():
    goals = human_goals(_products(), {"B1": 12.5, "B2": 995.0}, random.Random(1))
    assert len(goals) == 1
    g = goals[0]
    assert g.instruction_text.startswith("i want a red dress, and price lower than ") and g.goal_options == ["red"]
    assert Goal.from_dict(g.to_dict()) == g


def test_shuffle_seed_and_splits():
    products = _products()
    a = build_goals(products, {"B1": 12.5, "B2": 995.0}, "synthetic", random.Random(3))
    b = synthetic_goals(products, {"B1": 12.5, "B2": 995.0}, random.Random(3))
    random.Random(233).shuffle(b)
    assert a == b
    assert split_range("test", 6910) == range(0, 500)
    assert split_range("dev", 6910) == range(500, 1500)
    assert split_range("train", 6910) == range(1500, 6910)
    assert split_range("test", 13) == range(0, 13) and split_range("dev", 13) == range(13, 13)
    with pytest.raises(ValueError, match="unknown split"):
        split_range("val", 10)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="missing key 'query'"):
        Goal.from_dict({"asin": "x"} | {k: "" for k in ("category", "name", "product_category")})


def test_offline_goals(synthetic_shop, human_shop):
    assert len(synthetic_shop.goals) == 6910 and synthetic_shop.goal_kind == "synthetic"
    first = synthetic_shop.goals[0]
    assert first.asin == "B0743JKHBV" and first.price_upper == 50.0 and first.goal_options == {"size": '28" x 28"'}
    assert first.instruction_text == ('Find me double sided, machine washable decorative pillows with printing technology '
                                      'with size: 28" x 28", and price lower than 50.00 dollars')
    assert synthetic_shop.goals[1].goal_options == {"color": "black", "size": "3x-large"}
    assert len(human_shop.goals) == 13 and human_shop.goals[0].asin == "B09MW563KN"
    assert human_shop.goals[0].instruction_text == ("i am looking for blue color toothbrushes that helps to maintain my "
                                                    "oral hygiene, and price lower than 50.00 dollars")
    assert synthetic_shop.split("test") == range(500) and human_shop.split("test") == range(13)
    assert synthetic_shop.prices["B08ZRR3DZT"] == pytest.approx(25.44981531157882, abs=0)
