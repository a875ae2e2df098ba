"""The sympy side of the maths tools. Runs inside a sandboxed worker process (``SympyEngine``).

Every entry point takes already-substituted formula text, passes it through
``lumos.tools.mathtext.check_math`` (token whitelist) and parses it with sympy's ``parse_expr``
under an explicit ``global_dict`` (``__builtins__`` empty) and a ``local_dict`` of whitelisted
functions — never ``sympify``/``eval`` of raw text. Results are strings formatted so that the
agent and the metrics read them naturally:

    >>> calculate("18.0")                 # integers never get a ".0"
    '18'
    >>> calculate("1 - 2/5"), calculate("1/3"), calculate("(n-2)^2")
    ('0.6', '1/3', 'n^2 - 4*n + 4')
    >>> solve(["x + y = 10", "x - y = 2"], 2)
    ['6', '4']

Worker protocol (``python -m lumos.tools.symbolic``): one JSON request per stdin line
``{"id": 1, "op": "calculate", "args": ["2+2"]}``, one JSON reply per stdout line
``{"id": 1, "result": "4"}`` or ``{"id": 1, "error": "..."}``.

Exercise: ``pytest tests/tools/test_math.py``.
"""

from __future__ import annotations

import json
import re
import sys
from decimal import Decimal
from typing import Any

import sympy
from sympy.parsing.sympy_parser import (
    auto_number,
    auto_symbol,
    convert_xor,
    factorial_notation,
    implicit_multiplication_application,
    parse_expr,
    rationalize,
    repeated_decimals,
)

from lumos.tools.mathtext import MathTextError, check_math, split_top_level

_TRANSFORMS = (
    auto_symbol,
    repeated_decimals,
    auto_number,
    rationalize,
    factorial_notation,
    convert_xor,
    implicit_multiplication_application,
)


def _round(x: Any, n: Any = 0) -> Any:
    x, n = sympy.sympify(x), int(n)
    if not x.is_number:
        raise ValueError(f"round() needs a number, got {x}")
    return sympy.Rational(round(sympy.Rational(x) * 10**n), 10**n) if x.is_Rational else sympy.Float(round(float(x), n))


_LOCALS: dict[str, Any] = {
    "sqrt": sympy.sqrt, "cbrt": sympy.cbrt, "root": sympy.root, "exp": sympy.exp, "log": sympy.log,
    "ln": sympy.log, "sin": sympy.sin, "cos": sympy.cos, "tan": sympy.tan, "asin": sympy.asin,
    "acos": sympy.acos, "atan": sympy.atan, "sinh": sympy.sinh, "cosh": sympy.cosh, "tanh": sympy.tanh,
    "Abs": sympy.Abs, "abs": sympy.Abs, "floor": sympy.floor, "ceiling": sympy.ceiling, "ceil": sympy.ceiling,
    "factorial": sympy.factorial, "binomial": sympy.binomial, "gcd": sympy.gcd, "lcm": sympy.lcm,
    "Min": sympy.Min, "Max": sympy.Max, "min": sympy.Min, "max": sympy.Max, "Mod": sympy.Mod, "mod": sympy.Mod,
    "round": _round, "pi": sympy.pi, "E": sympy.E, "oo": sympy.oo, "True": sympy.true, "False": sympy.false,
}  # fmt: skip
# What the transformations above emit, and nothing else (no builtins: ``eval`` gets an empty ``__builtins__``).
_GLOBALS_TEMPLATE: dict[str, Any] = {
    "Integer": sympy.Integer, "Float": sympy.Float, "Rational": sympy.Rational, "Symbol": sympy.Symbol,
    "Function": sympy.Function, "factorial": sympy.factorial, "I": sympy.I,
}  # fmt: skip
_RELATIONS = {
    "==": sympy.Eq, "!=": sympy.Ne, "<=": sympy.Le, ">=": sympy.Ge, "<": sympy.Lt, ">": sympy.Gt, "=": sympy.Eq,
}  # fmt: skip
_REL_RE = re.compile(r"==|!=|<=|>=|<|>|=")


