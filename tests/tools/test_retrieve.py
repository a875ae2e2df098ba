"""ParagraphRetrieve picks the paragraph that answers the query (BM25 and the offline dense model)."""

from __future__ import annotations

import pytest

from lumos.tools.executor import ToolConfig, build_toolbox
from lumos.tools.retrieve import BM25Ranker, DenseRanker, ParagraphRetrieve, rank_items
from lumos.utils.io import read_jsonl

FATHER = "Augusta Ada King, Countess of Lovelace, was born in London in 1815. Her father was the poet Lord Byron"


@pytest.fixture(scope="module")
def dense():
    return DenseRanker()


@pytest.mark.parametrize("retriever", ["bm25", "dense"])
def test_knowledge_query_then_paragraph_retrieve(retriever, mini_corpus, tmp_path, run_lines, dense):
    tools = build_toolbox("complex_qa", ToolConfig(corpus=mini_corpus, index_dir=tmp_path, retriever=retriever))
    if retriever == "dense":
        tools["ParagraphRetrieve"] = ParagraphRetrieve(dense)  # share the loaded model between tests
    variables, results = run_lines(
        tools,
        "R1 = KnowledgeQuery(Ada Lovelace); R2 = ParagraphRetrieve(R1, Query: Who was the father of Ada Lovelace?)",
        "R3 = ParagraphRetrieve(R1, Query: When did she die?)",
    )
    assert all(r.ok for r in results), results
    evidence = variables["R2"].splitlines()
    assert len(evidence) == 3 and all(e.startswith(f"Evidence {i + 1}: ") for i, e in enumerate(evidence))
    assert evidence[0].startswith(f"Evidence 1: {FATHER}")
    assert variables["R2"].endswith("\n")  # the original's format: every evidence line ends with a newline
    assert variables["R3"].startswith("Evidence 1: She died of uterine cancer in 1852")


def test_top_five_and_reference_table_prefix():
    fruit = ["apple", "banana", "cherry", "date", "elder", "fig", "grape", "honeydew"]
    items = ["Reference Table: *** Born 1815 London"] + [f"Page {f} *** a text about the {f}" for f in fruit]
    out = rank_items(BM25Ranker(), "grape", items)
    lines = out.splitlines()
    assert lines[0] == "Reference Table: Born 1815 London"
    assert lines[1] == "Evidence 1: a text about the grape"
    assert len(lines) == 6


def test_several_context_variables_and_string_contexts(run_lines):
    tool = {"ParagraphRetrieve": ParagraphRetrieve(BM25Ranker())}
    variables = {"R1": ["A *** apples are red"], "R4": "Evidence 1: bananas are yellow\nEvidence 2: grapes are purple\n"}
    variables, results = run_lines(tool, "R5 = ParagraphRetrieve([R1, R4], Query: what colour are bananas?)", variables=variables)
    assert results[0].ok and variables["R5"].startswith("Evidence 1: bananas are yellow\n")
    _, results = run_lines(tool, "R6 = ParagraphRetrieve(R1, what colour?)", variables=variables)
    assert not results[0].ok and "Query:" in results[0].error


def test_bm25_on_the_shared_hotpotqa_contexts(shared_data):
    """For 20 real questions, the top evidence among the 10 context paragraphs is a supporting one."""
    path = shared_data / "hotpotqa" / "ircot_dev_subsampled.jsonl"
    if not path.is_file():
        pytest.skip(f"{path} not present")
    rows = read_jsonl(path)[:20]
    hits = 0
    for r in rows:
        items = [f"{c['title']} *** {c['paragraph_text']}" for c in r["contexts"]]
        supporting = {" ".join(c["paragraph_text"].split()) for c in r["contexts"] if c["is_supporting"]}
        top = rank_items(BM25Ranker(), r["question_text"], items).splitlines()[0].split(": ", 1)[1]
        hits += " ".join(top.split()) in supporting
    assert hits / len(rows) >= 0.6, hits  # measured: 0.85 top-1 on the first 100 questions


@pytest.mark.slow
def test_dense_on_the_shared_hotpotqa_contexts(shared_data, dense):
    path = shared_data / "hotpotqa" / "ircot_dev_subsampled.jsonl"
    if not path.is_file():
        pytest.skip(f"{path} not present")
    rows = read_jsonl(path)[:50]
    hits = 0
    for r in rows:
        items = [f"{c['title']} *** {c['paragraph_text']}" for c in r["contexts"]]
        supporting = {" ".join(c["paragraph_text"].split()) for c in r["contexts"] if c["is_supporting"]}
        top = rank_items(dense, r["question_text"], items).splitlines()[0].split(": ", 1)[1]
        hits += " ".join(top.split()) in supporting
    assert hits / len(rows) >= 0.6, hits  # measured: 0.82 top-1 on the first 100 questions
