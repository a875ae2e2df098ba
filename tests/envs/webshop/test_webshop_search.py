"""The search engines: Lucene-like analysis + BM25 (bm25s), and pyserini's clear error when absent."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from lumos.envs.webshop.search import BM25sEngine, analyze, make_search_engine


def test_analyze_like_lucene_english():
    assert analyze("Men's 16x20 Inch x-large a01#black 3.5 oz, the Running Shoes") == [
        "men", "16x20", "inch", "x", "larg", "a01", "black", "3.5", "oz", "run", "shoe"]
    assert analyze("the and of") == []


def test_bm25s_ranking_ties_and_misses():
    docs = [{"id": "A", "contents": "red cotton dress"}, {"id": "B", "contents": "blue dress"},
            {"id": "C", "contents": "red red red shoes for running"}, {"id": "D", "contents": "blue dress"}]
    engine = BM25sEngine(docs)
    assert engine.search("red dresses") == ["A", "C", "B", "D"]
    assert engine.search("blue dress", k=2) == ["B", "D"]  # equal scores: the earlier document first
    assert engine.search("zebra") == [] and engine.search("the") == []


def test_offline_search_finds_titles(synthetic_shop):
    for p in synthetic_shop.products[:20]:
        assert p.asin in synthetic_shop.engine.search(p.title, k=10), p.title


def test_engine_choice_errors(tmp_path: Path):
    with pytest.raises(ValueError, match="unknown search engine"):
        make_search_engine("lucene", [])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="needs an index directory"):
        make_search_engine("pyserini", [])
    if importlib.util.find_spec("pyserini") is None:
        with pytest.raises(RuntimeError, match="pip install pyserini"):
            make_search_engine("pyserini", [], index_dir=tmp_path / "index")
