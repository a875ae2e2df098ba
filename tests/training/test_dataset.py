"""Loss mask (docs/original.md, "Chat format"), prompt/training prefix property, truncation, malformed rows, packing equivalence."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import torch
from training_helpers import GROUND, PLAN

from lumos.formats.chat import render, render_prompt
from lumos.training.dataset import (
    IGNORE_INDEX,
    Collator,
    Example,
    load_examples,
    tokenize_conversation,
    tokenizer_adds_bos,
)
from lumos.training.packing import register_packed_attention, segment_bounds
from lumos.utils.io import DataFormatError

REPO = Path(__file__).resolve().parents[2]
SMOLLM2 = REPO / "models" / "smollm2-135m-instruct"


def _smollm2_tokenizer():
    if not (SMOLLM2 / "tokenizer.json").is_file():
        pytest.skip("models/smollm2-135m-instruct not prepared (./setup.sh)")
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(SMOLLM2)


@pytest.fixture(params=["tiny", "smollm2"])
def tokenizer(request, tiny_tokenizer):
    return tiny_tokenizer if request.param == "tiny" else _smollm2_tokenizer()


def _supervised_runs(ids: list[int], labels: list[int], tokenizer) -> list[str]:
    """Decode each maximal run of supervised tokens."""
    runs, current = [], []
    for tok, label in zip(ids, labels):
        if label != IGNORE_INDEX:
            assert label == tok
            current.append(tok)
        elif current:
            runs.append(current)
            current = []
    if current:
        runs.append(current)
    return [tokenizer.decode(r, skip_special_tokens=False) for r in runs]


@pytest.mark.parametrize("messages", [PLAN, GROUND], ids=["plan", "ground"])
def test_supervised_tokens_are_exactly_assistant_turns(tokenizer, messages):
    ids, labels, truncated = tokenize_conversation(messages, tokenizer, 1024)
    assert not truncated
    eos = tokenizer.eos_token
    assistant = [i for i, m in enumerate(messages) if m["role"] == "assistant"]
    expected = [messages[i]["content"].strip() + eos + ("\n" if i < len(messages) - 1 else "") for i in assistant]
    assert _supervised_runs(ids, labels, tokenizer) == expected


def test_bos_added_iff_tokenizer_adds_it(tiny_tokenizer):
    ids, labels, _ = tokenize_conversation(PLAN, tiny_tokenizer, 1024)
    assert tokenizer_adds_bos(tiny_tokenizer)
    assert ids[0] == tiny_tokenizer.bos_token_id and labels[0] == IGNORE_INDEX
    assert ids.count(tiny_tokenizer.bos_token_id) == 1
    smol = _smollm2_tokenizer()
    assert not tokenizer_adds_bos(smol)
    ids, _, _ = tokenize_conversation(PLAN, smol, 1024)
    assert smol.decode(ids, skip_special_tokens=False) == render(PLAN, eos_token=smol.eos_token)


def test_full_ids_equal_rendering(tiny_tokenizer):
    ids, _, _ = tokenize_conversation(PLAN, tiny_tokenizer, 1024)
    text = render(PLAN, eos_token=tiny_tokenizer.eos_token)
    assert ids == tiny_tokenizer(text)["input_ids"]  # BOS + the rendering, tokenised as one string


def test_generation_prompt_is_prefix_of_training_rendering(tokenizer):
    full_text = render(PLAN, eos_token=tokenizer.eos_token)
    full_ids, _, _ = tokenize_conversation(PLAN, tokenizer, 1024)
    bos = [tokenizer.bos_token_id] if tokenizer_adds_bos(tokenizer) else []
    for k, m in enumerate(PLAN):
        if m["role"] != "assistant":
            continue
        prompt = render_prompt(PLAN[:k], style="consistent", eos_token=tokenizer.eos_token)
        assert prompt.endswith("<|assistant|>\n") and full_text.startswith(prompt)
        prompt_ids = bos + tokenizer(prompt, add_special_tokens=False)["input_ids"]
        assert full_ids[: len(prompt_ids)] == prompt_ids


def test_truncation_and_all_masked_rows_are_dropped(tmp_path, tiny_tokenizer):
    long_user = {"role": "user", "content": "Task: " + "x " * 400}
    rows = [
        {"messages": PLAN},
        {"messages": [long_user, {"role": "assistant", "content": "Subgoal 1: too late."}]},
        {"messages": [{"role": "user", "content": "no answer here"}]},
    ]
    path = tmp_path / "train.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    examples, stats = load_examples(path, tiny_tokenizer, 64, progress=False)
    assert (stats.rows, stats.kept, stats.dropped_all_masked) == (3, 1, 2)
    assert stats.truncated == 2
    assert len(examples[0].input_ids) == 64 and examples[0].source == f"{path}:1"
    assert examples[0].n_supervised > 0


def test_max_samples(tmp_path, tiny_tokenizer):
    path = tmp_path / "train.jsonl"
    path.write_text("".join(json.dumps({"messages": PLAN}) + "\n" for _ in range(5)))
    _, stats = load_examples(path, tiny_tokenizer, 512, max_samples=2, progress=False)
    assert stats.rows == 2


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ('{"id": 3}', "missing field 'messages'"),
        ('{"messages": "hi"}', "must be a non-empty list"),
        ('{"messages": [{"role": "tool", "content": "x"}]}', "unknown chat role"),
        ('{"messages": [{"role": "user"}]}', "lacks field 'content'"),
        ('{"messages": [["user", "x"]]}', "messages\\[0\\] must be an object"),
        ('{"messages": [', "not valid JSON"),
    ],
)
def test_malformed_row_names_file_and_line(tmp_path, tiny_tokenizer, line, reason):
    path = tmp_path / "bad.jsonl"
    good = json.dumps({"messages": PLAN})
    path.write_text(f"{good}\n\n{line}\n{good}\n")
    with pytest.raises(DataFormatError, match=rf"bad\.jsonl:3: .*{reason}"):
        load_examples(path, tiny_tokenizer, 512, progress=False)


def _examples(tokenizer) -> list[Example]:
    convs = [PLAN, GROUND, PLAN[:2], PLAN[:4]]
    return [Example(*tokenize_conversation(c, tokenizer, 1024)[:2]) for c in convs]


@pytest.mark.parametrize("attn", ["sdpa", "eager", "lumos_packed_sdpa"])
def test_packed_loss_equals_padded_loss(tiny_tokenizer, tiny_model, attn):
    model = copy.deepcopy(tiny_model).eval()
    if attn == "lumos_packed_sdpa":
        register_packed_attention()
    model.set_attn_implementation(attn)
    examples = _examples(tiny_tokenizer)
    collator = Collator(tiny_tokenizer.pad_token_id)
    padded, packed = collator.pad(examples), collator.pack(examples)
    assert "attention_mask" not in packed and packed["input_ids"].shape[0] == 1
    if attn == "lumos_packed_sdpa":  # the padded batch is compared on plain sdpa
        with torch.no_grad():
            out_pad = copy.deepcopy(tiny_model).eval()(**padded, use_cache=False)
    else:
        with torch.no_grad():
            out_pad = model(**padded, use_cache=False)
    with torch.no_grad():
        out_pack = model(**packed, use_cache=False)  # with a cache transformers ignores packed position_ids
    torch.testing.assert_close(out_pack.loss, out_pad.loss, rtol=1e-5, atol=1e-5)
    # no attention across examples: each packed slice has the logits of the example run alone
    start = 0
    for i, e in enumerate(examples):
        n = len(e.input_ids)
        with torch.no_grad():
            alone = model(input_ids=torch.tensor([e.input_ids])).logits[0]
        torch.testing.assert_close(out_pack.logits[0, start : start + n], alone, rtol=1e-4, atol=1e-4)
        torch.testing.assert_close(out_pad.logits[i, :n], alone, rtol=1e-4, atol=1e-4)
        start += n


def test_packing_masks_first_label_of_each_example(tiny_tokenizer):
    examples = _examples(tiny_tokenizer)
    packed = Collator(tiny_tokenizer.pad_token_id, packing=True)(examples)
    starts = (packed["position_ids"][0] == 0).nonzero().flatten().tolist()
    assert len(starts) == len(examples)
    assert all(packed["labels"][0, s].item() == IGNORE_INDEX for s in starts)


def test_segment_bounds():
    assert segment_bounds(torch.tensor([[0, 1, 2, 0, 1, 0, 1, 2, 3]])) == [(0, 3), (3, 5), (5, 9)]
    assert segment_bounds(torch.tensor([[0, 1, 2]])) == [(0, 3)]


def test_packed_attention_gradients_match_padded(tiny_tokenizer, tiny_model):
    register_packed_attention()
    examples = _examples(tiny_tokenizer)
    collator = Collator(tiny_tokenizer.pad_token_id)
    grads = []
    for attn, batch in (("sdpa", collator.pad(examples)), ("lumos_packed_sdpa", collator.pack(examples))):
        model = copy.deepcopy(tiny_model).train()
        model.set_attn_implementation(attn)
        model(**batch, use_cache=False).loss.backward()
        grads.append(torch.cat([p.grad.flatten() for p in model.parameters()]))
    torch.testing.assert_close(grads[1], grads[0], rtol=1e-4, atol=1e-6)
