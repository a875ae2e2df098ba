"""LLM tools of the complex-QA domain: ``QA``, ``Calculator`` (QA flavour) and ``Code``.

``QA([R2], Question: q)`` sends the original prompt (``lumos.formats.prompts.QA_WITH_CONTEXT``,
byte for byte) to any ``Backend`` through ``chat`` — the paper used gpt-3.5-turbo; here a local
instruct model (``--qa_model PATH``) or an OpenAI-compatible server — and returns
``"Question: <q>; <reply>"``, e.g. ``"Question: Who portrayed Corliss Archer?; Answer: Shirley Temple"``; a reply
without the ``Answer: `` label (small local models) is labelled, keeping its first line (``labelled``).
If the reply contains ``No answer`` it asks again without context (``QA_WITHOUT_CONTEXT``), or with
``QA_FORCED`` when the question says ``Must answer yes/no`` (docs/original.md, "Complex-QA tools").

The last action of a Lumos-O grounding (``ToolCall.is_last``) is treated per benchmark
(``last_question``): ``task`` (HotpotQA) asks the task's question and falls back to the action's
own question when that gives no answer; ``yes_no`` (StrategyQA) appends `` Must answer yes/no.``;
``action`` changes nothing. The original's Google-search fallback is not reproduced (no live search).

``Calculator(R6 > R3)`` in this domain: when the arguments, with variables replaced by their
answers, are plain arithmetic, sympy computes it, a comparison answering the yes/no question it serves
(``Question: <subgoal>; Answer: yes``); otherwise
the original LLM path (operators stripped, QA with the subgoal as question). ``Code`` is
``lumos.tools.code.LLMCode``.

Exercise: ``pytest tests/tools/test_qa.py``.
"""

from __future__ import annotations

import io
import re
import tokenize
from typing import Any, Literal

from lumos.formats.prompts import MUST_ANSWER_YES_NO, QA_FORCED, QA_WITH_CONTEXT, QA_WITHOUT_CONTEXT
from lumos.tools.base import ToolCall, ToolError, ToolOutput
from lumos.tools.code import LLMCode, backend_id, chat_once
from lumos.tools.mathtext import FUNCTIONS, MathTextError, check_math, substitute

LastQuestion = Literal["task", "yes_no", "action"]
LAST_QUESTIONS: tuple[str, ...] = ("task", "yes_no", "action")
QA_MAX_NEW_TOKENS = 100  # the original's max_tokens
_QUESTION = re.compile(r",\s*(?:Question|QUESTION|question)\s*:\s*")
_OPERATORS = ("*", "/", "+", "-", "^", "=", "<", ">")


def no_answer(text: str) -> bool:
    """The original's test for a failed answer (case-insensitive ``no answer``)."""
    return "no answer" in text.lower()


def context_text(value: Any) -> str:
    """A variable's value as QA context: list items one per line, anything else as text."""
    if isinstance(value, (list, tuple)):
        return "\n".join(str(v) for v in value)
    return str(value)


def ask(backend: Any, question: str, context: str, *, max_new_tokens: int = QA_MAX_NEW_TOKENS) -> tuple[str, list[str]]:
    """The original ``QAActions.QA``: returns ``"Question: <q>; <reply>"`` and the prompts sent."""
    prompts = [QA_WITH_CONTEXT.format(question=question, context=context)]
    reply = chat_once(backend, prompts[0], max_new_tokens)
    if "No answer" in reply:
        template = QA_FORCED if "Must answer yes/no" in question else QA_WITHOUT_CONTEXT
        prompts.append(template.format(question=question))
        reply = chat_once(backend, prompts[-1], max_new_tokens)
    return f"Question: {question}; {labelled(reply)}", prompts


def labelled(reply: str) -> str:
    """The reply as ``Answer: ...``: unchanged when it has the label (gpt-3.5 always wrote it), else its first line.

    Small local QA models often answer without the requested ``Answer: `` prefix; the answer extraction
    downstream (text after ``Answer: ``) would then return the whole ``Question: ...; reply`` string.
    """
    if "Answer: " in reply or no_answer(reply):
        return reply
    first = next((line.strip() for line in reply.strip().splitlines() if line.strip()), "")
    return f"Answer: {first}"


def final_answer(backend: Any, question: str, results: list[Any], *, max_new_tokens: int = QA_MAX_NEW_TOKENS) -> tuple[str, list[str]]:
    """Lumos-I's final answer (the original ``decide_final_ans``): QA over every ``Question: ...`` result.

    The context is those results joined by ``"; "``. For StrategyQA pass the question with
    ``MUST_ANSWER_YES_NO`` appended. Returns ``("Question: <q>; <reply>", prompts)``.
    """
    context = "".join(f"{r}; " for r in results if isinstance(r, str) and "Question: " in r).strip()
    return ask(backend, question, context, max_new_tokens=max_new_tokens)


def _split_qa_args(args: str) -> tuple[str, str]:
    parts = _QUESTION.split(args, maxsplit=1)
    if len(parts) == 2:
        return parts[0], parts[1]
    if args.lstrip().startswith("["):  # QA([R2], what is ...) without the label
        close = args.find("]")
        if close > 0 and args[close + 1 :].lstrip().startswith(","):
            return args[: close + 1], args[close + 1 :].lstrip()[1:].strip()
    raise ToolError(f"expected '[context], Question: question' in QA({args})")


