"""Rule conversion of Mind2Web: each ``action_reprs`` entry becomes one subgoal with one CLICK / TYPE / SELECT.

``"[combobox]  Departing from -> TYPE: ATLANTA"`` as the third step gives::

    Subgoal 3: Type ATLANTA in Departing from.
    Action 3-1: R3 = TYPE(R2, QUERY: Type ATLANTA in Departing from, TEXT: ATLANTA)

The first action acts on ``Env`` (the initial page), later ones on the previous result, as in the original's
annotations. Web actions carry no result (the training-data parser ignores it).

HOVER and ENTER steps become CLICK, as Mind2Web's own ``op`` field maps them. Mind2Web cuts long element texts
with ``...``, which can leave a bracket open (``Pick-up & Return Location (ZIP, City or Airport) (...``); such a cut
fragment is dropped and any other unmatched bracket removed, so that every action parses with the evaluation's
action grammar (``lumos.formats.actions``), which requires balanced brackets.

Exercise: ``pytest tests/conversion/test_conv_rule.py``.
"""

from __future__ import annotations

import re

from lumos.conversion.rule_plan import PlanBuilder, RuleError, one_line
from lumos.conversion.sources import SourceRecord

_REPR = re.compile(r"^\[(?P<tag>[^\]]*)\]\s*(?P<text>.*?)\s*->\s*(?P<op>[A-Z]+)(?::\s*(?P<value>.*))?$", re.S)
_AS_CLICK = ("HOVER", "ENTER")  # Mind2Web's op field maps these original operations to CLICK
_PAIRS = {")": "(", "]": "[", "}": "{"}
_CUT = re.compile(r"\s*[(\[{][^()\[\]{}]*\.\.\.$")


def balance_brackets(text: str) -> str:
    """``text`` with a trailing cut-off bracket fragment (``"(ZIP, Ci..."``) dropped and other unmatched brackets
    removed; balanced text is returned unchanged."""
    if _balanced(text):
        return text
    text = _CUT.sub("", text)
    stack: list[int] = []
    drop: set[int] = set()
    for i, ch in enumerate(text):
        if ch in "([{":
            stack.append(i)
        elif ch in _PAIRS:
            if stack and text[stack[-1]] == _PAIRS[ch]:
                stack.pop()
            else:
                drop.add(i)
    drop.update(stack)
    return one_line("".join(ch for i, ch in enumerate(text) if i not in drop))


def _balanced(text: str) -> bool:
    stack: list[str] = []
    for ch in text:
        if ch in "([{":
            stack.append(ch)
        elif ch in _PAIRS and (not stack or stack.pop() != _PAIRS[ch]):
            return False
    return not stack


def parse_action_repr(text: str) -> tuple[str, str, str, str]:
    """``"[tag]  element text -> OP: value"`` -> ``(tag, element text, OP, value)``, brackets balanced, HOVER and
    ENTER as CLICK. Raises ``RuleError``."""
    m = _REPR.match(text.strip())
    if not m:
        raise RuleError(f"action repr {text!r} is not '[tag] text -> OP[: value]'")
    op = m.group("op")
    if op in _AS_CLICK:
        op = "CLICK"
    if op not in ("CLICK", "TYPE", "SELECT"):
        raise RuleError(f"unsupported operation {op} in {text!r}")
    value = balance_brackets(one_line(m.group("value") or "")) if op != "CLICK" else ""
    return m.group("tag").strip(), balance_brackets(one_line(m.group("text"))), op, value


def _describe(tag: str, text: str, op: str, value: str) -> str:
    target = text or f"the {tag or 'element'}"
    if op == "CLICK":
        return f"Click on {target}"
    if not value:
        raise RuleError(f"{op} without a value on {target!r}")
    return f"{'Type' if op == 'TYPE' else 'Select'} {value} in {target}"


def convert_mind2web(record: SourceRecord) -> str:
    """The subgoal plan of a Mind2Web task. Raises ``RuleError`` for an empty or unparsable action list."""
    reprs = record.raw.get("action_reprs") or []
    if not reprs:
        raise RuleError("no action_reprs")
    plan = PlanBuilder()
    env = "Env"
    for item in reprs:
        tag, text, op, value = parse_action_repr(str(item))
        query = _describe(tag, text, op, value)
        plan.subgoal(query + ".")
        args = f"{env}, QUERY: {query}" + (f", TEXT: {value}" if op != "CLICK" else "")
        env = plan.action(op, args)
    return plan.render()
