"""The Tulu renderer: training rendering, generation prompts, eval styles, and the Jinja template."""

import copy

import pytest

from lumos.formats import Message, chat_template, render, render_prompt, render_segments

CONV = [
    {"role": "user", "content": "Please plan.\nTask: T; Initial Environment Description: None."},
    {"role": "assistant", "content": "Subgoal 1: A."},
    {"role": "user", "content": "The executed result for Subgoal 1 is 24. Should we stop planning?"},
    {"role": "assistant", "content": "Yes, I will stop planning."},
]


def test_training_rendering_exact():
    assert render(CONV) == (
        "<|user|>\nPlease plan.\nTask: T; Initial Environment Description: None.\n<|assistant|>\nSubgoal 1: A.</s>\n"
        "<|user|>\nThe executed result for Subgoal 1 is 24. Should we stop planning?\n<|assistant|>\nYes, I will stop planning.</s>"
    )
    assert render(CONV, eos_token="<|im_end|>").endswith("planning.<|im_end|>")


def test_supervised_spans_are_assistant_turns():
    segs = render_segments(CONV)
    assert [t for t, s in segs if s] == ["Subgoal 1: A.</s>\n", "Yes, I will stop planning.</s>"]
    assert "".join(t for t, _ in segs) == render(CONV)


def test_generation_prompt_is_prefix_of_training_rendering():
    prompt = render(CONV[:-1], add_generation_prompt=True)
    assert prompt.endswith("<|assistant|>\n")
    assert render(CONV).startswith(prompt)


def test_original_eval_style_uses_blank_lines():
    assert render_prompt(CONV[:-1], style="original") == (
        "<|user|>\nPlease plan.\nTask: T; Initial Environment Description: None.\n<|assistant|>\nSubgoal 1: A.\n\n"
        "<|user|>\nThe executed result for Subgoal 1 is 24. Should we stop planning?\n<|assistant|>\n"
    )
    assert render_prompt(CONV[:-1], style="consistent") == render(CONV[:-1], add_generation_prompt=True)


def test_contents_are_stripped_and_roles_checked():
    assert render([{"role": "user", "content": "  hi \n"}]) == "<|user|>\nhi"
    with pytest.raises(ValueError, match="role"):
        Message(role="tool", content="x")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="message 0 lacks field 'content'"):
        render([{"role": "user"}])


@pytest.mark.parametrize("with_bos", [False, True])
def test_jinja_template_reproduces_renderer(tiny_tokenizer, with_bos):
    tok = copy.deepcopy(tiny_tokenizer)  # the fixture is shared: do not give it a template
    tok.chat_template = chat_template(with_bos=with_bos)
    bos = tok.bos_token if with_bos else ""
    assert tok.apply_chat_template(CONV, tokenize=False) == bos + render(CONV, eos_token=tok.eos_token)
    assert tok.apply_chat_template(CONV[:-1], tokenize=False, add_generation_prompt=True) == bos + render_prompt(
        CONV[:-1], style="consistent", eos_token=tok.eos_token
    )
    system = [{"role": "system", "content": "S"}, *CONV]
    assert tok.apply_chat_template(system, tokenize=False) == bos + render(system, eos_token=tok.eos_token)
