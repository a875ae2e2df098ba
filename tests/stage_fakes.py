"""Test helpers for the stage pipelines (lumos.demo, lumos.reproduce): a fake executor that writes what each
public command would write (training files, a finished training run, predictions.jsonl + metrics.json)."""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from pathlib import Path

from lumos.agent.trajectory import Step, Trajectory
from lumos.paths import REPO_ROOT
from lumos.stages import Command

# A valid 1x1 PNG.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


def arg(argv: Sequence[str], flag: str) -> str:
    return argv[list(argv).index(flag) + 1]


def path_of(value: str) -> Path:
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
        self.calls: list[Command] = []
        self.lock = threading.Lock()

    def __call__(self, command: Command, log_path: Path) -> None:
        with self.lock:
            self.calls.append(command)
        argv = command.argv
        if argv[0] == "mkdir":
            path_of(argv[-1]).mkdir(parents=True, exist_ok=True)
        elif argv[0] == "ln":
            path_of(argv[-1]).symlink_to(argv[-2])
        elif "data.prompt_convertion" in argv:
            out = path_of(arg(argv, "--output"))
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text("{}\n")
        elif "data.process_for_train" in argv:
            domain = arg(argv, "--domain")
            annots = path_of(arg(argv, "--data_root")) / domain / "train_annots"
            annots.mkdir(parents=True, exist_ok=True)
            formulation = arg(argv, "--formulation")
            names = ([f"lumos_{domain}_{m}_{formulation[6:]}" for m in ("plan", "ground")]
                     if formulation.startswith("lumos_") else [f"{domain}_{formulation}"])
            for name in names:
                (annots / f"{name}.jsonl").write_text('{"messages": []}\n')
        elif argv[:2] == ("bash", "train.sh"):
            out = path_of(command.env["OUTPUT_DIR"])
            out.mkdir(parents=True, exist_ok=True)
            (out / "config.json").write_text("{}")
            (out / "loss_curve.png").write_bytes(PNG)
            (out / "metrics.json").write_text(json.dumps({
                "status": "done", "completed_steps": int(command.env["MAX_STEPS"]), "first_logged_loss": 2.0,
                "final_loss": 0.5, "train_tokens": 100, "train_seconds": 1.0, "data": {"kept": 3}}))
        elif any(a.startswith("eval.") for a in argv):
            save = path_of(arg(argv, "--save_dir"))
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
