"""The one interface every inference backend implements.

``generate`` continues already-rendered prompts (the Lumos modules: prompts come from
``lumos.formats.chat.render_prompt``); ``chat`` answers conversations with the model's own chat
format (LLM tools such as ``QA``: gpt-3.5-turbo in the paper, any local instruct model here).
Decoding is greedy. Generation stops at the first of ``stop`` (which is not included in the
output) or after ``max_new_tokens``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from lumos.formats.chat import Message


@runtime_checkable
class Backend(Protocol):
    """A text generator. Implementations: ``lumos.inference.hf``, ``.vllm``, ``.openai``, ``.scripted``."""

    name: str

    def generate(self, prompts: Sequence[str], *, max_new_tokens: int = 512, stop: Sequence[str] = ("\n",)) -> list[str]:
        """Greedy continuations of raw prompts, cut at the first stop string."""
        ...

    def chat(self, conversations: Sequence[Sequence[Message]], *, max_new_tokens: int = 512) -> list[str]:
        """Greedy replies to conversations in the model's own chat format."""
        ...
