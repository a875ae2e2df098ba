"""Maths tools: Calculator, SetEquation, SolveEquation, SolveInequality, Count, Code, Define.

The offline default is sympy, run in a sandboxed worker process (``SympyEngine``): formulas pass a
token whitelist here (``lumos.tools.mathtext``) and again in the worker, where sympy's
``parse_expr`` runs with an empty ``__builtins__`` and a fixed function table
(``lumos.tools.symbolic``). The worker has a per-call wall-clock limit, so ``9^9^9^9`` or a
degree-50 polynomial costs at most ``timeout_s`` and a worker restart, never a hung run. The
paper's backend, WolframAlpha, is an option (``WolframEngine``; needs an app id).

Grounding lines and what they bind (the original: docs/original.md, "Maths tools"; differences X1-X4)::

    R1 = Calculator(28 * 1/7)                       R1 = "4"
    R2 = Calculator(R1^2 + 40% * 10)                R2 = "20"          (R-variables substituted as "(value)")
    R3 = Define(n-2); R4 = Calculator(R3(64))       R4 = "62"          (Rk(args): evaluate Rk at the values)
    R5, R6 = SolveEquation(x + y = 10, x - y = 2)   R5 = "6", R6 = "4"  (unknowns in name order)
    R7 = SolveInequality(2x - 1 > 5)                R7 = "x > 3"
    R8 = Count(2^0, 2^1, 2^2)                       R8 = "3"
    R9 = Code(If R8 > 0, R8, -R8)                   R9 = "3"           (other pseudo code: LLM + sandbox)

Numbers are formatted so that ``18.0`` is ``18`` and ``3/5`` is ``0.6`` (``1/3`` stays ``1/3``).
Fixes over the original: whole-word variable substitution (``R1`` no longer matches inside
``R10``), ``Count``/``SolveInequality``/``Code`` implemented, equations and lists handled
structurally, and failures reported as ``ToolError`` instead of killing the example.

Exercise: ``pytest tests/tools/test_math.py`` and
``python -m lumos.tools.execute --domain maths "R1 = Calculator(2 - 0.5)" "R2 = Calculator(R1 / 0.25)"``.
"""

from __future__ import annotations

import importlib.metadata
import json
import logging
import os
import re
import select
import signal
import subprocess
import tempfile
import threading
import weakref
from collections.abc import Mapping
from typing import Any, Protocol

from lumos.tools.base import ToolCall, ToolError, ToolOutput
from lumos.tools.code import LLMCode
from lumos.tools.mathtext import (
    MathTextError,
    answer_text,
    check_math,
    find_applications,
    is_equation,
    split_application_args,
    split_equation,
    split_top_level,
    strip_brackets,
    substitute,
)
from lumos.tools.sandbox import Isolation, SandboxLimits, spawn_module

logger = logging.getLogger(__name__)

MATH_TOOL_NAMES: tuple[str, ...] = ("Calculator", "SetEquation", "SolveEquation", "SolveInequality", "Count", "Code", "Define")
_IF = re.compile(r"^\s*if\s+(.*)$", re.I | re.S)
_ELLIPSIS = ("...", "…")


class MathEngine(Protocol):
    """What the maths tools need from a backend: ``call(op, *args)`` with the ops of ``lumos.tools.symbolic``."""

    name: str

    def call(self, op: str, *args: Any) -> Any: ...


