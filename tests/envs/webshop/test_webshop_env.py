"""Pages, observations, clickables, pagination and purchase of the text shop (WebShop's text mode)."""

from __future__ import annotations

import pytest

from lumos.envs.webshop.catalog import process_products
from lumos.envs.webshop.env import EpisodeOver, parse_action
from lumos.envs.webshop.pages import done_page, item_page, results_page, search_page, sub_page, visible

DRESS_TITLE = "SheIn Women's Sexy One Shoulder Sleeveless Cutout Mini Club Pencil Bodycon Dress"


def test_visible_text_rules():
    # whitespace-only nodes: with a newline they vanish, without one they stay as an empty item
    assert visible("Instruction: ", "a b ", None, "", "\n  ", "  ", "\xa0x") == ["Instruction:", "a b", "", "x"]


def test_pages_without_data():
    p = process_products([{"asin": "B1", "name": "Lamp", "full_description": " ", "small_description": ["a", ""],
                           "pricing": "$3$4", "customization_options": {"Color": [{"value": "Red"}, {"value": "Description"}]},
                           "images": ["i"], "category": "c", "query": "q", "product_category": "x › y"}], {})[0]
    assert search_page("buy it").observation == "WebShop [SEP] Instruction: [SEP] buy it [SEP] Search"
    res = results_page("buy it", [p], 2, 11)
    assert res.observation == ("Instruction: [SEP] buy it [SEP] Back to Search [SEP] Page 2 (Total results: 11) [SEP] "
                               "< Prev [SEP] Next > [SEP] B1 [SEP] Lamp [SEP] $3.0 to $4.0")
    assert list(res.clickables) == ["back to search", "< prev", "next >", "b1"]
    item = item_page("buy it", p)
    assert item.observation == ("Instruction: [SEP] buy it [SEP] Back to Search [SEP] < Prev [SEP] color [SEP] red [SEP] "
                                "description [SEP] Lamp [SEP] Price: $3.0 to $4.0 [SEP] Rating: N.A. [SEP] Description "
                                "[SEP] Features [SEP] Reviews [SEP] Buy Now")
    # an option value equal to a button text takes the button's place in the clickables, as in WebShop
    assert list(item.clickables) == ["back to search", "< prev", "description", "features", "reviews", "buy now", "red"]
    assert item.clickables["description"].kind == "option"
    assert sub_page("buy it", p, "Description").observation.endswith("< Prev [SEP] ")
    assert sub_page("buy it", p, "Features").observation.endswith("< Prev [SEP] a [SEP] ")
    done = done_page("B1", {"size": "men's <x>", "color": "é"}, 0.5).observation
    assert '[SEP] options [SEP] {"color": "\\u00e9", "size": "men\\u0027s \\u003cx\\u003e"} [SEP]' in done
    assert done.startswith("Thank you for shopping with us! [SEP] Your code: [SEP] None [SEP]")
    assert done.endswith("Your score (min 0.0, max 1.0) [SEP] 0.5 [SEP] Reward Details [SEP] None")


def test_parse_action():
    assert parse_action("click[Buy Now]") == ("click", "Buy Now")
    assert parse_action("search[a [b]]") == ("search[a ", "b]")
    assert parse_action("search[]") == ("search[]", None)


def test_reset_and_search_pages(synthetic_shop):
    s = synthetic_shop.session(0)
    instr = s.goal.instruction_text
    assert s.reset() == f"WebShop [SEP] Instruction: [SEP] {instr} [SEP] Search"
    assert s.available_actions() == {"has_search_bar": True, "clickables": ["search"]}
    assert s.instruction == instr.strip()
    obs, reward, terminated, info = s.step("search[Wood Console TABLE]")
    assert (reward, terminated, info["valid"], info["page"]) == (0.0, False, True, "results")
    assert obs.startswith(f"Instruction: [SEP] {instr} [SEP] Back to Search [SEP] Page 1 (Total results: 50) [SEP] Next > [SEP] ")
    first = s.clickables[2:]
    assert s.clickables[:2] == ["back to search", "next >"] and len(first) == 10
    assert obs.count(" [SEP] ") == 5 + 3 * 10 - 1
    assert obs.split(" [SEP] ")[5] == first[0].upper()
    # pagination: 50 results, 10 per page; Next > stays offered past the end, as in WebShop
    s.step("click[next >]")
    assert "Page 2 (Total results: 50) [SEP] < Prev [SEP] Next >" in s.observation
    second = s.clickables[3:]
    assert s.clickables[:3] == ["back to search", "< prev", "next >"] and len(second) == 10 and not set(first) & set(second)
    s.step("click[< prev]")
    assert s.clickables[2:] == first
    for _ in range(5):
        s.step("click[next >]")
    assert s.observation.endswith("Page 6 (Total results: 50) [SEP] < Prev [SEP] Next >")
    s.step("click[back to search]")
    assert s.observation == f"WebShop [SEP] Instruction: [SEP] {instr} [SEP] Search"


