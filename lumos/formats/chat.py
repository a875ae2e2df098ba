"""The Tulu chat format Lumos was trained on: one renderer for training and evaluation.

Training rendering (docs/original.md, "Chat format") of ``[user u, assistant a, user v, assistant b]``::

    <|user|>\\nu\\n<|assistant|>\\na</s>\\n<|user|>\\nv\\n<|assistant|>\\nb</s>

(contents are stripped, the whole string is stripped; ``</s>`` is the tokenizer's EOS token and the
tokenizer adds BOS if it normally does). Loss is on each assistant content, its EOS and, for
non-final turns, the newline after it.

Evaluation prompts end in ``<|assistant|>\\n``. Two serialisations of earlier turns exist:

* ``original`` — what the paper's eval code built: an assistant turn is followed by a blank line
  instead of EOS + newline, and no BOS is added. Reproduces the paper's numbers.
* ``consistent`` — byte-identical to the training rendering (EOS between turns, BOS added).

Exercise: ``pytest tests/formats/test_chat.py``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

Role = Literal["system", "user", "assistant"]
PromptStyle = Literal["original", "consistent"]
PROMPT_STYLES: tuple[str, ...] = ("original", "consistent")
DEFAULT_EOS = "</s>"
GENERATION_HEADER = "<|assistant|>\n"
_HEADERS: Mapping[str, str] = {"system": "<|system|>\n", "user": "<|user|>\n", "assistant": "<|assistant|>\n"}


@dataclass(frozen=True)
class Message:
    """One chat turn. ``role`` is checked; content is kept as given (the renderer strips it)."""

    role: Role
    content: str

    def __post_init__(self) -> None:
        if self.role not in _HEADERS:
            raise ValueError(f"unknown chat role {self.role!r}; expected one of {sorted(_HEADERS)}")
        if not isinstance(self.content, str):
            raise ValueError(f"message content must be a string, got {type(self.content).__name__}")

    def to_dict(self) -> dict[str, str]:
        return {"role": self.role, "content": self.content}


MessageLike = Message | Mapping[str, str]


def as_messages(messages: Iterable[MessageLike]) -> list[Message]:
    """Accept ``Message`` objects or ``{"role", "content"}`` dicts; raise ``ValueError`` naming the bad turn."""
    out: list[Message] = []
    for i, m in enumerate(messages):
        if isinstance(m, Message):
            out.append(m)
            continue
        try:
            out.append(Message(role=m["role"], content=m["content"]))  # type: ignore[arg-type]
        except KeyError as e:
            raise ValueError(f"message {i} lacks field {e.args[0]!r}: {dict(m)!r}") from None
        except (TypeError, ValueError) as e:
            raise ValueError(f"message {i} is malformed: {e}") from None
    return out


def render_segments(
    messages: Iterable[MessageLike],
    *,
    eos_token: str = DEFAULT_EOS,
    add_generation_prompt: bool = False,
    style: PromptStyle = "consistent",
) -> list[tuple[str, bool]]:
    """Render a conversation as consecutive ``(text, supervised)`` pieces.

    ``"".join(text for text, _ in segments)`` is the rendered string. ``supervised`` is True exactly
    on the spans the original trained on: assistant content + EOS (+ the newline after it when
    another turn follows). With ``style="original"`` an assistant turn ends in ``"\\n\\n"``.
    """
    if style not in PROMPT_STYLES:
        raise ValueError(f"unknown prompt style {style!r}; expected one of {PROMPT_STYLES}")
    turn_end = eos_token if style == "consistent" else "\n"
    msgs = as_messages(messages)
    segments: list[tuple[str, bool]] = []
    for m in msgs:
        header = _HEADERS[m.role]
        if m.role == "assistant":
            segments.append((header, False))
            segments.append((m.content.strip() + turn_end + "\n", True))
        else:
            segments.append((header + m.content.strip() + "\n", False))
    if add_generation_prompt:
        segments.append((GENERATION_HEADER, False))
    else:
        _strip_segments(segments)
    _merge(segments)
    return [s for s in segments if s[0]]


def _strip_segments(segments: list[tuple[str, bool]]) -> None:
    """Apply the original's whole-string ``.strip()`` to a segment list, in place."""
    while segments:
        text, sup = segments[-1]
        stripped = text.rstrip()
        segments[-1] = (stripped, sup)
        if stripped:
            break
        segments.pop()
    while segments:
        text, sup = segments[0]
        stripped = text.lstrip()
        segments[0] = (stripped, sup)
        if stripped:
            break
        segments.pop(0)


