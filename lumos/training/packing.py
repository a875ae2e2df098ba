"""Padding-free packing without a dense mask: attention computed example by example inside the packed row.

A packed micro-batch (``Collator(packing=True)``) is one row ``[1, total_tokens]`` whose
``position_ids`` restart at 0 at every example, e.g. ``[[0, 1, 2, 0, 1, 0, 1, 2, 3]]``. With
``flash_attention_2`` transformers runs the varlen kernel from those positions. With ``sdpa`` it
builds a ``total x total`` block-diagonal mask instead, which on CPU costs more than the padding it
saves (all cross-example scores are computed, then masked). ``lumos_packed_sdpa`` — registered with
transformers' ``AttentionInterface`` — slices each example out of the row and runs causal SDPA on it,
so no token attends across examples and no score outside an example is computed. transformers
builds no mask for it (the name is not a mask type), and it needs the ``position_ids`` the decoder
layers pass down (LLaMA-family models do; it raises otherwise).

Run: ``pytest tests/training/test_dataset.py -k packed``.
"""

from __future__ import annotations

from typing import Any

import torch

PACKED_SDPA = "lumos_packed_sdpa"


def segment_bounds(position_ids: torch.Tensor) -> list[tuple[int, int]]:
    """``[(start, end), ...]`` of the examples in a packed row (``position_ids`` of shape ``[1, T]``)."""
    starts = (position_ids[0] == 0).nonzero().flatten().tolist()
    if not starts or starts[0] != 0:
        starts = [0, *starts]
    ends = [*starts[1:], position_ids.shape[-1]]
    return list(zip(starts, ends))


def packed_sdpa_attention(
    module: torch.nn.Module,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attention_mask: torch.Tensor | None,
    dropout: float = 0.0,
    scaling: float | None = None,
    **kwargs: Any,
) -> tuple[torch.Tensor, None]:
    """Causal SDPA per example of a packed row (query/key/value: ``[1, heads, T, head_dim]``)."""
    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    position_ids = kwargs.pop("position_ids", None)
    if position_ids is None:
        raise ValueError(f"{PACKED_SDPA} needs position_ids in the attention call; use sdpa or flash_attention_2")
    if query.shape[0] != 1 or query.shape[2] != key.shape[2] or attention_mask is not None:
        return sdpa_attention_forward(
            module, query, key, value, attention_mask, dropout=dropout, scaling=scaling, **kwargs
        )
    pieces = []
    for start, end in segment_bounds(position_ids):
        out, _ = sdpa_attention_forward(
            module,
            query[:, :, start:end],
            key[:, :, start:end],
            value[:, :, start:end],
            None,
            dropout=dropout,
            scaling=scaling,
            is_causal=True,
            **kwargs,
        )
        pieces.append(out)  # [1, segment, heads, head_dim]
    return torch.cat(pieces, dim=1), None


def register_packed_attention() -> str:
    """Register ``lumos_packed_sdpa`` with transformers (idempotent) and return its name."""
    from transformers import AttentionInterface

    AttentionInterface.register(PACKED_SDPA, packed_sdpa_attention)
    return PACKED_SDPA
