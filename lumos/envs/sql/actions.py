"""The grounding actions of InterCode-SQL, in the form ``instruction_icode_sql``'s examples use.

Those examples write each action as ``R<k> = <SQL text>``, not as a call::

    R1 = SHOW TABLES; R2 = DESCRIBE airlines; R5 = AirportName FROM airports;
    R6 = AirportCode NOT IN (SELECT SourceAirport FROM Flights UNION SELECT DestAirport FROM Flights);
    R7 = SELECT AirportName FROM airports WHERE AirportCode NOT IN (SELECT SourceAirport FROM Flights ...)

The operation is the statement's leading keyword(s): ``SHOW TABLES``, ``DESCRIBE`` (also ``DESC t`` and ``SHOW
COLUMNS FROM t``) and ``SELECT`` (also ``WITH ...`` and ``(SELECT ...``) are executed by the tools of the same
name; any other text is a clause of the final query (selection objects, a condition, ``ORDER BY ...``) and is
carried as the variable's value without being executed (``name == ""``, an assignment for the executor). Other
statements (``SHOW DATABASES``, ``USE db``) get their keyword as name and no tool: the executor reports an unknown
action. ``SqlAction.render()`` gives the text back verbatim, so ``render_sql_actions(parse_sql_actions(s)) == s``.

Exercise: ``pytest tests/envs/test_sql_env.py``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from lumos.formats.actions import ACTION_SEPARATOR, Action, ActionParseError, parse_actions

SHOW_TABLES, DESCRIBE, SELECT = "SHOW TABLES", "DESCRIBE", "SELECT"
SQL_ACTIONS: tuple[str, ...] = (SHOW_TABLES, DESCRIBE, SELECT)
_LHS = re.compile(r"\s*(?P<vars>[A-Za-z_]\w*(?:\s*,\s*[A-Za-z_]\w*)*)\s*=\s")
_KINDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (SHOW_TABLES, re.compile(r"SHOW\s+(?:FULL\s+)?TABLES\b", re.I)),
    (DESCRIBE, re.compile(r"(?:DESCRIBE|DESC)\s+\S|SHOW\s+(?:FULL\s+)?(?:COLUMNS|FIELDS)\s+(?:FROM|IN)\s", re.I)),
    (SELECT, re.compile(r"(?:\(\s*)*(?:SELECT|WITH)\b", re.I)),
    ("SHOW", re.compile(r"SHOW\b", re.I)),
    ("USE", re.compile(r"USE\s", re.I)),
)
_R_VAR = re.compile(r"\bR\d+\b")


@dataclass(frozen=True)
class SqlAction(Action):
    """``variables = <SQL text>``: ``name`` is the operation (``SHOW TABLES`` / ``DESCRIBE`` / ``SELECT``, or ``""``
    for a clause carried as a value) and ``args`` the text verbatim."""

    def render(self) -> str:
        return f"{', '.join(self.variables)} = {self.args}"


def sql_operation(text: str) -> str:
    """The operation of an action's right-hand side: a tool name, ``SHOW`` / ``USE``, or ``""`` for a clause."""
    stripped = text.lstrip()
    for name, pattern in _KINDS:
        if pattern.match(stripped):
            return name
    return ""


def _split(text: str) -> list[str]:
    """Split on ``"; "`` outside quotes and brackets, where the next part starts with ``<vars> = ``."""
    parts, start, depth, quote, i = [], 0, 0, "", 0
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\" and quote != "`":
                i += 2
                continue
            if ch == quote:
                quote = ""
        elif ch in "'\"`":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(0, depth - 1)
        elif depth == 0 and text.startswith(ACTION_SEPARATOR, i) and _LHS.match(text, i + len(ACTION_SEPARATOR)):
            parts.append(text[start:i])
            start = i + len(ACTION_SEPARATOR)
            i = start
            continue
        i += 1
    parts.append(text[start:])
    return parts


def parse_sql_action(text: str) -> SqlAction:
    """One ``R<k> = <SQL text>`` action. Raises ``ActionParseError`` without ``<vars> = `` or without text."""
    m = _LHS.match(text)
    if not m:
        raise ActionParseError(f"expected '<variable> = <SQL>' in {text!r}")
    rhs = text[m.end() :].strip()
    if not rhs:
        raise ActionParseError(f"no SQL after ' = ' in {text!r}")
    names = tuple(v.strip() for v in m.group("vars").split(","))
    return SqlAction(variables=names, name=sql_operation(rhs), args=rhs)


def parse_sql_actions(text: str) -> list[SqlAction]:
    """A grounding output: ``R<k> = <SQL text>`` actions joined by ``"; "``. Raises ``ActionParseError``."""
    return parse_actions(text, split=lambda t: _split(t.strip()), parse_one=parse_sql_action)  # type: ignore[return-value]


def render_sql_actions(actions: Iterable[Action]) -> str:
    return ACTION_SEPARATOR.join(a.render() for a in actions)


def statement_text(action: Action, variables: Mapping[str, Any]) -> str:
    """The SQL to execute for ``action``: its text with every R-variable bound to text (a clause) substituted, a
    trailing ``.`` / ``;`` removed, and the operation keyword added when a call form gave only the argument
    (``DESCRIBE(airlines)`` -> ``DESCRIBE airlines``)."""
    text = action.args.strip()
    if action.name and sql_operation(text) != action.name:
        text = f"{action.name} {text}".strip()
    text = _R_VAR.sub(lambda m: str(variables[m.group(0)]) if isinstance(variables.get(m.group(0)), str) else m.group(0), text)
    text = text.rstrip()
    while text.endswith((";", ".")):
        text = text[:-1].rstrip()
    return text
