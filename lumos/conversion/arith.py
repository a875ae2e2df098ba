"""Exact arithmetic for the rule backend: parse ``+ - * / ( )`` over decimal numbers into Fractions.

No ``eval``: a small recursive-descent parser, so GSM8K's ``<<48/2=24>>`` marks and ASDiv formulas can be
checked without running untrusted text. Example::

    >>> evaluate("100-50-30-15"), format_number(parse_number("18.00")), format_number(evaluate("10/4"))
    (Fraction(5, 1), '18', '2.5')

Exercise: ``pytest tests/conversion/test_conv_rule.py``.
"""

from __future__ import annotations

import re
from fractions import Fraction

_TOKEN = re.compile(r"\s*(?:(\d+(?:\.\d*)?|\.\d+)|(.))")
_NUMBER_TEXT = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)")


class ArithmeticParseError(ValueError):
    """Text that is not an arithmetic expression over numbers."""


def _tokens(expr: str) -> list[str]:
    out: list[str] = []
    for m in _TOKEN.finditer(expr):
        num, op = m.groups()
        if num is not None:
            out.append(num)
        elif op is not None and not op.isspace():
            if op not in "+-*/()":
                raise ArithmeticParseError(f"unexpected character {op!r} in {expr!r}")
            out.append(op)
    return out


def evaluate(expr: str) -> Fraction:
    """Value of ``expr`` (numbers, ``+ - * /``, unary minus, parentheses) as an exact Fraction.

    Raises:
        ArithmeticParseError: other characters, bad syntax, or division by zero.
    """
    toks = _tokens(expr)
    pos = 0

    def peek() -> str | None:
        return toks[pos] if pos < len(toks) else None

    def take() -> str:
        nonlocal pos
        if pos >= len(toks):
            raise ArithmeticParseError(f"unexpected end of {expr!r}")
        pos += 1
        return toks[pos - 1]

    def atom() -> Fraction:
        tok = take()
        if tok == "(":
            value = additive()
            if take() != ")":
                raise ArithmeticParseError(f"missing ')' in {expr!r}")
            return value
        if tok == "-":
            return -atom()
        if tok == "+":
            return atom()
        if tok in "*/)":
            raise ArithmeticParseError(f"unexpected {tok!r} in {expr!r}")
        return Fraction(tok)

    def multiplicative() -> Fraction:
        value = atom()
        while peek() in ("*", "/"):
            op, rhs = take(), atom()
            if op == "/" and rhs == 0:
                raise ArithmeticParseError(f"division by zero in {expr!r}")
            value = value * rhs if op == "*" else value / rhs
        return value

    def additive() -> Fraction:
        value = multiplicative()
        while peek() in ("+", "-"):
            op, rhs = take(), multiplicative()
            value = value + rhs if op == "+" else value - rhs
        return value

    if not toks:
        raise ArithmeticParseError(f"empty expression {expr!r}")
    result = additive()
    if pos != len(toks):
        raise ArithmeticParseError(f"trailing {toks[pos]!r} in {expr!r}")
    return result


def parse_number(text: str) -> Fraction | None:
    """``"$1,200.50"`` -> Fraction; None when ``text`` is not a plain number (a trailing ``.`` is ignored)."""
    cleaned = text.strip().replace(",", "").lstrip("$").rstrip(".").strip()
    if not _NUMBER_TEXT.fullmatch(cleaned):
        return None
    return Fraction(cleaned)


def format_number(value: Fraction, places: int = 6) -> str:
    """Shortest decimal text: ``18``, ``0.5``, ``-2.25``; non-terminating values rounded to ``places``."""
    if value.denominator == 1:
        return str(value.numerator)
    scaled = round(value * 10**places)
    sign = "-" if scaled < 0 else ""
    whole, frac = divmod(abs(scaled), 10**places)
    digits = str(frac).rjust(places, "0").rstrip("0")
    return f"{sign}{whole}.{digits}" if digits else f"{sign}{whole}"


def close_enough(a: Fraction, b: Fraction) -> bool:
    """Equal up to the rounding found in hand-written solutions (``10/3 = 3.33``): 0.01 absolute or 1e-4 relative."""
    return abs(a - b) <= max(Fraction(1, 100), abs(b) / 10000)
