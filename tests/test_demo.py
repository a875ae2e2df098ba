"""Tests of the demo orchestration (lumos/demo.py): stage reuse and invalidation, resume, metrics, report.

The fast tests replace the subprocess executor with a fake that writes what each public command would
write (training files, a finished training run, predictions.jsonl + metrics.json); the slow test runs
the real demo at a tiny budget with the offline base model.

Run: ``pytest tests/test_demo.py`` (fast) and ``pytest tests/test_demo.py -m slow`` (real, ~10 min on a busy machine).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest
from stage_fakes import FakeExecutor, arg

from lumos import demo
from lumos.paths import DEFAULT_BASE_MODEL, REPO_ROOT
from lumos.stages import Command, StageError


@pytest.fixture
def cfg(tmp_path: Path) -> demo.DemoConfig:
    base = tmp_path / "base_model"
    base.mkdir()
    (base / "config.json").write_text("{}")
    return demo.DemoConfig(run="t", out_dir=tmp_path / "results", base_model=base, steps=2)


def _stage_names(calls: Sequence[Command]) -> list[str]:
    names = []
    for c in calls:
        if c.argv[:2] == ("bash", "train.sh"):
            names.append(f"train-{c.env['TASK']}-{c.argv[2]}")
        elif "data.process_for_train" in c.argv:
            names.append(f"data-{arg(c.argv, '--domain')}")
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
    def failing(command: Command, log_path: Path) -> None:
        raise StageError(f"command failed (exit 1): {command.shell()}\n  log: {log_path}")

    with pytest.raises(StageError, match="data.prompt_convertion"):
        demo.run_demo(cfg, execute=failing)
    marker = json.loads((cfg.run_dir / "stages" / "data-maths.json").read_text())
    assert marker["status"] == "running"


def test_stage_without_its_outputs_is_an_error(cfg):
    with pytest.raises(StageError, match="did not write"):
        demo.run_demo(cfg, execute=lambda command, log: None)


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
    assert "eval.hotpotqa.run_eval" in qa and arg(qa, "--knowledge") == "local"
    assert arg(qa, "--corpus").endswith("corpus.jsonl") and arg(qa, "--data_dir").endswith("twohop_test.jsonl")


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
