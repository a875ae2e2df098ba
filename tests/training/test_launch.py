"""lumos.training.launch: environment -> accelerate command, and the thin shell launchers that call it."""

from __future__ import annotations

import subprocess
import sys

import pytest
from training_helpers import REPO

from lumos.paths import RECIPES, recipe_name
from lumos.training.launch import ZERO3, parse_recipe, plan_launch


@pytest.mark.parametrize(("words", "recipe", "extra"), [
    (["plan", "iterative", "--seed", "3"], "plan_iterative", ["--seed", "3"]),
    (["ground", "onetime"], "ground_onetime", []),
    (["cot"], "cot", []),
    (["plan_onetime", "--x"], "plan_onetime", ["--x"]),
])
def test_parse_recipe(words, recipe, extra):
    assert parse_recipe(words) == (recipe, extra)


@pytest.mark.parametrize("words", [[], ["plan"], ["plan", "sideways"], ["train"]])
def test_parse_recipe_rejects_with_the_usage(words):
    with pytest.raises(ValueError, match="usage: ./train.sh"):
        parse_recipe(words)


@pytest.mark.parametrize(("task", "recipe", "name"), [
    ("maths", "plan_iterative", "lumos_maths_plan_iterative"), ("complex_qa", "ground_onetime",
    "lumos_complex_qa_ground_onetime"), ("maths", "cot", "maths_cot"), ("complex_qa", "direct", "complex_qa_direct"),
    ("unified", "integrated", "lumos_unified_integrated"),
])
def test_names_are_the_released_and_evaluated_ones(task, recipe, name):
    assert recipe_name(task, recipe) == name


def test_cpu_defaults():
    p = plan_launch("plan_iterative", {"NUM_GPUS": "0"})
    assert p.configs == ("configs/train/plan_iterative.yaml", "configs/train/cpu.yaml")
    assert p.train_file == "data/train/maths/train_annots/lumos_maths_plan_iterative.jsonl"
    assert p.output_dir == "models/lumos_maths_plan_iterative" and p.model == "models/smollm2-135m-instruct"
    assert "--use_deepspeed" not in p.launch_args and p.processes == 1  # one CPU process: plain accelerate


def test_gpu_defaults_and_overrides():
    env = {"NUM_GPUS": "2", "TASK": "complex_qa", "MAX_STEPS": "1", "LR": "1e-4", "LORA": "1", "SEED": "7"}
    p = plan_launch("ground_iterative", env)
    assert p.configs == ("configs/train/ground_iterative.yaml",) and p.model == "meta-llama/Llama-2-7b-hf"
    assert p.launch_args[p.launch_args.index("--num_processes") + 1] == "2"
    assert p.launch_args[-1] == ZERO3
    assert p.train_args[6:] == ("--max_train_steps", "1", "--learning_rate", "1e-4", "--seed", "7", "--use_lora", "true")


def test_gpus_are_counted_when_not_given():
    assert plan_launch("cot", {}, num_gpus=4).processes == 4
    assert plan_launch("cot", {}, num_gpus=0).processes == 1


def test_accelerate_config_replaces_the_launch_flags():
    env = {"NUM_GPUS": "8", "ACCELERATE_CONFIG": "configs/accelerate/deepspeed_zero3_multi_node.yaml",
           "NUM_PROCESSES": "16", "MACHINE_RANK": "1", "MAIN_PROCESS_IP": "10.0.0.1"}
    p = plan_launch("plan_onetime", env)
    assert p.launch_args == ("--config_file", env["ACCELERATE_CONFIG"], "--mixed_precision", "bf16",
                             "--num_processes", "16", "--machine_rank", "1", "--main_process_ip", "10.0.0.1")


@pytest.mark.parametrize("recipe", RECIPES)
def test_every_shell_launcher_is_thin_and_reaches_its_recipe(recipe):
    script = REPO / "scripts/train" / f"finetune_llama2_{recipe}.sh"
    assert len(script.read_text().splitlines()) <= 15
    env = {"PATH": "/usr/bin:/bin", "PYTHON": sys.executable, "NUM_GPUS": "0", "TASK": "complex_qa"}
    proc = subprocess.run(["bash", str(script), "--dry_run", "--seed", "5"], env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert f"configs/train/{recipe}.yaml configs/train/cpu.yaml --train_file data/train/complex_qa/train_annots/" \
           f"{recipe_name('complex_qa', recipe)}.jsonl" in proc.stdout and proc.stdout.rstrip().endswith("--seed 5")


def test_train_sh_is_thin():
    assert len((REPO / "train.sh").read_text().splitlines()) <= 15
