"""Training arguments: one typed dataclass filled from YAML configs plus ``--key value`` overrides.

After open-instruct's ``FlatArguments`` + ``ArgumentParserPlus``: later sources win
(dataclass defaults < each YAML file in order < command line). ``configs/train/paper.yaml`` holds the
paper's hyperparameters, e.g.::

    learning_rate: 2.0e-5
    total_batch_size: 128          # effective batch, whatever the number of processes

and each recipe file (``configs/train/plan_iterative.yaml``) says ``extends: paper.yaml`` plus only what
differs for that recipe.

Run: ``python -m lumos.training.finetune configs/train/plan_iterative.yaml --train_file F.jsonl --output_dir out``
(``--help`` lists every field with its documentation). Tests: ``pytest tests/training/test_args.py``.
"""

from __future__ import annotations

import argparse
import dataclasses
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Union

import yaml

from lumos.paths import DEFAULT_BASE_MODEL

SchedulerType = Literal["linear", "cosine", "cosine_with_restarts", "polynomial", "constant", "constant_with_warmup"]
MixedPrecision = Literal["no", "bf16", "fp16"]
ModelDtype = Literal["float32", "bfloat16", "float16", "auto"]
AttnImplementation = Literal["auto", "sdpa", "eager", "flash_attention_2"]
Tracker = Literal["tensorboard", "wandb", "none"]
LORA_TARGETS = ["q_proj", "o_proj", "v_proj", "k_proj", "gate_proj", "up_proj", "down_proj"]


def _f(default: Any, doc: str) -> Any:
    """A dataclass field with a documentation string (shown by ``--help``)."""
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata={"help": doc})
    return field(default=default, metadata={"help": doc})