def parse(text: str) -> sympy.Basic:
    """Parse one expression (no relation) after the whitelist check."""
    text = check_math(text)
    global_dict = {"__builtins__": {}, **_GLOBALS_TEMPLATE}
    try:
        return parse_expr(text, local_dict=dict(_LOCALS), global_dict=global_dict, transformations=_TRANSFORMS)
    except (SyntaxError, TypeError, NameError, sympy.SympifyError) as e:
        raise MathTextError(f"cannot parse {text!r}: {type(e).__name__}: {e}") from None


def split_relations(text: str) -> tuple[list[str], list[str]]:
    """Split on top-level relation operators: ``"0 < x <= 5"`` -> (["0", "x", "5"], ["<", "<="])."""
    sides, ops, depth, start, i = [], [], 0, 0, 0
    while i < len(text):
        ch = text[i]
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif depth == 0:
            m = _REL_RE.match(text, i)
            if m:
                sides.append(text[start:i].strip())
                ops.append(m.group(0))
                i = start = m.end()
                continue
        i += 1
    sides.append(text[start:].strip())
    if any(not s for s in sides):
        raise MathTextError(f"a relation in {text!r} lacks a side")
    return sides, ops


def parse_relation(text: str) -> sympy.Basic:
    """A relation (``x > 3``, ``a = b``, ``0 < x < 5`` -> And) or, without operator, an expression."""
    sides, ops = split_relations(check_math(text))
    exprs = [parse(s) for s in sides]
    if not ops:
        return exprs[0]
    rels = [_RELATIONS[op](a, b) for op, a, b in zip(ops, exprs, exprs[1:])]
    return rels[0] if len(rels) == 1 else sympy.And(*rels)


# ------------------------------------------------------------------------------------------------
# Formatting
# ------------------------------------------------------------------------------------------------
def _terminating(q: int) -> bool:
    for p in (2, 5):
        while q % p == 0:
            q //= p
    return q == 1


def format_value(e: Any) -> str:
    """Integers as ``18`` (never ``18.0``), terminating fractions as decimals, others as ``p/q``."""
    if e is True or e is sympy.true:
        return "True"
    if e is False or e is sympy.false:
        return "False"
    e = sympy.sympify(e)
    if isinstance(e, sympy.Equality):
        return f"{format_value(e.lhs)} = {format_value(e.rhs)}"
    if e.is_Integer:
        return str(int(e))
    if e.is_Rational:
        p, q = int(e.p), int(e.q)
        if _terminating(q):
            d = Decimal(p) / Decimal(q)
            return format(d.normalize(), "f")
        return f"{p}/{q}"
    if e.is_number and not e.free_symbols:
        v = e.evalf(15)
        if v.is_real:
            f = float(v)
            if f == int(f) and abs(f) < 1e15:
                return str(int(f))
            if abs(round(f) - f) < 1e-9 * max(1.0, abs(f)):
                return str(round(f))
            s = format(f, ".10g")
            return format(Decimal(s).normalize(), "f") if "e" in s and abs(f) < 1e15 else s
        return str(e).replace("**", "^")
    return str(e).replace("**", "^")


def _simplify(e: sympy.Basic) -> sympy.Basic:
    """Expand expressions with unknowns (as WolframAlpha's "Expand"); numbers stay exact."""
    if isinstance(e, sympy.Expr) and e.free_symbols:
        return sympy.expand(e)
    return e


# ------------------------------------------------------------------------------------------------
# Operations (the worker's "ops")
# ------------------------------------------------------------------------------------------------
def calculate(text: str) -> str:
    """Evaluate a formula; a relation gives True/False; ``L = R`` gives both sides evaluated."""
    sides, ops = split_relations(check_math(text))
    if ops == ["="]:
        return f"{format_value(_simplify(parse(sides[0])))} = {format_value(_simplify(parse(sides[1])))}"
    if "=" in ops:
        raise MathTextError(f"more than one '=' in {text!r}")
    e = parse_relation(text)
    if isinstance(e, sympy.logic.boolalg.Boolean) and not isinstance(e, sympy.Expr):
        return format_value(e) if e in (sympy.true, sympy.false) else str(e)
    return format_value(_simplify(e))


