"""Tool contract shared by every domain.

A tool is registered under the exact action name of the annotation grammar (``KnowledgeQuery``)
and is called with a ``ToolCall``: the parsed action, the variable table so far and the task
context. It returns the result value (or a ``ToolOutput`` wrapping it) or raises ``ToolError`` for a recoverable failure (bad
arguments, nothing found, a backend that refused); the executor records that as
``ToolResult(error=...)`` and the agent goes on. Any other exception is a bug and propagates.

A tool declares ``cacheable``: True (the default) when its result depends only on the call (sympy, a
read-only index, an LLM at temperature 0), so ``--cache`` may store it; False when it reads or changes an
episode's environment (a web page, a cart, a database session): such tools are never cached.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from lumos.formats.actions import Action


class ToolError(Exception):
    """A recoverable tool failure, reported in the trajectory instead of ending the run."""


@dataclass(frozen=True)
class ToolCall:
    """Everything a tool may use: the action, the variables bound so far and the task context."""

    action: Action
    variables: Mapping[str, Any]
    task: str = ""
    subgoal: str = ""
    subgoals: tuple[str, ...] = ()
    is_last: bool = False


@dataclass(frozen=True)
class ToolResult:
    """The outcome of one action: ``value`` bound to the action's variables, or ``error``."""

    action: str
    value: Any = None
    error: str | None = None
    cached: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_dict(self) -> dict[str, Any]:
        return {"action": self.action, "value": self.value, "error": self.error, "cached": self.cached, **self.extra}


@dataclass(frozen=True)
class ToolOutput:
    """Optional richer return value of a tool: the value plus metadata for ``ToolResult``.

    A tool may return a plain value, or ``ToolOutput(value, cached=..., extra=...)`` to report a
    cache hit or to record details (e.g. the prompts an LLM tool sent) in the trajectory.
    """

    value: Any
    cached: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class Tool(Protocol):
    """A callable registered under ``name`` (the action name in the grammar); ``cacheable`` (optional
    attribute, default True) says whether its results may be cached."""

    name: str

    def __call__(self, call: ToolCall) -> Any: ...
