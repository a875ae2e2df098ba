"""Text-level handling of model-written maths: normalisation, a token whitelist, R-variable values.

Nothing here imports sympy or evaluates anything. ``check_math`` is the gate every formula passes
(in the main process, and again inside the sympy worker) before sympy's ``parse_expr`` sees it:

    >>> check_math("40% * $1,200 + 2x^2")
    '(40/100) * 1200 + 2x^2'
    >>> check_math("().__class__")
    Traceback (most recent call last):
    MathTextError: ...

Only numbers, identifiers that do not start with ``_`` (no dunders, no keywords), the arithmetic
and comparison operators and parentheses pass; attribute access (``.``), subscripts, strings,
lambdas and statements do not. Since ``parse_expr`` turns the surviving identifiers into sympy
symbols or whitelisted functions, no Python object outside that whitelist is reachable.

Exercise: ``pytest tests/tools/test_math.py``.
"""

from __future__ import annotations

import io
import keyword
import re
import tokenize
from collections.abc import Mapping
from typing import Any

MAX_LENGTH = 1000
MAX_NUMBER_DIGITS = 100

#: Function and constant names the formula may use (mapped to sympy objects by ``lumos.tools.symbolic``).
FUNCTIONS = frozenset(
    {
        "sqrt", "cbrt", "root", "exp", "log", "ln", "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh",
        "tanh", "Abs", "abs", "floor", "ceiling", "ceil", "factorial", "binomial", "gcd", "lcm", "Min", "Max",
        "min", "max", "Mod", "mod", "round", "pi", "E", "oo",
    }
)  # fmt: skip
_OPS = frozenset({"+", "-", "*", "/", "**", "//", "%", "^", "(", ")", ",", "<", ">", "<=", ">=", "==", "!=", "="})
_UNICODE = {"×": "*", "÷": "/", "−": "-", "–": "-", "·": "*", "⋅": "*", "≤": "<=", "≥": ">=", "≠": "!="}
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_PERCENT_OF = re.compile(r"(\d+(?:\.\d+)?)\s*%\s*of\b")
_PERCENT = re.compile(r"(\d+(?:\.\d+)?)\s*%(?!\s*[\w(])")
_EQUALS = re.compile(r"(?<![<>=!])=(?!=)")
_R_CALL = re.compile(r"\bR\d+\(")
_ANSWER = re.compile(r"Answer:\s*(.*)$", re.S)


class MathTextError(ValueError):
    """A formula outside the accepted grammar. The message quotes it."""


def normalise(text: str) -> str:
    """Unicode operators to ASCII, no ``$``, no thousands separators, ``40%`` -> ``(40/100)``."""
    for a, b in _UNICODE.items():
        text = text.replace(a, b)
    text = text.replace("$", "").replace("\n", " ").strip()
    text = _THOUSANDS.sub("", text)
    text = _PERCENT_OF.sub(r"(\1/100)*", text)
    return _PERCENT.sub(r"(\1/100)", text)


def check_math(text: str) -> str:
    """Normalise ``text`` and check it against the token whitelist. Returns the normalised text.

    Raises:
        MathTextError: empty, too long, or containing a token outside the whitelist.
    """
    if not isinstance(text, str):
        raise MathTextError(f"formula must be text, got {type(text).__name__}")
    text = normalise(text)
    if not text:
        raise MathTextError("empty formula")
    if len(text) > MAX_LENGTH:
        raise MathTextError(f"formula longer than {MAX_LENGTH} characters: {text[:80]!r}...")
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError) as e:
        raise MathTextError(f"cannot tokenise {text!r}: {e}") from None
    for tok in tokens:
        kind, s = tok.type, tok.string
        if kind in (tokenize.NEWLINE, tokenize.NL, tokenize.ENDMARKER):
            continue
        if kind == tokenize.NUMBER:
            if len(s) > MAX_NUMBER_DIGITS:
                raise MathTextError(f"number too long in {text!r}")
        elif kind == tokenize.NAME:
            if s.startswith("_") or not s.isascii() or (keyword.iskeyword(s) and s not in ("True", "False")):
                raise MathTextError(f"name {s!r} is not allowed in a formula: {text!r}")
        elif kind == tokenize.OP:
            if s not in _OPS:
                raise MathTextError(f"operator {s!r} is not allowed in a formula: {text!r}")
        elif kind == tokenize.ERRORTOKEN and s in ("!", " "):
            continue
        else:
            raise MathTextError(f"token {s!r} is not allowed in a formula: {text!r}")
    return text


