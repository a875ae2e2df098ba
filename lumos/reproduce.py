"""The small-scale reproduction of the paper's comparisons on CPU (``scripts/reproduce_cpu.sh``; docs/reproduction.md).

On real data (``--data_dir`` or ``$LUMOS_DATA_DIR``): rule-convert GSM8K train (maths) and StrategyQA train
(complex QA), fine-tune SmolLM2-135M-Instruct with LoRA as Lumos-I (plan + ground), Lumos-O (plan + ground),
CoT-trained and direct-trained agents, every model with the same number of updates, then evaluate each agent on
GSM8K test, SVAMP and the HotpotQA questions that have a local corpus, and the untrained base model prompted in
each format (the floor). Every step is a public command run as a resumable stage (``lumos.stages``)::

    data-<domain>                     python -m data.prompt_convertion --backend rule ...; python -m data.process_for_train ...
    train-<checkpoint>                ./train.sh plan iterative | ground onetime | cot | direct  (LORA=1, MAX_STEPS, ...)
    eval-<benchmark>-<formulation>    python -m eval.<benchmark>.run_eval ... (base_<formulation>: the floor)

Results: ``results/reproduce_cpu/<run>/{summary.json,table.md,plot.png}``. ``--jobs 2`` runs two stages at a
time (one thread each), which is how the study fits the 2-core budget.

Run: ``LUMOS_DATA_DIR=/path/to/data ./scripts/reproduce_cpu.sh --help``. Tests: ``pytest tests/test_reproduce.py``.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from lumos.demo import DTYPES, TRAIN_OVERHEAD_S
from lumos.metrics import paired_comparison
from lumos.paths import DEFAULT_BASE_MODEL, REPO_ROOT, check_choice, checkpoint_name
from lumos.stages import Command, Executor, Stage, StageError, finished_records, rel, run_stages, timing_summary
from lumos.utils.io import file_sha256, git_commit, iter_jsonl, read_json, write_json

logger = logging.getLogger("lumos.reproduce")  # also under python -m


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
LORA_TOKENS_PER_S = 130.0  # LoRA r=64 on SmolLM2-135M, one core per training process (run `study`, docs/reproduction.md)
# Wall seconds per evaluated example of one evaluation process with one thread (two run side by side under
# --jobs 2), measured in run `study` (docs/reproduction.md, Budget): trained agents, and the untrained base
# prompted in each format (the floor; Lumos prompts end at the first unparseable turn).
STUDY_EVAL_S = {"lumos_iterative": {"gsm": 4.5, "svamp": 3.3, "hotpotqa": 30.0},
                "lumos_onetime": {"gsm": 8.0, "svamp": 4.7, "hotpotqa": 11.0},
                "cot": {"gsm": 3.4, "svamp": 2.0, "hotpotqa": 1.2},
                "direct": {"gsm": 0.2, "svamp": 0.15, "hotpotqa": 0.12}}
FLOOR_EVAL_S = {"lumos_iterative": {"gsm": 1.0, "svamp": 0.9, "hotpotqa": 1.4},
                "lumos_onetime": {"gsm": 1.6, "svamp": 1.2, "hotpotqa": 2.5},
                "cot": {"gsm": 2.9, "svamp": 2.1, "hotpotqa": 0.8},
                "direct": {"gsm": 0.6, "svamp": 0.6, "hotpotqa": 0.5}}


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
    n_floor: int | None = None  # questions per benchmark for the untrained floor (default: the same as the agents)
    dtype: str = "bfloat16"
    eval_batch_size: int = 8
    python: str = sys.executable

    def __post_init__(self) -> None:
        for f in self.formulations:
            check_choice(f, STUDY_FORMULATIONS, "formulation")
        for b in self.benchmarks:
            check_choice(b, tuple(STUDY_BENCHMARKS), "benchmark")
        check_choice(self.dtype, DTYPES, "dtype")
        if self.steps < 1 or min(self.n_gsm, self.n_svamp, self.n_hotpotqa, self.n_floor or 1) < 1:
            raise ValueError("steps and every n_<benchmark> must be >= 1")

    @property
    def run_dir(self) -> Path:
        return self.out_dir / self.run

    def n(self, bench: str, floor: bool = False) -> int:
        if floor and self.n_floor is not None:
            return min(self.n_floor, self.n(bench))
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
    commands = [Command(("mkdir", "-p", rel(raw_dir))),
                Command(("ln", "-sfn", str(raw.resolve()), rel(raw_dir / link_name))),
                Command((py, "-m", "data.prompt_convertion", "--backend", "rule", "--domain", domain, "--source", source,
                         "--data_fn", rel(raw_dir / link_name), "--convert_all", "--output",
                         rel(root / domain / "converted" / f"{source}_train_converted.json")))]
    commands += [Command((py, "-m", "data.process_for_train", "--data_root", rel(root), "--domain", domain,
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
    env = {"TASK": domain, "TRAIN_FILE": rel(train_file), "OUTPUT_DIR": rel(out),
           "MODEL_NAME_OR_PATH": rel(cfg.base_model), "MAX_STEPS": str(cfg.steps), "LR": str(cfg.learning_rate),
           "SEED": str(cfg.seed), "LORA": "1", "NUM_GPUS": "0", "PYTHON": cfg.python}
    tokens = TOKENS_PER_UPDATE[(domain, formulation, module)]
    return Stage(name=f"train-{name}", description=f"{AGENT_NAMES[formulation]} {module} ({domain}): {cfg.steps} "
                 f"LoRA updates of 8 conversations", commands=(Command(argv + ("--report_to", "none"), env),),
                 config={"env": {k: v for k, v in env.items() if k != "PYTHON"}, "after": data.fingerprint},
                 outputs=(out / "metrics.json", out / "config.json"),
                 expected_s=TRAIN_OVERHEAD_S + cfg.steps * (1.0 + tokens / LORA_TOKENS_PER_S), clean=(out,),
                 after=(data.name,))


def _tag_name(tag: str) -> str:
    """The table name of an evaluation folder: ``cot`` -> ``CoT-trained``, ``base_cot`` -> ``base, CoT prompts``."""
    if tag.startswith("base_"):
        return f"base, {AGENT_NAMES[tag.removeprefix('base_')].removesuffix('-trained')} prompts"
    return AGENT_NAMES[tag]


def study_eval_stage(cfg: StudyConfig, bench: str, formulation: str, trained: Sequence[Stage] | None) -> Stage:
    """``trained`` None: the untrained base model stands in for every module (the floor)."""
    domain, test_rel = STUDY_BENCHMARKS[bench]
    tag = formulation if trained is not None else f"base_{formulation}"
    save = cfg.run_dir / "eval" / bench / tag
    n = cfg.n(bench, floor=trained is None)
    models = cfg.run_dir / "models" if trained is not None else cfg.base_model
    argv = [cfg.python, "-m", f"eval.{bench}.run_eval", "--data_dir", str(cfg.data_dir / test_rel),
            "--model_name_or_path", rel(models), "--formulation", formulation, "--save_dir", rel(save),
            "--max_num_examples", str(n), "--dtype", cfg.dtype,
            "--max_new_tokens", str(STUDY_MAX_NEW_TOKENS[formulation]), "--eval_batch_size", str(cfg.eval_batch_size),
            "--seed", str(cfg.seed)]
    if bench == "hotpotqa" and formulation.startswith("lumos_"):
        argv += ["--knowledge", "local", "--corpus", str(cfg.data_dir / HOTPOTQA_CORPUS), "--qa_model",
                 rel(cfg.base_model)]
    return Stage(name=f"eval-{bench}-{tag}", description=f"{_tag_name(tag)} on {n} {bench} questions",
                 commands=(Command(tuple(argv)),),
                 config={"argv": argv[1:], "test_sha256": file_sha256(cfg.data_dir / test_rel),
                         "after": [s.fingerprint for s in trained] if trained is not None else rel(cfg.base_model)},
                 outputs=(save / "metrics.json", save / "predictions.jsonl"),
                 expected_s=20.0 + n * (STUDY_EVAL_S if trained is not None else FLOOR_EVAL_S)[formulation][bench],
                 clean=(save,), after=tuple(s.name for s in trained or ()))


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
                agent = _tag_name(tag)
                for metric, value in m.get("metrics", {}).items():
                    rows.append({"agent": agent, "formulation": f, "trained": trained, "benchmark": b,
                                 "metric": metric, "value": value, "n": m.get("n"),
                                 "status_counts": m.get("status_counts", {})})
    return rows


# The comparisons the study tests: the paper's (Lumos-I vs Lumos-O vs the CoT / direct baselines) and training
# against the untrained floor. Paired on the same questions (exact McNemar over the headline metric).
COMPARISONS: tuple[tuple[str, str], ...] = (
    ("lumos_iterative", "lumos_onetime"), ("lumos_iterative", "cot"), ("lumos_onetime", "cot"),
    ("lumos_iterative", "direct"), ("cot", "direct"),
    ("lumos_iterative", "base_lumos_iterative"), ("lumos_onetime", "base_lumos_onetime"), ("cot", "base_cot"),
    ("direct", "base_direct"))
HEADLINE = {"gsm": "acc", "svamp": "acc", "hotpotqa": "em"}


def _scores(path: Path, metric: str) -> dict[str, float]:
    return {str(r["id"]): float(r["scores"][metric]) for _, r in iter_jsonl(path) if metric in (r.get("scores") or {})}


def study_comparisons(cfg: StudyConfig) -> list[dict[str, Any]]:
    """Paired comparisons (``COMPARISONS``) per benchmark, over the evaluations that exist."""
    out = []
    for bench in cfg.benchmarks:
        metric = HEADLINE[bench]
        for a, b in COMPARISONS:
            da, db = (cfg.run_dir / "eval" / bench / t for t in (a, b))
            if not ((da / "metrics.json").is_file() and (db / "metrics.json").is_file()):
                continue  # an evaluation that has not finished
            pa, pb = da / "predictions.jsonl", db / "predictions.jsonl"
            try:
                c = paired_comparison(_scores(pa, metric), _scores(pb, metric))
            except ValueError:
                continue
            out.append({"benchmark": bench, "metric": metric, "a": _tag_name(a), "b": _tag_name(b), "n": c.n,
                        "a_score": c.a, "b_score": c.b, "diff": c.diff, "a_only": c.a_only, "b_only": c.b_only,
                        "p_value": c.p_value})
    return out


def comparisons_table(comparisons: Sequence[Mapping[str, Any]]) -> str:
    lines = ["| benchmark | A vs B | n | A | B | A − B (points) | only A right / only B right | p (exact McNemar) |",
             "|---|---|---|---|---|---|---|---|"]
    for c in comparisons:
        lines.append(f"| {c['benchmark']} {c['metric']} | {c['a']} vs {c['b']} | {c['n']} | {100 * c['a_score']:.1f} | "
                     f"{100 * c['b_score']:.1f} | {100 * c['diff']:+.1f} | {c['a_only']} / {c['b_only']} | "
                     f"{c['p_value']:.3g} |")
    return "\n".join(lines)


def status_table(rows: Sequence[Mapping[str, Any]]) -> str:
    """How each evaluation's examples ended (done, parse_error, tool_error, max_subgoals), per agent and benchmark."""
    seen: dict[tuple[str, str], Mapping[str, int]] = {}
    for r in rows:
        seen.setdefault((r["agent"], r["benchmark"]), r.get("status_counts") or {})
    lines = ["| agent | benchmark | statuses |", "|---|---|---|"]
    for (agent, bench), counts in seen.items():
        lines.append(f"| {agent} | {bench} | " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) + " |")
    return "\n".join(lines)


