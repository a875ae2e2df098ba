"""The CPU demo: shipped demo data -> rule conversion -> Lumos-I training -> evaluation -> report.

``./scripts/demo.sh`` (= ``python -m lumos.demo``) runs, from ``data/demo/`` and the offline base model
(``models/smollm2-135m-instruct``), every step of the pipeline through the repository's public commands:

    data-<domain>           python -m data.prompt_convertion --backend rule ...; python -m data.process_for_train ...
    train-<domain>-<module> ./train.sh <plan|ground> iterative  (TASK, TRAIN_FILE, OUTPUT_DIR, MAX_STEPS, LR, LORA)
    eval-<benchmark>        python -m eval.gsm.run_eval / python -m eval.hotpotqa.run_eval (local corpus + local QA model)

and writes ``results/demo/<run>/metrics.json`` and ``results/demo/<run>/report.html``. A stage marker
(``<run>/stages/<stage>.json``) records the fingerprint of everything that decides a stage's outputs (its
command-line values, input file hashes and the fingerprints of the stages it reads from)::

    {"name": "train-maths-plan", "status": "done", "fingerprint": "3f0c...", "wall_s": 71.2, "cpu_s": 118.4, ...}

A second run reuses every stage whose marker is ``done`` with the same fingerprint and whose outputs exist;
a changed setting (``--steps 16``) reruns that stage and everything downstream, after deleting its stale
outputs. An interrupted stage (marker ``running``, same fingerprint) is rerun without deleting anything, so
the training and evaluation commands resume from their own checkpoints / ``predictions.jsonl``.

The stage machinery is ``lumos.stages``; the small-scale reproduction on real data (``lumos.reproduce``) uses it too.

Run: ``./scripts/demo.sh`` (``--help`` for the budget knobs). Tests: ``pytest tests/test_demo.py``.
"""

from __future__ import annotations

import argparse
import base64
import html
import json
import logging
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from lumos.agent.trajectory import Trajectory
from lumos.paths import DEFAULT_BASE_MODEL, REPO_ROOT, check_choice, checkpoint_name
from lumos.report import format_trajectory, trajectory_html_fragment
from lumos.stages import Command, Executor, Stage, StageError, StageRecord, rel, run_stages, timing_summary
from lumos.utils.io import file_sha256, git_commit, iter_jsonl, read_json, write_json

logger = logging.getLogger("lumos.demo")  # also under python -m

DEMO_DATA = REPO_ROOT / "data" / "demo"
DEMO_DOMAINS: tuple[str, ...] = ("maths", "complex_qa")
DTYPES: tuple[str, ...] = ("bfloat16", "float32")

# Expected wall seconds on an idle 2-core machine, measured with the demo's defaults (docs/reproduction.md).
# Training: launch + load + LoRA merge + save, plus per optimizer update of 8 packed conversations.
TRAIN_OVERHEAD_S = 30.0
TRAIN_S_PER_STEP = {("maths", "plan"): 9.0, ("maths", "ground"): 14.5, ("complex_qa", "plan"): 7.5,
                    ("complex_qa", "ground"): 18.5}
FULL_FT_FACTOR = 3.0  # full fine-tuning under DeepSpeed cost ~3x the CPU time of LoRA per token (measured)
EVAL_OVERHEAD_S = {"gsm": 12.0, "hotpotqa": 25.0}
EVAL_S_PER_EXAMPLE = {"gsm": 2.0, "hotpotqa": 6.0}


@dataclass(frozen=True)
class DemoDomain:
    """One demo domain: its training file, held-out test file, benchmark key and (QA) local corpus."""

    domain: str
    train_file: Path
    benchmark: str
    test_file: Path
    corpus: Path | None = None


DOMAINS: dict[str, DemoDomain] = {
    "maths": DemoDomain("maths", DEMO_DATA / "maths" / "gsm8k_train.jsonl", "gsm",
                        DEMO_DATA / "maths" / "gsm8k_test.jsonl"),
    "complex_qa": DemoDomain("complex_qa", DEMO_DATA / "complex_qa" / "musique_train.jsonl", "hotpotqa",
                             DEMO_DATA / "complex_qa" / "twohop_test.jsonl", DEMO_DATA / "complex_qa" / "corpus.jsonl"),
}




