"""Aggregating per-example scores into metrics.json, merging shards, and ``lumos score``.

Every metric is aggregated over ALL selected examples (a failed or missing example scores 0) as its
``MetricSpec`` declares (``mean``, or ``micro`` = summed numerators over summed denominators), with a
95 % confidence interval: **Wilson** score interval for metrics whose per-example values are all 0 or 1
(accuracy, EM, success rate), otherwise a seeded **percentile bootstrap** over examples (2,000
resamples; F1, reward, micro step rates). metrics.json names the method next to each interval.

A run's predictions live in ``predictions.jsonl`` and, for sharded runs, ``predictions.<k>-of-<N>.jsonl``
in the same folder; ``read_records`` merges every file (first record per id wins, conflicting
duplicates are counted). ``lumos score SAVE_DIR`` rebuilds metrics.json from them; ``lumos score
--benchmark B --predictions FILE`` scores an external ``{"id", "prediction"}`` file against B's gold.

Exercise: ``pytest tests/test_scoring.py``.
"""

from __future__ import annotations

import logging
import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lumos.benchmarks.base import Benchmark, Example
from lumos.utils.io import DataFormatError, cut_torn_tail, iter_jsonl

logger = logging.getLogger(__name__)

PREDICTIONS = "predictions.jsonl"
METRICS = "metrics.json"
CONFIG = "config.json"
_SHARD_FILE = re.compile(r"^predictions\.(\d+)-of-(\d+)\.jsonl$")
_Z95 = 1.959963984540054
BOOTSTRAP_RESAMPLES = 2000


def shard_file(save_dir: Path, index: int, num: int) -> Path:
    """``predictions.<k>-of-<N>.jsonl`` (``predictions.jsonl`` for an unsharded run)."""
    return save_dir / (PREDICTIONS if num == 1 else f"predictions.{index}-of-{num}.jsonl")


def prediction_files(save_dir: Path) -> list[Path]:
    """``predictions.jsonl`` first, then every shard file, in shard order."""
    files = [save_dir / PREDICTIONS] if (save_dir / PREDICTIONS).is_file() else []
    shards = sorted((p for p in save_dir.glob("predictions.*-of-*.jsonl") if _SHARD_FILE.match(p.name)),
                    key=lambda p: tuple(int(x) for x in _SHARD_FILE.match(p.name).groups()[::-1]))  # type: ignore[union-attr]
    return files + shards


