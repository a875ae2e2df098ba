"""The ``lumos`` command.

``lumos run "TASK" --domain maths|complex_qa`` runs the agent on one new task and prints its
trajectory (``--html FILE`` / ``--json FILE`` also write it); ``lumos run --benchmark B --example_id ID``
runs one example of any benchmark. ``lumos run`` accepts every option the evaluation accepts.

    lumos run "Natalia sold 48 clips in April and half as many in May. How many in total?" --domain maths \\
        --model_name_or_path models/smollm2-135m-instruct --formulation lumos_iterative --html natalia.html

``lumos score SAVE_DIR`` rebuilds ``SAVE_DIR/metrics.json`` from the predictions of a run (every shard)
and prints it; ``lumos score --benchmark B --predictions FILE [--data_dir D]`` scores an external JSONL of
``{"id": ..., "prediction": ...}`` lines against B's gold answers and prints the metrics (the keys of
metrics.json; ``n`` is every example of the benchmark file, missing ids count as wrong).

Exercise: ``pytest tests/agent/test_cli.py tests/test_scoring.py``.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lumos.paths import DEFAULT_BASE_MODEL
from lumos.utils.cli import UsageError

logger = logging.getLogger(__name__)
DOMAIN_BENCHMARK = {"maths": "gsm", "complex_qa": "hotpotqa"}


@dataclass
class RunOptions:
    """Options of ``lumos run`` beyond the evaluation's."""

    domain: str | None = field(default=None, metadata={"help": "maths or complex_qa: the tools, prompts and caps "
                                                                 "of gsm / hotpotqa for a free-form task"})
    example_id: str | None = field(default=None, metadata={"help": "run this example of --benchmark (from --data_dir)"})
    max_subgoals: int | None = field(default=None, metadata={"help": "Lumos-I cap (default: the benchmark's)"})
    show_prompts: bool = field(default=False, metadata={"help": "print the full prompts too"})
    html: str | None = field(default=None, metadata={"help": "write the trajectory as an HTML page"})
    json: str | None = field(default=None, metadata={"help": "write the trajectory as JSON"})


def run(argv: Sequence[str]) -> int:
    """``lumos run [TASK] [--domain D | --benchmark B --example_id ID] [evaluation options]``."""
    import dataclasses

    from lumos.agent.loop import run_episodes
    from lumos.benchmarks import Example, get_benchmark
    from lumos.config import benchmark_options, parse_eval_args
    from lumos.report import format_trajectory, trajectories_html
    from lumos.runtime import RunContext, agent_config, load_modules, module_paths

    argv = list(argv)
    task = argv.pop(0) if argv and not argv[0].startswith("-") else None
    parsed = parse_eval_args(argv, extra=[RunOptions])
    config, opts = parsed[0], next(p for p in parsed if isinstance(p, RunOptions))
    if config.benchmark is None:
        if opts.domain not in DOMAIN_BENCHMARK:
            raise UsageError(f"give --domain ({' or '.join(DOMAIN_BENCHMARK)}) or --benchmark")
        config.benchmark = DOMAIN_BENCHMARK[opts.domain]
    bench = get_benchmark(config.benchmark)
    if max_subgoals := opts.max_subgoals:
        bench = dataclasses.replace(bench, max_subgoals=max_subgoals)
    if task is not None:
        example = Example(id="task", question=task.strip(), answer="")
    elif opts.example_id is not None:
        data = bench.load(Path(config.data_dir) if config.data_dir else None, benchmark_options(parsed, bench.name))
        example = next((e for e in data.examples if e.id == opts.example_id), None)
        if example is None:
            raise UsageError(f"no example with id {opts.example_id!r} in {data.source}")
    else:
        raise UsageError("give a TASK, or --benchmark B --example_id ID")
    if config.model_name_or_path is None and config.plan_model is None:
        config.model_name_or_path = str(DEFAULT_BASE_MODEL)
    config.eval_batch_size = 1
    plan, ground = module_paths(config, bench.domain)
    planner, grounder = load_modules(config, plan, ground)
    ctx = RunContext(config, bench, options=benchmark_options(parsed, bench.name), planner=planner, grounder=grounder,
                     plan_path=plan, ground_path=ground)
    try:
        [ep] = run_episodes([bench.make_episode(bench, example, ctx)], planner=planner, grounder=grounder,
                            config=agent_config(config, planner))
    finally:
        ctx.close()
    traj = ep.trajectory
    sys.stdout.write(format_trajectory(traj, show_prompts=opts.show_prompts) + "\n")
    if opts.html:
        Path(opts.html).write_text(trajectories_html([traj], title="Lumos: " + example.question[:80]), encoding="utf-8")
        logger.info("wrote %s", opts.html)
    if opts.json:
        Path(opts.json).write_text(json.dumps(traj.to_dict(), ensure_ascii=False, indent=1), encoding="utf-8")
        logger.info("wrote %s", opts.json)
    return 0


