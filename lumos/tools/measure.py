"""Measure the tools: sandbox and sympy-worker latency, BM25 index build/load, retrieval accuracy.

    $ python -m lumos.tools.measure --data_dir ../shared/data --n 100 --out results/tools/measure.json
    {"sandbox_startup_s": {"median": 0.09, ...}, "bm25_build_s": 0.63, "retrieval": {"bm25": {"top1_supporting": 0.85, ...}}}

Retrieval accuracy uses the 500 HotpotQA questions of ``hotpotqa/ircot_dev_subsampled.jsonl``
(first ``--n``): *page hit@5* = a supporting page is among the 5 pages ``KnowledgeQuery(<question>)``
returns from the whole corpus; *top-1 supporting* = ``ParagraphRetrieve`` over the question's 10
context paragraphs ranks a supporting one first; *both in top-2* = both supporting paragraphs
are in the first two. The JSON also records the git commit, the sandbox mode and the settings.

Exercise: run the command above (a few minutes on 2 CPU cores, most of it the dense ranker).
"""

from __future__ import annotations

import argparse
import logging
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from tqdm import tqdm

from lumos.formats.actions import parse_action
from lumos.tools.base import ToolCall
from lumos.tools.knowledge import LocalKnowledge
from lumos.tools.math import SympyEngine, math_tools
from lumos.tools.retrieve import BM25Ranker, DenseRanker, rank_items
from lumos.tools.sandbox import run_python
from lumos.utils.io import git_commit, read_jsonl, write_json

logger = logging.getLogger(__name__)


def _stats(xs: list[float]) -> dict[str, float]:
    return {"median": round(statistics.median(xs), 4), "min": round(min(xs), 4), "max": round(max(xs), 4), "n": len(xs)}


def measure_sandbox(repeats: int) -> dict[str, Any]:
    times, mode = [], ""
    for _ in range(repeats):
        r = run_python("pass", timeout_s=5)
        times.append(r.seconds)
        mode = r.isolation
    return {"sandbox_startup_s": _stats(times), "sandbox_isolation": mode}


def measure_sympy(repeats: int) -> dict[str, Any]:
    engine = SympyEngine()
    try:
        start = time.perf_counter()
        engine.call("ping")
        startup = time.perf_counter() - start
        calc = math_tools(engine)["Calculator"]
        times = []
        for i in range(repeats):
            call = ToolCall(parse_action(f"R1 = Calculator({i} * 3/7 + 2^5)"), {})
            t = time.perf_counter()
            calc(call)
            times.append(time.perf_counter() - t)
    finally:
        engine.close()
    return {"sympy_worker_startup_s": round(startup, 3), "sympy_calculator_call_s": _stats(times)}


def _norm(text: str) -> str:
    return " ".join(text.split())


def measure_retrieval(corpus: Path, n: int, dense: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        k = LocalKnowledge(corpus, index_dir=tmp)
        _ = k.pages
        out["bm25_build_s"] = round(k.build_seconds or 0.0, 3)
        out["corpus_pages"] = len(k.pages)
        t = time.perf_counter()
        k2 = LocalKnowledge(corpus, index_dir=tmp)
        _ = k2.pages
        out["bm25_load_s"] = round(time.perf_counter() - t, 3)
        rows = read_jsonl(corpus)[:n]
        hits = 0
        for r in tqdm(rows, desc="page search"):
            titles = {c["title"] for c in r["contexts"] if c["is_supporting"]}
            hits += bool(titles & {p.title for p in k2.find_pages(r["question_text"])})
        out["page_hit_at_5"] = round(hits / len(rows), 3)
    rankers: list[Any] = [BM25Ranker()] + ([DenseRanker()] if dense else [])
    out["retrieval"] = {}
    for ranker in rankers:
        top1 = both = 0
        times = []
        for r in tqdm(rows, desc=ranker.name):
            items = [f"{c['title']} *** {c['paragraph_text']}" for c in r["contexts"]]
            supporting = {_norm(c["paragraph_text"]) for c in r["contexts"] if c["is_supporting"]}
            t = time.perf_counter()
            evidence = [ln.split(": ", 1)[1] for ln in rank_items(ranker, r["question_text"], items).splitlines()]
            times.append(time.perf_counter() - t)
            top1 += _norm(evidence[0]) in supporting
            both += supporting <= {_norm(e) for e in evidence[:2]}
        out["retrieval"][ranker.name] = {"top1_supporting": round(top1 / len(rows), 3), "both_in_top2": round(both / len(rows), 3),
                                         "seconds_per_query": _stats(times[1:] or times)}  # fmt: skip
    out["questions"] = len(rows)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data_dir", type=Path, default=Path("../shared/data"))
    p.add_argument("--n", type=int, default=100, help="questions for the retrieval numbers")
    p.add_argument("--repeats", type=int, default=20, help="repetitions for the latency numbers")
    p.add_argument("--no_dense", action="store_true", help="skip the dense ranker")
    p.add_argument("--out", type=Path, default=Path("results/tools/measure.json"))
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    result: dict[str, Any] = {"git_commit": git_commit(), "config": {k: str(v) for k, v in vars(args).items()}}
    result.update(measure_sandbox(args.repeats))
    result.update(measure_sympy(args.repeats))
    corpus = args.data_dir / "hotpotqa" / "ircot_dev_subsampled.jsonl"
    if corpus.is_file():
        result.update(measure_retrieval(corpus, args.n, dense=not args.no_dense))
    else:
        logger.warning("%s not found: retrieval numbers skipped", corpus)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_json(args.out, result)
    print(result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
