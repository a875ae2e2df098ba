"""Rankers behind one interface (bm25, dense, released scores, the MindAct cross-encoder) and the two candidate
protocols."""

from __future__ import annotations

import pytest

from lumos.envs.mind2web import (
    BM25Ranker,
    CandidateScores,
    DenseRanker,
    MindActRanker,
    RankerUnavailable,
    ScoresRanker,
    StepPage,
    candidate_set,
    make_ranker,
    ranking_query,
)
from lumos.envs.mind2web.ranking import order_by_scores

GOLD_MUG = "813"  # "Ceramic mug model 57", 57th of 60 links


@pytest.fixture
def mugs_page(official_tasks):
    return StepPage(official_tasks[2].sample(0))


def test_ranking_query_keeps_the_last_three_actions():
    assert ranking_query("Find flights", ["a", "b", "c", "d"]) == "task is: Find flights\nPrevious actions: b; c; d"
    assert ranking_query("Find flights", []) == "task is: Find flights\nPrevious actions: "


def test_bm25_interface_prefers_the_matching_element(mugs_page):
    cands = list(mugs_page.candidates)
    scores = BM25Ranker().scores("task is: Click on Ceramic mug model 57\nPrevious actions: ", cands,
                                 mugs_page.texts(cands), sample_id="x")  # fmt: skip
    assert len(scores) == len(cands)
    assert cands[order_by_scores(scores, cands)[0]].backend_node_id == GOLD_MUG


@pytest.fixture(scope="module")
def dense():
    return DenseRanker()


def test_dense_interface_prefers_the_matching_element(official_tasks, dense):
    page = StepPage(official_tasks[0].sample(2))  # the airport list
    cands = list(page.candidates)
    scores = dense.scores("task is: Columbia, SC (CAE)\nPrevious actions: ", cands, page.texts(cands), sample_id="x")
    assert len(scores) == len(cands) and all(-1.0 <= s <= 1.0 for s in scores)
    assert page.text(cands[order_by_scores(scores, cands)[0]]).endswith("Columbia, SC (CAE) )")
    assert dense.scores("q", [], [], sample_id="x") == []


def test_ties_break_by_page_order_not_positives_first(mugs_page):
    cands = list(mugs_page.candidates)
    assert cands[0].backend_node_id == GOLD_MUG  # the file lists positives first
    order = order_by_scores([0.0] * len(cands), cands)
    assert [cands[i].backend_node_id for i in order[:2]] == ["701", "703"]


def test_released_scores_rank_by_rank_then_score(official_tasks):
    step = official_tasks[0].steps[0]
    cands = list(step.candidates)
    table = CandidateScores(scores={"s": {c.backend_node_id: float(k) for k, c in enumerate(cands)}},
                            ranks={"s": {c.backend_node_id: len(cands) - 1 - k for k, c in enumerate(cands)}})  # fmt: skip
    by_rank = ScoresRanker(table).scores("ignored", cands, [], sample_id="s")
    assert by_rank == [-(len(cands) - 1 - k) for k in range(len(cands))]
    only_scores = CandidateScores(scores=table.scores, ranks={})
    assert ScoresRanker(only_scores).scores("ignored", cands, [], sample_id="s") == [float(k) for k in range(len(cands))]
    with pytest.raises(RankerUnavailable, match="no released MindAct rank or score for candidate 111 of step s"):
        ScoresRanker().scores("ignored", cands, [], sample_id="s")


def test_protocols(official_tasks, mugs_page):
    original = candidate_set(mugs_page, "original")
    assert len(original) == 50 and original[0].backend_node_id == GOLD_MUG  # optimistic: gold always offered
    cands = list(mugs_page.candidates)
    ranks = {c.backend_node_id: k for k, c in enumerate(reversed(cands))}  # the gold ranked last (60)
    table = CandidateScores(scores={}, ranks={mugs_page.sample.sample_id: ranks})
    ranked = candidate_set(mugs_page, "ranked", ScoresRanker(table))
    assert len(ranked) == 50 and GOLD_MUG not in {c.backend_node_id for c in ranked}
    assert [ranks[c.backend_node_id] for c in ranked] == list(range(50))
    by_bm25 = candidate_set(mugs_page, "ranked", BM25Ranker())
    assert by_bm25[0].backend_node_id == GOLD_MUG and len(by_bm25) == 50  # the task names model 57
    small = StepPage(official_tasks[1].sample(0))
    assert len(candidate_set(small, "ranked", BM25Ranker())) == len(small.candidates) == 7
    with pytest.raises(ValueError, match="unknown candidate protocol"):
        candidate_set(small, "oracle", BM25Ranker())


class _FakeEncoder:
    def __init__(self):
        self.calls = []

    def predict(self, pairs, **kw):
        self.calls.append((pairs, kw))
        return [float(len(p[0]) + 10 * len(p[1])) for p in pairs]


@pytest.mark.parametrize("order", ["candidate_first", "query_first"])
def test_mindact_pairs_order_and_dedup(official_tasks, order):
    ranker = MindActRanker(pair_order=order)
    ranker._encoder._model = fake = _FakeEncoder()
    texts = ["cand A", "cand BB", "cand A"]
    scores = ranker.scores("the query", official_tasks[0].steps[0].candidates[:3], texts, sample_id="x")
    pairs, kw = fake.calls[0]
    expected = [["cand A", "the query"], ["cand BB", "the query"]]
    assert pairs == (expected if order == "candidate_first" else [p[::-1] for p in expected])
    assert kw["batch_size"] == 64 and scores[0] == scores[2] != scores[1]


def test_mindact_without_the_hub_is_a_clear_error(official_tasks, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    ranker = make_ranker("mindact")
    with pytest.raises(RankerUnavailable, match="cannot load the MindAct ranker osunlp/MindAct_CandidateGeneration"):
        ranker.scores("q", official_tasks[0].steps[0].candidates[:1], ["t"], sample_id="x")
    with pytest.raises(ValueError, match="unknown ranker"):
        make_ranker("tfidf")


def test_offline_rankers_pick_elements_without_previous_actions(mugs_page, dense):
    from lumos.envs.mind2web import Mind2WebResources

    cands = list(mugs_page.candidates)
    texts = mugs_page.texts(cands)
    plain = BM25Ranker(previous_actions=False)
    with_history = "task is: Click on Ceramic mug model 57\nPrevious actions: [a]  Ceramic mug model 3 -> CLICK"
    assert plain.scores(with_history, cands, texts) == plain.scores(with_history.split("\n")[0], cands, texts)
    assert BM25Ranker().scores(with_history, cands, texts) != plain.scores(with_history, cands, texts)
    res = Mind2WebResources.build(ranker="bm25")
    assert (res.element_ranker.name, res.candidate_ranker.name) == ("bm25:query_only", "bm25")
    quiet = dense.with_previous_actions(False)
    assert quiet._dense is dense._dense and quiet.name.endswith(":query_only") and dense.previous_actions
    res = Mind2WebResources.build(ranker="bm25", ranker_scores="attached", protocol="ranked")
    assert res.describe() == {"protocol": "ranked", "top_k": 50, "max_steps": 15, "element_ranker": "bm25:query_only",
                              "candidate_ranker": "scores"}  # fmt: skip