def _merge(segments: list[tuple[str, bool]]) -> None:
    i = 1
    while i < len(segments):
        if segments[i][1] == segments[i - 1][1]:
            segments[i - 1] = (segments[i - 1][0] + segments[i][0], segments[i][1])
            del segments[i]
        else:
            i += 1


def render(
    messages: Iterable[MessageLike],
    *,
    eos_token: str = DEFAULT_EOS,
    add_generation_prompt: bool = False,
    style: PromptStyle = "consistent",
) -> str:
    """Render a conversation to text; see the module docstring for the two styles."""
    segs = render_segments(messages, eos_token=eos_token, add_generation_prompt=add_generation_prompt, style=style)
    return "".join(text for text, _ in segs)


def render_prompt(messages: Sequence[MessageLike], *, style: PromptStyle, eos_token: str = DEFAULT_EOS) -> str:
    """The generation prompt for the next assistant turn (ends in ``<|assistant|>\\n``)."""
    return render(messages, eos_token=eos_token, add_generation_prompt=True, style=style)


def adds_bos(style: PromptStyle) -> bool:
    """Whether prompts in ``style`` are tokenised with the tokenizer's special tokens (BOS)."""
    if style not in PROMPT_STYLES:
        raise ValueError(f"unknown prompt style {style!r}; expected one of {PROMPT_STYLES}")
    return style == "consistent"


# A Jinja chat template equal to ``render(messages, eos_token=tokenizer.eos_token)`` (and, with
# ``add_generation_prompt``, to ``render_prompt(..., style="consistent")``). Stored on every
# tokenizer we save so that ``apply_chat_template``, HF pipelines and vLLM chat build the training
# prompt. The variant with BOS is for tokenizers that add BOS when encoding (LLaMA): chat APIs
# tokenise templates without special tokens, so BOS must be written by the template itself.
_TEMPLATE_BODY = (
    "{%- set ns = namespace(out='') -%}"
    "{%- for message in messages -%}"
    "{%- if message['role'] == 'assistant' -%}"
    "{%- set ns.out = ns.out + '<|assistant|>\\n' + (message['content'] | trim) + eos_token + '\\n' -%}"
    "{%- elif message['role'] in ['system', 'user'] -%}"
    "{%- set ns.out = ns.out + '<|' + message['role'] + '|>\\n' + (message['content'] | trim) + '\\n' -%}"
    "{%- else -%}"
    "{{ raise_exception('Lumos chat format has no role ' + message['role']) }}"
    "{%- endif -%}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{ BOS + ns.out + '<|assistant|>\\n' }}"
    "{%- else -%}{{ BOS + (ns.out | trim) }}{%- endif -%}"
)
LUMOS_CHAT_TEMPLATE = "{%- set BOS = '' -%}" + _TEMPLATE_BODY
LUMOS_CHAT_TEMPLATE_WITH_BOS = "{%- set BOS = bos_token -%}" + _TEMPLATE_BODY


def chat_template(*, with_bos: bool) -> str:
    """The Jinja template to store on a tokenizer (``with_bos`` for tokenizers that add BOS)."""
    return LUMOS_CHAT_TEMPLATE_WITH_BOS if with_bos else LUMOS_CHAT_TEMPLATE