def score(argv: Sequence[str]) -> int:
    """``lumos score SAVE_DIR`` or ``lumos score --benchmark B --predictions FILE [--data_dir D]``."""
    p = argparse.ArgumentParser(prog="lumos score", description="Rebuild a run's metrics.json, or score external "
                                "predictions against a benchmark's gold answers.")
    p.add_argument("save_dir", nargs="?", help="a run folder (predictions*.jsonl + config.json)")
    p.add_argument("--benchmark", help="score --predictions against this benchmark's gold answers")
    p.add_argument("--predictions", help='JSONL of {"id": ..., "prediction": ...} lines')
    p.add_argument("--data_dir", help="the benchmark's data (default $LUMOS_DATA_DIR)")
    args = p.parse_args(argv)
    if args.save_dir and (args.benchmark or args.predictions):
        p.error("give SAVE_DIR, or --benchmark with --predictions, not both")
    if args.save_dir:
        result = rescore_dir(Path(args.save_dir))
    elif args.benchmark and args.predictions:
        from lumos.benchmarks import load_benchmark
        from lumos.scoring import score_external

        bench, data = load_benchmark(args.benchmark, args.data_dir)
        result = score_external(bench, data.examples, Path(args.predictions))
    else:
        p.error("give SAVE_DIR, or --benchmark and --predictions")
    sys.stdout.write(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    return 0


def rescore_dir(save_dir: Path) -> dict[str, Any]:
    """Rebuild ``save_dir/metrics.json`` from every prediction file there (answer metrics recomputed)."""
    from lumos.benchmarks import get_benchmark, load_benchmark
    from lumos.scoring import CONFIG, METRICS, prediction_files, read_records, summarize
    from lumos.utils.io import read_json, write_json

    if not (save_dir / CONFIG).is_file():
        raise FileNotFoundError(f"{save_dir / CONFIG} not found: not a lumos run folder")
    cfg = read_json(save_dir / CONFIG)
    old = read_json(save_dir / METRICS) if (save_dir / METRICS).is_file() else {}
    data_dir = cfg.get("data_file")
    bench = get_benchmark(cfg["benchmark"])
    options = bench.make_options(cfg.get("options"))
    bench, data = load_benchmark(cfg["benchmark"], data_dir, options)
    limit = cfg.get("max_num_examples")
    examples = list(data.examples[:limit] if limit else data.examples)
    records = read_records(prediction_files(save_dir))
    result = dict(old)
    result.update(summarize(bench, examples, records.by_id, rescore=True, seed=int(cfg.get("seed") or 0)))
    result["conflicting_records"] = records.conflicts
    result.setdefault("benchmark", bench.name)
    write_json(save_dir / METRICS, result)
    if bench.write_outputs is not None:
        bench.write_outputs(save_dir, records.by_id, examples)
    return result


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    argv = list(sys.argv[1:] if argv is None else argv)
    commands = {"run": run, "score": score}
    if not argv or argv[0] not in commands:
        sys.stderr.write("usage: lumos {run,score} ...\n  lumos run TASK --domain maths|complex_qa [options]\n"
                         "  lumos score SAVE_DIR | lumos score --benchmark B --predictions FILE\n")
        return 2
    return commands[argv[0]](argv[1:])


def entry() -> int:
    """The ``lumos`` console script: project errors as one line on stderr (``lumos.utils.cli.run_cli``)."""
    from lumos.utils.cli import run_cli

    return run_cli(main, prog="lumos")


if __name__ == "__main__":
    sys.exit(entry())
