"""The action grammar the grounding module writes, and the converted-annotation line form.

A grounding output is actions joined by ``"; "``::

    R1 = KnowledgeQuery(Ada Lovelace); R2 = ParagraphRetrieve(R1, Query: Who was Ada's father?)

Each action is ``<vars> = <Name>(<args>)``: ``vars`` one name or a ``", "`` list (``R5, R6 =``),
``args`` the raw text inside the outer parentheses (nested parentheses and brackets allowed,
labels such as ``Query:`` kept verbatim). ``Output = R9`` (no call) is an assignment with an empty
name. Converted GPT-4 annotations add a prefix and the result: ``Action 1-2: R2 = Name(args) = result``.

``render_actions(parse_actions(s)) == s`` for well-formed lines. Malformed input raises
``ActionParseError`` (a ``ValueError``) quoting the text, never anything else.

Exercise: ``pytest tests/formats/test_actions.py``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

ACTION_SEPARATOR = "; "
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_R_VAR = re.compile(r"\bR(\d+)\b")
_CONVERTED_PREFIX = re.compile(r"\s*Action\s+\d+\s*-\s*\d+\s*:\s*")
_OPEN, _CLOSE = "([{", ")]}"


class ActionParseError(ValueError):
    """A line that is not in the action grammar. The message quotes the offending text."""


@dataclass(frozen=True)
class Action:
    """``variables = name(args)``; ``name == ""`` means a plain assignment ``variables = args``."""

    variables: tuple[str, ...]
    name: str
    args: str

    def render(self) -> str:
        lhs = ", ".join(self.variables)
        return f"{lhs} = {self.name}({self.args})" if self.name else f"{lhs} = {self.args}"

    @property
    def referenced_variables(self) -> list[str]:
        """``R<n>`` variables mentioned in the arguments, in order of first mention."""
        seen: list[str] = []
        for m in _R_VAR.finditer(self.args):
            if m.group(0) not in seen:
                seen.append(m.group(0))
        return seen


def _split_top_level(text: str, sep: str) -> list[str]:
    """Split ``text`` on ``sep`` outside any bracket pair; raise on unbalanced brackets."""
    parts, depth, start, i = [], 0, 0, 0
    while i < len(text):
        ch = text[i]
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE:
            depth -= 1
            if depth < 0:
                raise ActionParseError(f"unbalanced {ch!r} at column {i} in action text {text!r}")
        elif depth == 0 and text.startswith(sep, i):
            parts.append(text[start:i])
            i += len(sep)
            start = i
            continue
        i += 1
    if depth != 0:
        raise ActionParseError(f"unclosed bracket in action text {text!r}")
    parts.append(text[start:])
    return parts


def _matching_paren(text: str, open_idx: int, opening: str = _OPEN, closing: str = _CLOSE) -> int:
    """Index of the bracket closing the one at ``open_idx``, or -1 if it never closes."""
    depth = 0
    for i in range(open_idx, len(text)):
        if text[i] in opening:
            depth += 1
        elif text[i] in closing:
            depth -= 1
            if depth == 0:
                return i
    return -1


def _parse_variables(lhs: str, whole: str) -> tuple[str, ...]:
    names = tuple(lhs.split(", "))
    for n in names:
        if not _IDENT.match(n):
            raise ActionParseError(f"bad variable name {n!r} in action {whole!r}")
    return names


def parse_action(text: str) -> Action:
    """Parse one action (no ``"; "``-joined list). Raises ``ActionParseError``."""
    if not isinstance(text, str):
        raise ActionParseError(f"action must be a string, got {type(text).__name__}: {text!r}")
    eq = text.find(" = ")
    if eq <= 0:
        raise ActionParseError(f"expected '<vars> = <Name>(<args>)' but found no ' = ' in {text!r}")
    variables = _parse_variables(text[:eq], text)
    rhs = text[eq + 3 :]
    paren = rhs.find("(")
    if paren == 0 and _matching_paren(rhs, 0) == len(rhs) - 1:
        # ``R4 = (R3)``: the training files' form of an assignment (``Output = (R9)`` renamed), read as ``R4 = R3``
        inner = rhs[1:-1].strip()
        if inner:
            return Action(variables=variables, name="", args=inner)
    name = rhs[:paren] if paren >= 0 else ""
    if paren < 0 or not _IDENT.match(name):
        # ``Output = R9``: an assignment, allowed only without brackets that could hide a call.
        if not rhs or rhs != rhs.strip() or any(c in rhs for c in _OPEN + _CLOSE) or " = " in rhs:
            raise ActionParseError(f"expected '<Name>(<args>)' after ' = ' in {text!r}")
        return Action(variables=variables, name="", args=rhs)
    close = _matching_paren(rhs, paren)
    if close != len(rhs) - 1:
        raise ActionParseError(f"the call to {name} must end at its closing parenthesis in {text!r}")
    return Action(variables=variables, name=name, args=rhs[paren + 1 : close])


def parse_actions(text: str, *, split: Callable[[str], list[str]] | None = None,
                  parse_one: Callable[[str], Action] = parse_action) -> list[Action]:
    """Parse a grounding output: actions joined by ``"; "``. Raises ``ActionParseError`` naming the action.

    ``split`` / ``parse_one`` let another grammar reuse the loop (InterCode-SQL's ``R1 = SHOW TABLES; ...``).
    """
    if not isinstance(text, str):
        raise ActionParseError(f"actions must be a string, got {type(text).__name__}: {text!r}")
    if not text.strip():
        raise ActionParseError(f"no action in {text!r}")
    parts = split(text) if split is not None else _split_top_level(text, ACTION_SEPARATOR)
    actions = []
    for k, part in enumerate(parts, 1):
        try:
            actions.append(parse_one(part))
        except ActionParseError as e:
            raise ActionParseError(f"action {k} of {text!r}: {e}") from None
    return actions


def render_actions(actions: Iterable[Action]) -> str:
    """Inverse of ``parse_actions``: ``"; "``-joined ``vars = Name(args)``."""
    return ACTION_SEPARATOR.join(a.render() for a in actions)


def parse_converted_action(line: str, *, web: bool = False) -> tuple[Action, str]:
    """Parse a converted-annotation line ``Action i-j: <vars> = <Name>(<args>) = <result>``.

    Reproduces the original training-data parser (docs/original.md, "Training files") so that training files match it
    exactly, heuristics included (parentheses are matched by counting ``(`` and ``)`` only):

    * no ``(`` at all (``Output = R9 = 40``): empty name, args between the first and last ``" = "``
      and result after the last ``" = "``, both stripped;
    * the matching ``)`` is one of the last two characters, or never comes (no result given): args
      up to the last ``)``, result = args;
    * the character two positions after the matching ``)`` is not ``=`` (unbalanced parentheses):
      args from ``(`` to one character before the last ``" = "``, result after it, stripped;
    * otherwise args inside the matched parentheses and the stripped rest after ``") ="``;
    * ``web=True``: args from the first ``(`` to the last ``)``, result empty.

    Note the original re-serialised every action as ``vars = Name(args)``, so its training targets
    write an assignment as ``Output = (R9)``; ``Action.render`` writes ``Output = R9``.

    Returns:
        The action and its result text.

    Raises:
        ActionParseError: no ``Action i-j:`` prefix, no ``" = "``, or a bad variable list.
    """
    if not isinstance(line, str):
        raise ActionParseError(f"converted action must be a string, got {type(line).__name__}: {line!r}")
    if not _CONVERTED_PREFIX.match(line):
        raise ActionParseError(f"expected 'Action i-j: ...' in converted line {line!r}")
    body_start = line.find(":") + 2
    eq = line.find(" = ", body_start)
    if eq < 0:
        raise ActionParseError(f"no ' = ' after the variables in converted line {line!r}")
    variables = _parse_variables(line[body_start:eq], line)
    last_eq = line.rfind(" = ")
    open_idx = line.find("(", eq)
    if open_idx < 0:
        if last_eq == eq:
            raise ActionParseError(f"no call and no result in converted line {line!r}")
        return Action(variables, "", line[eq + 3 : last_eq].strip()), line[last_eq + 3 :].strip()
    name = line[eq + 3 : open_idx]
    if web:
        close = line.rfind(")")
        if close < open_idx:
            raise ActionParseError(f"no closing parenthesis in converted line {line!r}")
        return Action(variables, name, line[open_idx + 1 : close]), ""
    close = _matching_paren(line, open_idx, "(", ")")
    if close < 0 or close + 2 >= len(line):
        args = line[open_idx + 1 : line.rfind(")")]
        return Action(variables, name, args), args
    if line[close + 2] != "=":
        if last_eq <= open_idx:
            raise ActionParseError(f"unbalanced parentheses and no result in converted line {line!r}")
        return Action(variables, name, line[open_idx + 1 : last_eq - 1]), line[last_eq + 3 :].strip()
    return Action(variables, name, line[open_idx + 1 : close]), line[close + 3 :].strip()


def render_training_action(action: Action) -> str:
    """The original's training-target serialisation: always ``vars = Name(args)`` (``Output = (R9)``)."""
    return f"{', '.join(action.variables)} = {action.name}({action.args})"


def substitute_variables(text: str, values: Mapping[str, str], *, wrap: str = "{}") -> str:
    """Replace every ``R<n>`` in ``text`` whose value is known by ``wrap.format(value)``.

    Unknown variables are left as written. ``wrap="({})"`` parenthesises values for arithmetic.
    """

    def repl(m: re.Match[str]) -> str:
        key = m.group(0)
        return wrap.format(values[key]) if key in values else key

    return _R_VAR.sub(repl, text)


def highest_r_variable(names: Iterable[str]) -> str | None:
    """The ``R<n>`` with the largest n among ``names`` (None if there is none)."""
    best: tuple[int, str] | None = None
    for n in names:
        m = re.fullmatch(r"R(\d+)", n)
        if m and (best is None or int(m.group(1)) > best[0]):
            best = (int(m.group(1)), n)
    return best[1] if best else None