# ------------------------------------------------------------------------------------------------
# sympy in a sandboxed worker
# ------------------------------------------------------------------------------------------------
def _kill(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            proc.kill()
    proc.wait()
    for stream in (proc.stdin, proc.stdout):
        if stream is not None:
            try:
                stream.close()
            except OSError:
                pass


class SympyEngine:
    """sympy in a long-lived sandboxed worker (``python -m lumos.tools.symbolic``), started lazily.

    Args:
        timeout_s: wall-clock limit per call; on expiry the worker is killed (and restarted on the
            next call) and the call raises ``ToolError``.
        memory_mb: address-space limit of the worker.
        isolation: sandbox mode (see ``lumos.tools.sandbox``).
    """

    def __init__(self, *, timeout_s: float = 5.0, memory_mb: int = 1024, isolation: Isolation = "auto") -> None:
        self.name = f"sympy-{importlib.metadata.version('sympy')}"
        self.timeout_s = timeout_s
        self.memory_mb = memory_mb
        self.isolation = isolation
        self._proc: subprocess.Popen | None = None
        self._stderr: Any = None
        self._lock = threading.Lock()
        self._next_id = 0
        self._finalizer: weakref.finalize | None = None
        self.restarts = 0

    def _start(self) -> None:
        self._stderr = tempfile.TemporaryFile(mode="w+")
        limits = SandboxLimits(timeout_s=3600.0, memory_mb=self.memory_mb, tmpfs_mb=8)
        self._proc = spawn_module("lumos.tools.symbolic", limits=limits, isolation=self.isolation, stderr=self._stderr)
        self._finalizer = weakref.finalize(self, _kill, self._proc)
        self._request("ping", [], timeout_s=120.0)

    def _stop(self) -> None:
        if self._finalizer is not None:
            self._finalizer()
        self._proc = None

    def _stderr_tail(self) -> str:
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        return self._stderr.read()[-1000:].strip()

    def _request(self, op: str, args: list[Any], timeout_s: float) -> Any:
        proc = self._proc
        assert proc is not None and proc.stdin is not None and proc.stdout is not None
        self._next_id += 1
        try:
            proc.stdin.write(json.dumps({"id": self._next_id, "op": op, "args": args}) + "\n")
            proc.stdin.flush()
        except BrokenPipeError:
            tail = self._stderr_tail()
            self._stop()
            raise ToolError(f"the sympy worker is not running: {tail or 'broken pipe'}") from None
        ready, _, _ = select.select([proc.stdout], [], [], timeout_s)
        if not ready:
            self._stop()
            self.restarts += 1
            raise ToolError(f"sympy gave no answer within {timeout_s:g} s ({op} {args!r}); worker restarted")
        line = proc.stdout.readline()
        if not line:
            tail = self._stderr_tail()
            self._stop()
            self.restarts += 1
            raise ToolError(f"the sympy worker died during {op} {args!r} (memory limit?): {tail}")
        reply = json.loads(line)
        if reply.get("id") != self._next_id:
            self._stop()
            raise RuntimeError(f"sympy worker protocol out of step: sent id {self._next_id}, got {reply!r}")
        if "error" in reply:
            raise ToolError(reply["error"])
        return reply["result"]

    def call(self, op: str, *args: Any) -> Any:
        """Run one op of ``lumos.tools.symbolic.OPS``. Raises ``ToolError`` on bad input or timeout."""
        with self._lock:
            if self._proc is None or self._proc.poll() is not None:
                self._start()
            return self._request(op, list(args), self.timeout_s)

    def close(self) -> None:
        with self._lock:
            self._stop()


# ------------------------------------------------------------------------------------------------
# WolframAlpha (the paper's backend; optional, needs an app id)
# ------------------------------------------------------------------------------------------------
class WolframAlphaClient:
    """The WolframAlpha Full Results API over httpx; ``query`` returns the first result pod's plaintext.

    Like the ``wolframalpha`` package the original used, the result pod is the first pod that is
    ``primary`` or titled ``Result``; several subpods give a list. ``transport`` lets tests inject an
    ``httpx.MockTransport``.
    """

    def __init__(self, app_id: str, *, url: str = "https://api.wolframalpha.com/v2/query", timeout_s: float = 20.0,
                 transport: Any = None) -> None:  # fmt: skip
        if not app_id:
            raise ValueError("WolframAlpha needs an app id (--wolfram_app_id or WOLFRAM_API_KEY)")
        import httpx

        self.url = url
        self._client = httpx.Client(timeout=timeout_s, transport=transport, headers={"User-Agent": "lumos-tools/0.1"})
        self._app_id = app_id
        self._httpx = httpx

    def __repr__(self) -> str:  # never print the key
        return f"WolframAlphaClient(url={self.url!r})"

    def query(self, text: str) -> str | list[str]:
        try:
            r = self._client.get(self.url, params={"input": text, "appid": self._app_id, "format": "plaintext", "output": "json"})
            r.raise_for_status()
            data = r.json().get("queryresult", {})
        except (self._httpx.HTTPError, ValueError) as e:
            raise ToolError(f"WolframAlpha request for {text!r} failed: {type(e).__name__}: {e}") from e
        for pod in data.get("pods", []) if data.get("success") else []:
            if pod.get("primary") or pod.get("title") == "Result":
                texts = [sp.get("plaintext", "") for sp in pod.get("subpods", [])]
                if texts:
                    return texts[0] if len(texts) == 1 else texts
        raise ToolError(f"WolframAlpha has no result for {text!r}")


def _tidy_number(text: str) -> str:
    m = re.fullmatch(r"(-?\d+)\.0+", text.strip())
    return m.group(1) if m else text.strip()


class WolframEngine:
    """``calculate``/``solve``/``solve_inequality``/``check_equation`` through WolframAlpha as the original
    did (``Expand``/``Calculate``/``Solve`` queries); the other ops go to ``fallback`` (sympy)."""

    def __init__(self, client: WolframAlphaClient, fallback: MathEngine) -> None:
        self.client = client
        self.fallback = fallback
        self.name = "wolframalpha"

    def _text(self, q: str) -> str:
        r = self.client.query(q)
        return r[0] if isinstance(r, list) else r

    def call(self, op: str, *args: Any) -> Any:
        if op == "calculate":
            x = args[0]
            if x.strip().isdigit():
                return x.strip()
            if not re.search(r"[A-Za-z]", x):
                return _tidy_number(self._text(x))
            last: ToolError | None = None
            for prefix in ("Expand ", "Calculate ", ""):
                try:
                    result = self._text(prefix + x)
                except ToolError as e:
                    last = e
                    continue
                if "factor" in result.lower() and " (" in result:
                    result = result[: result.find(" (")]
                return _tidy_number(result)
            raise last or ToolError(f"WolframAlpha has no result for {x!r}")
        if op == "solve":
            equations, n_out = args
            result = self._text("Solve " + ", ".join(equations))
            if "±" in result:
                a, b = result.split("±", 1)
                result = f"{a} + {b}"
            values = [_tidy_number(p[p.find("=") + 1 :]) for p in result.split(" ∧ ")]
            if len(values) < n_out:
                raise ToolError(f"WolframAlpha solved {len(values)} unknown(s), {n_out} needed: {result!r}")
            return values[:n_out] if n_out > 1 else [", ".join(values)]
        if op == "solve_inequality":
            return self._text("Solve " + args[0])
        if op == "check_equation":
            return args[0]
        return self.fallback.call(op, *args)


# ------------------------------------------------------------------------------------------------
# The tools
# ------------------------------------------------------------------------------------------------
def _engine_call(engine: MathEngine, op: str, *args: Any) -> Any:
    """``engine.call`` after checking every formula here, so refusals are fast and clearly worded."""
    texts = [a for a in args if isinstance(a, str)] + [t for a in args if isinstance(a, list) for t in a]
    for text in texts:
        try:
            check_math(text)
        except MathTextError as e:
            raise ToolError(str(e)) from None
    return engine.call(op, *args)


class _MathTool:
    name = ""
    context_fields: tuple[str, ...] = ()

    def __init__(self, engine: MathEngine) -> None:
        self.engine = engine
        self.backend_id = engine.name

    def _values(self, call: ToolCall) -> Mapping[str, Any]:
        return call.variables

    def _apply_functions(self, text: str, values: Mapping[str, Any]) -> str:
        """Replace each ``Rk(args)`` by ``(Rk evaluated at args)``."""
        for start, end, var, args in reversed(find_applications(text)):
            if var not in values:
                raise ToolError(f"{var} is not bound")
            expr = answer_text(values[var])
            if is_equation(expr):
                raise ToolError(f"cannot apply the equation {var} = {expr!r} to arguments")
            try:
                positional, keyword_args = split_application_args(args)
            except MathTextError as e:
                raise ToolError(str(e)) from None
            positional = [substitute(p, values) for p in positional]
            keyword_args = {k: substitute(v, values) for k, v in keyword_args.items()}
            result = _engine_call(self.engine, "apply", expr, positional, keyword_args)
            text = f"{text[:start]}({result}){text[end:]}"
        return text


class Calculator(_MathTool):
    """``Calculator(formula)``: evaluate; with an equation variable, apply the formula to both sides."""

    name = "Calculator"

    def __call__(self, call: ToolCall) -> str:
        values = call.variables
        try:
            text = self._apply_functions(call.action.args, values)
        except MathTextError as e:
            raise ToolError(str(e)) from None
        refs = [v for v in re.findall(r"\bR\d+\b", text) if v in values]
        equations = {v: answer_text(values[v]) for v in refs if is_equation(answer_text(values[v]))}
        if equations and text.strip() not in equations:
            sides = {v: split_equation(e) for v, e in equations.items()}
            lhs = substitute(text, {**values, **{v: s[0] for v, s in sides.items()}})
            rhs = substitute(text, {**values, **{v: s[1] for v, s in sides.items()}})
            return f"{_engine_call(self.engine, 'calculate', lhs)} = {_engine_call(self.engine, 'calculate', rhs)}"
        return _engine_call(self.engine, "calculate", substitute(text, values))


class SetEquation(_MathTool):
    """``SetEquation(equation)``: check and normalise (several: comma-separated); the text is the value."""

    name = "SetEquation"

    def __call__(self, call: ToolCall) -> str:
        parts = split_top_level(substitute(call.action.args, call.variables))
        if not parts:
            raise ToolError("SetEquation needs an equation")
        return ", ".join(_engine_call(self.engine, "check_equation", p) for p in parts)


class SolveEquation(_MathTool):
    """``SolveEquation(eq1, eq2, ...)``: one value per output variable (``R5, R6 = ...``)."""

    name = "SolveEquation"

    def __call__(self, call: ToolCall) -> str | tuple[str, ...]:
        text = substitute(call.action.args, call.variables)
        equations = split_top_level(text)
        if not equations:
            raise ToolError("SolveEquation needs an equation")
        n_out = len(call.action.variables)
        values = _engine_call(self.engine, "solve", equations, n_out)
        return values[0] if n_out == 1 else tuple(values)


class SolveInequality(_MathTool):
    """``SolveInequality(inequality)``: the solution set as text (``x > 3``, ``x > -2 and x < 2``)."""

    name = "SolveInequality"

    def __call__(self, call: ToolCall) -> str:
        return _engine_call(self.engine, "solve_inequality", substitute(call.action.args, call.variables))


class Count(_MathTool):
    """``Count(list)``: number of items; ``a, b, ..., z`` counts the arithmetic sequence."""

    name = "Count"

    def __call__(self, call: ToolCall) -> str:
        text = strip_brackets(substitute(call.action.args, call.variables, wrap="{}"))
        items = [strip_brackets(i) if i.startswith("[") else i for i in split_top_level(text)]
        if not items:
            raise ToolError("Count needs a list")
        if any(i in _ELLIPSIS for i in items):
            body = [i for i in items if i not in _ELLIPSIS]
            if len(body) < 3 or items[-1] in _ELLIPSIS:
                raise ToolError(f"cannot count the open sequence {text!r}: give two first terms and the last one")
            return _engine_call(self.engine, "count_sequence", body[0], body[1], body[-1])
        return str(len(items))


class Define(_MathTool):
    """``Define(variable/number)``: the text itself (variables substituted), as the original."""

    name = "Define"

    def __call__(self, call: ToolCall) -> str:
        text = substitute(call.action.args, call.variables, wrap="{}").strip()
        if not text:
            raise ToolError("Define needs a value")
        return text


class Code(_MathTool):
    """``Code(If cond, a, b)`` decided by sympy; other pseudo code through ``LLMCode`` when configured."""

    name = "Code"

    def __init__(self, engine: MathEngine, llm_code: LLMCode | None = None) -> None:
        super().__init__(engine)
        self.llm_code = llm_code
        if llm_code is not None:
            self.backend_id = f"{engine.name}+{llm_code.backend_id}"

    def __call__(self, call: ToolCall) -> str | ToolOutput:
        m = _IF.match(call.action.args)
        parts = split_top_level(m.group(1)) if m else []
        if len(parts) == 3:
            cond, a, b = (substitute(p, call.variables) for p in parts)
            return _engine_call(self.engine, "condition", cond, a, b)
        if self.llm_code is None:
            raise ToolError(f"Code({call.action.args}) is not an 'If cond, a, b' rule and no LLM is configured for code")
        return self.llm_code.run(substitute(call.action.args, call.variables, wrap="{}"))


def math_tools(engine: MathEngine, *, llm_code: LLMCode | None = None) -> dict[str, Any]:
    """The maths toolbox: action name -> tool, all sharing ``engine``."""
    tools = [Calculator(engine), SetEquation(engine), SolveEquation(engine), SolveInequality(engine),
             Count(engine), Code(engine, llm_code), Define(engine)]  # fmt: skip
    return {t.name: t for t in tools}
