"""Fine-tune a Lumos module with accelerate (+ DeepSpeed): the training loop.

Credit: the loop follows allenai/open-instruct's ``finetune.py`` (which the original Lumos copied):
AdamW without decay on biases/norms, ``transformers.get_scheduler`` with a warm-up ratio,
``accelerator.accumulate``, ZeRO-3 gather on save. Differences: a seed is always set, gradient
checkpointing also applies to full fine-tuning, the scheduler counts optimizer updates (one step per
update on every backend), checkpoints hold the full accelerate state plus the data position so a
killed run resumes where it stopped, and the tokenizer is saved with the Lumos chat template.

Example (CPU, tiny budget)::

    accelerate launch --num_processes 1 -m lumos.training.finetune configs/train/plan_iterative.yaml \\
        configs/train/cpu.yaml --train_file data/train/maths/train_annots/lumos_maths_plan_iterative.jsonl \\
        --output_dir models/lumos_maths_plan_iterative --max_train_steps 2

Usually launched by ``./train.sh plan iterative``. Tests: ``pytest tests/training/``.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import math
import os
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import DataLoader
from tqdm.auto import tqdm

from lumos.training.args import TrainArgs, parse_args
from lumos.training.checkpoints import (
    TrainerState,
    TrainLog,
    find_resume_checkpoint,
    plot_loss_curve,
    read_state,
    remove_checkpoints,
    save_checkpoint,
)
from lumos.training.dataset import Collator, batch_token_counts, load_examples
from lumos.training.model import load_model, load_tokenizer, save_model
from lumos.utils.io import git_commit, read_json, write_json

logger = logging.getLogger(__name__)
TRACKER_PROJECT = "lumos"


def build_accelerator(args: TrainArgs) -> Any:
    """An ``Accelerator`` with trackers, a seedable sampler and, for several CPU processes, the gloo backend.

    The gloo handler makes multi-process DeepSpeed work on CPU: without it accelerate
    leaves the backend unset and counts one process while DeepSpeed counts all of them.
    """
    from accelerate import Accelerator, DataLoaderConfiguration, InitProcessGroupKwargs

    trackers = [t for t in args.report_to if t != "none"]
    if "wandb" in trackers and importlib.util.find_spec("wandb") is None:
        raise ImportError("report_to includes wandb but the wandb package is not installed (pip install wandb)")
    multi_process = int(os.environ.get("WORLD_SIZE", "1")) > 1
    handlers = [InitProcessGroupKwargs(backend="gloo")] if multi_process and not torch.cuda.is_available() else []
    return Accelerator(
        mixed_precision=args.mixed_precision,
        log_with=trackers or None,
        project_dir=args.output_dir,
        kwargs_handlers=handlers,
        dataloader_config=DataLoaderConfiguration(use_seedable_sampler=True),
    )


def _param_groups(model: torch.nn.Module, weight_decay: float) -> list[dict[str, Any]]:
    decay, no_decay = [], []
    for name, param in model.named_parameters():
        if param.requires_grad:
            (no_decay if "bias" in name or "norm" in name.lower() else decay).append(param)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def _tracker_config(args: TrainArgs, extra: dict[str, Any]) -> dict[str, Any]:
    """TensorBoard hparams accept only scalars and strings."""
    out = {}
    for key, value in {**args.to_dict(), **extra}.items():
        out[key] = value if isinstance(value, (int, float, str, bool)) else str(value)
    return out


def parameter_fingerprints(accelerator: Any, model: torch.nn.Module) -> list[list[float]]:
    """Per rank, (sum, sum of squares) over all parameters as that rank holds them (ZeRO-3: gathered one at
    a time). Ranks in step give identical rows. Collective: call on every process."""
    from accelerate.utils import DistributedType

    zero3 = (
        accelerator.distributed_type == DistributedType.DEEPSPEED and accelerator.state.deepspeed_plugin.zero_stage == 3
    )
    total = torch.zeros(2, dtype=torch.float64)
    for param in accelerator.unwrap_model(model).parameters():
        if zero3:
            import deepspeed

            gathered = deepspeed.zero.GatheredParameters([param])
        else:
            gathered = contextlib.nullcontext()
        with gathered:
            t = param.detach().double().cpu()
            total += torch.stack([t.sum(), (t * t).sum()])
    return accelerator.gather(total.to(accelerator.device).unsqueeze(0)).cpu().tolist()


def _finished(output_dir: Path) -> bool:
    metrics = output_dir / "metrics.json"
    if not metrics.is_file():
        return False
    data = read_json(metrics)
    return isinstance(data, dict) and data.get("status") == "done"


def train(args: TrainArgs) -> dict[str, Any]:
    """Run (or resume) one fine-tuning job; returns what ``metrics.json`` records."""
    from accelerate.utils import DistributedType, set_seed
    from transformers import get_scheduler

    output_dir = Path(args.output_dir)
    if _finished(output_dir) and args.resume_from_checkpoint == "auto":
        logger.warning(
            "%s already holds a finished run (metrics.json status done); nothing to do. "
            "Delete it or pass --resume_from_checkpoint none to train again.",
            output_dir,
        )
        return read_json(output_dir / "metrics.json")
    accelerator = build_accelerator(args)
    if not accelerator.is_local_main_process:
        logging.getLogger().setLevel(logging.WARNING)
    accumulation = args.accumulation_steps(accelerator.num_processes)
    accelerator.gradient_accumulation_steps = accumulation
    set_seed(args.seed)
    if accelerator.is_main_process:
        output_dir.mkdir(parents=True, exist_ok=True)
    accelerator.wait_for_everyone()

    tokenizer = load_tokenizer(args)
    with accelerator.main_process_first():
        examples, stats = load_examples(
            args.train_file,
            tokenizer,
            args.max_seq_length,
            max_samples=args.max_train_samples,
            progress=accelerator.is_local_main_process,
        )
    logger.info("data: %s", stats)
    model = load_model(args, tokenizer, device_index=accelerator.local_process_index)
    loader = DataLoader(
        examples,  # type: ignore[arg-type]
        batch_size=args.per_device_train_batch_size,
        shuffle=True,
        collate_fn=Collator(tokenizer.pad_token_id, packing=args.packing),
        num_workers=args.dataloader_num_workers,
    )
    optimizer = torch.optim.AdamW(_param_groups(model, args.weight_decay), lr=args.learning_rate)
    deepspeed = accelerator.distributed_type == DistributedType.DEEPSPEED
    if deepspeed:
        accelerator.state.deepspeed_plugin.deepspeed_config["gradient_clipping"] = max(args.clip_grad_norm, 0.0)
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)

    updates_per_epoch = math.ceil(len(loader) / accumulation)
    total_steps = args.max_train_steps or updates_per_epoch * args.num_train_epochs
    epochs = math.ceil(total_steps / updates_per_epoch)
    scheduler = get_scheduler(
        args.lr_scheduler_type,
        optimizer=optimizer,
        num_warmup_steps=int(total_steps * args.warmup_ratio),
        num_training_steps=total_steps,
    )
    accelerator.register_for_checkpointing(scheduler)

    log = TrainLog(output_dir)
    state = TrainerState()
    checkpoint = find_resume_checkpoint(output_dir, args.resume_from_checkpoint)
    if checkpoint is not None:
        accelerator.load_state(str(checkpoint))
        state = read_state(checkpoint)
        if state.batches_in_epoch >= len(loader):
            state = TrainerState(state.completed_steps, state.epoch + 1, 0)
        logger.info(
            "resumed from %s at step %d (epoch %d, batch %d)",
            checkpoint,
            state.completed_steps,
            state.epoch,
            state.batches_in_epoch,
        )
    if accelerator.is_main_process:
        log.truncate_after(state.completed_steps)
    run_info = {
        "world_size": accelerator.num_processes,
        "gradient_accumulation_steps": accumulation,
        "effective_batch_size": args.per_device_train_batch_size * accumulation * accelerator.num_processes,
        "total_steps": total_steps,
        "epochs": epochs,
        "distributed_type": str(accelerator.distributed_type),
        "mixed_precision": accelerator.mixed_precision,
    }
    logger.info("run: %s", run_info)
    accelerator.init_trackers(TRACKER_PROJECT, config=_tracker_config(args, run_info))

    progress = tqdm(
        total=total_steps,
        initial=state.completed_steps,
        desc="training",
        unit="step",
        disable=not accelerator.is_local_main_process,
    )
    completed, epoch, batches_in_epoch = state.completed_steps, state.epoch, state.batches_in_epoch
    window = torch.zeros(4, dtype=torch.float64)  # loss sum, micro-batches, real tokens, padded tokens
    window_start = time.perf_counter()
    train_seconds = 0.0
    last_loss: float | None = None
    while completed < total_steps and epoch < epochs:
        model.train()
        loader.set_epoch(epoch)
        active = accelerator.skip_first_batches(loader, batches_in_epoch) if batches_in_epoch else loader
        for batch in active:
            real, padded = batch_token_counts(batch)
            with accelerator.accumulate(model):
                loss = model(**batch, use_cache=False).loss
                accelerator.backward(loss)
                if accelerator.sync_gradients and args.clip_grad_norm > 0 and not deepspeed:
                    accelerator.clip_grad_norm_(model.parameters(), args.clip_grad_norm)
                optimizer.step()
                optimizer.zero_grad()
            batches_in_epoch += 1
            window += torch.tensor([loss.detach().float().item(), 1.0, real, padded], dtype=torch.float64)
            if not accelerator.sync_gradients:
                continue
            lr = scheduler.get_last_lr()[0]  # the rate this update used
            scheduler.step()
            completed += 1
            progress.update(1)
            if completed % args.logging_steps == 0 or completed == total_steps:
                totals = accelerator.reduce(window.to(accelerator.device), reduction="sum").cpu()
                seconds = time.perf_counter() - window_start
                train_seconds += seconds
                last_loss = float(totals[0] / totals[1])
                record = {
                    "step": completed,
                    "epoch": epoch,
                    "loss": round(last_loss, 6),
                    "lr": lr,
                    "tokens": int(totals[2]),
                    "padded_tokens": int(totals[3]),
                    "seconds": round(seconds, 4),
                }
                accelerator.log({"train_loss": last_loss, "learning_rate": lr}, step=completed)
                if accelerator.is_main_process:
                    log.append(record)
                progress.set_postfix(loss=f"{last_loss:.4f}", lr=f"{lr:.2e}")
                window.zero_()
                window_start = time.perf_counter()
            last = completed >= total_steps and not args.keep_checkpoints_at_end  # the final save follows
            if args.checkpointing_steps and completed % args.checkpointing_steps == 0 and not last:
                save_checkpoint(
                    accelerator,
                    output_dir,
                    TrainerState(completed, epoch, batches_in_epoch),
                    keep=args.keep_checkpoints,
                )
                window_start = time.perf_counter()
            if completed >= total_steps:
                break
        else:
            epoch, batches_in_epoch = epoch + 1, 0
            continue
        break
    progress.close()

    saved = save_model(accelerator, model, tokenizer, output_dir, lora=args.use_lora)
    fingerprints = parameter_fingerprints(accelerator, model) if accelerator.num_processes > 1 else None
    in_step = fingerprints is None or all(row == fingerprints[0] for row in fingerprints)
    if not in_step:
        logger.error("ranks are out of step: parameter fingerprints differ %s", fingerprints)
    metrics: dict[str, Any] = {}
    if accelerator.is_main_process:
        if args.use_lora and args.merge_lora:
            from lumos.training.merge_lora import merge_lora

            merge_lora(saved, output_dir, base_model=args.model_name_or_path)
        records = log.records()
        plot = plot_loss_curve(
            records,
            output_dir / "loss_curve.png",
            title=f"{Path(args.train_file).name} ({Path(args.model_name_or_path).name})",
        )
        tokens = sum(r["tokens"] for r in records)
        padded = sum(r["padded_tokens"] for r in records)
        seconds = sum(r["seconds"] for r in records)
        metrics = {
            "status": "done",
            "config": args.to_dict(),
            "run": run_info,
            "git_commit": git_commit(),
            "seed": args.seed,
            "data": asdict(stats),
            "resumed_from": str(checkpoint) if checkpoint else None,
            "completed_steps": completed,
            "first_logged_loss": records[0]["loss"] if records else None,
            "final_loss": records[-1]["loss"] if records else None,
            "train_tokens": tokens,
            "train_padded_tokens": padded,
            "real_token_share": tokens / padded if padded else None,
            "train_seconds": round(seconds, 2),
            "tokens_per_second": tokens / seconds if seconds else None,
            "rank_parameter_fingerprints": fingerprints,
            "ranks_in_step": in_step,
            "saved_to": str(saved),
            "loss_curve": str(plot) if plot else None,
        }
        write_json(output_dir / "metrics.json", metrics)
        if not args.keep_checkpoints_at_end:
            remove_checkpoints(output_dir)
        logger.info(
            "done: %d steps, loss %s -> %s; model in %s",
            completed,
            metrics["first_logged_loss"],
            metrics["final_loss"],
            output_dir,
        )
    accelerator.wait_for_everyone()
    accelerator.end_training()
    return metrics


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    args = parse_args(argv)
    train(args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