def test_item_page_options_and_buy(synthetic_shop, scorer):
    s = synthetic_shop.session(1)
    instr = s.goal.instruction_text
    s.step(f"search[{DRESS_TITLE}]")
    assert "b08zrr3dzt" in s.clickables
    s.step("click[b08zrr3dzt]")
    head = f"Instruction: [SEP] {instr} [SEP] Back to Search [SEP] < Prev [SEP] "
    assert s.observation == head + (
        "size [SEP] x-small [SEP] small [SEP] medium [SEP] large [SEP] x-large [SEP] color [SEP] black [SEP] light blue "
        f"[SEP] pink [SEP] plain black [SEP] red [SEP] white [SEP] chocolate brown [SEP] khaki [SEP] {DRESS_TITLE} [SEP] "
        "Price: $19.99 to $27.99 [SEP] Rating: N.A. [SEP] Description [SEP] Features [SEP] Reviews [SEP] Buy Now")
    assert s.clickables[:6] == ["back to search", "< prev", "description", "features", "reviews", "buy now"]
    page = s.observation
    s.step("click[x-large]")
    s.step("click[khaki]")
    assert s.observation == page and s.options == {"size": "x-large", "color": "khaki"}
    obs, _, _, info = s.step("click[next >]")  # not a clickable here: nothing happens
    assert obs == page and not info["valid"]
    s.step("click[features]")
    assert s.observation.startswith(head + "One shoulder dresses for women/ Black mini dress/")
    assert s.clickables == ["back to search", "< prev"]
    s.step("click[< prev]")
    assert s.observation == page and s.options == {"size": "x-large", "color": "khaki"}
    obs, reward, terminated, info = s.step("click[Buy Now]")
    expected = scorer.score(synthetic_shop.by_asin["B08ZRR3DZT"], s.goal, synthetic_shop.prices["B08ZRR3DZT"],
                            {"size": "x-large", "color": "khaki"})
    assert terminated and s.terminated and reward == expected.reward and info["reward"] == expected.reward
    assert info["asin"] == "B08ZRR3DZT" and info["r_type"] == expected.r_type
    assert '[SEP] asin [SEP] B08ZRR3DZT [SEP] options [SEP] {"color": "khaki", "size": "x-large"} [SEP]' in obs
    assert s.clickables == []
    with pytest.raises(EpisodeOver, match="already ended"):
        s.step("search[more]")
    s.reset()
    s.close()
    with pytest.raises(EpisodeOver, match="closed"):
        s.step("search[more]")


def test_prev_from_item_page_forgets_options(synthetic_shop):
    s = synthetic_shop.session(2)
    s.step(f"search[{DRESS_TITLE}]")
    s.step("click[b08zrr3dzt]")
    s.step("click[small]")
    s.step("click[< prev]")
    assert s.page.kind == "results" and s.options == {} and s.asin is None
    s.step("click[b08zrr3dzt]")
    s.step("click[description]")
    assert s.observation.endswith("< Prev")  # an empty description gives no text at all
    assert s.step("junk")[3]["valid"] is False and s.step("click[search]")[3]["valid"] is False


def test_session_index_checked(synthetic_shop):
    with pytest.raises(IndexError, match="6910 synthetic goals"):
        synthetic_shop.session(6910)


def test_tasks(synthetic_shop, human_shop):
    tasks = synthetic_shop.tasks("test")
    assert len(tasks) == 500 and tasks[0].goal_index == 0 and tasks[0].goal_asin == "B0743JKHBV"
    assert tasks[7].instruction == synthetic_shop.session(7).reset().split(" [SEP] ")[-2].strip()
    assert [t.goal_index for t in synthetic_shop.tasks("dev", 3)] == [500, 501, 502]
    assert len(human_shop.tasks("test")) == 13
