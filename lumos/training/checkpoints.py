"""Resumable training state on disk: accelerate checkpoints, the per-step log and the loss curve.

Layout of ``OUTPUT_DIR``::

    checkpoints/step_50/        accelerate state (model, optimizer, scheduler, RNG) + trainer_state.json
    train_log.jsonl             {"step": 1, "loss": 2.31, "lr": 1e-05, "tokens": 2048, "padded_tokens": 2048, "seconds": 1.9}
    loss_curve.png              loss against optimizer step
    metrics.json                config, git commit, seed, data counts, losses, throughput

A checkpoint is written to ``step_N.tmp`` and renamed only when complete, so a kill during saving
leaves the previous checkpoint usable. ``trainer_state.json`` holds the position in the data
(``epoch``, ``batches_in_epoch``) that resuming skips to.

Run: ``pytest tests/training/test_finetune.py -k resume``.
"""

from __future__ import annotations

import json
import logging
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from lumos.utils.io import append_jsonl, read_jsonl, write_json, write_jsonl

logger = logging.getLogger(__name__)
STATE_FILE = "trainer_state.json"


@dataclass(frozen=True)
class TrainerState:
    """Where training stands: updates done and the position in the current epoch."""

    completed_steps: int = 0
    epoch: int = 0
    batches_in_epoch: int = 0


def checkpoint_root(output_dir: str | Path) -> Path:
    return Path(output_dir) / "checkpoints"


def list_checkpoints(output_dir: str | Path) -> list[Path]:
    """Complete checkpoints (with ``trainer_state.json``), oldest first."""
    root = checkpoint_root(output_dir)
    if not root.is_dir():
        return []
    done = [p for p in root.glob("step_*") if p.is_dir() and not p.name.endswith(".tmp") and (p / STATE_FILE).is_file()]
    return sorted(done, key=lambda p: int(p.name.removeprefix("step_")))


def find_resume_checkpoint(output_dir: str | Path, setting: str) -> Path | None:
    """The checkpoint to resume from: ``auto`` = latest complete one, ``none`` = none, else that folder."""
    if setting == "none":
        return None
    if setting == "auto":
        found = list_checkpoints(output_dir)
        return found[-1] if found else None
    path = Path(setting)
    if not (path / STATE_FILE).is_file():
        raise FileNotFoundError(f"resume_from_checkpoint={setting}: no {STATE_FILE} there (not a lumos checkpoint)")
    return path


def read_state(checkpoint: Path) -> TrainerState:
    data = json.loads((checkpoint / STATE_FILE).read_text(encoding="utf-8"))
    return TrainerState(**{k: int(data[k]) for k in ("completed_steps", "epoch", "batches_in_epoch")})


def save_checkpoint(accelerator: Any, output_dir: str | Path, state: TrainerState, *, keep: int) -> Path:
    """Save the full accelerate state atomically; keep the newest ``keep`` checkpoints. Call on every process."""
    root = checkpoint_root(output_dir)
    final = root / f"step_{state.completed_steps}"
    tmp = root / f"step_{state.completed_steps}.tmp"
    if accelerator.is_main_process and tmp.exists():
        shutil.rmtree(tmp)
    accelerator.wait_for_everyone()
    accelerator.save_state(str(tmp))
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        write_json(tmp / STATE_FILE, asdict(state))
        if final.exists():
            shutil.rmtree(final)
        tmp.rename(final)
        for old in list_checkpoints(output_dir)[:-keep]:
            shutil.rmtree(old)
        logger.info("saved checkpoint %s", final)
    accelerator.wait_for_everyone()
    return final


def remove_checkpoints(output_dir: str | Path) -> None:
    root = checkpoint_root(output_dir)
    if root.is_dir():
        shutil.rmtree(root)


class TrainLog:
    """``train_log.jsonl``: one line per logged update; resuming drops lines after the checkpoint step."""

    def __init__(self, output_dir: str | Path) -> None:
        self.path = Path(output_dir) / "train_log.jsonl"

    def truncate_after(self, step: int) -> None:
        if self.path.is_file():
            kept = [r for r in read_jsonl(self.path, skip_invalid_tail=True) if r.get("step", 0) <= step]
            write_jsonl(self.path, kept)

    def append(self, record: dict[str, Any]) -> None:
        append_jsonl(self.path, [record])

    def records(self) -> list[dict[str, Any]]:
        return read_jsonl(self.path, skip_invalid_tail=True) if self.path.is_file() else []


def plot_loss_curve(records: list[dict[str, Any]], path: str | Path, *, title: str = "") -> Path | None:
    """Write a PNG of loss against step (None when there is nothing to plot)."""
    points = [(r["step"], r["loss"]) for r in records if "loss" in r]
    if not points:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps, losses = zip(*points)
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(steps, losses, marker="." if len(points) < 60 else None, linewidth=1)
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("training loss (assistant tokens)")
    ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
