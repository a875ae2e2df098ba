"""The generic evaluation: one benchmark, one formulation, every example, resumable and shardable.

Writes ``<save_dir>/predictions.jsonl`` (``predictions.<k>-of-<N>.jsonl`` for shard k of N) — one
line per example as soon as its episode finishes::

    {"id": "0", "question": "Janet's ducks...", "answer": "18", "prediction": "18", "status": "done",
     "error": null, "scores": {"acc": 1.0}, "trajectory": {"task": ..., "steps": [...], ...}}

``config.json`` (what decides the results; a resumed run must match it) and ``metrics.json``: ``n``,
every metric over ALL selected examples (failures and missing examples count 0) with a 95 %
interval, status counts, the config, what actually ran (models, backend, tools, resources), git
commit, seed, data file. Rerunning the same command skips the examples already written.

Sharding: ``--num_shards N --shard_index k`` runs the k-th contiguous slice of the selected examples
(after ``--max_num_examples``). Under ``accelerate launch --num_processes N`` (or ``torchrun``) each
process takes its rank's shard by itself and rank 0 waits for the others, merges every shard into
``predictions.jsonl`` (in example order) and writes ``metrics.json``; shards started by hand merge
when the last one finishes.

Run: ``python -m eval.gsm.run_eval --data_dir ../shared/data --model_name_or_path models/smollm2-135m-instruct
--formulation lumos_onetime --max_num_examples 3`` (``eval/<bench>/run_eval.py`` calls ``main``).
"""

from __future__ import annotations

import json
import logging
import os
import random
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tqdm import tqdm

from lumos.agent.episode import Episode
from lumos.agent.loop import Executor, run_episodes
from lumos.benchmarks import Benchmark, Example, get_benchmark
from lumos.config import EvalConfig, apply_split, benchmark_options, launcher_rank, parse_eval_args
from lumos.inference.base import Backend
from lumos.metrics import llm_judge
from lumos.paths import REPO_ROOT
from lumos.runtime import RunContext, agent_config, backend_description, load_modules, module_paths
from lumos.scoring import (
    CONFIG,
    METRICS,
    PREDICTIONS,
    Records,
    prediction_files,
    read_records,
    select_shard,
    shard_file,
    summarize,
)
from lumos.utils.cli import UsageError, run_cli
from lumos.utils.io import append_jsonl, git_commit, read_json, write_json, write_jsonl
from lumos.utils.lock import LockHeld, lock_output

logger = logging.getLogger(__name__)

# config fields that do not change what an example's record contains (a resumed run may change them)
_NOT_DECISIVE = frozenset({"max_num_examples", "save_dir", "eval_batch_size", "num_shards", "shard_index",
                           "concurrency", "cache", "judge_model", "data_dir", "model_name_or_path", "plan_model",
                           "ground_model", "base_url", "api_key_env"})


class RunConfigMismatch(UsageError):
    """A resumed run whose settings differ from the ones its save_dir was started with."""


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


def default_save_dir(config: EvalConfig) -> Path:
    return Path(config.save_dir) if config.save_dir else REPO_ROOT / "results" / str(config.benchmark) / config.formulation


def _options_dict(options: Any) -> dict[str, Any] | None:
    import dataclasses

    return dataclasses.asdict(options) if options is not None and dataclasses.is_dataclass(options) else None


def run_config(config: EvalConfig, options: Any, source: Path, models: dict[str, str | None]) -> dict[str, Any]:
    """What decides the results of this run (stored in config.json)."""
    decisive = {k: v for k, v in config.to_dict().items() if k not in _NOT_DECISIVE}
    return {**decisive, "options": _options_dict(options), "data_file": str(source), "models": models}


def check_run_config(save_dir: Path, current: dict[str, Any], max_num_examples: int | None) -> None:
    """Check that a resumed run matches config.json, then (re)write it with the current selection size.

    Raises:
        RunConfigMismatch: naming every differing field.
    """
    path = save_dir / CONFIG
    if path.is_file():
        stored = {k: v for k, v in read_json(path).items() if k != "max_num_examples"}
        keys = sorted(set(stored) | set(current))
        diff = {k: (stored.get(k), current.get(k)) for k in keys if stored.get(k) != current.get(k)}
        if diff:
            shown = "; ".join(f"{k}: {a!r} -> {b!r}" for k, (a, b) in diff.items())
            raise RunConfigMismatch(f"{save_dir} holds a run with other settings ({shown}); use another --save_dir")
    write_json(path, {**current, "max_num_examples": max_num_examples})


