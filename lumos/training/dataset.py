"""Tokenise Lumos conversations for training: loss only on assistant turns (docs/original.md, "Chat format"), optional packing.

A training row (``data/train/maths/train_annots/lumos_maths_plan_iterative.jsonl``)::

    {"dataset": "maths", "id": "maths_0", "messages": [{"role": "user", "content": "Please provide a reasonable
     subgoal-based plan to solve the given task.\\nTask: ...; Initial Environment Description: None."},
     {"role": "assistant", "content": "Subgoal 1: ..."}, ...]}

The text is ``lumos.formats.render_segments(messages, eos_token=tokenizer.eos_token)``; it is tokenised
once, as a whole, and each token's label is its id when the token *starts* inside a supervised piece
(assistant content + EOS, + the newline after it when another turn follows), else -100. Using the
offsets of the full-string tokenisation makes the mask exact for BPE tokenizers too (the original
re-tokenised prefixes, which is exact only for SentencePiece). BOS is prepended iff the tokenizer
adds it when encoding; the sequence is then right-truncated to ``max_seq_length``; examples with no
supervised token left are dropped and counted.

Run: ``pytest tests/training/test_dataset.py``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm

from lumos.formats.chat import Message, MessageLike, as_messages, render_segments
from lumos.utils.io import DataFormatError, iter_jsonl

logger = logging.getLogger(__name__)
IGNORE_INDEX = -100


@dataclass(frozen=True)
class Example:
    """One tokenised conversation; ``source`` is ``file:line``."""

    input_ids: list[int]
    labels: list[int]
    source: str = ""

    @property
    def n_supervised(self) -> int:
        return sum(label != IGNORE_INDEX for label in self.labels[1:])


@dataclass(frozen=True)
class DatasetStats:
    """What loading a training file kept and dropped."""

    rows: int
    kept: int
    dropped_all_masked: int
    truncated: int
    tokens: int
    supervised_tokens: int


def tokenizer_adds_bos(tokenizer: Any) -> bool:
    """Whether the tokenizer prepends BOS when encoding text (LLaMA: yes; GPT-2 / SmolLM2: no)."""
    bos = tokenizer.bos_token_id
    if bos is None:
        return False
    with_special = tokenizer("a", add_special_tokens=True)["input_ids"]
    without = tokenizer("a", add_special_tokens=False)["input_ids"]
    return with_special[:1] == [bos] and without[:1] != [bos]


def _supervised_char_mask(segments: Sequence[tuple[str, bool]]) -> list[bool]:
    mask: list[bool] = []
    for text, supervised in segments:
        mask.extend([supervised] * len(text))
    return mask


def _labels_from_offsets(tokenizer: Any, text: str, char_mask: list[bool]) -> tuple[list[int], list[int]]:
    enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    ids: list[int] = list(enc["input_ids"])
    labels = [
        tok if end > start and start < len(char_mask) and char_mask[start] else IGNORE_INDEX
        for tok, (start, end) in zip(ids, enc["offset_mapping"])
    ]
    return ids, labels


def _labels_from_prefixes(tokenizer: Any, segments: Sequence[tuple[str, bool]]) -> tuple[list[int], list[int]]:
    """The original's method (re-tokenise prefixes), for tokenizers without offsets; exact for SentencePiece."""
    ids: list[int] = tokenizer("".join(t for t, _ in segments), add_special_tokens=False)["input_ids"]
    labels = list(ids)
    prefix, start = "", 0
    for text, supervised in segments:
        prefix += text
        end = len(tokenizer(prefix, add_special_tokens=False)["input_ids"])
        if not supervised:
            labels[start:end] = [IGNORE_INDEX] * (min(end, len(ids)) - start)
        start = end
    return ids, labels


def tokenize_conversation(
    messages: Sequence[MessageLike], tokenizer: Any, max_seq_length: int, *, add_bos: bool | None = None
) -> tuple[list[int], list[int], bool]:
    """``(input_ids, labels, truncated)`` for one conversation; see the module docstring for the rules.

    Args:
        messages: the turns (``Message`` or ``{"role", "content"}`` dicts).
        tokenizer: a Hugging Face tokenizer; its ``eos_token`` ends each assistant turn.
        max_seq_length: right-truncation length.
        add_bos: prepend BOS; default ``tokenizer_adds_bos(tokenizer)``.
    """
    if tokenizer.eos_token is None:
        raise ValueError("the tokenizer has no eos_token; Lumos ends every assistant turn with it")
    segments = render_segments(messages, eos_token=tokenizer.eos_token)
    text = "".join(t for t, _ in segments)
    try:
        ids, labels = _labels_from_offsets(tokenizer, text, _supervised_char_mask(segments))
    except NotImplementedError:  # python tokenizers cannot return offsets
        ids, labels = _labels_from_prefixes(tokenizer, segments)
    if add_bos if add_bos is not None else tokenizer_adds_bos(tokenizer):
        ids, labels = [tokenizer.bos_token_id, *ids], [IGNORE_INDEX, *labels]
    truncated = len(ids) > max_seq_length
    return ids[:max_seq_length], labels[:max_seq_length], truncated


