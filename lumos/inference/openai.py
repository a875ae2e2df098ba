"""Any OpenAI-compatible server: the Completions API for rendered Lumos prompts, Chat for LLM tools.

Works with api.openai.com (``gpt-3.5-turbo`` was the paper's QA tool) and with local servers such
as ``python -m vllm.entrypoints.openai.api_server --model DIR --served-model-name NAME``.
Greedy (temperature 0); the openai>=1 client retries with exponential backoff a bounded number
of times (``max_retries``), then the error propagates: a dead server is not a tool failure.

The server tokenises completion prompts itself, so ``prompt_style`` can only pick the text; whether
BOS is added is the server's choice (vLLM adds it). Pass ``extra_body={"add_special_tokens": False}``
through ``completion_kwargs`` for vLLM servers to reproduce the paper's no-BOS prompts.

    >>> b = OpenAIBackend("lumos_maths_plan_onetime", base_url="http://127.0.0.1:8000/v1")
    >>> b.generate([prompt], max_new_tokens=512)

Exercise: ``pytest tests/inference/test_openai.py`` (a fake server on 127.0.0.1).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from lumos.formats.chat import Message
from lumos.inference.hf import cut_at_stop

# The Completions API accepts at most four stop sequences.
_MAX_STOPS = 4


class OpenAIBackend:
    """One model on an OpenAI-compatible endpoint.

    Args:
        model: the served model name.
        base_url: endpoint (default ``$OPENAI_BASE_URL``, else api.openai.com).
        api_key: key (default ``$OPENAI_API_KEY``, else ``"EMPTY"`` for local servers).
        api: ``completions`` (default for the modules: the exact rendered prompt, byte-exact with
            training) or ``chat`` (``generate_messages`` sends the dialogue and the server applies its
            chat template; a forced reply start is sent as a partial assistant turn that vLLM continues).
        max_retries: retries with exponential backoff on connection errors, timeouts, 408/409/429 and
            5xx (the openai client's own, honouring ``Retry-After``); then the error propagates: a dead
            server is not a tool failure.
        timeout: seconds per request.
        batch_size: prompts per Completions request in ``generate``.
        completion_kwargs: extra arguments for every request (e.g. ``extra_body``).
        client: an already-built ``openai.OpenAI`` (tests).

    ``concurrent = True`` tells the evaluation to drive episodes side by side (``--concurrency``)
    instead of in batches; the client is thread-safe.
    """

    name = "openai"
    concurrent = True

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        api: str = "completions",
        max_retries: int = 6,
        timeout: float = 120.0,
        batch_size: int = 16,
        completion_kwargs: Mapping[str, Any] | None = None,
        client: Any = None,
    ) -> None:
        if api not in ("completions", "chat"):
            raise ValueError(f"unknown OpenAI API {api!r}; expected completions or chat")
        if client is None:
            from openai import OpenAI

            client = OpenAI(
                base_url=base_url or os.environ.get("OPENAI_BASE_URL") or None,
                api_key=api_key or os.environ.get("OPENAI_API_KEY") or "EMPTY",
                max_retries=max_retries,
                timeout=timeout,
            )
        self.client = client
        self.model = model
        self.api = api
        self.base_url = str(getattr(client, "base_url", base_url) or "")
        self.batch_size = batch_size
        self.completion_kwargs = dict(completion_kwargs or {})
        self.eos_token = "</s>"

    def describe(self) -> dict[str, Any]:
        """What this backend is (for metrics.json; never the key)."""
        return {"kind": "openai", "model": self.model, "base_url": self.base_url, "api": self.api}

    def generate(self, prompts: Sequence[str], *, max_new_tokens: int = 512, stop: Sequence[str] = ("\n",)) -> list[str]:
        """Completions for rendered prompts, greedy, cut at the first stop string."""
        stops = [s for s in stop if s][:_MAX_STOPS]
        out: list[str] = []
        for start in range(0, len(prompts), self.batch_size):
            chunk = list(prompts[start : start + self.batch_size])
            resp = self.client.completions.create(
                model=self.model,
                prompt=chunk,
                max_tokens=max_new_tokens,
                temperature=0,
                stop=stops or None,
                **self.completion_kwargs,
            )
            texts = [""] * len(chunk)
            for choice in resp.choices:
                texts[choice.index] = choice.text or ""
            out.extend(cut_at_stop(t, stop) for t in texts)
        return out

    def generate_messages(self, conversations: Sequence[Sequence[Message]], prefixes: Sequence[str], *,
                          max_new_tokens: int = 512, stop: Sequence[str] = ("\n",)) -> list[str]:
        """Chat Completions for Lumos dialogues (``api="chat"``): one request per dialogue, greedy, cut at
        the first stop string. A non-empty prefix is sent as a final partial assistant turn that the
        server continues (vLLM: ``continue_final_message``)."""
        stops = [s for s in stop if s][:_MAX_STOPS]
        out = []
        for conv, prefix in zip(conversations, prefixes):
            messages = [m.to_dict() if isinstance(m, Message) else dict(m) for m in conv]
            kwargs = dict(self.completion_kwargs)
            if prefix:
                messages.append({"role": "assistant", "content": prefix})
                body = dict(kwargs.pop("extra_body", {}) or {})
                body.update({"continue_final_message": True, "add_generation_prompt": False})
                kwargs["extra_body"] = body
            resp = self.client.chat.completions.create(model=self.model, messages=messages, max_tokens=max_new_tokens,
                                                       temperature=0, stop=stops or None, **kwargs)
            out.append(cut_at_stop(resp.choices[0].message.content or "", stop))
        return out

    def chat(self, conversations: Sequence[Sequence[Message]], *, max_new_tokens: int = 512) -> list[str]:
        """One Chat Completions request per conversation, greedy (LLM tools, the judge)."""
        out = []
        for conv in conversations:
            resp = self.client.chat.completions.create(
                model=self.model,
                messages=[m.to_dict() if isinstance(m, Message) else dict(m) for m in conv],
                max_tokens=max_new_tokens,
                temperature=0,
                **self.completion_kwargs,
            )
            out.append((resp.choices[0].message.content or "").strip())
        return out
