"""Chat completions from any OpenAI-compatible server, with bounded concurrency and bounded retries.

``complete()`` sends one request at temperature 0 and retries 429 / 5xx / timeouts / connection errors with
exponential backoff, waiting what ``Retry-After`` (or ``retry-after-ms``) asks for when the server says; after
``max_retries`` retries it raises ``RequestFailed`` with the last reason. Authentication, permission and
unknown-model errors raise ``FatalRequestError`` (no point converting the rest). A request body::

    {"model": "gpt-4", "messages": [{"role": "system", ...}, {"role": "user", ...}], "temperature": 0, "max_tokens": 500}

Exercise: ``pytest tests/conversion/test_conv_openai_resume.py`` (a fake server on 127.0.0.1).
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

from lumos.utils.cli import ReportedError

logger = logging.getLogger(__name__)

RETRYABLE_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504})


class RequestFailed(RuntimeError):
    """A request that still failed after its retries, or one that retrying cannot fix (``reason`` says which)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class FatalRequestError(ReportedError, RuntimeError):
    """An error that every request would hit (bad key, no access, unknown model): stop the run (one line in a CLI)."""


@dataclass(frozen=True)
class OpenAIConfig:
    """Client settings. ``base_url=None`` means api.openai.com; ``api_key=None`` reads ``OPENAI_API_KEY``."""

    model: str = "gpt-4"
    base_url: str | None = None
    api_key: str | None = None
    concurrency: int = 8
    max_retries: int = 6
    timeout: float = 120.0
    max_tokens: int = 500
    temperature: float = 0.0
    backoff_base: float = 1.0
    backoff_max: float = 60.0
    retry_after_max: float = 600.0

    def __post_init__(self) -> None:
        if self.concurrency < 1:
            raise ValueError(f"concurrency must be >= 1, got {self.concurrency}")
        if self.max_retries < 0:
            raise ValueError(f"max_retries must be >= 0, got {self.max_retries}")


@dataclass(frozen=True)
class Completion:
    text: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str | None
    attempts: int


def make_client(cfg: OpenAIConfig) -> Any:
    """An ``openai.AsyncOpenAI`` with its own retries off (ours honour Retry-After with a bound)."""
    from openai import AsyncOpenAI

    api_key = cfg.api_key or os.environ.get("OPENAI_API_KEY")
    if not api_key:
        if cfg.base_url is None:
            raise FatalRequestError("OPENAI_API_KEY is not set (needed for api.openai.com; a local --base_url needs none)")
        api_key = "EMPTY"
    return AsyncOpenAI(api_key=api_key, base_url=cfg.base_url, max_retries=0, timeout=cfg.timeout)


def retry_after_seconds(headers: Any) -> float | None:
    """Seconds the server asks us to wait: ``retry-after-ms``, ``retry-after`` (seconds or an HTTP date)."""
    if headers is None:
        return None
    ms = headers.get("retry-after-ms")
    if ms is not None:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    import datetime as dt

    return max(0.0, (when - dt.datetime.now(when.tzinfo or dt.timezone.utc)).total_seconds())


def _classify(exc: BaseException) -> tuple[str, bool, float | None]:
    """``(reason, retryable, retry_after)`` for an openai exception; re-raises fatal ones."""
    import openai

    if isinstance(exc, openai.APITimeoutError):
        return "timeout", True, None
    if isinstance(exc, openai.APIConnectionError):
        return f"connection error: {exc}", True, None
    if isinstance(exc, (openai.AuthenticationError, openai.PermissionDeniedError, openai.NotFoundError)):
        raise FatalRequestError(f"{type(exc).__name__} (HTTP {exc.status_code}): {exc.message}") from exc
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        retryable = status in RETRYABLE_STATUS or status >= 500
        headers = getattr(exc.response, "headers", None)
        return f"HTTP {status}: {exc.message}", retryable, retry_after_seconds(headers)
    raise exc


async def complete(client: Any, messages: list[dict[str, str]], cfg: OpenAIConfig, *,
                   sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> Completion:
    """One chat completion with bounded retries (``sleep`` waits between attempts).

    Raises:
        RequestFailed: still failing after ``cfg.max_retries`` retries, a non-retryable HTTP error (400, 422),
            or an empty answer every time.
        FatalRequestError: authentication / permission / unknown model.
    """
    import openai

    reason = "not attempted"
    for attempt in range(cfg.max_retries + 1):
        wait: float | None = None
        try:
            resp = await client.chat.completions.create(
                model=cfg.model,
                messages=messages,
                temperature=cfg.temperature,
                max_tokens=cfg.max_tokens,
                top_p=1,
            )
            choice = resp.choices[0] if resp.choices else None
            text = (choice.message.content or "").strip() if choice is not None else ""
            if text:
                usage = resp.usage
                return Completion(
                    text=text,
                    prompt_tokens=getattr(usage, "prompt_tokens", 0) or 0,
                    completion_tokens=getattr(usage, "completion_tokens", 0) or 0,
                    finish_reason=choice.finish_reason if choice is not None else None,
                    attempts=attempt + 1,
                )
            reason, retryable = "empty response", True
        except openai.OpenAIError as exc:
            reason, retryable, wait = _classify(exc)
        if not retryable:
            raise RequestFailed(reason)
        if attempt == cfg.max_retries:
            break
        backoff = min(cfg.backoff_max, cfg.backoff_base * 2**attempt) * random.uniform(0.5, 1.0)
        delay = min(cfg.retry_after_max, wait) if wait is not None else backoff
        logger.debug("retrying in %.2fs after %s (attempt %d/%d)", delay, reason, attempt + 1, cfg.max_retries + 1)
        await sleep(delay)
    raise RequestFailed(f"{reason} (after {cfg.max_retries + 1} attempts)")