def _record(ex: Example, ep: Episode, scores: dict[str, float]) -> dict[str, Any]:
    traj = ep.trajectory
    return {"id": ex.id, "question": ex.question, "answer": ex.answer, "prediction": traj.prediction,
            "status": traj.status, "error": traj.error, "scores": scores, "trajectory": traj.to_dict()}


def _run_todo(config: EvalConfig, options: Any, bench: Benchmark, todo: list[Example], out_path: Path,
              plan_path: str, ground_path: str | None, save_dir: Path, *, planner: Backend | None,
              grounder: Backend | None, qa: Backend | None, judge: Backend | None,
              execute: Executor | None) -> dict[str, Any]:
    """Run the episodes of ``todo``, appending one record each to ``out_path``; returns what ran."""
    if planner is None:
        planner, grounder = load_modules(config, plan_path, ground_path)
    ctx = RunContext(config, bench, options=options, planner=planner, grounder=grounder, plan_path=plan_path,
                     ground_path=ground_path, qa=qa, save_dir=save_dir)
    if judge is None and config.judge_model:
        judge = ctx.llm(config.judge_model)
    agent = agent_config(config, planner)
    bar = tqdm(total=len(todo), desc=f"{bench.name} {config.formulation}", unit="ex")
    lock = threading.Lock()

    def on_finish(ep: Episode) -> None:
        scores = ep.score()
        if judge is not None:
            scores["llm_acc"] = llm_judge(judge, [(ep.example.question, ep.trajectory.prediction, ep.example.answer)])[0]
        with lock:
            append_jsonl(out_path, [_record(ep.example, ep, scores)])
            bar.update(1)

    episodes = (bench.make_episode(bench, ex, ctx) for ex in todo)
    try:
        run_episodes(episodes, planner=planner, grounder=grounder, config=agent, execute=execute, on_finish=on_finish)
    finally:
        bar.close()
        ctx.close()
    return {"backends": {"plan": backend_description(planner), "ground": backend_description(grounder),
                         "qa": backend_description(ctx.qa) if config.lumos else None,
                         "judge": backend_description(judge)},
            "driver": "concurrent" if agent.concurrency else "batched",
            **ctx.describe()}


def merge_shards(save_dir: Path, examples: Sequence[Example]) -> Records | None:
    """If every selected example has a record in some prediction file, write them all to predictions.jsonl in
    example order and return the records read (None while some example is missing)."""
    records = read_records(prediction_files(save_dir))
    if any(e.id not in records.by_id for e in examples):
        return None
    write_jsonl(save_dir / PREDICTIONS, (records.by_id[e.id] for e in examples))
    return records


def _wait_for_shards(save_dir: Path, examples: Sequence[Example], poll_s: float = 2.0) -> None:
    """Wait until every selected example has a record in some prediction file. Each poll parses only the lines
    appended since the last one (a file that shrank, e.g. replaced by a merge, is read again from its start)."""
    wanted = {e.id for e in examples}
    seen: set[str] = set()
    offsets: dict[Path, int] = {}
    waiting_since = time.time()
    while True:
        for path in prediction_files(save_dir):
            start = offsets.get(path, 0)
            if path.stat().st_size < start:
                start = 0
            with path.open("rb") as f:
                f.seek(start)
                data = f.read()
            complete = data[: data.rfind(b"\n") + 1]  # a line still being written is read next time
            seen.update(str(json.loads(line)["id"]) for line in complete.splitlines() if line.strip())
            offsets[path] = start + len(complete)
        missing = len(wanted - seen)
        if not missing:
            return
        if time.time() - waiting_since > 60:
            logger.info("rank 0: waiting for %d examples from the other shards", missing)
            waiting_since = time.time()
        time.sleep(poll_s)


def write_metrics(bench: Benchmark, examples: Sequence[Example], save_dir: Path, path: Path, extra: dict[str, Any],
                  records: Records) -> dict[str, Any]:
    """Summarize ``records`` over ``examples`` into ``path`` (and, for metrics.json, the benchmark's derived files)."""
    result = summarize(bench, examples, records.by_id, seed=int(extra.get("seed") or 0))
    result.update(extra)
    result["conflicting_records"] = records.conflicts
    write_json(path, result)
    if bench.write_outputs is not None and path.name == METRICS:
        bench.write_outputs(save_dir, records.by_id, examples)
    return result


