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

The same stage machinery runs the small-scale reproduction on real data (``python -m lumos.demo reproduce``,
launched by ``scripts/reproduce_cpu.sh``; see docs/reproduction.md): Lumos-I, Lumos-O, CoT- and direct-trained
SmolLM2-135M on rule-converted GSM8K / StrategyQA, evaluated on GSM8K, SVAMP and HotpotQA, plus the untrained floor.

Run: ``./scripts/demo.sh`` (``--help`` for the budget knobs). Tests: ``pytest tests/test_demo.py``.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import html
import json
import logging
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from lumos.agent.trajectory import Trajectory
from lumos.paths import DEFAULT_BASE_MODEL, REPO_ROOT, check_choice, checkpoint_name
from lumos.report import format_trajectory, trajectory_html_fragment
from lumos.utils.io import git_commit, iter_jsonl, read_json, write_json

logger = logging.getLogger("lumos.demo")  # also under python -m

DEMO_DATA = REPO_ROOT / "data" / "demo"
OFFLINE_ENV = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
               "DS_ACCELERATOR": "cpu", "TOKENIZERS_PARALLELISM": "false", "PYTHONUNBUFFERED": "1"}
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
# Stages: commands with a fingerprint, run once, reused while the fingerprint holds
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Command:
    """One subprocess: ``argv`` run from the repository root with ``env`` added to the environment."""

    argv: tuple[str, ...]
    env: Mapping[str, str] = field(default_factory=dict)

    def shell(self) -> str:
        """The command as a user would type it (for logs and the report)."""
        env = " ".join(f"{k}={v}" for k, v in self.env.items() if k != "PYTHON")
        return (env + " " if env else "") + " ".join(self.argv)


@dataclass(frozen=True)
class Stage:
    """A named unit of work. ``config`` is everything that decides ``outputs``; ``clean`` is deleted when it changed."""

    name: str
    description: str
    commands: tuple[Command, ...]
    config: Mapping[str, Any]
    outputs: tuple[Path, ...]
    expected_s: float
    clean: tuple[Path, ...] = ()

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.config)


@dataclass(frozen=True)
class StageRecord:
    """How one stage went: ``ran`` (with its measured times) or ``reused`` (times of the run that made it)."""

    name: str
    status: str
    fingerprint: str
    expected_s: float
    wall_s: float
    cpu_s: float
    commands: tuple[str, ...]
    git_commit: str | None = None


Executor = Callable[[Command, Path], None]


class StageError(RuntimeError):
    """A stage's command failed; the message names the stage, the command and its log file."""


def fingerprint(config: Mapping[str, Any]) -> str:
    """A stable hash of a JSON-serialisable mapping."""
    return hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()[:16]


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _cpu_seconds() -> float:
    """CPU seconds used so far by this process and its finished children."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def run_command(command: Command, log_path: Path) -> None:
    """Run ``command`` from the repository root, streaming its output to stderr and to ``log_path``.

    Raises:
        StageError: when the command exits with a non-zero status.
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **OFFLINE_ENV, **command.env}
    with open(log_path, "ab") as log:
        log.write(f"$ {command.shell()}\n".encode())
        log.flush()
        proc = subprocess.Popen(list(command.argv), cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT)
        assert proc.stdout is not None
        while chunk := os.read(proc.stdout.fileno(), 8192):
            sys.stderr.buffer.write(chunk)
            sys.stderr.flush()
            log.write(chunk)
        code = proc.wait()
    if code != 0:
        raise StageError(f"command failed (exit {code}): {command.shell()}\n  log: {log_path}")


def _marker_path(run_dir: Path, name: str) -> Path:
    return run_dir / "stages" / f"{name}.json"


def _read_marker(path: Path) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    data = read_json(path)
    return data if isinstance(data, dict) else None


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


def _reusable(stage: Stage, marker: Mapping[str, Any] | None) -> bool:
    """A finished run with the same fingerprint whose outputs are all on disk."""
    return (marker is not None and marker.get("fingerprint") == stage.fingerprint and marker.get("status") == "done"
            and all(p.exists() for p in stage.outputs))


