"""The generic evaluation: one benchmark, one formulation, every example, resumable.

Writes ``<save_dir>/predictions.jsonl`` — one line per example as soon as it finishes::

    {"id": "0", "question": "Janet's ducks...", "answer": "18", "prediction": "18", "status": "done",
     "error": null, "scores": {"acc": 1.0}, "trajectory": {"task": ..., "steps": [...], ...}}

and ``<save_dir>/metrics.json`` (``n``, the mean of every metric over ALL selected examples with
failures counted wrong, status counts, the resolved config, git commit, backend, seed, data file).
Rerunning the same command skips the examples already in predictions.jsonl (no duplicates).

Run: ``python -m eval.gsm.run_eval --data_dir ../shared/data --model_name_or_path models/smollm2-135m-instruct
--formulation lumos_onetime --max_num_examples 3`` (``eval/<bench>/run_eval.py`` calls ``main``).
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from tqdm import tqdm

from lumos.agent.loop import AgentConfig, Executor, run_agent
from lumos.agent.trajectory import Trajectory
from lumos.benchmarks import Benchmark, Example, benchmark_names, get_benchmark
from lumos.formats.chat import PROMPT_STYLES
from lumos.inference import BACKENDS, load_backend, load_module_backends
from lumos.inference.base import Backend
from lumos.metrics import llm_judge
from lumos.paths import FORMULATIONS, REPO_ROOT, checkpoint_name
from lumos.tools.base import Tool
from lumos.utils.io import append_jsonl, git_commit, iter_jsonl, read_json, write_json

logger = logging.getLogger(__name__)
PREDICTIONS = "predictions.jsonl"
METRICS = "metrics.json"


def build_parser(benchmark: str | None = None) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=f"Evaluate a Lumos agent on {benchmark or 'a benchmark'}.")
    if benchmark is None:
        p.add_argument("--benchmark", required=True, choices=benchmark_names())
    p.add_argument("--data_dir", help="data/eval/<bench>/, the shared data root, or a file (default $LUMOS_DATA_DIR)")
    p.add_argument("--max_num_examples", type=int, default=None, help="evaluate the first N examples")
    p.add_argument("--save_dir", help="output folder (default results/<bench>/<formulation>)")
    p.add_argument("--model_name_or_path", help="a root holding lumos_<domain>_<module>_<formulation> folders, or one "
                   "model folder standing in for every module")
    p.add_argument("--plan_model", help="planning module (overrides the root); cot/direct: the model")
    p.add_argument("--ground_model", help="grounding module (overrides the root)")
    p.add_argument("--eval_batch_size", type=int, default=8)
    p.add_argument("--formulation", default="lumos_iterative", choices=FORMULATIONS)
    p.add_argument("--backend", default="hf", choices=BACKENDS)
    p.add_argument("--openai_base_url", help="OpenAI-compatible endpoint for --backend openai and OpenAI-hosted tools")
    p.add_argument("--dtype", default="float32", choices=("float32", "bfloat16"))
    p.add_argument("--max_new_tokens", type=int, default=512)
    p.add_argument("--prompt_style", default="original", choices=PROMPT_STYLES)
    p.add_argument("--knowledge", default="local", choices=("local", "wikipedia"), help="KnowledgeQuery source")
    p.add_argument("--corpus", help="paragraph corpus for --knowledge local (e.g. hotpotqa/ircot_dev_subsampled.jsonl)")
    p.add_argument("--retriever", default="dense", choices=("dense", "bm25"), help="ParagraphRetrieve ranker")
    p.add_argument("--math_backend", default="sympy", choices=("sympy", "wolframalpha"),
                   help="maths tools: sympy (offline) or the WolframAlpha API (key in $WOLFRAM_API_KEY)")
    p.add_argument("--qa_model", help="LLM for the QA tool: a local model folder or an OpenAI-compatible model name")
    p.add_argument("--judge_model", help="optional LLM judge (off by default); a folder or a model name")
    p.add_argument("--tool_cache", default="auto", help="sqlite cache of tool calls: a file, 'auto' "
                   "(<save_dir>/tool_cache.sqlite) or 'none'")
    p.add_argument("--seed", type=int, default=42)
    return p


def seed_everything(seed: int) -> None:
    random.seed(seed)
    os.environ.setdefault("PYTHONHASHSEED", str(seed))
    try:
        import numpy as np

        np.random.seed(seed)
    except ImportError:
        pass
    try:
        import torch

        torch.manual_seed(seed)
    except ImportError:
        pass


def resolve_module(root: str | None, explicit: str | None, name: str, backend: str) -> str:
    """The model for one module: ``explicit``, else ``root/name``, else ``root`` itself if it is a model folder.

    With ``--backend openai`` the result is a served model name (``explicit`` or ``name``).
    """
    if explicit:
        return explicit
    if backend == "openai":
        return name
    if root is None:
        raise ValueError(f"give --model_name_or_path (a root holding {name}/) or --plan_model/--ground_model")
    base = Path(root)
    if (base / name).is_dir():
        return str(base / name)
    if (base / "config.json").is_file() or (base / "adapter_config.json").is_file():
        logger.warning("%s has no %s/; the model %s stands in for this module", base, name, base)
        return str(base)
    raise FileNotFoundError(f"no model for {name}: {base / name} does not exist and {base} is not a model folder")


def _done_ids(path: Path) -> set[str]:
    """Ids already in predictions.jsonl; a half-written last line (killed run) is cut off first."""
    if not path.is_file():
        return set()
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        keep = data[: data.rfind(b"\n") + 1]
        logger.warning("%s: dropping a half-written last line (%d bytes)", path, len(data) - len(keep))
        path.write_bytes(keep)
    return {str(rec["id"]) for _, rec in iter_jsonl(path)}


def chat_backend(spec: str, args: argparse.Namespace, loaded: Mapping[str, Backend]) -> Backend:
    """A backend for an LLM tool or judge: a loaded module if it is the same model, a local folder, or a name."""
    if Path(spec).exists():
        for path, backend in loaded.items():
            if Path(path).exists() and Path(path).resolve() == Path(spec).resolve():
                return backend
        kind = "hf" if args.backend == "openai" else args.backend
        return load_backend(kind, spec, batch_size=args.eval_batch_size, dtype=args.dtype, seed=args.seed)
    return load_backend("openai", spec, base_url=args.openai_base_url)


def make_toolbox(domain: str, args: argparse.Namespace, qa: Backend | None,
                 options: Mapping[str, Any] | None = None) -> tuple[dict[str, Tool], Executor, dict[str, Any]]:
    """The domain's tools (``lumos.tools``) configured from the command line, the executor, and the tool config."""
    from lumos.tools.executor import ToolConfig, build_toolbox, execute_actions

    if domain == "complex_qa" and qa is None:
        logger.warning("no --qa_model: the QA and Calculator tools have no LLM and will fail")
    cache = getattr(args, "tool_cache", None)
    config = ToolConfig(knowledge=args.knowledge, corpus=args.corpus, qa_backend=qa,
                        retriever=getattr(args, "retriever", "dense"),
                        math_backend=getattr(args, "math_backend", "sympy"),
                        cache_path=None if cache in (None, "none") else Path(cache), **dict(options or {}))
    return build_toolbox(domain, config), execute_actions, config.to_dict()


