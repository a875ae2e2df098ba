"""Rule conversion of maths sources whose gold reasoning is already structured: GSM8K and ASDiv.

GSM8K: every solution line that computes something becomes a subgoal; each ``<<expr=result>>`` mark (and each
unmarked ``a op b = c`` whose arithmetic checks out) becomes a ``Calculator`` action, a mark that only states a new
number (``<<25=25>>``) a ``Define``; numbers equal to an earlier result are written as that result's R-variable. The line ``Natalia sold 48+24 = <<48+24=72>>72 clips ...`` gives::

    Subgoal 2: Natalia sold 48+24 clips altogether in April and May.
    Action 2-1: R2 = Calculator(48+R1) = 72

The plan must end in the gold answer (``#### 72``), else the record fails with the reason. ASDiv: the formula
``(9-6)*2=6`` (units stripped, ``;``-separated equations in order) becomes one Calculator action per equation.

Exercise: ``pytest tests/conversion/test_conv_rule.py``.
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import NamedTuple

from lumos.conversion.arith import ArithmeticParseError, close_enough, evaluate, format_number, parse_number
from lumos.conversion.rule_plan import PlanBuilder, RuleError, one_line
from lumos.conversion.sources import SourceRecord

_NUM = r"(?:\d[\d,]*(?:\.\d+)?|\.\d+)"
_MARK = re.compile(r"(?P<eq>\s*=\s*)?(?P<dollar>\$)?<<(?P<body>[^<>]*)>>(?P<shown>-?" + _NUM + r")?")
_OPERAND = r"\(*-?\$?" + _NUM + r"\)*"
_PLAIN = re.compile(
    r"(?<![\w.$])(?P<expr>" + _OPERAND + r"(?:\s*[-+*/x×÷]\s*" + _OPERAND + r")+)"
    r"\s*=\s*\$?(?P<res>-?" + _NUM + r")(?![\d.]*\d)"
)
_NUMBER_TOKEN = re.compile(r"(?<![\d.R])(\d+(?:\.\d+)?|\.\d+)(?![\d.])")


class _Results:
    """Values computed so far -> the latest R-variable holding each."""

    def __init__(self) -> None:
        self.by_value: dict[Fraction, str] = {}
        self.last: tuple[str, Fraction] | None = None

    def substitute(self, expr: str) -> str:
        """Replace numbers equal to an earlier result by its variable."""

        def repl(m: re.Match[str]) -> str:
            value = Fraction(m.group(1))
            return self.by_value.get(value, m.group(1))

        return _NUMBER_TOKEN.sub(repl, expr)

    def add(self, var: str, value: Fraction) -> None:
        self.by_value[value] = var
        self.last = (var, value)


def _normalise_expr(expr: str) -> str:
    return expr.replace("×", "*").replace("÷", "/").replace("x", "*").replace(",", "").replace("$", "").strip()


class _Computation(NamedTuple):
    start: int
    end: int
    expr: str  # "" for a mark without an operator (``<<8=8>>8``), which only states a number
    result: str
    replacement: str  # what the subgoal text shows instead of the computation


def _computations(line: str) -> list[_Computation]:
    """Each mark / checked plain equation of a solution line, in line order.

    The subgoal text drops the result: nothing replaces ``= <<48/2=24>>24`` after a written-out ``48/2``, the
    expression replaces a bare mark (``made $<<5*3=15>>15`` -> ``made $5*3``), and a mark without an operator
    keeps its number.
    """
    found = []
    masked = list(line)
    for m in _MARK.finditer(line):
        body = m.group("body")
        if "=" not in body:
            raise RuleError(f"calculator mark <<{body}>> has no '='")
        expr, result = body[: body.rfind("=")], body[body.rfind("=") + 1 :]
        if not re.search(r"\d\s*[-+*/]", expr):
            expr, replacement = "", (m.group("eq") or "") + (m.group("dollar") or "") + (m.group("shown") or result)
        else:
            replacement = "" if m.group("eq") else (m.group("dollar") or "") + expr.strip()
        found.append(_Computation(m.start(), m.end(), expr, result, replacement))
        masked[m.start() : m.end()] = "\0" * (m.end() - m.start())
    for m in _PLAIN.finditer("".join(masked)):
        expr, result = m.group("expr"), m.group("res")
        try:
            ok = close_enough(evaluate(_normalise_expr(expr)), parse_number(result) or Fraction(-(10**18)))
        except ArithmeticParseError:
            ok = False
        if ok:
            found.append(_Computation(m.start(), m.end(), expr, result, expr.strip()))
    return sorted(found)


def _subgoal_text(line: str, comps: list[_Computation]) -> str:
    text = line
    for c in sorted(comps, reverse=True):
        text = text[: c.start] + c.replacement + text[c.end :]
    text = one_line(text)
    text = re.sub(r"\s+([.,;:!?])", r"\1", text)
    if not text:
        return "Calculate the next quantity."
    return text if text[-1] in ".?!" else text + "."


def _calculator(plan: PlanBuilder, results: _Results, expr: str, result_text: str, where: str) -> None:
    expr = _normalise_expr(expr)
    stated = parse_number(result_text)
    if stated is None:
        raise RuleError(f"{where}: result {result_text!r} of {expr!r} is not a number")
    try:
        value = evaluate(expr)
    except ArithmeticParseError as e:
        raise RuleError(f"{where}: cannot evaluate {expr!r}: {e}") from None
    if not close_enough(value, stated):
        raise RuleError(f"{where}: {expr} evaluates to {format_number(value)}, not {result_text}")
    var = plan.action("Calculator", results.substitute(expr), format_number(stated))
    results.add(var, stated)


def _actions_of(comps: list[_Computation], results: _Results) -> list[_Computation]:
    """The computations that become actions: every calculation, and a stated number not yet computed
    (``Define``); a number restating an earlier result adds nothing."""
    out = []
    for c in comps:
        value = parse_number(c.result)
        if c.expr or (value is not None and value not in results.by_value):
            out.append(c)
    return out


def _finish(plan: PlanBuilder, results: _Results, gold: str | None) -> str:
    if results.last is None:
        raise RuleError("no calculation found")
    gold_value = parse_number(gold or "")
    if gold_value is None:
        raise RuleError(f"gold answer {gold!r} is not a number")
    if results.last[1] != gold_value:
        raise RuleError(f"last result {format_number(results.last[1])} differs from the gold answer {gold}")
    return plan.render()


def convert_gsm8k(record: SourceRecord) -> str:
    """The subgoal plan of a GSM8K record (see the module docstring). Raises ``RuleError``."""
    reasoning = str(record.raw["answer"]).split("####")[0]
    plan, results = PlanBuilder(), _Results()
    for n, line in enumerate(reasoning.splitlines(), 1):
        line = line.split(" ** ", 1)[-1] if " ** " in line else line  # Socratic lines: drop the sub-question
        comps = _computations(line)
        actions = _actions_of(comps, results)
        if not actions:
            continue
        plan.subgoal(_subgoal_text(line, comps))
        for c in actions:
            if c.expr:
                _calculator(plan, results, c.expr, c.result, f"line {n}")
            else:
                value = parse_number(c.result)
                assert value is not None  # _actions_of keeps numbers only
                results.add(plan.action("Define", format_number(value), format_number(value)), value)
    return _finish(plan, results, record.ans)


_UNIT = re.compile(r"\(\s*[A-Za-z][^()]*\)")


def _question_goal(question: str) -> str:
    q = one_line(question).rstrip("?.! ")
    if re.match(r"(?i)(how|what|which|who|when|where|find)\b", q):
        return f"Calculate {q[0].lower()}{q[1:]}."
    return f"Answer the question: {q}."


def convert_asdiv(record: SourceRecord) -> str:
    """One Calculator action per equation of the ASDiv formula; the last result must equal the answer."""
    formula = str(record.raw.get("formula") or record.raw.get("solution") or "")
    equations = [e for e in (part.strip() for part in formula.split(";")) if e]
    if not equations:
        raise RuleError("empty formula")
    plan, results = PlanBuilder(), _Results()
    question = str(record.raw.get("question") or record.task)
    for k, eq in enumerate(equations, 1):
        eq = _UNIT.sub(" ", eq)
        if eq.count("=") != 1:
            raise RuleError(f"equation {eq!r} is not 'expression = number'")
        lhs, rhs = eq.split("=")
        rhs_num = re.match(r"\s*(-?" + _NUM + r")", rhs)
        if not rhs_num or not re.fullmatch(r"[\d\s.+\-*/()]+", lhs):
            raise RuleError(f"equation {eq!r} is not arithmetic")
        last = k == len(equations)
        lhs = lhs.replace(" ", "")
        plan.subgoal(_question_goal(question) if last else f"Calculate {lhs}.")
        _calculator(plan, results, lhs, rhs_num.group(1), f"formula {formula!r}")
    return _finish(plan, results, record.ans)
