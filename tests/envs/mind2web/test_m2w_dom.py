"""Candidate texts: MindAct's pruning settings (siblings 3, descendants 50 within 6 levels), the ancestors/target
token caps, the meta text, and the text built without HTML."""

from __future__ import annotations

from dataclasses import replace

from lumos.envs.mind2web import Candidate, DomTree, StepPage, seeclick_candidate_text, tree_repr
from lumos.envs.mind2web.dom import attribute_meta


def page(body: str) -> str:
    return f'<html backend_node_id="1"><body backend_node_id="2">{body}</body></html>'


def test_fixture_texts_are_pinned(official_tasks):
    flights, recipes = official_tasks[0], official_tasks[1]
    p = StepPage(flights.sample(0))
    assert p.text(flights.steps[0].pos_candidates[0]) == (
        "ancestors: /html/form search flights/div radiogroup/label One-way\ntarget: (input id=0 radio trip )")
    p = StepPage(recipes.sample(0))
    assert p.text(recipes.steps[0].pos_candidates[0]) == (
        "ancestors: /html/section filters/select cooking time time/button button Show recipes\n"
        "target: (select id=0 diet (option any Any ) (option vegetarian Vegetarian ) (option vegan Vegan ) "
        "(option gluten-free Gluten-free ) )")


def test_siblings_within_three_are_kept():
    buttons = "".join(f'<button backend_node_id="{10 + k}" aria_label="b{k}"/>' for k in range(1, 11))
    tree = DomTree(page(f'<div backend_node_id="3" role="list">{buttons}</div>'))
    text = tree.candidate_text("15")  # b5
    assert text == "ancestors: /html/div list/button b2/button b3/button b4/button b6/button b7/button b8\ntarget: (button id=0 b5 )"


def test_descendants_capped_at_fifty():
    items = "".join(f'<li backend_node_id="{100 + k}" aria_label="item{k}"/>' for k in range(1, 81))
    pruned = DomTree(page(f'<ul backend_node_id="3" aria_label="results">{items}</ul>')).prune(["3"])
    kept = [li.get("aria_label") for li in pruned.iter("li")]
    assert kept == [f"item{k}" for k in range(1, 51)]


def test_descendants_within_six_levels():
    nested = "".join(f'<div backend_node_id="{10 + k}" aria_label="d{k}">' for k in range(1, 10)) + "</div>" * 9
    text = DomTree(page(f'<section backend_node_id="3" aria_label="top">{nested}</section>')).candidate_text("3")
    assert "d6" in text and "d7" not in text


def test_token_caps_on_ancestors_and_target():
    words = " ".join(f"w{k}" for k in range(200))
    texts = "".join(f'<text backend_node_id="{50 + k}">{words}</text>' for k in range(10))
    html = page(f'<div backend_node_id="3" aria_label="outer">{texts}<button backend_node_id="4" type="submit">{texts}</button></div>')
    ancestors, target = DomTree(html).candidate_text("4").split("\n")
    assert len(ancestors.removeprefix("ancestors: ").split()) == 50
    assert len(target.removeprefix("target: ").split()) == 100
    assert target.startswith("target: (button id=0 submitw0 w1")  # no space: the page has none between tags
    assert "w19w0" in target and "w20" not in target  # each text node keeps its first 20 words


def test_wrappers_without_attributes_are_dropped_and_entities_decoded():
    html = page('<div backend_node_id="3"><span backend_node_id="4"><a backend_node_id="5" title="Menu">'
                '<text backend_node_id="6">Fish &amp; Chips</text></a></span></div>')
    assert DomTree(html).candidate_text("5") == "ancestors: /html\ntarget: (a id=0 menuFish & Chips)"


def test_meta_keeps_short_informative_words():
    attrs = {"role": "presentation", "type": "hidden", "aria_label": "Search for cheap flights to anywhere now",
             "title": "https://example.com", "name": "q", "class": "averyveryverylongclassname btn", "value": "q"}
    assert attribute_meta(attrs) == "search for cheap flights to q btn"
    assert tree_repr(DomTree(page('<input backend_node_id="3" placeholder="From"/>')).root) == (
        "(html id=0(body id=1(input id=2 from )))")


def test_text_without_html_from_tag_attributes_and_choice():
    c = Candidate("2058", tag="button", attributes={"class": "Pills__PillContainer-sc-b74366a9-31 kSozeC"},
                  choice="(button id=34 (span Change Location ) )")
    assert seeclick_candidate_text(c) == "ancestors: \ntarget: (button ksozec (span Change Location ) )"
    assert seeclick_candidate_text(Candidate("7", tag="input", attributes={"placeholder": "Where to?"})) == (
        "ancestors: \ntarget: (input where to?)")


def test_candidate_missing_from_page_gets_attribute_text(official_tasks):
    sample = official_tasks[0].sample(0)
    ghost = Candidate("999999", tag="a", attributes={"title": "Ghost link"})
    sample = replace(sample, step=replace(sample.step, neg_candidates=(ghost,)))
    p = StepPage(sample)
    assert p.text(ghost) == "ancestors: \ntarget: (a ghost link)" and p.n_texts_without_html == 1