@dataclass(frozen=True)
class TrainArgs:
    """Everything one fine-tuning run needs (the original trainer's flags, with its bugs fixed: docs/differences.md)."""

    # data
    train_file: str = _f("", "JSON-lines training file; each row has a `messages` list of {role, content} turns.")
    max_train_samples: int | None = _f(None, "Use only the first N rows of train_file (after validation).")
    max_seq_length: int = _f(1024, "Right-truncate every tokenised conversation to this many tokens.")
    packing: bool = _f(False, "Padding-free packing: each micro-batch is one row with position_ids reset per example.")
    # model
    model_name_or_path: str = _f(str(DEFAULT_BASE_MODEL), "Base model folder or Hugging Face hub id.")
    tokenizer_name: str | None = _f(None, "Tokenizer folder or id (default: model_name_or_path).")
    model_dtype: ModelDtype = _f("float32", "dtype the weights are loaded in (DeepSpeed bf16 converts them anyway).")
    attn_implementation: AttnImplementation = _f(
        "auto", "auto = flash_attention_2 when flash-attn is installed and CUDA is available, else sdpa."
    )
    gradient_checkpointing: bool = _f(False, "Recompute activations in backward (full fine-tuning and LoRA).")
    # LoRA / QLoRA (peft)
    use_lora: bool = _f(False, "Train LoRA adapters instead of all weights.")
    use_qlora: bool = _f(False, "LoRA on a 4-bit NF4 base model (bitsandbytes); implies use_lora.")
    lora_rank: int = _f(64, "LoRA rank r.")
    lora_alpha: float = _f(16.0, "LoRA alpha.")
    lora_dropout: float = _f(0.1, "LoRA dropout.")
    lora_target_modules: list[str] = _f(LORA_TARGETS, "Module names that get adapters.")
    merge_lora: bool = _f(True, "After LoRA training, also write the merged full model to output_dir.")
    # optimisation
    learning_rate: float = _f(2e-5, "Peak learning rate of AdamW.")
    lr_scheduler_type: SchedulerType = _f("linear", "transformers.get_scheduler name.")
    warmup_ratio: float = _f(0.03, "Share of the optimizer updates used for linear warm-up.")
    weight_decay: float = _f(0.0, "AdamW weight decay (never applied to biases and norm weights).")
    num_train_epochs: int = _f(2, "Passes over the training data (ignored when max_train_steps is set).")
    max_train_steps: int | None = _f(None, "Stop after this many optimizer updates (overrides num_train_epochs).")
    per_device_train_batch_size: int = _f(2, "Examples per micro-batch per process.")
    total_batch_size: int | None = _f(
        128, "Effective batch size; gradient accumulation = total / (per_device * processes). None: use the next field."
    )
    gradient_accumulation_steps: int | None = _f(None, "Explicit accumulation (only when total_batch_size is None).")
    clip_grad_norm: float = _f(1.0, "Max gradient norm (<= 0: off). Under DeepSpeed it sets `gradient_clipping`.")
    mixed_precision: MixedPrecision | None = _f(None, "no|bf16|fp16; None: take `accelerate launch --mixed_precision`.")
    seed: int = _f(42, "Seed for model init (LoRA), data order and dropout.")
    # bookkeeping
    output_dir: str = _f("output/lumos", "Final model, tokenizer, checkpoints, logs, loss_curve.png, metrics.json.")
    checkpointing_steps: int | None = _f(None, "Save the full accelerate state every N updates (None: never).")
    keep_checkpoints: int = _f(1, "How many of the latest checkpoints to keep on disk.")
    keep_checkpoints_at_end: bool = _f(False, "Keep checkpoints after the final model is saved.")
    resume_from_checkpoint: str = _f("auto", "auto = latest checkpoint in output_dir if any; none; or a folder.")
    logging_steps: int = _f(1, "Log mean loss and learning rate every N updates.")
    report_to: list[Tracker] = _f(["tensorboard"], "Trackers: tensorboard, wandb (needs the wandb package), none.")
    dataloader_num_workers: int = _f(0, "torch DataLoader workers.")

    def __post_init__(self) -> None:
        for name, tp in _field_types().items():
            _check_literal(name, getattr(self, name), tp)
        positive = [
            "max_seq_length",
            "per_device_train_batch_size",
            "num_train_epochs",
            "logging_steps",
            "keep_checkpoints",
        ]
        for name in positive:
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        for name in ["max_train_samples", "max_train_steps", "checkpointing_steps", "total_batch_size"]:
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"{name} must be >= 1 or null, got {value}")
        if not 0.0 <= self.warmup_ratio < 1.0:
            raise ValueError(f"warmup_ratio must be in [0, 1), got {self.warmup_ratio}")
        if self.learning_rate <= 0:
            raise ValueError(f"learning_rate must be > 0, got {self.learning_rate}")
        if self.total_batch_size is not None and self.gradient_accumulation_steps is not None:
            raise ValueError("set either total_batch_size or gradient_accumulation_steps, not both (use null)")
        if self.gradient_accumulation_steps is not None and self.gradient_accumulation_steps < 1:
            raise ValueError(f"gradient_accumulation_steps must be >= 1, got {self.gradient_accumulation_steps}")
        if self.use_qlora and not self.use_lora:
            object.__setattr__(self, "use_lora", True)
        if "none" in self.report_to and len(self.report_to) > 1:
            raise ValueError(f"report_to: 'none' cannot be combined with trackers: {self.report_to}")

    def accumulation_steps(self, world_size: int) -> int:
        """Gradient accumulation for ``world_size`` processes (``total_batch_size`` must divide evenly)."""
        if self.total_batch_size is None:
            return self.gradient_accumulation_steps or 1
        per_update = self.per_device_train_batch_size * world_size
        if self.total_batch_size % per_update:
            raise ValueError(
                f"total_batch_size {self.total_batch_size} is not a multiple of per_device_train_batch_size "
                f"{self.per_device_train_batch_size} x {world_size} processes = {per_update}; change one of them"
            )
        return self.total_batch_size // per_update

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _field_types() -> dict[str, Any]:
    return typing.get_type_hints(TrainArgs)


def _check_literal(name: str, value: Any, tp: Any) -> None:
    """Raise if ``value`` is outside a Literal (or list-of-Literal) closed set."""
    args = [a for a in typing.get_args(tp) if a is not type(None)]
    origin = typing.get_origin(tp)
    if origin in (Union, types.UnionType) and len(args) == 1:
        tp, origin, args = args[0], typing.get_origin(args[0]), typing.get_args(args[0])
        if value is None:
            return
    if origin is Literal and value not in args:
        raise ValueError(f"{name}: unknown value {value!r}; expected one of {', '.join(map(str, args))}")
    if origin is list and typing.get_origin(args[0]) is Literal:
        for v in value:
            _check_literal(name, v, args[0])


def _scalar_type(tp: Any) -> tuple[Any, bool, bool]:
    """(base type, optional?, list?) of a field annotation."""
    optional = False
    origin = typing.get_origin(tp)
    if origin in (Union, types.UnionType):
        inner = [a for a in typing.get_args(tp) if a is not type(None)]
        optional, tp, origin = True, inner[0], typing.get_origin(inner[0])
    if origin is list:
        return typing.get_args(tp)[0], optional, True
    return tp, optional, False