# The paper's Llama-2-7B results (percent), from the result tables of arXiv 2311.05657 v1/v2 (full fine-tunes on
# the converted annotations; GPT-3.5-turbo as the QA tool, live Wikipedia; HotpotQA "llm_acc" judged by GPT-4).
# Keys: our agent names and (benchmark, metric). Direct training is not reported in the paper.
PAPER_CITATION = "arXiv 2311.05657 (v1/v2 tables), Llama-2-7B"
PAPER_RESULTS: dict[str, dict[tuple[str, str], float]] = {
    "Lumos-I": {("gsm", "acc"): 47.1, ("svamp", "acc"): 63.6, ("strategyqa", "acc"): 65.7, ("hotpotqa", "em"): 29.4,
                ("hotpotqa", "llm_acc"): 45.9, ("mind2web", "step_sr"): 27.6},
    "Lumos-O": {("gsm", "acc"): 50.5, ("svamp", "acc"): 65.5, ("strategyqa", "acc"): 60.6, ("hotpotqa", "em"): 24.9,
                ("hotpotqa", "llm_acc"): 39.2},
    "CoT-trained": {("gsm", "acc"): 40.4, ("svamp", "acc"): 52.2, ("strategyqa", "acc"): 58.3,
                    ("hotpotqa", "llm_acc"): 22.1},
    "integrated-trained": {("gsm", "acc"): 45.5, ("svamp", "acc"): 61.7, ("strategyqa", "acc"): 62.3,
                           ("hotpotqa", "llm_acc"): 39.6, ("mind2web", "step_sr"): 25.3},
}  # fmt: skip
PAPER_NOTE = (f"paper: {PAPER_CITATION}; full fine-tunes, GPT-3.5-turbo as the QA tool, live Wikipedia, the first "
              "1,000 HotpotQA dev questions (EM; llm_acc = GPT-4 judge). A different scale and setting from this "
              "study: the column shows what the paper reports, not what this run should reach.")


