"""Training throughput: our trainer (padded and packed) against TRL's ``SFTTrainer``, same model, data and batch.

Each trainer runs in its own subprocess (accelerate keeps process-wide state) for ``--steps`` optimizer
updates of ``--batch_size`` conversations (no accumulation, one process, same precision, same
learning rate and seed) on the first ``--max_samples`` rows of ``--train_file``. Throughput counts
real (non-pad) tokens per second of wall time per update, excluding the first update (warm-up);
"real share" is real tokens / tokens in the batch tensors. TRL gets the same conversations as
``messages`` and the Lumos chat template on the tokenizer, so both see the same text. ratio =
ours / TRL. Goal: ratio >= 1.0 and >= 95 % real tokens with packing.

Run:
    .venv/bin/python bench/train_throughput.py --train_file data/train/maths/train_annots/lumos_maths_plan_iterative.jsonl \\
        --model models/smollm2-135m-instruct --steps 8 --batch_size 4
Prints a table and writes it as JSON to ``--out`` (default bench/results/train_throughput.json).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from lumos.paths import DEFAULT_BASE_MODEL, REPO_ROOT
from lumos.utils.io import git_commit, read_jsonl, write_json

logger = logging.getLogger("bench.train_throughput")


def _summary(name: str, steps: list[dict[str, Any]]) -> dict[str, Any]:
    """Aggregate per-update records (tokens, padded_tokens, seconds), skipping the first (warm-up)."""
    timed = steps[1:] if len(steps) > 1 else steps
    tokens = sum(s["tokens"] for s in timed)
    padded = sum(s["padded_tokens"] for s in timed)
    seconds = sum(s["seconds"] for s in timed)
    return {
        "trainer": name,
        "updates_timed": len(timed),
        "tokens": tokens,
        "padded_tokens": padded,
        "seconds": round(seconds, 3),
        "tokens_per_second": tokens / seconds if seconds else 0.0,
        "real_token_share": tokens / padded if padded else 0.0,
        "seconds_per_update": seconds / len(timed) if timed else 0.0,
        "losses": [s.get("loss") for s in steps],
    }


def run_ours(args: argparse.Namespace, workdir: Path, *, packing: bool) -> dict[str, Any]:
    out = workdir / ("ours_packed" if packing else "ours_padded")
    cmd = [
        sys.executable,
        "-m",
        "lumos.training.finetune",
        "--train_file",
        args.train_file,
        "--model_name_or_path",
        args.model,
        "--output_dir",
        str(out),
        "--per_device_train_batch_size",
        str(args.batch_size),
        "--total_batch_size",
        str(args.batch_size),
        "--max_train_steps",
        str(args.steps),
        "--max_train_samples",
        str(args.max_samples),
        "--max_seq_length",
        str(args.max_seq_length),
        "--learning_rate",
        str(args.lr),
        "--warmup_ratio",
        "0",
        "--seed",
        str(args.seed),
        "--packing",
        str(packing).lower(),
        "--mixed_precision",
        args.precision,
        "--report_to",
        "none",
        "--logging_steps",
        "1",
    ]
    logger.info("ours (packing=%s): %s", packing, " ".join(cmd))
    subprocess.run(cmd, check=True, cwd=REPO_ROOT)
    return _summary("lumos (packed)" if packing else "lumos (padded)", read_jsonl(out / "train_log.jsonl"))


def run_trl(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    result = workdir / "trl.json"
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", "trl", "--worker_out", str(result)]
    for key in (
        "train_file",
        "model",
        "steps",
        "batch_size",
        "max_samples",
        "max_seq_length",
        "lr",
        "seed",
        "precision",
    ):
        cmd += [f"--{key}", str(getattr(args, key))]
    logger.info("trl: %s", " ".join(cmd))
    subprocess.run(cmd, check=True, cwd=REPO_ROOT)
    steps = json.loads(result.read_text())
    return _summary("TRL SFTTrainer", steps)


def trl_worker(args: argparse.Namespace) -> None:
    """Train with TRL's SFTTrainer and write one record per update (tokens, padded_tokens, seconds, loss)."""
    import torch
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer, TrainerCallback
    from trl import SFTConfig, SFTTrainer

    from lumos.training.model import set_chat_template

    rows = read_jsonl(args.train_file)[: args.max_samples]
    dataset = Dataset.from_list([{"messages": r["messages"]} for r in rows])
    tokenizer = AutoTokenizer.from_pretrained(args.model)
    if tokenizer.pad_token is None:
        tokenizer.add_special_tokens({"pad_token": "<pad>"})
    set_chat_template(tokenizer)
    model = AutoModelForCausalLM.from_pretrained(args.model, dtype=torch.float32)
    if len(tokenizer) > model.get_input_embeddings().weight.shape[0]:
        model.resize_token_embeddings(len(tokenizer))
    records: list[dict[str, Any]] = []
    counts = {"tokens": 0, "padded_tokens": 0}

    class Timer(TrainerCallback):
        def on_train_begin(self, *_: Any, **__: Any) -> None:
            self.last = time.perf_counter()

        def on_step_end(self, *_: Any, **__: Any) -> None:
            now = time.perf_counter()
            records.append({**counts, "seconds": now - self.last})
            counts.update(tokens=0, padded_tokens=0)
            self.last = now

        def on_log(self, _a: Any, _s: Any, _c: Any, logs: dict[str, Any] | None = None, **__: Any) -> None:
            if logs and "loss" in logs and records:
                records[-1]["loss"] = logs["loss"]

    config = SFTConfig(
        output_dir=str(Path(args.worker_out).parent / "trl_out"),
        max_length=args.max_seq_length,
        per_device_train_batch_size=args.batch_size,
        gradient_accumulation_steps=1,
        max_steps=args.steps,
        learning_rate=args.lr,
        lr_scheduler_type="linear",
        warmup_steps=0,
        logging_steps=1,
        save_strategy="no",
        report_to="none",
        seed=args.seed,
        use_cpu=not torch.cuda.is_available(),
        bf16=args.precision == "bf16",
        dataloader_num_workers=0,
        disable_tqdm=True,
    )
    trainer = SFTTrainer(model=model, args=config, train_dataset=dataset, processing_class=tokenizer)
    collate = trainer.data_collator

    def counting_collator(features: list[dict[str, Any]]) -> dict[str, Any]:
        batch = collate(features)
        ids = batch["input_ids"]
        counts["padded_tokens"] += ids.numel()
        counts["tokens"] += int(batch["attention_mask"].sum()) if "attention_mask" in batch else ids.numel()
        return batch

    trainer.data_collator = counting_collator
    trainer.add_callback(Timer())
    trainer.train()
    Path(args.worker_out).write_text(json.dumps(records))