def check_equation(text: str) -> str:
    """Validate ``L = R`` and return it normalised (``2*x + 3 = 7``)."""
    sides, ops = split_relations(check_math(text))
    if ops != ["="]:
        raise MathTextError(f"expected an equation 'L = R', got {text!r}")
    return f"{format_value(parse(sides[0]))} = {format_value(parse(sides[1]))}"


def apply(expr_text: str, positional: list[str], keyword_args: dict[str, str]) -> str:
    """``R1(R9)``: evaluate the expression at values; positional values fill its symbols in name order."""
    e = parse(expr_text)
    mapping: dict[sympy.Symbol, Any] = {sympy.Symbol(k): parse(v) for k, v in keyword_args.items()}
    free = sorted((s for s in e.free_symbols if s not in mapping), key=lambda s: s.name)
    if len(positional) > len(free):
        raise MathTextError(f"{len(positional)} values for the {len(free)} unknown(s) {[s.name for s in free]} of {expr_text!r}")
    mapping.update({s: parse(v) for s, v in zip(free, positional)})
    return format_value(_simplify(e.subs(mapping)))


def _pick(solutions: list[dict]) -> list[dict]:
    real = [s for s in solutions if all(v.is_real is not False for v in s.values())] or solutions
    if len(real) > 1:
        positive = [s for s in real if all(v.is_positive for v in s.values())]
        if len(positive) == 1:
            return positive
    return real


def solve(equations: list[str], n_out: int) -> list[str]:
    """Solve a system; returns ``n_out`` strings (one per output variable).

    Unknowns are the free symbols in name order. Complex solutions are dropped when real ones exist;
    among several, a unique all-positive solution wins. One output variable for one unknown with
    several remaining solutions gets them ``", "``-joined; for several unknowns it gets
    ``"x = 1, y = 2"``. An expression without ``=`` is an equation ``= 0`` (or, without unknowns,
    simply evaluated, as the original's ``SolveEquation(R2 + R4)``).
    """
    if n_out < 1:
        raise ValueError("n_out must be >= 1")
    exprs = []
    for text in equations:
        sides, ops = split_relations(check_math(text))
        if not ops:
            e = parse(text)
            if not e.free_symbols and len(equations) == 1:
                if n_out != 1:
                    raise MathTextError(f"{text!r} has no unknowns but {n_out} output variables")
                return [format_value(_simplify(e))]
            exprs.append(sympy.Eq(e, 0))
        elif ops == ["="]:
            exprs.append(sympy.Eq(parse(sides[0]), parse(sides[1])))
        else:
            raise MathTextError(f"{text!r} is not an equation (use SolveInequality for inequalities)")
    unknowns = sorted(set().union(*(e.free_symbols for e in exprs)), key=lambda s: s.name)
    if not unknowns:
        raise MathTextError(f"no unknowns in {equations!r}")
    solutions = sympy.solve(exprs, unknowns, dict=True)
    if not solutions:
        raise MathTextError(f"no solution for {equations!r}")
    chosen = _pick(solutions)
    if n_out == 1:
        if len(unknowns) == 1:
            vals = list(dict.fromkeys(format_value(s[unknowns[0]]) for s in chosen if unknowns[0] in s))
            if not vals:
                raise MathTextError(f"{unknowns[0]} is free in every solution of {equations!r}")
            return [", ".join(vals)]
        first = chosen[0]
        return [", ".join(f"{k.name} = {format_value(v)}" for k, v in sorted(first.items(), key=lambda kv: kv[0].name))]
    first = chosen[0]
    solved = [k for k in unknowns if k in first]
    if len(solved) < n_out:
        raise MathTextError(f"{n_out} output variables but only {len(solved)} unknown(s) solved in {equations!r}")
    return [format_value(first[k]) for k in solved[:n_out]]