def run_stages(stages: Sequence[Stage], run_dir: Path, *, execute: Executor = run_command,
               force: bool = False) -> list[StageRecord]:
    """Run each stage unless a finished run with the same fingerprint and all outputs is on disk.

    Every stage announces itself (number, description, expected time) and reports its measured wall and
    CPU seconds. Returns one record per stage, in order.
    """
    records: list[StageRecord] = []
    commit = git_commit()
    reusable = {s.name for s in stages if not force and _reusable(s, _read_marker(_marker_path(run_dir, s.name)))}
    todo = [s for s in stages if s.name not in reusable]
    logger.info("%d stages: %d to run, expected ~%s on an idle 2-core machine; %d reused", len(stages), len(todo),
                _duration(sum(s.expected_s for s in todo)), len(reusable))
    for i, stage in enumerate(stages, 1):
        marker_path = _marker_path(run_dir, stage.name)
        marker = _read_marker(marker_path)
        fp = stage.fingerprint
        same = marker is not None and marker.get("fingerprint") == fp
        head = f"[{i}/{len(stages)}] {stage.name}: {stage.description}"
        if not force and _reusable(stage, marker):
            assert marker is not None
            logger.info("%s -- reused (finished earlier in %s; fingerprint %s)", head, _duration(marker["wall_s"]), fp)
            records.append(StageRecord(stage.name, "reused", fp, stage.expected_s, float(marker["wall_s"]),
                                       float(marker.get("cpu_s", 0.0)), tuple(c.shell() for c in stage.commands),
                                       marker.get("git_commit")))
            continue
        if force or (marker is not None and not same):
            why = "--force" if force else f"settings changed (fingerprint {marker.get('fingerprint')} -> {fp})"
            for path in stage.clean:
                if path.exists():
                    logger.info("%s: removing %s (%s)", stage.name, path, why)
                    _remove(path)
        elif marker is not None:
            logger.info("%s: resuming an interrupted run", stage.name)
        logger.info("%s -- expected ~%s", head, _duration(stage.expected_s))
        write_json(marker_path, {"name": stage.name, "status": "running", "fingerprint": fp,
                                 "config": stage.config, "started": time.strftime("%Y-%m-%d %H:%M:%S")})
        wall0, cpu0 = time.perf_counter(), _cpu_seconds()
        for command in stage.commands:
            logger.info("$ %s", command.shell())
            execute(command, run_dir / "logs" / f"{stage.name}.log")
        missing = [str(p) for p in stage.outputs if not p.exists()]
        if missing:
            raise StageError(f"stage {stage.name} finished but did not write {', '.join(missing)}; "
                             f"log: {run_dir / 'logs' / f'{stage.name}.log'}")
        wall, cpu = time.perf_counter() - wall0, _cpu_seconds() - cpu0
        write_json(marker_path, {"name": stage.name, "status": "done", "fingerprint": fp, "config": stage.config,
                                 "wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "expected_s": stage.expected_s,
                                 "git_commit": commit, "finished": time.strftime("%Y-%m-%d %H:%M:%S")})
        logger.info("[%d/%d] %s done in %s wall (%.0f CPU-s; expected ~%s)", i, len(stages), stage.name,
                    _duration(wall), cpu, _duration(stage.expected_s))
        records.append(StageRecord(stage.name, "ran", fp, stage.expected_s, round(wall, 2), round(cpu, 2),
                                   tuple(c.shell() for c in stage.commands), commit))
    return records


def _duration(seconds: float) -> str:
    seconds = float(seconds)
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.1f} min"


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