def score(bench: Benchmark, example: Example, traj: Trajectory) -> dict[str, float]:
    return {name: float(fn(traj.prediction, example.answer)) for name, fn in bench.metrics.items()}


def summarize(bench: Benchmark, examples: Sequence[Example], records: Mapping[str, dict[str, Any]]) -> dict[str, Any]:
    """Means over ALL ``examples``: a missing or failed example scores 0."""
    n = len(examples)
    names = list(bench.metrics) + (["llm_acc"] if any("llm_acc" in r.get("scores", {}) for r in records.values()) else [])
    totals = {m: sum(records.get(e.id, {}).get("scores", {}).get(m, 0.0) for e in examples) for m in names}
    statuses = Counter(records[e.id]["status"] if e.id in records else "missing" for e in examples)
    return {"n": n, "metrics": {m: (totals[m] / n if n else 0.0) for m in names},
            "correct": {m: totals[m] for m in names}, "status_counts": dict(statuses)}


def evaluate(args: argparse.Namespace, benchmark: str, *, planner: Backend | None = None,
             grounder: Backend | None = None, tools: Mapping[str, Tool] | None = None,
             execute: Executor | None = None, judge: Backend | None = None,
             qa: Backend | None = None) -> dict[str, Any]:
    """Run (or resume) one evaluation and write predictions.jsonl and metrics.json; returns the metrics.

    Backends (``planner``, ``grounder``, the QA tool's ``qa``, ``judge``), tools and the executor are
    built from ``args`` unless given (tests pass scripted ones).
    """
    started = time.time()
    seed_everything(args.seed)
    bench = get_benchmark(benchmark, args.data_dir)
    examples = list(bench.examples[: args.max_num_examples] if args.max_num_examples else bench.examples)
    save_dir = Path(args.save_dir or REPO_ROOT / "results" / benchmark / args.formulation)
    pred_path = save_dir / PREDICTIONS
    done = _done_ids(pred_path)
    todo = [e for e in examples if e.id not in done]
    logger.info("%s: %d examples, %d already in %s, %d to run", benchmark, len(examples), len(examples) - len(todo),
                pred_path, len(todo))
    lumos = args.formulation.startswith("lumos_")
    tool_config: dict[str, Any] | None = None
    plan_name = checkpoint_name(bench.domain, "plan", args.formulation)
    plan_path = resolve_module(args.model_name_or_path, args.plan_model, plan_name, args.backend)
    ground_path = None
    if lumos:
        ground_name = checkpoint_name(bench.domain, "ground", args.formulation)
        ground_path = resolve_module(args.model_name_or_path, args.ground_model, ground_name, args.backend)
    if todo:
        if planner is None:
            planner, grounder = load_module_backends(
                args.backend, plan_path, ground_path, prompt_style=args.prompt_style, batch_size=args.eval_batch_size,
                dtype=args.dtype, seed=args.seed, base_url=args.openai_base_url)
        loaded = {plan_path: planner, **({ground_path: grounder} if ground_path else {})}
        if judge is None and args.judge_model:
            judge = chat_backend(args.judge_model, args, loaded)
        if lumos and tools is None:
            if qa is None and args.qa_model:
                qa = chat_backend(args.qa_model, args, loaded)
            if args.tool_cache == "auto":
                args.tool_cache = str(save_dir / "tool_cache.sqlite")
            tools, execute, tool_config = make_toolbox(bench.domain, args, qa, bench.tool_options)
        config = AgentConfig(domain=bench.domain, formulation=args.formulation, max_subgoals=bench.max_subgoals,
                             prompt_style=args.prompt_style, max_new_tokens=args.max_new_tokens,
                             batch_size=args.eval_batch_size)
        bar = tqdm(total=len(todo), desc=f"{benchmark} {args.formulation}", unit="ex")

        def on_finish(i: int, traj: Trajectory) -> None:
            ex = todo[i]
            scores = score(bench, ex, traj)
            if judge is not None:
                scores["llm_acc"] = llm_judge(judge, [(ex.question, traj.prediction, ex.answer)])[0]
            append_jsonl(pred_path, [{"id": ex.id, "question": ex.question, "answer": ex.answer,
                                      "prediction": traj.prediction, "status": traj.status, "error": traj.error,
                                      "scores": scores, "trajectory": traj.to_dict()}])
            bar.update(1)

        run_agent([e.question for e in todo], planner=planner, grounder=grounder, tools=tools or {}, config=config,
                  execute=execute, on_finish=on_finish)
        bar.close()
    records: dict[str, dict[str, Any]] = {}
    for _, rec in iter_jsonl(pred_path) if pred_path.is_file() else []:
        records.setdefault(str(rec["id"]), rec)
    result = summarize(bench, examples, records)
    info = dict(bench.info)
    if "train_overlap" in info:
        info["selected_in_train"] = sum(bool(e.metadata.get("in_train")) for e in examples)
    result.update({
        "benchmark": benchmark, "formulation": args.formulation, "backend": args.backend, "seed": args.seed,
        "git_commit": git_commit(), "data_file": str(bench.source), "models": {"plan": plan_path, "ground": ground_path},
        "config": {k: v for k, v in vars(args).items()}, "tools": tool_config, "info": info, "elapsed_s": round(time.time() - started, 2),
    })
    if tool_config is None and (save_dir / METRICS).is_file():  # resumed with nothing to run: keep what ran
        result["tools"] = read_json(save_dir / METRICS).get("tools")
    write_json(save_dir / METRICS, result)
    logger.info("%s %s: n=%d %s -> %s", benchmark, args.formulation, result["n"],
                " ".join(f"{k}={v:.4f}" for k, v in result["metrics"].items()), save_dir)
    return result


def main(argv: Sequence[str] | None = None, *, benchmark: str | None = None) -> dict[str, Any]:
    """CLI entry: ``python -m lumos.evaluate --benchmark gsm ...`` or ``eval/<bench>/run_eval.py``."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = build_parser(benchmark).parse_args(argv)
    return evaluate(args, benchmark or args.benchmark)


if __name__ == "__main__":
    main()