def _coerce(name: str, value: Any, tp: Any, where: str) -> Any:
    """Convert a YAML or command-line value to the field's type; raise naming ``where`` and the field."""
    base, optional, is_list = _scalar_type(tp)
    if value is None or (isinstance(value, str) and value.lower() in ("null", "none") and optional):
        if not optional:
            raise ValueError(f"{where}: {name} may not be null")
        return None
    if is_list:
        items = value if isinstance(value, list) else [v for v in str(value).split(",") if v]
        return [_coerce(name, v, base, where) for v in items]
    try:
        if base is bool:
            if isinstance(value, bool):
                return value
            if str(value).lower() in ("1", "true", "yes", "on"):
                return True
            if str(value).lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError(f"not a boolean: {value!r}")
        if base is int:
            if isinstance(value, float) and not value.is_integer():
                raise ValueError(f"not an integer: {value!r}")
            if isinstance(value, bool):
                raise ValueError(f"not an integer: {value!r}")
            return int(float(value)) if isinstance(value, str) and "e" in value.lower() else int(value)
        if base is float:
            return float(value)
    except ValueError as e:
        raise ValueError(f"{where}: {name}: {e}") from None
    return str(value)


EXTENDS = "extends"


def load_yaml_config(path: str | Path, *, _seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    """Read one YAML config, after the configs it ``extends`` (later wins, this file last).

    ``extends: paper.yaml`` (or a list of files) names configs relative to this file's folder; they are
    read first, recursively, and this file's keys override theirs. Unknown keys, wrong types, missing
    parents and cycles raise ``ValueError`` naming the file and key.
    """
    path = Path(path)
    if path.resolve() in _seen:
        chain = " -> ".join(str(p) for p in (*_seen, path.resolve()))
        raise ValueError(f"{path}: '{EXTENDS}' cycle: {chain}")
    with path.open(encoding="utf-8") as f:
        data = yaml.safe_load(f) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping of TrainArgs fields, got {type(data).__name__}")
    parents = data.pop(EXTENDS, None) or []
    if isinstance(parents, str):
        parents = [parents]
    if not isinstance(parents, list) or not all(isinstance(p, str) for p in parents):
        raise ValueError(f"{path}: '{EXTENDS}' must be a file name or a list of file names, got {parents!r}")
    out: dict[str, Any] = {}
    for parent in parents:
        parent_path = path.parent / parent
        if not parent_path.is_file():
            raise ValueError(f"{path}: '{EXTENDS}' names {parent!r}, but {parent_path} does not exist")
        out.update(load_yaml_config(parent_path, _seen=(*_seen, path.resolve())))
    types_ = _field_types()
    for key, value in data.items():
        if key not in types_:
            raise ValueError(f"{path}: unknown key {key!r}; TrainArgs fields are: {', '.join(types_)}")
        out[key] = _coerce(key, value, types_[key], str(path))
    return out


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m lumos.training.finetune",
        description="Fine-tune a Lumos module. Positional YAML configs are merged in order; --key value overrides.",
    )
    parser.add_argument("configs", nargs="*", help="YAML files with TrainArgs fields (later files win)")
    types_ = _field_types()
    for f in dataclasses.fields(TrainArgs):
        base, optional, is_list = _scalar_type(types_[f.name])
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc]
        choices = typing.get_args(base) if typing.get_origin(base) is Literal else None
        help_ = f"{f.metadata['help']} (default: {default}{'; choices: ' + ', '.join(choices) if choices else ''})"
        kwargs: dict[str, Any] = {"default": argparse.SUPPRESS, "help": help_, "metavar": f.name.upper()}
        if base is bool:
            kwargs.update(nargs="?", const="true")
        elif is_list:
            kwargs.update(nargs="+")
        parser.add_argument(f"--{f.name}", **kwargs)
    return parser


def parse_args(argv: list[str] | None = None) -> TrainArgs:
    """``TrainArgs`` from ``[config.yaml ...] [--key value ...]`` (see the module docstring)."""
    ns = vars(build_parser().parse_args(argv))
    values: dict[str, Any] = {}
    for config in ns.pop("configs"):
        values.update(load_yaml_config(config))
    types_ = _field_types()
    for key, value in ns.items():
        values[key] = _coerce(key, value, types_[key], "command line")
    args = TrainArgs(**values)
    if not args.train_file:
        raise ValueError("train_file is required (a config key or --train_file)")
    return args