# --------------------------------------------------------------------------------------------------------
# The demo pipeline
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoConfig:
    """The demo's settings (all recorded in metrics.json). Defaults: ~10 min on an idle 2-core machine."""

    run: str = "default"
    out_dir: Path = REPO_ROOT / "results" / "demo"
    domains: tuple[str, ...] = DEMO_DOMAINS
    base_model: Path = DEFAULT_BASE_MODEL
    steps: int = 8
    learning_rate: float = 2e-3
    lora: bool = True
    seed: int = 42
    max_eval: int | None = None
    dtype: str = "bfloat16"
    max_new_tokens: int = 128
    eval_batch_size: int = 8
    python: str = sys.executable

    def __post_init__(self) -> None:
        if not self.domains:
            raise ValueError("at least one domain is needed")
        for d in self.domains:
            check_choice(d, DEMO_DOMAINS, "demo domain")
        check_choice(self.dtype, DTYPES, "dtype")
        if self.steps < 1:
            raise ValueError(f"steps must be >= 1, got {self.steps}")
        if self.max_eval is not None and self.max_eval < 1:
            raise ValueError(f"max_eval must be >= 1, got {self.max_eval}")
        if not self.run or "/" in self.run:
            raise ValueError(f"run must be a plain folder name, got {self.run!r}")

    @property
    def run_dir(self) -> Path:
        return self.out_dir / self.run

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in d.items() if k != "python"}


def data_stage(cfg: DemoConfig, dom: DemoDomain) -> Stage:
    root = cfg.run_dir / "data"
    converted = root / dom.domain / "converted" / f"{dom.train_file.stem}_converted.json"
    annots = root / dom.domain / "train_annots"
    py = cfg.python
    commands = (
        Command((py, "-m", "data.prompt_convertion", "--backend", "rule", "--domain", dom.domain, "--data_fn",
                 rel(dom.train_file), "--convert_all", "--output", rel(converted))),
        Command((py, "-m", "data.process_for_train", "--data_root", rel(root), "--domain", dom.domain,
                 "--formulation", "lumos_iterative")),
    )
    return Stage(
        name=f"data-{dom.domain}",
        description=f"rule-convert {rel(dom.train_file)} and build the Lumos-I plan/ground training files",
        commands=commands,
        config={"train_file": rel(dom.train_file), "sha256": file_sha256(dom.train_file),
                "formulation": "lumos_iterative"},
        outputs=tuple(annots / f"{checkpoint_name(dom.domain, m, 'lumos_iterative')}.jsonl" for m in ("plan", "ground")),
        expected_s=3.0,
        clean=(root / dom.domain,),
    )


def train_stage(cfg: DemoConfig, dom: DemoDomain, module: str, upstream: Stage) -> Stage:
    name = checkpoint_name(dom.domain, module, "lumos_iterative")
    out = cfg.run_dir / "models" / name
    train_file = upstream.outputs[0 if module == "plan" else 1]
    env = {"TASK": dom.domain, "TRAIN_FILE": rel(train_file), "OUTPUT_DIR": rel(out),
           "MODEL_NAME_OR_PATH": rel(cfg.base_model), "MAX_STEPS": str(cfg.steps), "LR": str(cfg.learning_rate),
           "SEED": str(cfg.seed), "LORA": "1" if cfg.lora else "0", "NUM_GPUS": "0", "PYTHON": cfg.python}
    per_step = TRAIN_S_PER_STEP[(dom.domain, module)] * (1.0 if cfg.lora else FULL_FT_FACTOR)
    return Stage(
        name=f"train-{dom.domain}-{module}",
        description=f"fine-tune the {module} module from {cfg.base_model.name} "
                    f"({cfg.steps} updates of 8 conversations, {'LoRA' if cfg.lora else 'full'}, lr {cfg.learning_rate:g})",
        commands=(Command(("bash", "train.sh", module, "iterative", "--report_to", "none"), env),),
        config={"env": {k: v for k, v in env.items() if k != "PYTHON"}, "base_model": rel(cfg.base_model),
                "after": upstream.fingerprint},
        outputs=(out / "metrics.json", out / "config.json"),
        expected_s=TRAIN_OVERHEAD_S + cfg.steps * per_step,
        clean=(out,),
        after=(upstream.name,),
    )