def paper_cell(agent: str, benchmarks: Sequence[str]) -> str:
    """The paper's numbers of ``agent`` for ``benchmarks`` (``gsm acc 47.1, svamp acc 63.6``); ``—`` if none."""
    results = PAPER_RESULTS.get(agent, {})
    parts = [f"{b} {m} {v:.1f}" for (b, m), v in results.items() if b in benchmarks]
    if parts:
        return ", ".join(parts)
    return "not reported" if agent in AGENT_NAMES.values() else "—"


def run_study(cfg: StudyConfig, *, execute: Executor | None = None, force: bool = False, jobs: int = 1,
              report_only: bool = False) -> dict[str, Any]:
    """Run (or resume) the study, then write summary.json, table.md and plot.png under the run folder.

    ``report_only``: run nothing; write them from the stages finished so far (``missing_stages`` lists the rest).
    """
    from lumos.plots import grouped_bar_chart, markdown_table

    if not (cfg.base_model / "config.json").is_file():
        raise FileNotFoundError(f"base model {cfg.base_model} not found (run ./setup.sh, or pass --base_model DIR)")
    start = time.perf_counter()
    cfg.run_dir.mkdir(parents=True, exist_ok=True)
    stages = build_study_stages(cfg)
    records = (finished_records(stages, cfg.run_dir) if report_only
               else run_stages(stages, cfg.run_dir, execute=execute, force=force, jobs=jobs))
    missing = sorted({s.name for s in stages} - {r.name for r in records})
    rows = study_rows(cfg)
    headline = [r for r in rows if r["metric"] in ("acc", "em", "f1")]
    agents = dict.fromkeys(r["agent"] for r in rows)
    table = markdown_table(rows, paper={a: paper_cell(a, cfg.benchmarks) for a in agents},
                           paper_label=f"paper ({PAPER_CITATION})")
    plot = grouped_bar_chart(headline, cfg.run_dir / "plot.png",
                             title=f"SmolLM2-135M, {cfg.steps} LoRA updates per model (run {cfg.run}; n per cell in table.md)")
    comparisons = study_comparisons(cfg)
    (cfg.run_dir / "table.md").write_text(
        table + "\n\n" + PAPER_NOTE + "\n\nPaired comparisons (same questions):\n\n" + comparisons_table(comparisons)
        + "\n\nHow the examples ended:\n\n" + status_table(rows) + "\n", encoding="utf-8")
    summary = {"run": cfg.run, "rows": rows, "config": cfg.to_dict(), "jobs": jobs, "git_commit": git_commit(),
               "seed": cfg.seed, **timing_summary(records, time.perf_counter() - start),
               "expected_idle_s": round(sum(r.expected_s for r in records), 1), "plot": str(plot),
               "comparisons": comparisons, "missing_stages": missing,
               "paper": {"citation": PAPER_CITATION, "note": PAPER_NOTE,
                         "results": {a: {f"{b} {m}": v for (b, m), v in r.items()} for a, r in PAPER_RESULTS.items()}}}
    write_json(cfg.run_dir / "summary.json", summary)
    sys.stdout.write("\n" + table + "\n" + PAPER_NOTE + "\n\n" + comparisons_table(comparisons) + f"\n\nsummary: {cfg.run_dir / 'summary.json'}\nplot:    {plot}\n")
    return summary