def _format_set(s: sympy.Set, x: str) -> str:
    if s is sympy.S.EmptySet:
        return "no solution"
    if s == sympy.S.Reals:
        return "all real numbers"
    if isinstance(s, sympy.Interval):
        parts = []
        if s.start.is_finite:
            parts.append(f"{x} {'>' if s.left_open else '>='} {format_value(s.start)}")
        if s.end.is_finite:
            parts.append(f"{x} {'<' if s.right_open else '<='} {format_value(s.end)}")
        return " and ".join(parts) or "all real numbers"
    if isinstance(s, sympy.Union):
        return " or ".join(_format_set(a, x) for a in s.args)
    if isinstance(s, sympy.FiniteSet):
        return f"{x} = " + ", ".join(format_value(v) for v in s)
    return str(s)


def solve_inequality(text: str) -> str:
    """Solve one-unknown inequalities (comma-separated ones are intersected): ``2x - 1 > 5`` -> ``x > 3``."""
    rels = []
    for part in split_top_level(check_math(text)):
        r = parse_relation(part)
        if isinstance(r, sympy.And):
            rels.extend(r.args)
        elif isinstance(r, sympy.core.relational.Relational):
            rels.append(r)
        else:
            raise MathTextError(f"{part!r} is not an inequality")
    unknowns = sorted(set().union(*(r.free_symbols for r in rels)), key=lambda s: s.name)
    if len(unknowns) != 1:
        raise MathTextError(f"expected one unknown in {text!r}, found {[s.name for s in unknowns]}")
    x = unknowns[0]
    result: sympy.Set = sympy.S.Reals
    for r in rels:
        result = result.intersect(sympy.solveset(r, x, domain=sympy.S.Reals))
    return _format_set(result, x.name)


def count_sequence(first: str, second: str, last: str) -> str:
    """Number of terms of the arithmetic sequence ``first, second, ..., last``."""
    a, b, z = parse(first), parse(second), parse(last)
    if b == a:
        raise MathTextError("an arithmetic sequence needs two different first terms")
    n = sympy.simplify((z - a) / (b - a) + 1)
    if not (n.is_Integer and n >= 1):
        raise MathTextError(f"{last!r} is not a term of the sequence {first}, {second}, ...")
    return format_value(n)


def condition(cond: str, if_true: str, if_false: str) -> str:
    """``If cond, a, b``: the value of ``a`` or ``b``; ``cond`` may join relations with and/or."""
    parts = re.split(r"\s+(and|or)\s+", cond.strip())
    value = None
    op = "and"
    for i, part in enumerate(parts):
        if i % 2 == 1:
            op = part
            continue
        r = parse_relation(part)
        r = r if isinstance(r, sympy.logic.boolalg.Boolean) and not isinstance(r, sympy.Expr) else sympy.Ne(r, 0)
        r = sympy.simplify(r)
        if r not in (sympy.true, sympy.false):
            raise MathTextError(f"cannot decide the condition {part!r}")
        b = r is sympy.true
        value = b if value is None else (value and b if op == "and" else value or b)
    return calculate(if_true if value else if_false)


OPS = {
    "ping": lambda: "pong",
    "calculate": calculate,
    "check_equation": check_equation,
    "apply": apply,
    "solve": solve,
    "solve_inequality": solve_inequality,
    "count_sequence": count_sequence,
    "condition": condition,
}


def handle(request: dict[str, Any]) -> dict[str, Any]:
    """One protocol step: run ``request["op"]`` on its args; errors become ``{"error": ...}``."""
    rid = request.get("id")
    op = OPS.get(request.get("op", ""))
    if op is None:
        return {"id": rid, "error": f"unknown op {request.get('op')!r}"}
    try:
        return {"id": rid, "result": op(*request.get("args", []))}
    except MathTextError as e:
        return {"id": rid, "error": str(e)}
    # sympy raises many exception types on unusual input (PolynomialError, CoercionFailed, ...);
    # this is the boundary where untrusted text meets the library, so each becomes an error reply.
    except Exception as e:  # noqa: BLE001
        return {"id": rid, "error": f"{type(e).__name__}: {e}"}


def serve() -> None:
    """The worker loop: JSON requests on stdin, JSON replies on stdout, until EOF."""
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            request = json.loads(line)
        except json.JSONDecodeError as e:
            reply = {"id": None, "error": f"bad request: {e}"}
        else:
            reply = handle(request)
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    serve()