def validate_messages(record: dict[str, Any], where: str) -> list[Message]:
    """The row's ``messages`` as ``Message`` objects, or ``DataFormatError`` naming ``where`` (``file:line``)."""
    if "messages" not in record:
        raise DataFormatError(f"{where}: missing field 'messages' (has {sorted(record)})")
    raw = record["messages"]
    if not isinstance(raw, list) or not raw:
        raise DataFormatError(f"{where}: field 'messages' must be a non-empty list, got {type(raw).__name__}")
    for i, m in enumerate(raw):
        if not isinstance(m, dict):
            raise DataFormatError(f"{where}: messages[{i}] must be an object with role and content, got {m!r:.80}")
    try:
        return as_messages(raw)
    except ValueError as e:
        raise DataFormatError(f"{where}: field 'messages': {e}") from None


def load_examples(
    path: str | Path, tokenizer: Any, max_seq_length: int, *, max_samples: int | None = None, progress: bool = True
) -> tuple[list[Example], DatasetStats]:
    """Read, validate and tokenise a training file (the first ``max_samples`` rows if given).

    Raises:
        DataFormatError: a row is not JSON or lacks a well-formed ``messages`` list (``file:line: reason``).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"training file not found: {path}")
    rows: list[tuple[str, list[Message]]] = []
    for line, record in iter_jsonl(path):
        if max_samples is not None and len(rows) >= max_samples:
            break
        where = f"{path}:{line}"
        rows.append((where, validate_messages(record, where)))
    add_bos = tokenizer_adds_bos(tokenizer)
    examples: list[Example] = []
    dropped = truncated = 0
    for where, messages in tqdm(rows, desc=f"tokenising {path.name}", disable=not progress, unit="ex"):
        ids, labels, was_truncated = tokenize_conversation(messages, tokenizer, max_seq_length, add_bos=add_bos)
        truncated += was_truncated
        example = Example(ids, labels, where)
        if example.n_supervised == 0:
            dropped += 1
            continue
        examples.append(example)
    stats = DatasetStats(
        rows=len(rows),
        kept=len(examples),
        dropped_all_masked=dropped,
        truncated=truncated,
        tokens=sum(len(e.input_ids) for e in examples),
        supervised_tokens=sum(e.n_supervised for e in examples),
    )
    if dropped:
        logger.warning("%s: dropped %d of %d rows with no supervised token after truncation", path, dropped, len(rows))
    if not examples:
        raise DataFormatError(f"{path}: no usable training example ({len(rows)} rows, {dropped} fully masked)")
    return examples, stats


class Collator:
    """Batches ``Example``s: right padding (pad id / -100 labels / attention mask) or padding-free packing.

    Packing concatenates the micro-batch into one row ``[1, total_tokens]`` with ``position_ids``
    restarting at 0 for each example and no attention mask: flash-attention then runs its varlen
    kernel, sdpa/eager get a block-diagonal causal mask, and the training loop's default
    ``lumos_packed_sdpa`` (``lumos.training.packing``) attends within each example; in every case no
    token attends across examples. The first label of each example is -100, so the last token of one
    example is never trained to predict the first token of the next. The model must be called with
    ``use_cache=False`` (as the training loop does): with a KV cache transformers does not look for
    packed sequences and the examples would attend to each other.
    """

    def __init__(self, pad_token_id: int, *, packing: bool = False) -> None:
        self.pad_token_id = pad_token_id
        self.packing = packing

    def __call__(self, batch: Sequence[Example]) -> dict[str, torch.Tensor]:
        return self.pack(batch) if self.packing else self.pad(batch)

    def pad(self, batch: Sequence[Example]) -> dict[str, torch.Tensor]:
        width = max(len(e.input_ids) for e in batch)
        ids = torch.full((len(batch), width), self.pad_token_id, dtype=torch.long)
        labels = torch.full((len(batch), width), IGNORE_INDEX, dtype=torch.long)
        mask = torch.zeros((len(batch), width), dtype=torch.long)
        for i, e in enumerate(batch):
            n = len(e.input_ids)
            ids[i, :n] = torch.tensor(e.input_ids)
            labels[i, :n] = torch.tensor(e.labels)
            mask[i, :n] = 1
        return {"input_ids": ids, "labels": labels, "attention_mask": mask}

    @staticmethod
    def pack(batch: Sequence[Example]) -> dict[str, torch.Tensor]:
        ids: list[int] = []
        labels: list[int] = []
        positions: list[int] = []
        for e in batch:
            ids.extend(e.input_ids)
            labels.extend([IGNORE_INDEX, *e.labels[1:]])
            positions.extend(range(len(e.input_ids)))
        return {
            "input_ids": torch.tensor([ids], dtype=torch.long),
            "labels": torch.tensor([labels], dtype=torch.long),
            "position_ids": torch.tensor([positions], dtype=torch.long),
        }


def batch_token_counts(batch: dict[str, torch.Tensor]) -> tuple[int, int]:
    """(real tokens, tokens including padding) in a collated batch."""
    total = batch["input_ids"].numel()
    real = int(batch["attention_mask"].sum()) if "attention_mask" in batch else total
    return real, total
