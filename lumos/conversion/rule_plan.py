"""Build a converted plan in the GPT-4 text form, for the LLM-free ``rule`` backend.

The rendered text is exactly what ``lumos.formats.parse_converted_plan`` / ``parse_converted_action`` read::

    Subgoal 1: Natalia sold 48/2 clips in May.
    Action 1-1: R1 = Calculator(48/2) = 24

    Subgoal 2: Natalia sold 48+24 clips altogether in April and May.
    Action 2-1: R2 = Calculator(48+R1) = 72

Exercise: ``pytest tests/conversion/test_conv_rule.py``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_OPEN, _CLOSE = "(", ")"


class RuleError(ValueError):
    """The raw record cannot be converted by rule; the message is the reason recorded in ``.failed.jsonl``."""


def one_line(text: str) -> str:
    """Collapse whitespace (newlines included) to single spaces."""
    return re.sub(r"\s+", " ", str(text)).strip()


def balanced(text: str) -> bool:
    """Parentheses balance (the training-data parser matches them by counting)."""
    depth = 0
    for ch in text:
        depth += (ch == _OPEN) - (ch == _CLOSE)
        if depth < 0:
            return False
    return depth == 0


@dataclass
class _Block:
    subgoal: str
    actions: list[str] = field(default_factory=list)


@dataclass
class PlanBuilder:
    """Accumulates subgoals and actions; allocates ``R1, R2, ...`` in order."""

    blocks: list[_Block] = field(default_factory=list)
    n_vars: int = 0

    def subgoal(self, text: str) -> None:
        text = one_line(text)
        if not text:
            raise RuleError("empty subgoal text")
        self.blocks.append(_Block(text))

    def action(self, name: str, args: str, result: str | None = None) -> str:
        """Append ``Rn = name(args) = result`` to the current subgoal; return ``Rn``.

        ``result=None`` writes no result (web actions). Raises ``RuleError`` for text the grammar cannot carry.
        """
        if not self.blocks:
            raise RuleError("action before any subgoal")
        args = one_line(args)
        if not balanced(args):
            raise RuleError(f"unbalanced parentheses in action arguments {args!r}")
        self.n_vars += 1
        var = f"R{self.n_vars}"
        line = f"{var} = {name}({args})"
        if result is not None:
            result = one_line(result)
            if not result:
                raise RuleError(f"empty result for {line}")
            line += f" = {result}"
        self.blocks[-1].actions.append(line)
        return var

    @property
    def n_actions(self) -> int:
        return sum(len(b.actions) for b in self.blocks)

    def render(self) -> str:
        """``Subgoal k: ...`` / ``Action k-j: ...`` blocks separated by a blank line."""
        parts = []
        for k, block in enumerate(self.blocks, 1):
            if not block.actions:
                raise RuleError(f"subgoal {k} has no action")
            lines = [f"Subgoal {k}: {block.subgoal}"]
            lines += [f"Action {k}-{j}: {a}" for j, a in enumerate(block.actions, 1)]
            parts.append("\n".join(lines))
        if not parts:
            raise RuleError("no subgoal")
        return "\n\n".join(parts)
