"""Launch one training recipe: environment variables -> ``accelerate launch -m lumos.training.finetune``.

What ``./train.sh`` and ``scripts/train/finetune_llama2_<recipe>.sh`` run:

    TASK=maths MAX_STEPS=1 python -m lumos.training.launch plan iterative [--field value ...]
    python -m lumos.training.launch cot --dry_run          # print the command instead of running it

Recipes: ``plan|ground iterative|onetime``, ``cot``, ``direct``, ``integrated`` (``plan_iterative`` also works).
Configs: ``configs/train/<recipe>.yaml`` (which extends ``paper.yaml``), plus ``configs/train/cpu.yaml`` when
no GPU is found. Names come from ``lumos.paths.recipe_name`` (``lumos_maths_plan_iterative``, ``maths_cot``).

Environment (all optional):

======================  ============================================================================
TASK                    maths (default) | complex_qa | web_agent | multimodal | unified
TRAIN_FILE              default ``data/train/$TASK/train_annots/<name>.jsonl``
OUTPUT_DIR              default ``models/<name>`` (the layout evaluation reads)
MODEL_NAME_OR_PATH      default ``meta-llama/Llama-2-7b-hf`` with a GPU, else ``models/smollm2-135m-instruct``
NUM_GPUS                default: counted with ``nvidia-smi -L``; 0 selects the CPU path
NUM_PROCESSES           CPU processes (default 1; more use DeepSpeed ZeRO-3 over gloo); with
                        ACCELERATE_CONFIG, the total number of processes
DS_CONFIG               a DeepSpeed config, or ``none`` (default: ZeRO-3 with GPUs or >1 CPU process)
MIXED_PRECISION         default bf16
MAX_TRAIN_SAMPLES, MAX_STEPS, EPOCHS, LR, SEED   -> --max_train_samples, --max_train_steps, ...
LORA=1, QLORA=1         -> --use_lora true, --use_qlora true
ACCELERATE_CONFIG       ``configs/accelerate/<file>.yaml`` replaces the launch flags (multi-GPU/multi-node,
                        offloading); MACHINE_RANK and MAIN_PROCESS_IP override its values
======================  ============================================================================

Paths are relative to the repository root (the launcher runs from there). Exercise:
``pytest tests/training/test_launch.py``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from lumos.paths import DEFAULT_BASE_MODEL, RECIPES, REPO_ROOT, recipe_name

GPU_BASE_MODEL = "meta-llama/Llama-2-7b-hf"
ZERO3 = "configs/deepspeed/stage3_no_offloading_accelerate.conf"
# environment variable -> finetune flag (values forwarded as given)
ENV_FLAGS = {"MAX_TRAIN_SAMPLES": "--max_train_samples", "MAX_STEPS": "--max_train_steps", "EPOCHS": "--num_train_epochs",
             "LR": "--learning_rate", "SEED": "--seed"}  # fmt: skip
USAGE = "usage: ./train.sh plan|ground iterative|onetime [--field value ...]  |  ./train.sh cot|direct|integrated [...]"


def count_gpus() -> int:
    """GPUs listed by ``nvidia-smi -L`` (0 without the tool or a driver)."""
    if shutil.which("nvidia-smi") is None:
        return 0
    try:
        out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return 0
    return sum(line.startswith("GPU") for line in out.splitlines())


def parse_recipe(words: Sequence[str]) -> tuple[str, list[str]]:
    """``["plan", "iterative", "--x", "1"]`` -> ``("plan_iterative", ["--x", "1"])``; raises ``ValueError`` with the usage."""
    if not words:
        raise ValueError(USAGE)
    if words[0] in ("plan", "ground"):
        if len(words) < 2 or words[1] not in ("iterative", "onetime"):
            raise ValueError(f"{words[0]} needs iterative|onetime\n{USAGE}")
        return f"{words[0]}_{words[1]}", list(words[2:])
    if words[0] in RECIPES:
        return words[0], list(words[1:])
    raise ValueError(f"unknown recipe {words[0]!r}\n{USAGE}")


@dataclass(frozen=True)
class LaunchPlan:
    """Everything one launch decides: the run's name, files, model, processes and the two argument lists."""

    recipe: str
    name: str
    train_file: str
    output_dir: str
    model: str
    num_gpus: int
    processes: int
    configs: tuple[str, ...]
    launch_args: tuple[str, ...]  # for accelerate launch
    train_args: tuple[str, ...]  # for lumos.training.finetune, before the user's own flags

    def argv(self, python: str, extra: Sequence[str] = ()) -> list[str]:
        return [python, "-m", "accelerate.commands.launch", *self.launch_args, "-m", "lumos.training.finetune",
                *self.configs, *self.train_args, *extra]  # fmt: skip


