"""Stub tools for the agent-loop tests, run by the real executor."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from lumos.tools.base import ToolCall
from lumos.tools.executor import execute_actions


class FnTool:
    """A stub tool: ``fn(call) -> value`` registered under ``name``; records its calls."""

    def __init__(self, name: str, fn: Callable[[ToolCall], Any]) -> None:
        self.name, self.fn, self.calls = name, fn, []

    def __call__(self, call: ToolCall) -> Any:
        self.calls.append(call)
        return self.fn(call)


@pytest.fixture
def execute():
    """The real executor (lumos.tools.executor); the tools in these tests are stubs."""
    return execute_actions


@pytest.fixture
def fn_tool():
    return FnTool
