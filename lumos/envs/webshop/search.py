"""The shop's search box: BM25 over WebShop's product documents (bm25s, or pyserini's Lucene index as WebShop).

A document (one line of WebShop's ``documents.jsonl`` / ``search_engine_documents_1000.jsonl``; built from
the products by ``catalog.product_document`` when the file is absent)::

    {"id": "B06Y3VLDFB", "contents": "vhomes lights reclaimed wood console table ... material:solid wood "}

* ``bm25s`` (default, no Java): Lucene's BM25 (k1 = 0.9, b = 0.4, pyserini's defaults) over tokens made the
  way Lucene's English analyzer makes them, approximately: word characters (keeping ``16x20``, ``3.5``),
  possessive ``'s`` dropped, Lucene's 33 English stop words removed, Porter stemming (PyStemmer). Ties go to
  the earlier document, as in Lucene. Rankings are close to, not identical with, Lucene's.
* ``pyserini``: WebShop's own engine, ``LuceneSearcher`` over an index built with WebShop's indexing
  flags (``build_pyserini_index``). Needs Java and ``pip install pyserini``; imported only when chosen.

Both return up to ``k`` (WebShop asks for 50) ASINs, best first.

Exercise: ``pytest tests/envs/webshop/test_search.py``.
"""

from __future__ import annotations

import logging
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, Protocol

logger = logging.getLogger(__name__)

SearchEngineName = Literal["bm25s", "pyserini"]
SEARCH_ENGINES: tuple[str, ...] = ("bm25s", "pyserini")
SEARCH_RETURN_N = 50

# Lucene's EnglishAnalyzer stop words.
LUCENE_STOPWORDS = frozenset(
    "a an and are as at be but by for if in into is it no not of on or such that the their then there these "
    "they this to was will with".split())
_TOKEN = re.compile(r"\w+(?:[.'’]\w+)*")


class SearchEngine(Protocol):
    """Ranks product documents for a query."""

    name: str

    def search(self, query: str, k: int = SEARCH_RETURN_N) -> list[str]: ...


def _porter() -> Any:
    try:
        import Stemmer
    except ImportError as e:
        raise RuntimeError("the bm25s search engine needs PyStemmer (pip install PyStemmer)") from e
    return Stemmer.Stemmer("porter")


def analyze(text: str, stemmer: Any = None) -> list[str]:
    """Lucene-like English analysis: tokens, possessives removed, stop words dropped, Porter stems."""
    stemmer = stemmer or _porter()
    tokens = []
    for tok in _TOKEN.findall(text.lower()):
        tok = re.sub(r"['’]s$", "", tok)
        if tok and tok not in LUCENE_STOPWORDS:
            tokens.append(tok)
    return stemmer.stemWords(tokens) if tokens else []


class BM25sEngine:
    """In-memory BM25 (bm25s, Lucene variant) over ``{"id", "contents"}`` documents; built once, shared."""

    name = "bm25s"

    def __init__(self, documents: Sequence[dict[str, str]], *, k1: float = 0.9, b: float = 0.4) -> None:
        import bm25s
        import numpy as np

        logging.getLogger("bm25s").setLevel(logging.WARNING)
        self._np = np
        self._stemmer = _porter()
        self.ids = [d["id"] for d in documents]
        corpus = [analyze(d["contents"], self._stemmer) for d in documents]
        self._retriever = bm25s.BM25(k1=k1, b=b, method="lucene")
        self._retriever.index(corpus, show_progress=False)
        self._vocab = set(self._retriever.vocab_dict)
        self.params = {"k1": k1, "b": b, "documents": len(self.ids)}

    def search(self, query: str, k: int = SEARCH_RETURN_N) -> list[str]:
        tokens = [t for t in analyze(query, self._stemmer) if t in self._vocab]
        if not tokens or not self.ids:
            return []
        np = self._np
        scores = np.asarray(self._retriever.get_scores(tokens), dtype=np.float64)
        matched = np.flatnonzero(scores > 0)
        order = matched[np.lexsort((matched, -scores[matched]))][:k]
        return [self.ids[i] for i in order]


def build_pyserini_index(documents: Path, index_dir: Path) -> None:
    """Index ``documents`` (JSON lines ``{"id", "contents", ...}``) with pyserini, as WebShop's setup does.

    Raises:
        RuntimeError: the indexer failed (its output is in the message).
    """
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copyfile(documents, Path(tmp) / "documents.jsonl")
        cmd = [sys.executable, "-m", "pyserini.index.lucene", "--collection", "JsonCollection", "--input", tmp,
               "--index", str(index_dir), "--generator", "DefaultLuceneDocumentGenerator", "--threads", "1",
               "--storePositions", "--storeDocvectors", "--storeRaw"]
        logger.info("building the pyserini index %s", index_dir)
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"pyserini indexing failed ({proc.returncode}): {proc.stderr[-2000:]}")


class PyseriniEngine:
    """WebShop's search: pyserini ``LuceneSearcher`` over a Lucene index (BM25, pyserini defaults)."""

    name = "pyserini"

    def __init__(self, index_dir: str | Path) -> None:
        try:
            from pyserini.search.lucene import LuceneSearcher
        except ImportError as e:
            raise RuntimeError("--search_engine pyserini needs Java 11+ and `pip install pyserini` "
                               "(or use --search_engine bm25s)") from e
        self.index_dir = Path(index_dir)
        self._searcher = LuceneSearcher(str(self.index_dir))
        self.params = {"index_dir": str(self.index_dir)}

    def search(self, query: str, k: int = SEARCH_RETURN_N) -> list[str]:
        return [hit.docid for hit in self._searcher.search(query, k=k)]


def make_search_engine(
    name: SearchEngineName,
    documents: Sequence[dict[str, str]],
    *,
    documents_path: Path | None = None,
    index_dir: Path | None = None,
) -> SearchEngine:
    """Build the chosen engine over ``documents``.

    ``pyserini`` uses ``index_dir`` when it holds an index, else builds one there (from ``documents_path``,
    or from ``documents`` written to a temporary file).

    Raises:
        ValueError: an unknown engine name.
        RuntimeError: pyserini is not installed, or indexing failed.
    """
    if name == "bm25s":
        return BM25sEngine(documents)
    if name != "pyserini":
        raise ValueError(f"unknown search engine {name!r}; choose one of {', '.join(SEARCH_ENGINES)}")
    if index_dir is None:
        raise ValueError("--search_engine pyserini needs an index directory (--index_dir)")
    if not (index_dir.is_dir() and any(index_dir.iterdir())):
        try:
            import pyserini  # noqa: F401
        except ImportError as e:
            raise RuntimeError("--search_engine pyserini needs Java 11+ and `pip install pyserini`") from e
        if documents_path is None:
            import json

            with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False, encoding="utf-8") as f:
                for d in documents:
                    f.write(json.dumps({"id": d["id"], "contents": d["contents"]}) + "\n")
                documents_path = Path(f.name)
        build_pyserini_index(documents_path, index_dir)
    return PyseriniEngine(index_dir)
