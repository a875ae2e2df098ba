"""TrainArgs: YAML + CLI merging, checks, gradient accumulation from the world size, shipped configs."""

from __future__ import annotations

from pathlib import Path

import pytest

from lumos.training.args import TrainArgs, load_yaml_config, parse_args

REPO = Path(__file__).resolve().parents[2]
RECIPES = ["plan_iterative", "plan_onetime", "ground_iterative", "ground_onetime", "cot", "direct", "integrated"]


def test_yaml_then_cli_override(tmp_path):
    cfg = tmp_path / "a.yaml"
    cfg.write_text("learning_rate: 2.0e-5\ntotal_batch_size: 128\npacking: false\nreport_to: [tensorboard]\n")
    args = parse_args([str(cfg), "--train_file", "x.jsonl", "--learning_rate", "1e-4", "--packing", "--seed=7"])
    assert args.learning_rate == 1e-4 and args.packing is True and args.seed == 7
    assert args.total_batch_size == 128 and args.report_to == ["tensorboard"]


def test_later_yaml_wins_and_null(tmp_path):
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text("max_train_samples: 10\nper_device_train_batch_size: 2\n")
    b.write_text("max_train_samples: null\nper_device_train_batch_size: 4\n")
    args = parse_args([str(a), str(b), "--train_file", "x.jsonl"])
    assert args.max_train_samples is None and args.per_device_train_batch_size == 4


@pytest.mark.parametrize(
    ("per_device", "total", "world", "expected"), [(2, 128, 2, 32), (2, 128, 1, 64), (4, 8, 1, 2), (2, 128, 8, 8)]
)
def test_accumulation_from_world_size(per_device, total, world, expected):
    args = TrainArgs(train_file="x", per_device_train_batch_size=per_device, total_batch_size=total)
    assert args.accumulation_steps(world) == expected


def test_accumulation_must_divide():
    with pytest.raises(ValueError, match="not a multiple"):
        TrainArgs(train_file="x", per_device_train_batch_size=2, total_batch_size=128).accumulation_steps(3)


def test_explicit_accumulation():
    args = TrainArgs(train_file="x", total_batch_size=None, gradient_accumulation_steps=5)
    assert args.accumulation_steps(4) == 5


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"lr_scheduler_type": "cosine_annealing"}, "lr_scheduler_type"),
        ({"report_to": ["tensorboard", "mlflow"]}, "report_to"),
        ({"warmup_ratio": 1.5}, "warmup_ratio"),
        ({"per_device_train_batch_size": 0}, "per_device_train_batch_size"),
        ({"gradient_accumulation_steps": 4}, "not both"),
        ({"mixed_precision": "fp8"}, "mixed_precision"),
    ],
)
def test_post_init_rejects(kwargs, message):
    with pytest.raises(ValueError, match=message):
        TrainArgs(train_file="x", **kwargs)


def test_qlora_implies_lora():
    assert TrainArgs(train_file="x", use_qlora=True).use_lora is True


def test_unknown_yaml_key_names_file(tmp_path):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("learning_rate: 1e-5\nlearning_rat: 3\n")
    with pytest.raises(ValueError, match=r"bad\.yaml: unknown key 'learning_rat'"):
        load_yaml_config(cfg)


def test_wrong_type_names_field(tmp_path):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("num_train_epochs: two\n")
    with pytest.raises(ValueError, match="num_train_epochs"):
        load_yaml_config(cfg)


def test_train_file_required():
    with pytest.raises(ValueError, match="train_file"):
        parse_args([])


@pytest.mark.parametrize("recipe", RECIPES)
def test_shipped_recipe_configs_are_the_paper_defaults(recipe):
    args = parse_args([str(REPO / "configs/train" / f"{recipe}.yaml"), "--train_file", "x.jsonl"])
    assert (args.learning_rate, args.lr_scheduler_type, args.warmup_ratio, args.weight_decay) == (
        2e-5,
        "linear",
        0.03,
        0,
    )
    assert (args.num_train_epochs, args.total_batch_size, args.max_seq_length) == (2, 128, 1024)
    assert args.accumulation_steps(2) == 32 and args.accumulation_steps(8) == 8
    assert (args.seed, args.use_lora, args.packing) == (42, False, False)  # a seed (the original passed none)


def test_cpu_overlay_parses():
    args = parse_args(
        [
            str(REPO / "configs/train/plan_iterative.yaml"),
            str(REPO / "configs/train/cpu.yaml"),
            "--train_file",
            "x.jsonl",
        ]
    )
    assert args.packing and args.accumulation_steps(1) >= 1


@pytest.mark.parametrize("path", sorted((REPO / "configs/accelerate").glob("*.yaml")), ids=lambda p: p.name)
def test_accelerate_configs_point_to_deepspeed_configs(path):
    import json

    import yaml

    cfg = yaml.safe_load(path.read_text())
    assert cfg["distributed_type"] == "DEEPSPEED" and cfg["num_processes"] % cfg["num_machines"] == 0
    ds = json.loads((REPO / cfg["deepspeed_config"]["deepspeed_config_file"]).read_text())
    assert ds["zero_optimization"]["stage"] == 3
    assert ("offload" in path.name) == ("offload_optimizer" in ds["zero_optimization"])


def test_extends_reads_parents_first_relative_to_the_file(tmp_path):
    (tmp_path / "base").mkdir()
    (tmp_path / "base" / "root.yaml").write_text("learning_rate: 1.0e-5\nseed: 1\n")
    (tmp_path / "mid.yaml").write_text("extends: base/root.yaml\nseed: 2\nnum_train_epochs: 3\n")
    (tmp_path / "leaf.yaml").write_text("extends: [mid.yaml]\nseed: 3\n")
    assert load_yaml_config(tmp_path / "leaf.yaml") == {"learning_rate": 1e-5, "seed": 3, "num_train_epochs": 3}


@pytest.mark.parametrize(("text", "message"), [
    ("extends: nowhere.yaml\n", r"loop\.yaml: 'extends' names 'nowhere\.yaml', but .* does not exist"),
    ("extends: loop.yaml\n", r"'extends' cycle"),
    ("extends: {a: 1}\n", r"'extends' must be a file name or a list"),
])
def test_extends_errors_name_the_file(tmp_path, text, message):
    (tmp_path / "loop.yaml").write_text(text)
    with pytest.raises(ValueError, match=message):
        load_yaml_config(tmp_path / "loop.yaml")


@pytest.mark.parametrize("recipe", RECIPES)
def test_recipe_files_hold_only_what_differs_from_the_paper(recipe):
    import yaml

    paper = yaml.safe_load((REPO / "configs/train/paper.yaml").read_text())
    own = yaml.safe_load((REPO / "configs/train" / f"{recipe}.yaml").read_text())
    assert own.pop("extends") == "paper.yaml"
    assert not {k for k, v in own.items() if paper.get(k) == v}  # nothing repeated from paper.yaml