def select_shard(examples: Sequence[Example], index: int, num: int) -> list[Example]:
    """The ``index``-th of ``num`` contiguous, near-equal slices of ``examples`` (deterministic)."""
    n = len(examples)
    start = index * n // num
    return list(examples[start : (index + 1) * n // num])


@dataclass
class Records:
    """Merged prediction records by id, and what merging found."""

    by_id: dict[str, dict[str, Any]]
    duplicates: int = 0
    conflicts: int = 0


def read_records(files: Sequence[Path], *, truncate_torn_tail: bool = False) -> Records:
    """Every record of ``files`` by id (first wins). A torn last line (killed writer) is ignored, or cut
    off the file with ``truncate_torn_tail``."""
    out = Records({})
    for path in files:
        if not path.is_file():
            continue
        if truncate_torn_tail:
            cut_torn_tail(path)
        for _, rec in iter_jsonl(path, skip_invalid_tail=True):
            if "id" not in rec:
                raise DataFormatError(f"{path}: a record without 'id'")
            key = str(rec["id"])
            if key in out.by_id:
                out.duplicates += 1
                if _comparable(out.by_id[key]) != _comparable(rec):
                    out.conflicts += 1
                continue
            out.by_id[key] = rec
    return out


def _comparable(rec: Mapping[str, Any]) -> Any:
    return (rec.get("prediction"), rec.get("status"), rec.get("scores"))


# ------------------------------------------------------------------------------------------------
# Confidence intervals
# ------------------------------------------------------------------------------------------------
def wilson_interval(successes: float, n: int, z: float = _Z95) -> tuple[float, float]:
    """The Wilson score interval of a binomial proportion."""
    if n == 0:
        return 0.0, 0.0
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def bootstrap_interval(num: Sequence[float], den: Sequence[float] | None = None, *, resamples: int = BOOTSTRAP_RESAMPLES,
                       seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap (2.5 %, 97.5 %) of ``mean(num)`` or, with ``den``, of ``sum(num) / sum(den)``."""
    import numpy as np

    n = len(num)
    if n == 0:
        return 0.0, 0.0
    rng = np.random.default_rng(seed)
    x = np.asarray(num, dtype=float)
    d = np.asarray(den, dtype=float) if den is not None else None
    stats = []
    chunk = max(1, min(resamples, 2_000_000 // n))
    for start in range(0, resamples, chunk):
        idx = rng.integers(0, n, size=(min(chunk, resamples - start), n))
        if d is None:
            stats.append(x[idx].mean(axis=1))
        else:
            tot = d[idx].sum(axis=1)
            stats.append(np.divide(x[idx].sum(axis=1), tot, out=np.zeros_like(tot), where=tot > 0))
    lo, hi = np.quantile(np.concatenate(stats), [0.025, 0.975])
    return float(lo), float(hi)


# ------------------------------------------------------------------------------------------------
# Summaries
# ------------------------------------------------------------------------------------------------
def example_scores(bench: Benchmark, example: Example, record: Mapping[str, Any] | None, *, rescore: bool) -> dict[str, float]:
    """The scores of one example: recomputed from its prediction (answer metrics, ``rescore``) or as recorded."""
    if record is None:
        return {}
    scores = dict(record.get("scores") or {})
    if rescore and bench.rescore:
        scores.update(bench.score_prediction(record.get("prediction"), example))
    return scores


def summarize(bench: Benchmark, examples: Sequence[Example], records: Mapping[str, Mapping[str, Any]], *,
              rescore: bool = False, seed: int = 0, _nested: bool = False) -> dict[str, Any]:
    """``n``, every metric over ALL ``examples`` with its 95 % interval, the sums, and status counts.

    Extra per-example scores present in the records (e.g. ``llm_acc`` from the judge) are averaged
    too. ``rescore`` recomputes answer metrics from each record's prediction. Benchmarks with ``groups`` get
    the same summary per value of each metadata key under ``by_group``.
    """
    n = len(examples)
    per_example = [example_scores(bench, e, records.get(e.id), rescore=rescore) for e in examples]
    names = [m.name for m in bench.metrics]
    extra = sorted({k for s in per_example for k in s} - set(names) - {m.numerator for m in bench.metrics if m.numerator})
    metrics: dict[str, float] = {}
    sums: dict[str, float] = {}
    ci: dict[str, dict[str, Any]] = {}
    for name in names + extra:
        spec = bench.metric(name) if name in names else None
        if spec is not None and spec.aggregation == "micro":
            assert spec.numerator is not None and spec.denominator is not None
            num = [float(s.get(spec.numerator, 0.0)) for s in per_example]
            den = [float(spec.denominator(e)) for e in examples]
            total = sum(den)
            metrics[name] = sum(num) / total if total else 0.0
            sums[name] = sum(num)
            lo, hi = bootstrap_interval(num, den, seed=seed)
            ci[name] = {"low": lo, "high": hi, "method": "bootstrap"}
            continue
        values = [float(s.get(name, 0.0)) for s in per_example]
        metrics[name] = sum(values) / n if n else 0.0
        sums[name] = sum(values)
        if all(v in (0.0, 1.0) for v in values):
            lo, hi = wilson_interval(sum(values), n)
            ci[name] = {"low": lo, "high": hi, "method": "wilson"}
        else:
            lo, hi = bootstrap_interval(values, seed=seed)
            ci[name] = {"low": lo, "high": hi, "method": "bootstrap"}
    statuses = Counter(str(records[e.id].get("status")) if e.id in records else "missing" for e in examples)
    out = {"n": n, "metrics": metrics, "ci95": ci, "correct": sums, "status_counts": dict(sorted(statuses.items()))}
    if bench.groups and not _nested:
        out["by_group"] = {key: {str(value): summarize(bench, [e for e in examples if e.metadata.get(key) == value],
                                                       records, rescore=rescore, seed=seed, _nested=True)
                                 for value in sorted({e.metadata.get(key) for e in examples}, key=str)}
                           for key in bench.groups}
    return out


def score_external(bench: Benchmark, examples: Sequence[Example], predictions: Path) -> dict[str, Any]:
    """Score a JSONL of ``{"id": ..., "prediction": ...}`` against every example of ``bench``.

    Missing ids count as wrong; ids that are not in the benchmark file are reported (and ignored);
    a repeated id keeps its first prediction and is reported.

    Raises:
        DataFormatError: a line without ``id`` or ``prediction``, or a benchmark whose scores come
            from an environment (score those with its own scorer).
    """
    if not bench.rescore or not any(m.fn for m in bench.metrics):
        raise DataFormatError(f"{bench.name} is scored from its environment; use python -m eval.{bench.name}.score")
    known = {e.id for e in examples}
    records: dict[str, dict[str, Any]] = {}
    unknown: list[str] = []
    repeated: list[str] = []
    for line, rec in iter_jsonl(predictions):
        if "id" not in rec or "prediction" not in rec:
            raise DataFormatError(f"{predictions}:{line}: expected fields 'id' and 'prediction', got {sorted(rec)}")
        key = str(rec["id"])
        pred = rec["prediction"]
        if pred is not None and not isinstance(pred, str):
            pred = str(pred)
        if key not in known:
            unknown.append(key)
            continue
        if key in records:
            repeated.append(key)
            continue
        records[key] = {"id": key, "prediction": pred, "status": "external", "scores": {}}
    result = summarize(bench, examples, records, rescore=True)
    result.update({"benchmark": bench.name, "predictions_file": str(predictions),
                   "matched": len(records), "missing": len(examples) - len(records),
                   "unknown_ids": unknown[:50], "n_unknown_ids": len(unknown),
                   "repeated_ids": repeated[:50], "n_repeated_ids": len(repeated)})
    return result
