"""``Code(pseudo_code)`` through an LLM: the model writes Python, the sandbox runs it.

The original listed ``Code`` in both grounding prompts but never implemented it. Here an LLM (any
``Backend``, through ``chat``) turns the pseudo code into a program that prints its result; the
program runs in ``lumos.tools.sandbox`` (never in this process) and the last printed line is the
value:

    R9 = Code(If R8 > 0, R8, -R8)    ->  prompt CODE_PROMPT, reply "```python\\nprint(64)\\n```"  ->  "64"

(The maths toolbox first tries its deterministic ``If cond, a, b`` rule and only then the LLM.)

Exercise: ``pytest tests/tools/test_qa.py -k code``.
"""

from __future__ import annotations

import functools
import logging
import re
from typing import Any

from lumos.formats.chat import Message
from lumos.tools.base import ToolError, ToolOutput
from lumos.tools.sandbox import Isolation, run_python

logger = logging.getLogger(__name__)

CODE_PROMPT = (
    "Write a short Python 3 program that implements the following pseudo code and prints its final result "
    "with print(). Use only the Python standard library. Reply with the program in one ```python code block "
    "and nothing else.\n\nPseudo code: {pseudo_code}\n"
)
_BLOCK = re.compile(r"```(?:python|py)?[ \t]*\n(.*?)```", re.S)

#: Errors an LLM backend may raise for one request; they become tool errors, anything else propagates.
BACKEND_ERRORS: tuple[type[BaseException], ...] = (RuntimeError, OSError, ValueError, TimeoutError)


@functools.lru_cache(maxsize=1)
def backend_errors() -> tuple[type[BaseException], ...]:
    """``BACKEND_ERRORS`` plus the request errors of openai and httpx, when installed."""
    extra: list[type[BaseException]] = []
    try:
        import openai

        extra.append(openai.OpenAIError)
    except ImportError:
        pass
    try:
        import httpx

        extra.append(httpx.HTTPError)
    except ImportError:
        pass
    return BACKEND_ERRORS + tuple(extra)


def backend_id(backend: Any) -> str:
    """A stable identity of a backend for cache keys: ``name`` plus the model, if the object tells it."""
    name = getattr(backend, "name", type(backend).__name__)
    model = getattr(backend, "model_path", None) or getattr(backend, "model", None)
    return f"{name}:{model}" if isinstance(model, str) and model else str(name)


def chat_once(backend: Any, prompt: str, max_new_tokens: int) -> str:
    """One user turn to ``backend.chat``; backend failures become ``ToolError``."""
    try:
        replies = backend.chat([[Message("user", prompt)]], max_new_tokens=max_new_tokens)
    except backend_errors() as e:
        raise ToolError(f"the LLM backend {backend_id(backend)} failed: {type(e).__name__}: {e}") from e
    if not replies:
        raise ToolError(f"the LLM backend {backend_id(backend)} returned no reply")
    return str(replies[0]).strip()


def extract_code(reply: str) -> str:
    """The first fenced code block of ``reply`` (or the whole reply when there is no fence)."""
    m = _BLOCK.search(reply)
    code = m.group(1) if m else reply.strip().strip("`")
    if not code.strip():
        raise ToolError(f"the LLM reply holds no code: {reply[:200]!r}")
    return code


class LLMCode:
    """Pseudo code -> Python (LLM) -> sandboxed run -> last printed line."""

    def __init__(
        self,
        backend: Any,
        *,
        timeout_s: float = 10.0,
        memory_mb: int = 512,
        max_new_tokens: int = 512,
        isolation: Isolation = "auto",
    ) -> None:
        self.backend = backend
        self.timeout_s = timeout_s
        self.memory_mb = memory_mb
        self.max_new_tokens = max_new_tokens
        self.isolation = isolation
        self.backend_id = backend_id(backend)

    def run(self, pseudo_code: str) -> ToolOutput:
        prompt = CODE_PROMPT.format(pseudo_code=pseudo_code)
        reply = chat_once(self.backend, prompt, self.max_new_tokens)
        code = extract_code(reply)
        result = run_python(code, timeout_s=self.timeout_s, memory_mb=self.memory_mb, isolation=self.isolation)
        extra = {"prompt": prompt, "code": code, "stdout": result.stdout, "sandbox": result.isolation}
        if not result.ok:
            raise ToolError(f"the generated code failed: {result.error}")
        lines = [ln.strip() for ln in result.stdout.splitlines() if ln.strip()]
        if not lines:
            raise ToolError("the generated code printed nothing")
        return ToolOutput(lines[-1], extra=extra)