def plan_launch(recipe: str, env: Mapping[str, str], *, num_gpus: int | None = None) -> LaunchPlan:
    """The launch of ``recipe`` under the environment ``env`` (see the module docstring)."""
    task = env.get("TASK") or "maths"
    name = recipe_name(task, recipe)
    gpus = int(env["NUM_GPUS"]) if env.get("NUM_GPUS") else (count_gpus() if num_gpus is None else num_gpus)
    configs = [f"configs/train/{recipe}.yaml"]
    if gpus > 0:
        model, procs = env.get("MODEL_NAME_OR_PATH") or GPU_BASE_MODEL, gpus
        ds_config = env.get("DS_CONFIG") or ZERO3
    else:
        model = env.get("MODEL_NAME_OR_PATH") or str(DEFAULT_BASE_MODEL.relative_to(REPO_ROOT))
        procs = int(env.get("NUM_PROCESSES") or 1)
        ds_config = env.get("DS_CONFIG") or (ZERO3 if procs > 1 else "none")  # 1 CPU process: DeepSpeed adds only start-up time
        configs.append("configs/train/cpu.yaml")
    train_file = env.get("TRAIN_FILE") or f"data/train/{task}/train_annots/{name}.jsonl"
    output_dir = env.get("OUTPUT_DIR") or f"models/{name}"
    train_args = ["--train_file", train_file, "--output_dir", output_dir, "--model_name_or_path", model]
    for var, flag in ENV_FLAGS.items():
        if env.get(var):
            train_args += [flag, env[var]]
    if env.get("LORA") == "1":
        train_args += ["--use_lora", "true"]
    if env.get("QLORA") == "1":
        train_args += ["--use_qlora", "true"]
    precision = env.get("MIXED_PRECISION") or "bf16"
    if env.get("ACCELERATE_CONFIG"):
        launch = ["--config_file", env["ACCELERATE_CONFIG"], "--mixed_precision", precision]
        for var, flag in (("NUM_PROCESSES", "--num_processes"), ("MACHINE_RANK", "--machine_rank"),
                          ("MAIN_PROCESS_IP", "--main_process_ip")):  # fmt: skip
            if env.get(var):
                launch += [flag, env[var]]
    else:
        launch = ["--num_machines", "1", "--num_processes", str(procs), "--dynamo_backend", "no",
                  "--mixed_precision", precision]  # fmt: skip
        if ds_config != "none":
            launch += ["--use_deepspeed", "--deepspeed_config_file", ds_config]
    return LaunchPlan(recipe=recipe, name=name, train_file=train_file, output_dir=output_dir, model=model,
                      num_gpus=gpus, processes=procs, configs=tuple(configs), launch_args=tuple(launch),
                      train_args=tuple(train_args))  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    dry_run = "--dry_run" in words
    words = [w for w in words if w != "--dry_run"]
    if words[:1] in (["-h"], ["--help"]):
        print(__doc__)
        return 0
    try:
        recipe, extra = parse_recipe(words)
    except ValueError as e:
        print(e, file=sys.stderr)
        return 2
    env = dict(os.environ)
    plan = plan_launch(recipe, env)
    if plan.num_gpus == 0:
        env.setdefault("DS_ACCELERATOR", "cpu")
    cmd = plan.argv(sys.executable, extra)
    print(f"==> {recipe}: {plan.train_file} -> {plan.output_dir} (model {plan.model}, {plan.processes} process(es), "
          f"GPUs: {plan.num_gpus})", file=sys.stderr)  # fmt: skip
    if dry_run:
        print(subprocess.list2cmdline(cmd))
        return 0
    os.chdir(REPO_ROOT)
    os.execve(sys.executable, cmd, env)  # replaces this process, as the shell launcher's exec did
    return 0  # not reached


if __name__ == "__main__":
    raise SystemExit(main())
