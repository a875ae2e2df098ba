"""The subgoal grammar: converted plans (training data) and planning-module outputs (evaluation).

A converted GPT-4 plan (docs/original.md, "Annotation conversion")::

    Subgoal-based plan:
    Subgoal 1: Find the price of one apple.
    Action 1-1: R1 = Calculator(10 / 5) = 2

    Subgoal 2: ...

``parse_converted_plan`` cuts everything before ``Subgoal 1``, splits on blank lines and returns
one ``PlanBlock`` per subgoal. Planning-module outputs are ``Subgoal 1: ...`` (first turn),
``No, I will keep planning. Subgoal k: ...`` (later turns), ``Yes, I will stop planning.`` (stop)
or, for Lumos-O, ``Subgoal 1: ...; Subgoal 2: ...`` on one line.

Exercise: ``pytest tests/formats/test_plan.py``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from lumos.formats.prompts import KEEP_PLANNING, STOP_MARKER

_SUBGOAL_HEAD = re.compile(r"Subgoal (\d+):")
_ONETIME_SPLIT = re.compile(r"; (?=Subgoal \d+:)")


class PlanParseError(ValueError):
    """Text that is not in the subgoal grammar. The message quotes it."""


@dataclass(frozen=True)
class PlanBlock:
    """One subgoal of a converted plan: its ``Subgoal N: ...`` line and its ``Action i-j:`` lines."""

    subgoal: str
    action_lines: tuple[str, ...]


@dataclass(frozen=True)
class PlanStep:
    """One output of the planning module, parsed.

    ``kind`` is ``"stop"`` when the text contains the stop sentence (the original's rule), else
    ``"subgoal"``; ``subgoal`` is the ``Subgoal k: ...`` line without the keep-planning prefix and
    ``index`` its k.
    """

    kind: Literal["subgoal", "stop"]
    subgoal: str = ""
    index: int | None = None


def parse_converted_plan(text: str) -> list[PlanBlock]:
    """Split a converted plan into subgoal blocks (the original's ``parse_subgoals``).

    Raises:
        PlanParseError: the text has no ``Subgoal 1``.
    """
    start = text.find("Subgoal 1")
    if start < 0:
        raise PlanParseError(f"no 'Subgoal 1' in converted plan {text[:200]!r}")
    blocks: list[PlanBlock] = []
    for block in text[start:].split("\n\n"):
        lines = block.split("\n")
        if not block.strip():
            continue
        blocks.append(PlanBlock(subgoal=lines[0], action_lines=tuple(lines[1:])))
    return blocks


def render_converted_plan(blocks: list[PlanBlock]) -> str:
    """Inverse of ``parse_converted_plan`` for text that starts at ``Subgoal 1``."""
    return "\n\n".join("\n".join((b.subgoal, *b.action_lines)) for b in blocks)


def render_plan_turn(k: int, subgoal_line: str) -> str:
    """The planning module's assistant turn for subgoal ``k`` (1-based)."""
    return subgoal_line if k == 1 else KEEP_PLANNING + subgoal_line


def strip_keep_planning(text: str) -> str:
    """Remove a leading ``No, I will keep planning.`` from a plan output."""
    text = text.strip()
    prefix = KEEP_PLANNING.strip()
    return text[len(prefix) :].strip() if text.startswith(prefix) else text


def parse_plan_output(text: str) -> PlanStep:
    """Parse one iterative planning output.

    Raises:
        PlanParseError: neither the stop sentence nor a ``Subgoal k:`` line.
    """
    if STOP_MARKER in text:
        return PlanStep(kind="stop")
    line = strip_keep_planning(text)
    m = _SUBGOAL_HEAD.match(line)
    if not m:
        raise PlanParseError(f"expected 'Subgoal k: ...' or the stop sentence, got {text!r}")
    return PlanStep(kind="subgoal", subgoal=line, index=int(m.group(1)))


def split_onetime_plan(text: str) -> list[str]:
    """Split a Lumos-O plan ``Subgoal 1: ...; Subgoal 2: ...`` into its subgoal lines.

    Raises:
        PlanParseError: the text does not start with ``Subgoal 1:``.
    """
    text = text.strip()
    if not _SUBGOAL_HEAD.match(text):
        raise PlanParseError(f"a one-time plan must start with 'Subgoal 1:', got {text[:200]!r}")
    return _ONETIME_SPLIT.split(text)


def join_onetime_plan(subgoal_lines: list[str]) -> str:
    """Inverse of ``split_onetime_plan``."""
    return "; ".join(subgoal_lines)