def evaluate(config: EvalConfig, options: Any = None, *, planner: Backend | None = None, grounder: Backend | None = None,
             qa: Backend | None = None, judge: Backend | None = None, execute: Executor | None = None,
             wait_for_shards: bool | None = None) -> dict[str, Any]:
    """Run (or resume) one evaluation (or one shard of it); write predictions and metrics; return the metrics.

    Backends (the modules, the QA tool's ``qa``, the ``judge``) are built from ``config`` unless given
    (tests pass scripted ones). ``wait_for_shards`` (default: this is rank 0 of a launcher-started
    sharded run) makes this process wait for the other shards and write the merged metrics.json.
    """
    started = time.time()
    if config.benchmark is None:
        raise ValueError("EvalConfig.benchmark is not set")
    seed_everything(config.seed)
    bench = get_benchmark(config.benchmark)
    if options is None:
        options = apply_split(bench.name, bench.options() if bench.options is not None else None, config.split)
    data = bench.load(Path(config.data_dir) if config.data_dir else None, options)
    if config.formulation not in bench.formulations:
        raise UsageError(f"{bench.name} supports {', '.join(bench.formulations)}, not {config.formulation}")
    examples = list(data.examples[: config.max_num_examples] if config.max_num_examples else data.examples)
    k, num = int(config.shard_index or 0), int(config.num_shards or 1)
    mine = select_shard(examples, k, num)
    save_dir = default_save_dir(config)
    out_path = shard_file(save_dir, k, num)
    plan_path, ground_path = module_paths(config, bench.domain)
    models = {"plan": plan_path, "ground": ground_path}
    check_run_config(save_dir, run_config(config, options, data.source, models), config.max_num_examples)
    with lock_output(out_path):  # one writer per predictions file (each shard has its own)
        done = read_records([save_dir / PREDICTIONS, out_path] if num > 1 else [out_path], truncate_torn_tail=True).by_id
        todo = [e for e in mine if e.id not in done]
        logger.info("%s: %d examples selected, shard %d/%d has %d, %d already done, %d to run -> %s", bench.name,
                    len(examples), k + 1, num, len(mine), len(mine) - len(todo), len(todo), out_path)
        ran: dict[str, Any] | None = None
        if todo:
            ran = _run_todo(config, options, bench, todo, out_path, plan_path, ground_path, save_dir, planner=planner,
                            grounder=grounder, qa=qa, judge=judge, execute=execute)
        run_file = save_dir / ("run.json" if num == 1 else f"run.{k}-of-{num}.json")
        if ran is not None or not run_file.is_file():
            write_json(run_file, {"ran": ran, "elapsed_s": round(time.time() - started, 2), "git_commit": git_commit()})
        else:
            ran = read_json(run_file)["ran"]  # resumed with nothing to run: what ran before
        extra = {"benchmark": bench.name, "formulation": config.formulation, "backend": config.backend,
                 "seed": config.seed, "git_commit": git_commit(), "data_file": str(data.source), "models": models,
                 "config": config.to_dict(), "options": _options_dict(options), "info": _info(data.info, examples),
                 "ran": ran, "elapsed_s": round(time.time() - started, 2)}
        if num == 1:
            return write_metrics(bench, examples, save_dir, save_dir / METRICS, extra, read_records([out_path]))
        shard_metrics = write_metrics(bench, mine, save_dir, save_dir / f"metrics.{k}-of-{num}.json",
                                      {**extra, "shard": [k, num]}, read_records([out_path, save_dir / PREDICTIONS]))
    if wait_for_shards is None:
        world, rank = launcher_rank()
        wait_for_shards = world == num > 1 and rank == 0
    if wait_for_shards:
        _wait_for_shards(save_dir, examples)
    try:
        with lock_output(save_dir / PREDICTIONS):
            merged = merge_shards(save_dir, examples)
    except LockHeld as e:
        logger.warning("not merging the shards now: %s", e)
        merged = None
    if merged is None:
        return shard_metrics
    logger.info("all %d shards done: merged into %s", num, save_dir / PREDICTIONS)
    return write_metrics(bench, examples, save_dir, save_dir / METRICS, {**extra, "merged_shards": num}, merged)


def _info(info: dict[str, Any] | Any, examples: Sequence[Example]) -> dict[str, Any]:
    out = dict(info)
    if "train_overlap" in out:
        out["selected_in_train"] = sum(bool(e.metadata.get("in_train")) for e in examples)
    return out


def main(argv: Sequence[str] | None = None, *, benchmark: str | None = None) -> dict[str, Any]:
    """CLI entry: ``python -m lumos.evaluate --benchmark gsm ...`` or ``eval/<bench>/run_eval.py``."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    parsed = parse_eval_args(argv, benchmark=benchmark)
    config = parsed[0]
    if config.benchmark is None:
        raise UsageError("give --benchmark")
    return evaluate(config, benchmark_options(parsed, config.benchmark))


if __name__ == "__main__":
    sys.exit(run_cli(main, prog="python -m lumos.evaluate"))
