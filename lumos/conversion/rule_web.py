"""Rule conversion of Mind2Web: each ``action_reprs`` entry becomes one subgoal with one CLICK / TYPE / SELECT.

``"[combobox]  Departing from -> TYPE: ATLANTA"`` as the third step gives::

    Subgoal 3: Type ATLANTA in Departing from.
    Action 3-1: R3 = TYPE(R2, QUERY: Type ATLANTA in Departing from, TEXT: ATLANTA)

The first action acts on ``Env`` (the initial page), later ones on the previous result, as in the original's
annotations. Web actions carry no result (the training-data parser ignores it).

Exercise: ``pytest tests/conversion/test_conv_rule.py``.
"""

from __future__ import annotations

import re

from lumos.conversion.rule_plan import PlanBuilder, RuleError, one_line
from lumos.conversion.sources import SourceRecord

_REPR = re.compile(r"^\[(?P<tag>[^\]]*)\]\s*(?P<text>.*?)\s*->\s*(?P<op>[A-Z]+)(?::\s*(?P<value>.*))?$", re.S)


def parse_action_repr(text: str) -> tuple[str, str, str, str]:
    """``"[tag]  element text -> OP: value"`` -> ``(tag, element text, OP, value)``. Raises ``RuleError``."""
    m = _REPR.match(text.strip())
    if not m:
        raise RuleError(f"action repr {text!r} is not '[tag] text -> OP[: value]'")
    op = m.group("op")
    if op not in ("CLICK", "TYPE", "SELECT"):
        raise RuleError(f"unsupported operation {op} in {text!r}")
    return m.group("tag").strip(), one_line(m.group("text")), op, one_line(m.group("value") or "")


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
