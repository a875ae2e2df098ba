"""A deterministic backend that returns canned text: for tests and for debugging the agent loop.

Responses come from a list (consumed in call order), or from a function of the prompt. Like a
real backend, each response is cut at the first stop string. Every prompt is recorded in
``calls`` (and every conversation in ``chat_calls``) so tests can assert exact prompt bytes.

    >>> b = ScriptedBackend(lambda p: "Subgoal 1: Add 2 and 2.\\nignored")
    >>> b.generate(["<|user|>\\n...\\n<|assistant|>\\n"])
    ['Subgoal 1: Add 2 and 2.']

Exercise: ``pytest tests/agent/test_loop.py``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

from lumos.formats.chat import Message
from lumos.inference.hf import cut_at_stop

Script = Sequence[str] | Callable[[str], str]


class ScriptedBackend:
    """Canned responses. ``responses``: a list consumed in order, or ``prompt -> response``."""

    name = "scripted"

    def __init__(self, responses: Script, *, chat_responses: Script | None = None, eos_token: str = "</s>",
                 concurrent: bool = False, delay_s: float = 0.0) -> None:
        self._responses = responses
        self.concurrent = concurrent  # drive episodes side by side, as for a server backend
        self.delay_s = delay_s
        self._lock = threading.Lock()
        self._chat_responses = chat_responses
        self._next = 0
        self._next_chat = 0
        self.eos_token = eos_token
        self.calls: list[str] = []
        self.chat_calls: list[list[Message]] = []
        self.batches: list[int] = []

    def _answer(self, script: Script | None, prompt: str, counter: str) -> str:
        if script is None:
            raise RuntimeError("ScriptedBackend has no chat_responses configured")
        if callable(script):
            return script(prompt)
        i = getattr(self, counter)
        if i >= len(script):
            raise RuntimeError(f"ScriptedBackend ran out of responses after {len(script)} calls; last prompt: {prompt!r}")
        setattr(self, counter, i + 1)
        return script[i]

    def generate(self, prompts: Sequence[str], *, max_new_tokens: int = 512, stop: Sequence[str] = ("\n",)) -> list[str]:
        if self.delay_s:
            time.sleep(self.delay_s)
        out = []
        with self._lock:
            self.batches.append(len(prompts))
            for p in prompts:
                self.calls.append(p)
                out.append(cut_at_stop(self._answer(self._responses, p, "_next"), stop))
        return out

    def chat(self, conversations: Sequence[Sequence[Message]], *, max_new_tokens: int = 512) -> list[str]:
        out = []
        with self._lock:
            for conv in conversations:
                self.chat_calls.append(list(conv))
                out.append(self._answer(self._chat_responses, conv[-1].content if conv else "", "_next_chat"))
        return out