def _subgoal_question(call: ToolCall) -> str:
    line = call.subgoal or (call.subgoals[-1] if call.subgoals else "")
    line = line.split("No, I will keep planning.")[-1].strip()
    return line[line.find(":") + 2 :] if ":" in line else line


class QA:
    """``QA([R2, R5], Question: q)`` answered by an LLM ``Backend`` (see the module docstring)."""

    name = "QA"
    context_fields: tuple[str, ...] = ("task", "is_last")

    def __init__(self, backend: Any, *, max_new_tokens: int = QA_MAX_NEW_TOKENS, last_question: LastQuestion = "task") -> None:
        if last_question not in LAST_QUESTIONS:
            raise ValueError(f"last_question must be one of {LAST_QUESTIONS}, got {last_question!r}")
        self.backend = backend
        self.max_new_tokens = max_new_tokens
        self.last_question = last_question
        self.backend_id = f"{backend_id(backend) if backend is not None else 'none'}:{last_question}"

    def __call__(self, call: ToolCall) -> ToolOutput:
        if self.backend is None:
            raise ToolError("QA needs a language model (--qa_model)")
        ctx, question = _split_qa_args(call.action.args)
        question = substitute(question, call.variables, wrap="{}").strip()
        context = "\n".join(context_text(call.variables[v]) for v in re.findall(r"\bR\d+\b", ctx)).strip()
        own = question
        if call.is_last and self.last_question == "task" and call.task:
            question = call.task
        elif call.is_last and self.last_question == "yes_no" and MUST_ANSWER_YES_NO.strip() not in question:
            question += MUST_ANSWER_YES_NO
        result, prompts = ask(self.backend, question, context, max_new_tokens=self.max_new_tokens)
        if no_answer(result) and question != own and self.last_question == "task":
            result, more = ask(self.backend, own, context, max_new_tokens=self.max_new_tokens)
            prompts += more
        return ToolOutput(result, extra={"prompts": prompts})


def _is_arithmetic(text: str) -> bool:
    try:
        text = check_math(text)
    except MathTextError:
        return False
    names = [t.string for t in tokenize.generate_tokens(io.StringIO(text).readline) if t.type == tokenize.NAME]
    return all(n in FUNCTIONS or n in ("True", "False") for n in names)


def answer_form(value: Any, question: str) -> str:
    """A computed value in the form the question expects: a comparison (True/False) answers a yes/no question
    ``yes``/``no`` (``True``/``False`` only when the question asks "true or false"), as the original's
    LLM-answered Calculator did; anything else as text."""
    text = str(value).strip()
    if text in ("True", "False") and "true or false" not in question.lower():
        return "yes" if text == "True" else "no"
    return text


class QACalculator:
    """``Calculator`` of the complex-QA domain: sympy for arithmetic, otherwise the original LLM path."""

    name = "Calculator"
    context_fields: tuple[str, ...] = ("task", "subgoal", "subgoals", "is_last")

    def __init__(self, engine: Any, backend: Any, *, max_new_tokens: int = QA_MAX_NEW_TOKENS,
                 last_question: LastQuestion = "task") -> None:  # fmt: skip
        self.engine = engine
        self.backend = backend
        self.max_new_tokens = max_new_tokens
        self.last_question = last_question
        self.backend_id = f"{getattr(engine, 'name', 'none')}+{backend_id(backend) if backend is not None else 'none'}:{last_question}"

    def __call__(self, call: ToolCall) -> str | ToolOutput:
        question = _subgoal_question(call) or call.task
        arithmetic = substitute(call.action.args, call.variables)
        if self.engine is not None and _is_arithmetic(arithmetic):
            value = answer_form(self.engine.call("calculate", arithmetic), question)
            return ToolOutput(f"Question: {question}; Answer: {value}", extra={"engine": self.engine.name})
        if self.backend is None:
            raise ToolError(f"Calculator({call.action.args}) is not arithmetic and no QA model is configured")
        values = call.variables
        text = re.sub(r"\bR\d+\b", lambda m: context_text(values[m[0]]) + "." if m[0] in values else m[0], call.action.args)
        for op in _OPERATORS:
            text = text.replace(op, "")
        questions = [question] if question else []
        if call.is_last and self.last_question == "task" and call.task:
            questions.append(call.task)
        elif call.is_last and self.last_question == "yes_no" and questions:
            questions = [q + MUST_ANSWER_YES_NO for q in questions]
        if not questions:
            raise ToolError("Calculator has no question to ask (no subgoal, no task)")
        prompts: list[str] = []
        result = ""
        for q in questions:
            result, sent = ask(self.backend, q, text, max_new_tokens=self.max_new_tokens)
            prompts += sent
            if not no_answer(result):
                break
        return ToolOutput(result, extra={"prompts": prompts})


class QACode:
    """``Code(pseudo_code)`` of the complex-QA domain: ``LLMCode`` on the pseudo code (answers substituted)."""

    name = "Code"
    context_fields: tuple[str, ...] = ()

    def __init__(self, llm_code: LLMCode | None) -> None:
        self.llm_code = llm_code
        self.backend_id = llm_code.backend_id if llm_code is not None else "none"

    def __call__(self, call: ToolCall) -> ToolOutput:
        if self.llm_code is None:
            raise ToolError("Code needs a language model (--qa_model; Code uses the QA model)")
        pseudo = substitute(call.action.args, call.variables, wrap="{}")
        return self.llm_code.run(pseudo)
