"""HFBackend on the tiny random LLaMA: per-row stop, cut at the stop string, left padding, BOS per style."""

from __future__ import annotations

import pytest

from lumos.inference.hf import HFBackend, cut_at_stop

PROMPTS = [
    "<|user|>\nTask: Natalia sold clips\n<|assistant|>\n",
    "<|user|>\nPlease provide a reasonable subgoal-based plan to solve the given task.\nTask: a much longer prompt here\n<|assistant|>\n",
    "R1 = Calculator(48 / 2)",
]


@pytest.fixture
def backend(tiny_model, tiny_tokenizer):
    return HFBackend(model=tiny_model, tokenizer=tiny_tokenizer, batch_size=8)


def test_cut_at_stop_takes_earliest():
    assert cut_at_stop("a;b\nc", ["\n", ";"]) == "a"
    assert cut_at_stop("abc", []) == "abc"


def test_batched_left_padding_equals_unbatched(backend):
    batched = backend.generate(PROMPTS, max_new_tokens=12, stop=())
    single = [backend.generate([p], max_new_tokens=12, stop=())[0] for p in PROMPTS]
    assert batched == single
    assert any(batched)
    assert backend.tokenizer.padding_side == "right"  # the shared tokenizer is not mutated


def test_outputs_cut_at_stop_string_per_row(backend):
    full = backend.generate(PROMPTS, max_new_tokens=20, stop=())
    # pick a stop string each row actually produces: the row's third character
    stops = [t[2] for t in full if len(t) > 2]
    assert stops
    cut = backend.generate(PROMPTS, max_new_tokens=20, stop=(stops[0],))
    for f, c in zip(full, cut):
        assert c == cut_at_stop(f, [stops[0]])
        assert stops[0] not in c


def test_row_stopping_criterion_tracks_each_row(tiny_model, tiny_tokenizer):
    from lumos.inference.hf import _make_row_stop_criterion

    ids = tiny_tokenizer(["ab", "ab"], add_special_tokens=False)["input_ids"]
    import torch

    prompt = torch.tensor(ids)
    crit = _make_row_stop_criterion(tiny_tokenizer, prompt.shape[1], ["\n"])
    nl = tiny_tokenizer("\n", add_special_tokens=False)["input_ids"]
    x = tiny_tokenizer("x", add_special_tokens=False)["input_ids"]
    step1 = torch.cat([prompt, torch.tensor([nl, x])], dim=1)
    assert crit(step1, None).tolist() == [True, False]
    step2 = torch.cat([step1, torch.tensor([x, x])], dim=1)
    assert crit(step2, None).tolist() == [True, False]  # row 0 stays stopped, row 1 continues


def test_prompt_style_controls_bos(tiny_model, tiny_tokenizer):
    seen = []
    orig = HFBackend(model=tiny_model, tokenizer=tiny_tokenizer, prompt_style="original")
    cons = HFBackend(model=tiny_model, tokenizer=tiny_tokenizer, prompt_style="consistent")
    for b in (orig, cons):
        real = b.model.generate

        def spy(*a, _real=real, **k):
            seen.append(k["input_ids"][0, 0].item())
            return _real(*a, **k)

        b.model.generate = spy
        b.generate(["hello"], max_new_tokens=1)
        del b.model.generate
    bos = tiny_tokenizer.bos_token_id
    assert seen[0] != bos and seen[1] == bos


def test_load_from_folder_and_chat_needs_template(tiny_model_dir):
    b = HFBackend(tiny_model_dir)
    assert b.eos_token == "</s>"
    with pytest.raises(ValueError, match="no chat template"):
        b.chat([[]])


def test_chat_uses_the_tokenizers_template(tiny_model, tiny_tokenizer):
    import copy

    from lumos.formats.chat import Message, chat_template, render_prompt

    tok = copy.deepcopy(tiny_tokenizer)
    tok.chat_template = chat_template(with_bos=False)
    b = HFBackend(model=tiny_model, tokenizer=tok, prompt_style="original")
    conv = [Message("user", "Question: who?")]
    replies = b.chat([conv], max_new_tokens=6)
    expected = b.generate([render_prompt(conv, style="consistent")], max_new_tokens=6, stop=())
    assert replies == [expected[0].strip()]