def format_table(rows: list[dict[str, Any]], reference: dict[str, Any]) -> str:
    head = f"{'trainer':<18} {'tokens/s':>9} {'ratio':>6} {'real share':>10} {'s/update':>9} {'updates':>7}"
    lines = [head, "-" * len(head)]
    for r in rows:
        ratio = r["tokens_per_second"] / reference["tokens_per_second"] if reference["tokens_per_second"] else 0.0
        r["ratio_vs_trl"] = ratio
        lines.append(
            f"{r['trainer']:<18} {r['tokens_per_second']:>9.1f} {ratio:>6.2f} {r['real_token_share']:>10.1%} "
            f"{r['seconds_per_update']:>9.2f} {r['updates_timed']:>7}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--train_file", required=True, help="Lumos training jsonl (messages rows)")
    parser.add_argument("--model", default=str(DEFAULT_BASE_MODEL))
    parser.add_argument("--steps", type=int, default=8, help="optimizer updates per trainer (the first is not timed)")
    parser.add_argument("--batch_size", type=int, default=4)
    parser.add_argument("--max_samples", type=int, default=256)
    parser.add_argument("--max_seq_length", type=int, default=1024)
    parser.add_argument("--lr", type=float, default=1e-5)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--precision", choices=["no", "bf16"], default="no")
    parser.add_argument("--out", default=str(REPO_ROOT / "bench" / "results" / "train_throughput.json"))
    parser.add_argument("--worker", choices=["trl"], help=argparse.SUPPRESS)
    parser.add_argument("--worker_out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    if args.worker == "trl":
        trl_worker(args)
        return 0
    with tempfile.TemporaryDirectory(prefix="lumos_bench_") as tmp:
        workdir = Path(tmp)
        trl = run_trl(args, workdir)
        rows = [run_ours(args, workdir, packing=True), run_ours(args, workdir, packing=False), trl]
    table = format_table(rows, trl)
    print(table)  # the benchmark's output
    config = {k: v for k, v in vars(args).items() if not k.startswith("worker")}
    write_json(args.out, {"config": config, "git_commit": git_commit(), "rows": rows, "table": table})
    logger.info("wrote %s", args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