def build_study_parser() -> argparse.ArgumentParser:
    d = StudyConfig()
    p = argparse.ArgumentParser(prog="python -m lumos.reproduce",
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
    p.add_argument("--n_floor", type=int, default=None, help="questions per benchmark for the untrained floor "
                   "(default: the same numbers; paired comparisons use the questions both sides answered)")
    p.add_argument("--dtype", default=d.dtype, choices=DTYPES)
    p.add_argument("--eval_batch_size", type=int, default=d.eval_batch_size)
    p.add_argument("--jobs", type=int, default=1, help="stages run side by side, each with cpus/jobs threads "
                   "(output then goes to the stage logs only; docs/reproduction.md has the measured gain)")
    p.add_argument("--force", action="store_true")
    p.add_argument("--report_only", action="store_true", help="run nothing: write table.md, plot.png and summary.json "
                   "from the stages finished so far")
    return p


def study_main(argv: Sequence[str]) -> int:
    args = build_study_parser().parse_args(argv)
    data = args.data_dir or (Path(os.environ["LUMOS_DATA_DIR"]) if os.environ.get("LUMOS_DATA_DIR")
                             else StudyConfig().data_dir)
    cfg = StudyConfig(run=args.run, out_dir=args.out_dir.resolve(), data_dir=data.resolve(),
                      base_model=args.base_model.resolve(), steps=args.steps, learning_rate=args.learning_rate,
                      seed=args.seed, formulations=tuple(args.formulations), benchmarks=tuple(args.benchmarks),
                      floor=not args.no_floor, n_gsm=args.n_gsm, n_svamp=args.n_svamp, n_hotpotqa=args.n_hotpotqa, n_floor=args.n_floor,
                      dtype=args.dtype, eval_batch_size=args.eval_batch_size)
    try:
        run_study(cfg, force=args.force, jobs=args.jobs, report_only=args.report_only)
    except StageError as err:
        logger.error("%s", err)
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    return study_main(sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    raise SystemExit(main())