def eval_stage(cfg: DemoConfig, dom: DemoDomain, trained: Sequence[Stage]) -> Stage:
    save = cfg.run_dir / "eval" / dom.benchmark
    argv = [cfg.python, "-m", f"eval.{dom.benchmark}.run_eval", "--data_dir", rel(dom.test_file),
            "--model_name_or_path", rel(cfg.run_dir / "models"), "--formulation", "lumos_iterative",
            "--save_dir", rel(save), "--dtype", cfg.dtype, "--max_new_tokens", str(cfg.max_new_tokens),
            "--eval_batch_size", str(cfg.eval_batch_size), "--seed", str(cfg.seed)]
    if cfg.max_eval:
        argv += ["--max_num_examples", str(cfg.max_eval)]
    if dom.corpus is not None:
        argv += ["--knowledge", "local", "--corpus", rel(dom.corpus), "--qa_model", rel(cfg.base_model)]
    n = _count_lines(dom.test_file) if cfg.max_eval is None else min(cfg.max_eval, _count_lines(dom.test_file))
    return Stage(
        name=f"eval-{dom.benchmark}",
        description=f"Lumos-I on the {n} held-out {dom.domain} demo tasks ({rel(dom.test_file)}) with real tools",
        commands=(Command(tuple(argv)),),
        config={"argv": argv[1:], "test_sha256": file_sha256(dom.test_file),
                "corpus_sha256": file_sha256(dom.corpus) if dom.corpus else None,
                "after": [s.fingerprint for s in trained]},
        outputs=(save / "metrics.json", save / "predictions.jsonl"),
        expected_s=EVAL_OVERHEAD_S[dom.benchmark] + n * EVAL_S_PER_EXAMPLE[dom.benchmark],
        clean=(save,),
        after=tuple(s.name for s in trained),
    )


def _count_lines(path: Path) -> int:
    with open(path, encoding="utf-8") as f:
        return sum(1 for line in f if line.strip())


def build_stages(cfg: DemoConfig) -> list[Stage]:
    """data -> train plan, train ground -> eval, per domain (in ``cfg.domains`` order)."""
    stages: list[Stage] = []
    for domain in cfg.domains:
        dom = DOMAINS[domain]
        data = data_stage(cfg, dom)
        trained = [train_stage(cfg, dom, m, data) for m in ("plan", "ground")]
        stages += [data, *trained, eval_stage(cfg, dom, trained)]
    return stages


# --------------------------------------------------------------------------------------------------------
# Results: metrics.json, the terminal table, report.html
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BenchResult:
    """One benchmark's evaluation as the demo reports it."""

    benchmark: str
    domain: str
    metrics: Mapping[str, Any]
    records: tuple[dict[str, Any], ...]

    @property
    def trajectories(self) -> list[Trajectory]:
        return [Trajectory.from_dict(r["trajectory"]) for r in self.records]


def well_formed(trajs: Sequence[Trajectory]) -> dict[str, Any]:
    """How many model turns the agent could parse: plan turns (``Subgoal k: ...`` or the stop sentence) and
    grounding turns (at least one action), as the loop recorded them."""
    plan = [bool(s.subgoals) or s.stop for t in trajs for s in t.steps]
    ground = [bool(s.actions) for t in trajs for s in t.steps if s.ground_output is not None]
    return {"plan_turns": len(plan), "plan_well_formed": sum(plan),
            "plan_rate": sum(plan) / len(plan) if plan else None,
            "ground_turns": len(ground), "ground_well_formed": sum(ground),
            "ground_rate": sum(ground) / len(ground) if ground else None}


def load_bench_result(cfg: DemoConfig, dom: DemoDomain) -> BenchResult:
    save = cfg.run_dir / "eval" / dom.benchmark
    metrics = read_json(save / "metrics.json")
    records: dict[str, dict[str, Any]] = {}
    for _, rec in iter_jsonl(save / "predictions.jsonl"):
        records.setdefault(str(rec["id"]), rec)
    return BenchResult(dom.benchmark, dom.domain, metrics, tuple(records.values()))