def is_equation(text: str) -> bool:
    """True when ``text`` holds a single ``=`` (not ``==``, ``<=``, ``>=``, ``!=``)."""
    return bool(_EQUALS.search(text))


def split_equation(text: str) -> tuple[str, str]:
    """``"L = R"`` -> ``("L", "R")``. Raises ``MathTextError`` unless there is exactly one ``=``."""
    parts = _EQUALS.split(text)
    if len(parts) != 2:
        raise MathTextError(f"expected one '=' in equation {text!r}")
    return parts[0].strip(), parts[1].strip()


def split_top_level(text: str, sep: str = ",") -> list[str]:
    """Split on ``sep`` outside brackets; parts stripped, empty parts dropped."""
    parts, depth, cur = [], 0, []
    for ch in text:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth = max(0, depth - 1)
        if ch == sep and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return [p.strip() for p in parts if p.strip()]


def strip_brackets(text: str) -> str:
    """Remove one pair of brackets enclosing the whole text (``[1, 2]`` -> ``1, 2``)."""
    t = text.strip()
    if len(t) >= 2 and t[0] + t[-1] in ("()", "[]", "{}") and _closing(t, 0) == len(t) - 1:
        return t[1:-1].strip()
    return t


def _closing(text: str, start: int) -> int:
    depth = 0
    for i in range(start, len(text)):
        if text[i] in "([{":
            depth += 1
        elif text[i] in ")]}":
            depth -= 1
            if depth == 0:
                return i
    return -1


def answer_text(value: Any) -> str:
    """The text a later action should see for ``value``.

    A QA-style result ``"Question: ...; Answer: 16."`` gives ``"16"``; lists and tuples are joined
    with ``", "``; anything else is ``str(value)`` stripped.
    """
    if isinstance(value, (list, tuple)):
        return ", ".join(answer_text(v) for v in value)
    text = str(value).strip()
    m = _ANSWER.search(text) if "Question:" in text else None
    if m:
        text = m.group(1).strip()
        if text.endswith(".") and not text.endswith(".."):
            text = text[:-1].rstrip()
    return text


def substitute(text: str, values: Mapping[str, Any], *, wrap: str = "({})") -> str:
    """Replace every known ``R<n>`` (whole word) by its ``answer_text``, wrapped by ``wrap``.

    Values that are equations (``x + 2 = 5``) are inserted without the wrapper, so that
    ``SolveEquation(R3)`` receives a bare equation.
    """

    def repl(m: re.Match[str]) -> str:
        key = m.group(0)
        if key not in values:
            return key
        v = answer_text(values[key])
        return v if is_equation(v) else wrap.format(v)

    return re.sub(r"\bR\d+\b", repl, text)


def find_applications(text: str) -> list[tuple[int, int, str, str]]:
    """``R<n>(args)`` occurrences: (start, end, variable, args) with ``text[start:end]`` the whole call."""
    out = []
    for m in _R_CALL.finditer(text):
        open_idx = m.end() - 1
        close = _closing(text, open_idx)
        if close < 0:
            raise MathTextError(f"unclosed parenthesis after {m.group(0)!r} in {text!r}")
        out.append((m.start(), close + 1, m.group(0)[:-1], text[open_idx + 1 : close]))
    return out


def split_application_args(args: str) -> tuple[list[str], dict[str, str]]:
    """``"R5, R6"`` -> positional; ``"n=2, m=3"`` -> keyword (symbol name -> value text)."""
    positional: list[str] = []
    keyword_args: dict[str, str] = {}
    for part in split_top_level(args):
        m = re.fullmatch(r"([A-Za-z][A-Za-z0-9_]*)\s*=\s*(?!=)(.+)", part)
        if m:
            keyword_args[m.group(1)] = m.group(2).strip()
        else:
            positional.append(part)
    return positional, keyword_args
