"""Tests of the demo orchestration (lumos/demo.py): stage reuse and invalidation, resume, metrics, report.

The fast tests replace the subprocess executor with a fake that writes what each public command would
write (training files, a finished training run, predictions.jsonl + metrics.json); the slow test runs
the real demo at a tiny budget with the offline base model.

Run: ``pytest tests/test_demo.py`` (fast) and ``pytest tests/test_demo.py -m slow`` (real, ~10 min on a busy machine).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from lumos import demo
from lumos.agent.trajectory import Step, Trajectory
from lumos.paths import DEFAULT_BASE_MODEL, REPO_ROOT

# A valid 1x1 PNG.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


def _arg(argv: Sequence[str], flag: str) -> str:
    return argv[list(argv).index(flag) + 1]


def _path(value: str) -> Path:
    p = Path(value)
    return p if p.is_absolute() else REPO_ROOT / p


def _trajectory(task: str, domain: str, ok: bool) -> Trajectory:
    step = Step(index=1, plan_prompt="<|user|>\nplan", plan_output="Subgoal 1: add the numbers.",
                subgoals=["Subgoal 1: add the numbers."], ground_prompt="<|user|>\nground",
                ground_output="R1 = Calculator(1+1)" if ok else "no action here",
                actions=[{"variables": ["R1"], "name": "Calculator", "args": "1+1"}] if ok else [],
                results=[{"action": "R1 = Calculator(1+1)", "value": "2", "error": None, "cached": False}] if ok else [])
    stop = Step(index=2, plan_prompt="p", plan_output="Yes, I will stop planning.", stop=True)
    traj = Trajectory(task=task, domain=domain, formulation="lumos_iterative", steps=[step, stop] if ok else [step])
    traj.prediction = "2" if ok else None
    traj.finish("done" if ok else "parse_error", None if ok else "ground: no action")
    return traj


class FakeExecutor:
    """Writes the outputs of each public command instead of running it; records what was called."""

    def __init__(self) -> None:
        self.calls: list[demo.Command] = []

    def __call__(self, command: demo.Command, log_path: Path) -> None:
        self.calls.append(command)
        argv = command.argv
        if argv[0] == "mkdir":
            _path(argv[-1]).mkdir(parents=True, exist_ok=True)
        elif argv[0] == "ln":
            _path(argv[-1]).symlink_to(argv[-2])
        elif "data.prompt_convertion" in argv:
            out = _path(_arg(argv, "--output"))
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text("{}\n")
        elif "data.process_for_train" in argv:
            domain = _arg(argv, "--domain")
            annots = _path(_arg(argv, "--data_root")) / domain / "train_annots"
            annots.mkdir(parents=True, exist_ok=True)
            formulation = _arg(argv, "--formulation")
            names = ([f"lumos_{domain}_{m}_{formulation[6:]}" for m in ("plan", "ground")]
                     if formulation.startswith("lumos_") else [f"{domain}_{formulation}"])
            for name in names:
                (annots / f"{name}.jsonl").write_text('{"messages": []}\n')
        elif argv[:2] == ("bash", "train.sh"):
            out = _path(command.env["OUTPUT_DIR"])
            out.mkdir(parents=True, exist_ok=True)
            (out / "config.json").write_text("{}")
            (out / "loss_curve.png").write_bytes(PNG)
            (out / "metrics.json").write_text(json.dumps({
                "status": "done", "completed_steps": int(command.env["MAX_STEPS"]), "first_logged_loss": 2.0,
                "final_loss": 0.5, "train_tokens": 100, "train_seconds": 1.0, "data": {"kept": 3}}))
        elif any(a.startswith("eval.") for a in argv):
            save = _path(_arg(argv, "--save_dir"))
            save.mkdir(parents=True, exist_ok=True)
            bench = next(a for a in argv if a.startswith("eval.")).split(".")[1]
            domain = "complex_qa" if bench == "hotpotqa" else "maths"
            tasks = [f"{bench} task {i}: is 1 < 2 & 3 > 2?" for i in range(3)]
            with open(save / "predictions.jsonl", "w", encoding="utf-8") as f:
                for i, task in enumerate(tasks):
                    traj = _trajectory(task, domain, ok=i != 2)
                    f.write(json.dumps({"id": str(i), "question": task, "answer": "2", "prediction": traj.prediction,
                                        "status": traj.status, "error": traj.error,
                                        "scores": {"acc": 1.0 if i == 0 else 0.0}, "trajectory": traj.to_dict()}) + "\n")
            (save / "metrics.json").write_text(json.dumps({
                "n": 3, "metrics": {"acc": 1 / 3}, "correct": {"acc": 1.0},
                "status_counts": {"done": 2, "parse_error": 1}, "data_file": "x"}))
        else:
            raise AssertionError(f"unexpected command {argv}")


@pytest.fixture
def cfg(tmp_path: Path) -> demo.DemoConfig:
    base = tmp_path / "base_model"
    base.mkdir()
    (base / "config.json").write_text("{}")
    return demo.DemoConfig(run="t", out_dir=tmp_path / "results", base_model=base, steps=2)


def _stage_names(calls: Sequence[demo.Command]) -> list[str]:
    names = []
    for c in calls:
        if c.argv[:2] == ("bash", "train.sh"):
            names.append(f"train-{c.env['TASK']}-{c.argv[2]}")
        elif "data.process_for_train" in c.argv:
            names.append(f"data-{_arg(c.argv, '--domain')}")
        elif any(a.startswith("eval.") for a in c.argv):
            names.append("eval-" + next(a for a in c.argv if a.startswith("eval.")).split(".")[1])
    return names


def test_first_run_runs_every_stage_and_second_run_reuses_all(cfg, capsys):
    fake = FakeExecutor()
    metrics = demo.run_demo(cfg, execute=fake)
    assert _stage_names(fake.calls) == ["data-maths", "train-maths-plan", "train-maths-ground", "eval-gsm",
                                        "data-complex_qa", "train-complex_qa-plan", "train-complex_qa-ground",
                                        "eval-hotpotqa"]
    assert [s["status"] for s in metrics["stages"]] == ["ran"] * 8
    assert metrics["n"] == 6 and metrics["benchmarks"]["gsm"]["n"] == 3
    out = capsys.readouterr().out
    assert "gsm" in out and "hotpotqa" in out and "Subgoal 1: add the numbers." in out  # table + one trajectory

    again = FakeExecutor()
    metrics2 = demo.run_demo(cfg, execute=again)
    assert again.calls == []
    assert [s["status"] for s in metrics2["stages"]] == ["reused"] * 8
    assert metrics2["wall_s"] == metrics["wall_s"]  # the times of the run that made the outputs


def test_changed_setting_reruns_that_stage_and_downstream_and_removes_stale_outputs(cfg):
    demo.run_demo(cfg, execute=FakeExecutor())
    stale = cfg.run_dir / "models" / "lumos_maths_plan_iterative" / "stale.txt"
    stale.write_text("from the old run")
    changed = demo.DemoConfig(**{**cfg.__dict__, "steps": 3})
    fake = FakeExecutor()
    metrics = demo.run_demo(changed, execute=fake)
    assert "data-maths" not in _stage_names(fake.calls)
    assert set(_stage_names(fake.calls)) == {"train-maths-plan", "train-maths-ground", "eval-gsm",
                                            "train-complex_qa-plan", "train-complex_qa-ground", "eval-hotpotqa"}
    assert not stale.exists()
    assert metrics["config"]["steps"] == 3
    assert metrics["training"]["maths/plan"]["completed_steps"] == 3


def test_max_eval_change_reruns_only_the_evaluation(cfg):
    demo.run_demo(cfg, execute=FakeExecutor())
    fake = FakeExecutor()
    demo.run_demo(demo.DemoConfig(**{**cfg.__dict__, "max_eval": 2}), execute=fake)
    assert _stage_names(fake.calls) == ["eval-gsm", "eval-hotpotqa"]


def test_interrupted_stage_is_resumed_without_deleting_its_outputs(cfg):
    stages = demo.build_stages(cfg)
    eval_gsm = next(s for s in stages if s.name == "eval-gsm")
    partial = eval_gsm.clean[0] / "partial.txt"
    partial.parent.mkdir(parents=True)
    partial.write_text("half-done predictions")
    marker = cfg.run_dir / "stages" / "eval-gsm.json"
    marker.parent.mkdir(parents=True)
    marker.write_text(json.dumps({"name": "eval-gsm", "status": "running", "fingerprint": eval_gsm.fingerprint}))
    demo.run_demo(cfg, execute=FakeExecutor())
    assert partial.exists()
    marker.write_text(json.dumps({"name": "eval-gsm", "status": "running", "fingerprint": "something else"}))
    demo.run_demo(cfg, execute=FakeExecutor())
    assert not partial.exists()


def test_metrics_json_and_report_html(cfg):
    demo.run_demo(cfg, execute=FakeExecutor())
    metrics = json.loads((cfg.run_dir / "metrics.json").read_text())
    assert metrics["n"] == 6 and metrics["seed"] == 42 and "git_commit" in metrics
    assert all(s["git_commit"] == metrics["git_commit"] for s in metrics["stages"])  # the commit that ran each stage
    assert set(metrics["wall_s"]) == {s.name for s in demo.build_stages(cfg)}
    assert metrics["config"]["steps"] == 2 and metrics["config"]["lora"] is True
    wf = metrics["benchmarks"]["gsm"]["well_formed"]
    assert (wf["plan_well_formed"], wf["plan_turns"], wf["ground_well_formed"], wf["ground_turns"]) == (5, 5, 2, 3)
    assert metrics["training"]["complex_qa/ground"]["final_loss"] == 0.5
    page = (cfg.run_dir / "report.html").read_text()
    for bench in ("gsm", "hotpotqa"):
        for i in range(3):
            assert f"{bench} task {i}: is 1 &lt; 2 &amp; 3 &gt; 2?" in page  # every trajectory, escaped
    assert page.count('class="task"') == 6
    assert page.count("data:image/png;base64,") == 4  # one loss curve per trained module
    assert "is 1 < 2" not in page


def test_failed_command_stops_with_the_stage_and_log(cfg):
    def failing(command: demo.Command, log_path: Path) -> None:
        raise demo.StageError(f"command failed (exit 1): {command.shell()}\n  log: {log_path}")

    with pytest.raises(demo.StageError, match="data.prompt_convertion"):
        demo.run_demo(cfg, execute=failing)
    marker = json.loads((cfg.run_dir / "stages" / "data-maths.json").read_text())
    assert marker["status"] == "running"


def test_stage_without_its_outputs_is_an_error(cfg):
    with pytest.raises(demo.StageError, match="did not write"):
        demo.run_demo(cfg, execute=lambda command, log: None)


def test_run_command_streams_to_the_log_and_raises_on_failure(tmp_path):
    log = tmp_path / "logs" / "x.log"
    demo.run_command(demo.Command((sys.executable, "-c", "import os; print('hello', os.environ['HF_HUB_OFFLINE'])")), log)
    assert "hello 1" in log.read_text()
    with pytest.raises(demo.StageError, match="exit 3"):
        demo.run_command(demo.Command((sys.executable, "-c", "raise SystemExit(3)")), log)


def test_config_checks(cfg):
    with pytest.raises(ValueError, match="demo domain"):
        demo.DemoConfig(domains=("web_agent",))
    with pytest.raises(ValueError, match="steps"):
        demo.DemoConfig(steps=0)
    with pytest.raises(FileNotFoundError, match="setup.sh"):
        demo.run_demo(demo.DemoConfig(**{**cfg.__dict__, "base_model": cfg.out_dir / "missing"}),
                      execute=FakeExecutor())


def test_commands_use_the_public_entry_points(cfg):
    stages = {s.name: s for s in demo.build_stages(cfg)}
    train = stages["train-maths-ground"].commands[0]
    assert train.argv[:4] == ("bash", "train.sh", "ground", "iterative")
    assert train.env["TASK"] == "maths" and train.env["MAX_STEPS"] == "2" and train.env["LORA"] == "1"
    assert train.env["TRAIN_FILE"].endswith("lumos_maths_ground_iterative.jsonl")
    qa = stages["eval-hotpotqa"].commands[0].argv
    assert "eval.hotpotqa.run_eval" in qa and _arg(qa, "--knowledge") == "local"
    assert _arg(qa, "--corpus").endswith("corpus.jsonl") and _arg(qa, "--data_dir").endswith("twohop_test.jsonl")


@pytest.mark.slow
def test_whole_demo_at_a_tiny_budget(tmp_path):
    """The real pipeline (conversion, ./train.sh, eval with real tools) with 1 update per module, 1 task each."""
    if not (DEFAULT_BASE_MODEL / "config.json").is_file():
        pytest.skip("models/smollm2-135m-instruct not found (run ./setup.sh)")
    out = tmp_path / "results"
    cmd = [str(REPO_ROOT / "scripts" / "demo.sh"), "--out_dir", str(out), "--run", "tiny", "--steps", "1",
           "--max_eval", "1", "--max_new_tokens", "48"]
    proc = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True, timeout=3600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    metrics = json.loads((out / "tiny" / "metrics.json").read_text())
    assert metrics["n"] == 2 and metrics["benchmarks"]["gsm"]["n"] == 1 and metrics["benchmarks"]["hotpotqa"]["n"] == 1
    assert all(t["completed_steps"] == 1 for t in metrics["training"].values())
    page = (out / "tiny" / "report.html").read_text()
    assert page.count('class="task"') == 2 and page.count("data:image/png;base64,") == 4
    again = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr[-3000:]
    assert [s["status"] for s in json.loads((out / "tiny" / "metrics.json").read_text())["stages"]] == ["reused"] * 8


# ------------------------------------------------------------------------------------------------
# The reproduction study (python -m lumos.demo reproduce) and the plot/table helpers
# ------------------------------------------------------------------------------------------------


@pytest.fixture
def study(tmp_path: Path, cfg: demo.DemoConfig) -> demo.StudyConfig:
    data = tmp_path / "shared_data"
    for rel in ("gsm8k/train.jsonl", "strategyqa/train.json", "gsm8k/test.jsonl", "svamp/SVAMP.json",
                "hotpotqa/ircot_dev_subsampled.jsonl"):
        (data / rel).parent.mkdir(parents=True, exist_ok=True)
        (data / rel).write_text("{}\n")
    return demo.StudyConfig(run="s", out_dir=tmp_path / "study", data_dir=data, base_model=cfg.base_model, steps=2,
                            n_gsm=3, n_svamp=3, n_hotpotqa=3)


def test_study_runs_every_agent_then_reuses_and_writes_table_and_plot(study, capsys):
    fake = FakeExecutor()
    summary = demo.run_study(study, execute=fake)
    names = [s["name"] for s in summary["stages"]]
    assert len(names) == 2 + 12 + 12 + 12  # data, 12 models, 4 agents x 3 benchmarks, the same for the base floor
    assert "train-maths_cot" in names and "train-lumos_complex_qa_ground_onetime" in names
    assert "eval-hotpotqa-base_lumos_iterative" in names
    cot = next(c for c in fake.calls if c.argv[:3] == ("bash", "train.sh", "cot") and c.env["TASK"] == "maths")
    assert cot.env["TRAIN_FILE"].endswith("maths_cot.jsonl")
    qa_lumos = next(c for c in fake.calls if "eval.hotpotqa.run_eval" in c.argv and "lumos_onetime" in c.argv)
    assert _arg(qa_lumos.argv, "--corpus").endswith("ircot_dev_subsampled.jsonl")
    qa_direct = next(c for c in fake.calls if "eval.hotpotqa.run_eval" in c.argv and "direct" in c.argv)
    assert "--corpus" not in qa_direct.argv
    assert len(summary["rows"]) == 24 and {r["agent"] for r in summary["rows"]} >= {"Lumos-I", "base, Lumos-I prompts", "base, Lumos-O prompts"}
    table = (study.run_dir / "table.md").read_text()
    assert "| Lumos-O | 33.3 (3) | 33.3 (3) | 33.3 (3) | see paper |" in table
    assert (study.run_dir / "plot.png").read_bytes()[:4] == b"\x89PNG"
    assert "Lumos-I" in capsys.readouterr().out
    again = FakeExecutor()
    demo.run_study(study, execute=again)
    assert again.calls == []


def test_study_needs_the_data(study):
    with pytest.raises(FileNotFoundError, match="LUMOS_DATA_DIR"):
        demo.build_study_stages(demo.StudyConfig(**{**study.__dict__, "data_dir": study.out_dir / "none"}))


def test_markdown_table_layout():
    from lumos.plots import markdown_table

    rows = [{"agent": "A", "benchmark": "gsm", "metric": "acc", "value": 0.5, "n": 4},
            {"agent": "B", "benchmark": "svamp", "metric": "acc", "value": 0.25, "n": 4}]
    assert markdown_table(rows).splitlines() == ["| agent | gsm acc (n) | svamp acc (n) |", "|---|---|---|",
                                                 "| A | 50.0 (4) | — |", "| B | — | 25.0 (4) |"]