def training_summary(cfg: DemoConfig, domain: str, module: str) -> dict[str, Any]:
    out = cfg.run_dir / "models" / checkpoint_name(domain, module, "lumos_iterative")
    m = read_json(out / "metrics.json")
    curve = out / "loss_curve.png"
    return {"model_dir": rel(out), "completed_steps": m.get("completed_steps"),
            "first_loss": m.get("first_logged_loss"), "final_loss": m.get("final_loss"),
            "train_tokens": m.get("train_tokens"), "train_seconds": m.get("train_seconds"),
            "examples": (m.get("data") or {}).get("kept"), "loss_curve": rel(curve) if curve.is_file() else None}


def assemble_metrics(cfg: DemoConfig, records: Sequence[StageRecord], results: Sequence[BenchResult],
                     training: Mapping[str, Mapping[str, Any]], total_wall_s: float) -> dict[str, Any]:
    """The content of ``<run>/metrics.json``: ``n`` (all evaluated tasks), per-benchmark metrics and
    well-formedness, training losses, config, git commit, seed and per-stage wall/CPU times."""
    benches = {}
    for r in results:
        benches[r.benchmark] = {"domain": r.domain, "n": r.metrics.get("n", len(r.records)),
                                "metrics": r.metrics.get("metrics", {}), "correct": r.metrics.get("correct", {}),
                                "status_counts": r.metrics.get("status_counts", {}),
                                "well_formed": well_formed(r.trajectories),
                                "data_file": r.metrics.get("data_file"), "tools": r.metrics.get("tools")}
    return {
        "run": cfg.run,
        "n": sum(b["n"] for b in benches.values()),
        "benchmarks": benches,
        "training": dict(training),
        "config": cfg.to_dict(),
        "formulation": "lumos_iterative",
        "git_commit": git_commit(),
        "seed": cfg.seed,
        **timing_summary(records, total_wall_s),
    }