def _rel(path: Path) -> str:
    """A path relative to the repository root when inside it (commands stay short and clone-independent)."""
    try:
        return str(path.resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


def data_stage(cfg: DemoConfig, dom: DemoDomain) -> Stage:
    root = cfg.run_dir / "data"
    converted = root / dom.domain / "converted" / f"{dom.train_file.stem}_converted.json"
    annots = root / dom.domain / "train_annots"
    py = cfg.python
    commands = (
        Command((py, "-m", "data.prompt_convertion", "--backend", "rule", "--domain", dom.domain, "--data_fn",
                 _rel(dom.train_file), "--convert_all", "--output", _rel(converted))),
        Command((py, "-m", "data.process_for_train", "--data_root", _rel(root), "--domain", dom.domain,
                 "--formulation", "lumos_iterative")),
    )
    return Stage(
        name=f"data-{dom.domain}",
        description=f"rule-convert {_rel(dom.train_file)} and build the Lumos-I plan/ground training files",
        commands=commands,
        config={"train_file": _rel(dom.train_file), "sha256": file_sha256(dom.train_file),
                "formulation": "lumos_iterative"},
        outputs=tuple(annots / f"{checkpoint_name(dom.domain, m, 'lumos_iterative')}.jsonl" for m in ("plan", "ground")),
        expected_s=3.0,
        clean=(root / dom.domain,),
    )


def train_stage(cfg: DemoConfig, dom: DemoDomain, module: str, upstream: Stage) -> Stage:
    name = checkpoint_name(dom.domain, module, "lumos_iterative")
    out = cfg.run_dir / "models" / name
    train_file = upstream.outputs[0 if module == "plan" else 1]
    env = {"TASK": dom.domain, "TRAIN_FILE": _rel(train_file), "OUTPUT_DIR": _rel(out),
           "MODEL_NAME_OR_PATH": _rel(cfg.base_model), "MAX_STEPS": str(cfg.steps), "LR": str(cfg.learning_rate),
           "SEED": str(cfg.seed), "LORA": "1" if cfg.lora else "0", "NUM_GPUS": "0", "PYTHON": cfg.python}
    per_step = TRAIN_S_PER_STEP[(dom.domain, module)] * (1.0 if cfg.lora else FULL_FT_FACTOR)
    return Stage(
        name=f"train-{dom.domain}-{module}",
        description=f"fine-tune the {module} module from {cfg.base_model.name} "
                    f"({cfg.steps} updates of 8 conversations, {'LoRA' if cfg.lora else 'full'}, lr {cfg.learning_rate:g})",
        commands=(Command(("bash", "train.sh", module, "iterative", "--report_to", "none"), env),),
        config={"env": {k: v for k, v in env.items() if k != "PYTHON"}, "base_model": _rel(cfg.base_model),
                "after": upstream.fingerprint},
        outputs=(out / "metrics.json", out / "config.json"),
        expected_s=TRAIN_OVERHEAD_S + cfg.steps * per_step,
        clean=(out,),
    )


def eval_stage(cfg: DemoConfig, dom: DemoDomain, trained: Sequence[Stage]) -> Stage:
    save = cfg.run_dir / "eval" / dom.benchmark
    argv = [cfg.python, "-m", f"eval.{dom.benchmark}.run_eval", "--data_dir", _rel(dom.test_file),
            "--model_name_or_path", _rel(cfg.run_dir / "models"), "--formulation", "lumos_iterative",
            "--save_dir", _rel(save), "--dtype", cfg.dtype, "--max_new_tokens", str(cfg.max_new_tokens),
            "--eval_batch_size", str(cfg.eval_batch_size), "--seed", str(cfg.seed)]
    if cfg.max_eval:
        argv += ["--max_num_examples", str(cfg.max_eval)]
    if dom.corpus is not None:
        argv += ["--knowledge", "local", "--corpus", _rel(dom.corpus), "--qa_model", _rel(cfg.base_model)]
    n = _count_lines(dom.test_file) if cfg.max_eval is None else min(cfg.max_eval, _count_lines(dom.test_file))
    return Stage(
        name=f"eval-{dom.benchmark}",
        description=f"Lumos-I on the {n} held-out {dom.domain} demo tasks ({_rel(dom.test_file)}) with real tools",
        commands=(Command(tuple(argv)),),
        config={"argv": argv[1:], "test_sha256": file_sha256(dom.test_file),
                "corpus_sha256": file_sha256(dom.corpus) if dom.corpus else None,
                "after": [s.fingerprint for s in trained]},
        outputs=(save / "metrics.json", save / "predictions.jsonl"),
        expected_s=EVAL_OVERHEAD_S[dom.benchmark] + n * EVAL_S_PER_EXAMPLE[dom.benchmark],
        clean=(save,),
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
    return {"model_dir": _rel(out), "completed_steps": m.get("completed_steps"),
            "first_loss": m.get("first_logged_loss"), "final_loss": m.get("final_loss"),
            "train_tokens": m.get("train_tokens"), "train_seconds": m.get("train_seconds"),
            "examples": (m.get("data") or {}).get("kept"), "loss_curve": _rel(curve) if curve.is_file() else None}


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
        "stages": [asdict(r) for r in records],
        "wall_s": {r.name: r.wall_s for r in records},
        "cpu_s": {r.name: r.cpu_s for r in records},
        "total_wall_s_this_invocation": round(total_wall_s, 2),
        "total_wall_s_all_stages": round(sum(r.wall_s for r in records), 2),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
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


def run_demo(cfg: DemoConfig, *, execute: Executor = run_command, force: bool = False) -> dict[str, Any]:
    """Run (or reuse) every stage, then write metrics.json and report.html and print the summary."""
    if not (cfg.base_model / "config.json").is_file():
        raise FileNotFoundError(f"base model {cfg.base_model} not found (run ./setup.sh, or pass --base_model DIR)")
    start = time.perf_counter()
    cfg.run_dir.mkdir(parents=True, exist_ok=True)
    logger.info("Lumos CPU demo -> %s (domains %s, %d updates per module, %s)", cfg.run_dir, ", ".join(cfg.domains),
                cfg.steps, "LoRA" if cfg.lora else "full fine-tuning")
    records = run_stages(build_stages(cfg), cfg.run_dir, execute=execute, force=force)
    metrics, results = write_report(cfg, records, time.perf_counter() - start)
    sys.stdout.write(summary_text(metrics, results))
    sys.stdout.write(f"\nmetrics: {cfg.run_dir / 'metrics.json'}\nreport:  {cfg.run_dir / 'report.html'}\n")
    return metrics


# --------------------------------------------------------------------------------------------------------
# The small-scale reproduction on real data (scripts/reproduce_cpu.sh = python -m lumos.demo reproduce)
# --------------------------------------------------------------------------------------------------------

# domain -> (converter source, raw file under the data root, name of its link in raw_data/ for the baselines)
STUDY_SOURCES = {"maths": ("gsm8k", "gsm8k/train.jsonl", "gsm8k_train.jsonl"),
                 "complex_qa": ("strategyqa", "strategyqa/train.json", "strategyqa_train.json")}
# benchmark -> (domain, test file under the data root)
STUDY_BENCHMARKS = {"gsm": ("maths", "gsm8k/test.jsonl"), "svamp": ("maths", "svamp/SVAMP.json"),
                    "hotpotqa": ("complex_qa", "hotpotqa/ircot_dev_subsampled.jsonl")}
HOTPOTQA_CORPUS = "hotpotqa/ircot_dev_subsampled.jsonl"
STUDY_FORMULATIONS: tuple[str, ...] = ("lumos_iterative", "lumos_onetime", "cot", "direct")
AGENT_NAMES = {"lumos_iterative": "Lumos-I", "lumos_onetime": "Lumos-O", "cot": "CoT-trained", "direct": "direct-trained"}
RECIPES = {"lumos_iterative": ("plan", "ground"), "lumos_onetime": ("plan", "ground"), "cot": ("cot",),
           "direct": ("direct",)}
STUDY_MAX_NEW_TOKENS = {"lumos_iterative": 128, "lumos_onetime": 256, "cot": 256, "direct": 32}
# Mean tokens of 8 training conversations (one update), measured on the rule-converted files.
TOKENS_PER_UPDATE = {("maths", "lumos_iterative", "plan"): 2416, ("maths", "lumos_iterative", "ground"): 3328,
                     ("maths", "lumos_onetime", "plan"): 1456, ("maths", "lumos_onetime", "ground"): 3016,
                     ("maths", "cot", "cot"): 1568, ("maths", "direct", "direct"): 592,
                     ("complex_qa", "lumos_iterative", "plan"): 1784, ("complex_qa", "lumos_iterative", "ground"): 4064,
                     ("complex_qa", "lumos_onetime", "plan"): 840, ("complex_qa", "lumos_onetime", "ground"): 3120,
                     ("complex_qa", "cot", "cot"): 650, ("complex_qa", "direct", "direct"): 184}
LORA_TOKENS_PER_S = 170.0  # LoRA r=64 on SmolLM2-135M; the training process uses one core (demo, idle machine)
# Idle wall seconds per evaluated example (measured on this machine, see docs/reproduction.md "Budget"): trained
# agents, and the untrained base prompted in each format (the floor).
STUDY_EVAL_S = {"lumos_iterative": {"gsm": 4.0, "svamp": 3.0, "hotpotqa": 7.0},
                "lumos_onetime": {"gsm": 3.0, "svamp": 2.0, "hotpotqa": 5.0},
                "cot": {"gsm": 2.0, "svamp": 1.5, "hotpotqa": 1.0},
                "direct": {"gsm": 0.5, "svamp": 0.5, "hotpotqa": 0.5}}
FLOOR_EVAL_S = {"lumos_iterative": {"gsm": 1.5, "svamp": 1.5, "hotpotqa": 4.0},
                "lumos_onetime": {"gsm": 1.5, "svamp": 1.5, "hotpotqa": 3.0},
                "cot": {"gsm": 2.0, "svamp": 1.5, "hotpotqa": 1.0},
                "direct": {"gsm": 0.5, "svamp": 0.5, "hotpotqa": 0.5}}


@dataclass(frozen=True)
class StudyConfig:
    """Settings of the reproduction study (recorded in its summary.json)."""

    run: str = "default"
    out_dir: Path = REPO_ROOT / "results" / "reproduce_cpu"
    data_dir: Path = REPO_ROOT.parent / "shared" / "data"
    base_model: Path = DEFAULT_BASE_MODEL
    steps: int = 24
    learning_rate: float = 2e-3
    seed: int = 42
    formulations: tuple[str, ...] = STUDY_FORMULATIONS
    benchmarks: tuple[str, ...] = ("gsm", "svamp", "hotpotqa")
    floor: bool = True
    n_gsm: int = 300
    n_svamp: int = 300
    n_hotpotqa: int = 500
    dtype: str = "bfloat16"
    eval_batch_size: int = 8
    python: str = sys.executable

    def __post_init__(self) -> None:
        for f in self.formulations:
            check_choice(f, STUDY_FORMULATIONS, "formulation")
        for b in self.benchmarks:
            check_choice(b, tuple(STUDY_BENCHMARKS), "benchmark")
        check_choice(self.dtype, DTYPES, "dtype")
        if self.steps < 1 or min(self.n_gsm, self.n_svamp, self.n_hotpotqa) < 1:
            raise ValueError("steps and every n_<benchmark> must be >= 1")

    @property
    def run_dir(self) -> Path:
        return self.out_dir / self.run

    def n(self, bench: str) -> int:
        return {"gsm": self.n_gsm, "svamp": self.n_svamp, "hotpotqa": self.n_hotpotqa}[bench]

    @property
    def domains(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(STUDY_BENCHMARKS[b][0] for b in self.benchmarks))

    def to_dict(self) -> dict[str, Any]:
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(self).items() if k != "python"}


def _model_name(domain: str, formulation: str, module: str) -> str:
    return checkpoint_name(domain, module if module in ("plan", "ground") else "plan", formulation)


def study_data_stage(cfg: StudyConfig, domain: str) -> Stage:
    source, raw_rel, link_name = STUDY_SOURCES[domain]
    raw = cfg.data_dir / raw_rel
    if not raw.is_file():
        raise FileNotFoundError(f"{raw} not found: pass --data_dir (or set LUMOS_DATA_DIR) to the benchmark data root")
    root = cfg.run_dir / "data"
    raw_dir = root / domain / "raw_data"
    py = cfg.python
    commands = [Command(("mkdir", "-p", _rel(raw_dir))),
                Command(("ln", "-sfn", str(raw.resolve()), _rel(raw_dir / link_name))),
                Command((py, "-m", "data.prompt_convertion", "--backend", "rule", "--domain", domain, "--source", source,
                         "--data_fn", _rel(raw_dir / link_name), "--convert_all", "--output",
                         _rel(root / domain / "converted" / f"{source}_train_converted.json")))]
    commands += [Command((py, "-m", "data.process_for_train", "--data_root", _rel(root), "--domain", domain,
                          "--formulation", f)) for f in cfg.formulations]
    annots = root / domain / "train_annots"
    outputs = tuple(annots / f"{_model_name(domain, f, m)}.jsonl" for f in cfg.formulations for m in RECIPES[f])
    return Stage(name=f"data-{domain}", description=f"rule-convert {raw} and build the training files of "
                 f"{', '.join(cfg.formulations)}", commands=tuple(commands),
                 config={"raw": raw_rel, "sha256": file_sha256(raw), "formulations": list(cfg.formulations)},
                 outputs=outputs, expected_s=15.0, clean=(root / domain,))


def study_train_stage(cfg: StudyConfig, domain: str, formulation: str, module: str, data: Stage) -> Stage:
    name = _model_name(domain, formulation, module)
    out = cfg.run_dir / "models" / name
    train_file = cfg.run_dir / "data" / domain / "train_annots" / f"{name}.jsonl"
    argv = ("bash", "train.sh", module, formulation.removeprefix("lumos_")) if module in ("plan", "ground") \
        else ("bash", "train.sh", formulation)
    env = {"TASK": domain, "TRAIN_FILE": _rel(train_file), "OUTPUT_DIR": _rel(out),
           "MODEL_NAME_OR_PATH": _rel(cfg.base_model), "MAX_STEPS": str(cfg.steps), "LR": str(cfg.learning_rate),
           "SEED": str(cfg.seed), "LORA": "1", "NUM_GPUS": "0", "PYTHON": cfg.python}
    tokens = TOKENS_PER_UPDATE[(domain, formulation, module)]
    return Stage(name=f"train-{name}", description=f"{AGENT_NAMES[formulation]} {module} ({domain}): {cfg.steps} "
                 f"LoRA updates of 8 conversations", commands=(Command(argv + ("--report_to", "none"), env),),
                 config={"env": {k: v for k, v in env.items() if k != "PYTHON"}, "after": data.fingerprint},
                 outputs=(out / "metrics.json", out / "config.json"),
                 expected_s=TRAIN_OVERHEAD_S + cfg.steps * (1.0 + tokens / LORA_TOKENS_PER_S), clean=(out,))


def study_eval_stage(cfg: StudyConfig, bench: str, formulation: str, trained: Sequence[Stage] | None) -> Stage:
    """``trained`` None: the untrained base model stands in for every module (the floor)."""
    domain, test_rel = STUDY_BENCHMARKS[bench]
    tag = formulation if trained is not None else f"base_{formulation}"
    save = cfg.run_dir / "eval" / bench / tag
    models = cfg.run_dir / "models" if trained is not None else cfg.base_model
    argv = [cfg.python, "-m", f"eval.{bench}.run_eval", "--data_dir", str(cfg.data_dir / test_rel),
            "--model_name_or_path", _rel(models), "--formulation", formulation, "--save_dir", _rel(save),
            "--max_num_examples", str(cfg.n(bench)), "--dtype", cfg.dtype,
            "--max_new_tokens", str(STUDY_MAX_NEW_TOKENS[formulation]), "--eval_batch_size", str(cfg.eval_batch_size),
            "--seed", str(cfg.seed)]
    if bench == "hotpotqa" and formulation.startswith("lumos_"):
        argv += ["--knowledge", "local", "--corpus", str(cfg.data_dir / HOTPOTQA_CORPUS), "--qa_model",
                 _rel(cfg.base_model)]
    agent = AGENT_NAMES[formulation] if trained is not None else f"base, {formulation} prompts"
    return Stage(name=f"eval-{bench}-{tag}", description=f"{agent} on {cfg.n(bench)} {bench} questions",
                 commands=(Command(tuple(argv)),),
                 config={"argv": argv[1:], "test_sha256": file_sha256(cfg.data_dir / test_rel),
                         "after": [s.fingerprint for s in trained] if trained is not None else _rel(cfg.base_model)},
                 outputs=(save / "metrics.json", save / "predictions.jsonl"),
                 expected_s=20.0 + cfg.n(bench) * (STUDY_EVAL_S if trained is not None else FLOOR_EVAL_S)[formulation][bench],
                 clean=(save,))


def build_study_stages(cfg: StudyConfig) -> list[Stage]:
    """data (per domain) -> every model -> every (benchmark, formulation), then the untrained floor."""
    data = {d: study_data_stage(cfg, d) for d in cfg.domains}
    trained = {(d, f): [study_train_stage(cfg, d, f, m, data[d]) for m in RECIPES[f]]
               for d in cfg.domains for f in cfg.formulations}
    stages: list[Stage] = list(data.values()) + [s for group in trained.values() for s in group]
    stages += [study_eval_stage(cfg, b, f, trained[(STUDY_BENCHMARKS[b][0], f)])
               for f in cfg.formulations for b in cfg.benchmarks]
    if cfg.floor:
        stages += [study_eval_stage(cfg, b, f, None) for f in cfg.formulations for b in cfg.benchmarks]
    return stages


def study_rows(cfg: StudyConfig) -> list[dict[str, Any]]:
    """One row per (agent, benchmark, metric) from the evaluations' metrics.json files that exist."""
    rows = []
    for trained in ((False, True) if cfg.floor else (True,)):
        for f in cfg.formulations:
            for b in cfg.benchmarks:
                tag = f if trained else f"base_{f}"
                path = cfg.run_dir / "eval" / b / tag / "metrics.json"
                if not path.is_file():
                    continue
                m = read_json(path)
                agent = AGENT_NAMES[f] if trained else f"base, {AGENT_NAMES[f].removesuffix('-trained')} prompts"
                for metric, value in m.get("metrics", {}).items():
                    rows.append({"agent": agent, "formulation": f, "trained": trained, "benchmark": b,
                                 "metric": metric, "value": value, "n": m.get("n"),
                                 "status_counts": m.get("status_counts", {})})
    return rows


PAPER_NOTE = ("Llama-2-7B numbers of the paper are not in the spec and are not copied here: "
              "see arXiv 2311.05657 (main results and the formulation comparison).")


def run_study(cfg: StudyConfig, *, execute: Executor = run_command, force: bool = False) -> dict[str, Any]:
    """Run (or resume) the study, then write summary.json, table.md and plot.png under the run folder."""
    from lumos.plots import grouped_bar_chart, markdown_table

    if not (cfg.base_model / "config.json").is_file():
        raise FileNotFoundError(f"base model {cfg.base_model} not found (run ./setup.sh, or pass --base_model DIR)")
    start = time.perf_counter()
    cfg.run_dir.mkdir(parents=True, exist_ok=True)
    records = run_stages(build_study_stages(cfg), cfg.run_dir, execute=execute, force=force)
    rows = study_rows(cfg)
    headline = [r for r in rows if r["metric"] in ("acc", "em")]
    table = markdown_table(rows, paper={a: "see paper" for a in AGENT_NAMES.values()})
    plot = grouped_bar_chart(headline, cfg.run_dir / "plot.png",
                             title=f"SmolLM2-135M, {cfg.steps} LoRA updates per model (run {cfg.run})")
    (cfg.run_dir / "table.md").write_text(table + "\n" + PAPER_NOTE + "\n", encoding="utf-8")
    summary = {"run": cfg.run, "rows": rows, "config": cfg.to_dict(), "git_commit": git_commit(), "seed": cfg.seed,
               "stages": [asdict(r) for r in records], "wall_s": {r.name: r.wall_s for r in records},
               "cpu_s": {r.name: r.cpu_s for r in records},
               "total_wall_s_all_stages": round(sum(r.wall_s for r in records), 2),
               "total_wall_s_this_invocation": round(time.perf_counter() - start, 2),
               "expected_idle_s": round(sum(r.expected_s for r in records), 1), "plot": str(plot),
               "paper": PAPER_NOTE, "machine": {"cpus": os.cpu_count(), "platform": platform.platform()}}
    write_json(cfg.run_dir / "summary.json", summary)
    sys.stdout.write("\n" + table + "\n" + PAPER_NOTE + f"\n\nsummary: {cfg.run_dir / 'summary.json'}\nplot:    {plot}\n")
    return summary


def build_study_parser() -> argparse.ArgumentParser:
    d = StudyConfig()
    p = argparse.ArgumentParser(prog="python -m lumos.demo reproduce",
                                description="Small-scale CPU reproduction: Lumos-I, Lumos-O, CoT- and direct-trained "
                                            "SmolLM2-135M on real data (docs/reproduction.md).")
    p.add_argument("--run", default=d.run)
    p.add_argument("--out_dir", type=Path, default=d.out_dir)
    p.add_argument("--data_dir", type=Path, default=None, help="benchmark data root (default $LUMOS_DATA_DIR, "
                   "else ../shared/data)")
    p.add_argument("--base_model", type=Path, default=d.base_model)
    p.add_argument("--steps", type=int, default=d.steps, help="LoRA updates of 8 conversations per model (default: %(default)s)")
    p.add_argument("--learning_rate", type=float, default=d.learning_rate)
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--formulations", nargs="+", default=list(d.formulations), choices=STUDY_FORMULATIONS)
    p.add_argument("--benchmarks", nargs="+", default=list(d.benchmarks), choices=tuple(STUDY_BENCHMARKS))
    p.add_argument("--no_floor", action="store_true", help="skip the untrained-base evaluations")
    p.add_argument("--n_gsm", type=int, default=d.n_gsm)
    p.add_argument("--n_svamp", type=int, default=d.n_svamp)
    p.add_argument("--n_hotpotqa", type=int, default=d.n_hotpotqa)
    p.add_argument("--dtype", default=d.dtype, choices=DTYPES)
    p.add_argument("--eval_batch_size", type=int, default=d.eval_batch_size)
    p.add_argument("--force", action="store_true")
    return p


def study_main(argv: Sequence[str]) -> int:
    args = build_study_parser().parse_args(argv)
    data = args.data_dir or (Path(os.environ["LUMOS_DATA_DIR"]) if os.environ.get("LUMOS_DATA_DIR")
                             else StudyConfig().data_dir)
    cfg = StudyConfig(run=args.run, out_dir=args.out_dir.resolve(), data_dir=data.resolve(),
                      base_model=args.base_model.resolve(), steps=args.steps, learning_rate=args.learning_rate,
                      seed=args.seed, formulations=tuple(args.formulations), benchmarks=tuple(args.benchmarks),
                      floor=not args.no_floor, n_gsm=args.n_gsm, n_svamp=args.n_svamp, n_hotpotqa=args.n_hotpotqa,
                      dtype=args.dtype, eval_batch_size=args.eval_batch_size)
    try:
        run_study(cfg, force=args.force)
    except StageError as err:
        logger.error("%s", err)
        return 1
    return 0


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
    p.add_argument("--force", action="store_true", help="rerun every stage even when its outputs are reusable")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["reproduce"]:
        return study_main(argv[1:])
    args = build_parser().parse_args(argv)
    cfg = DemoConfig(run=args.run, out_dir=args.out_dir.resolve(), domains=tuple(args.domains),
                     base_model=args.base_model.resolve(), steps=args.steps, learning_rate=args.learning_rate,
                     lora=not args.full, seed=args.seed, max_eval=args.max_eval, dtype=args.dtype,
                     max_new_tokens=args.max_new_tokens, eval_batch_size=args.eval_batch_size)
    try:
        metrics = run_demo(cfg, force=args.force)
    except StageError as err:
        logger.error("%s", err)
        return 1
    return 0 if metrics["n"] > 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