def metrics_table(metrics: Mapping[str, Any]) -> str:
    """A plain-text table: one row per benchmark metric, with status counts and well-formed turns."""
    rows = [("benchmark", "n", "metric", "value", "statuses", "plan turns ok", "ground turns ok")]
    for bench, b in metrics["benchmarks"].items():
        wf = b["well_formed"]
        statuses = " ".join(f"{k}={v}" for k, v in sorted(b["status_counts"].items()))
        for name, value in b["metrics"].items():
            rows.append((bench, str(b["n"]), name, f"{value:.3f}", statuses,
                         f"{wf['plan_well_formed']}/{wf['plan_turns']}", f"{wf['ground_well_formed']}/{wf['ground_turns']}"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def pick_trajectory(results: Sequence[BenchResult]) -> tuple[BenchResult, dict[str, Any]] | None:
    """The trajectory to print: the first correct one, else the first that finished, else the first."""
    candidates = [(r, rec) for r in results for rec in r.records]
    if not candidates:
        return None
    for test in (lambda rec: any(v >= 1.0 for v in rec.get("scores", {}).values()),
                 lambda rec: rec.get("status") == "done", lambda rec: True):
        for r, rec in candidates:
            if test(rec):
                return r, rec
    return None


def _png_tag(path: Path, alt: str) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<figure><img alt="{html.escape(alt)}" src="data:image/png;base64,{data}"><figcaption>{html.escape(alt)}</figcaption></figure>'


def report_html(metrics: Mapping[str, Any], results: Sequence[BenchResult], curves: Sequence[tuple[str, Path]]) -> str:
    """A self-contained page: settings, metrics, stage times, loss curves (embedded PNGs), every trajectory."""
    e = html.escape
    parts = [f"<h1>Lumos CPU demo — run {e(metrics['run'])}</h1>",
             f"<p class=meta>git commit {e(str(metrics['git_commit']))} · seed {metrics['seed']} · "
             f"Lumos-I (iterative) · {metrics['n']} evaluated tasks</p>",
             "<h2>Metrics</h2>", f"<pre>{e(metrics_table(metrics))}</pre>",
             "<p>Plan turns ok: the planner wrote <code>Subgoal k: ...</code> or the stop sentence; ground turns ok: "
             "the grounder wrote at least one parseable action.</p>",
             "<h2>Training</h2><table><tr><th>module</th><th>examples</th><th>steps</th><th>first loss</th>"
             "<th>final loss</th><th>tokens</th></tr>"]
    for key, t in metrics["training"].items():
        parts.append(f"<tr><td>{e(key)}</td><td>{t.get('examples')}</td><td>{t.get('completed_steps')}</td>"
                     f"<td>{t.get('first_loss')}</td><td>{t.get('final_loss')}</td><td>{t.get('train_tokens')}</td></tr>")
    parts.append("</table><h2>Loss curves</h2>")
    parts += [_png_tag(path, label) for label, path in curves]
    parts.append("<h2>Stages</h2><table><tr><th>stage</th><th>status</th><th>wall s</th><th>CPU s</th>"
                 "<th>expected s (idle)</th><th>commands</th></tr>")
    for s in metrics["stages"]:
        cmds = "<br>".join(f"<code>{e(c)}</code>" for c in s["commands"])
        parts.append(f"<tr><td>{e(s['name'])}</td><td>{e(s['status'])}</td><td>{s['wall_s']}</td><td>{s['cpu_s']}</td>"
                     f"<td>{s['expected_s']:.0f}</td><td>{cmds}</td></tr>")
    parts.append("</table><h2>Settings</h2>")
    parts.append(f"<pre>{e(json.dumps(metrics['config'], indent=1))}</pre>")
    for r in results:
        parts.append(f"<h2>Trajectories: {e(r.benchmark)} ({len(r.records)})</h2>")
        for rec in r.records:
            scores = ", ".join(f"{k}={v:g}" for k, v in rec.get("scores", {}).items())
            parts.append(f'<p class=meta id="{e(r.benchmark)}-{e(str(rec["id"]))}">{e(r.benchmark)} #{e(str(rec["id"]))} '
                         f"· {e(scores)}</p>")
            parts.append(trajectory_html_fragment(Trajectory.from_dict(rec["trajectory"]), gold=str(rec.get("answer"))))
    css = ("body{font-family:system-ui,sans-serif;max-width:64rem;margin:2rem auto;padding:0 1rem;color:#222}"
           "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2rem .5rem;font-size:.9em;vertical-align:top}"
           ".task{border:1px solid #ccc;border-radius:6px;padding:1rem;margin-bottom:2rem}"
           ".step{border-left:3px solid #88a;padding-left:.8rem;margin:.8rem 0}"
           "pre{white-space:pre-wrap;word-break:break-word;background:#f6f6f6;padding:.5rem;border-radius:4px}"
           ".err{color:#a00}.ok{color:#060}.meta{color:#666;font-size:.9em}figure{display:inline-block;margin:.5rem}"
           "img{max-width:30rem}")
    return (f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>Lumos demo {e(metrics["run"])}</title>'
            f"<style>{css}</style></head><body>\n" + "\n".join(parts) + "\n</body></html>\n")


def write_report(cfg: DemoConfig, records: Sequence[StageRecord], total_wall_s: float
                 ) -> tuple[dict[str, Any], list[BenchResult]]:
    """Read the stages' outputs, write ``metrics.json`` and ``report.html``; returns the metrics and results."""
    results = [load_bench_result(cfg, DOMAINS[d]) for d in cfg.domains]
    training: dict[str, dict[str, Any]] = {}
    curves: list[tuple[str, Path]] = []
    for d in cfg.domains:
        for module in ("plan", "ground"):
            training[f"{d}/{module}"] = training_summary(cfg, d, module)
            curve = cfg.run_dir / "models" / checkpoint_name(d, module, "lumos_iterative") / "loss_curve.png"
            if curve.is_file():
                curves.append((f"{d} {module} module: training loss", curve))
    metrics = assemble_metrics(cfg, records, results, training, total_wall_s)
    write_json(cfg.run_dir / "metrics.json", metrics)
    (cfg.run_dir / "report.html").write_text(report_html(metrics, results, curves), encoding="utf-8")
    return metrics, results


def summary_text(metrics: Mapping[str, Any], results: Sequence[BenchResult]) -> str:
    """What the demo prints at the end: the metrics table, stage times and one trajectory."""
    lines = ["", "Lumos-I demo results (SmolLM2-135M, a few minutes of CPU training: low accuracy is expected)",
             metrics_table(metrics), "", "stage times (wall / CPU seconds):"]
    for s in metrics["stages"]:
        lines.append(f"  {s['name']:<26} {s['status']:<7} {s['wall_s']:>8.1f} s {s['cpu_s']:>8.1f} CPU-s"
                     f"   (expected ~{s['expected_s']:.0f} s idle)")
    picked = pick_trajectory(results)
    if picked is not None:
        bench, rec = picked
        lines += ["", f"one trajectory ({bench.benchmark} #{rec['id']}, gold {rec.get('answer')!r}, "
                      f"scores {rec.get('scores')}):", format_trajectory(Trajectory.from_dict(rec["trajectory"]))]
    return "\n".join(lines) + "\n"


def run_demo(cfg: DemoConfig, *, execute: Executor | None = None, force: bool = False, jobs: int = 1) -> dict[str, Any]:
    """Run (or reuse) every stage, then write metrics.json and report.html and print the summary."""
    if not (cfg.base_model / "config.json").is_file():
        raise FileNotFoundError(f"base model {cfg.base_model} not found (run ./setup.sh, or pass --base_model DIR)")
    start = time.perf_counter()
    cfg.run_dir.mkdir(parents=True, exist_ok=True)
    logger.info("Lumos CPU demo -> %s (domains %s, %d updates per module, %s)", cfg.run_dir, ", ".join(cfg.domains),
                cfg.steps, "LoRA" if cfg.lora else "full fine-tuning")
    records = run_stages(build_stages(cfg), cfg.run_dir, execute=execute, force=force, jobs=jobs)
    metrics, results = write_report(cfg, records, time.perf_counter() - start)
    sys.stdout.write(summary_text(metrics, results))
    sys.stdout.write(f"\nmetrics: {cfg.run_dir / 'metrics.json'}\nreport:  {cfg.run_dir / 'report.html'}\n")
    return metrics


def build_parser() -> argparse.ArgumentParser:
    d = DemoConfig()
    p = argparse.ArgumentParser(prog="python -m lumos.demo", description=__doc__.split("\n")[0])
    p.add_argument("--run", default=d.run, help="run name: results go to <out_dir>/<run>/ (default: %(default)s)")
    p.add_argument("--out_dir", type=Path, default=d.out_dir, help="default: %(default)s")
    p.add_argument("--domains", nargs="+", default=list(d.domains), choices=DEMO_DOMAINS)
    p.add_argument("--base_model", type=Path, default=d.base_model, help="default: %(default)s")
    p.add_argument("--steps", type=int, default=d.steps, help="optimizer updates per module (default: %(default)s)")
    p.add_argument("--learning_rate", type=float, default=d.learning_rate, help="default: %(default)s")
    p.add_argument("--full", action="store_true", help="full fine-tuning instead of LoRA (~3x slower on CPU)")
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--max_eval", type=int, default=None, help="evaluate only the first N held-out tasks per domain")
    p.add_argument("--dtype", default=d.dtype, choices=DTYPES, help="inference dtype (default: %(default)s)")
    p.add_argument("--max_new_tokens", type=int, default=d.max_new_tokens)
    p.add_argument("--eval_batch_size", type=int, default=d.eval_batch_size)
    p.add_argument("--jobs", type=int, default=1, help="stages run side by side (plan and ground train together "
                   "with 2; each gets cpus/jobs threads; output then goes to the stage logs only)")
    p.add_argument("--force", action="store_true", help="rerun every stage even when its outputs are reusable")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    args = build_parser().parse_args(argv)
    cfg = DemoConfig(run=args.run, out_dir=args.out_dir.resolve(), domains=tuple(args.domains),
                     base_model=args.base_model.resolve(), steps=args.steps, learning_rate=args.learning_rate,
                     lora=not args.full, seed=args.seed, max_eval=args.max_eval, dtype=args.dtype,
                     max_new_tokens=args.max_new_tokens, eval_batch_size=args.eval_batch_size)
    try:
        metrics = run_demo(cfg, force=args.force, jobs=args.jobs)
    except StageError as err:
        logger.error("%s", err)
        return 1
    return 0 if metrics["n"] > 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
