"""Execution tools: the functions behind the action names the grounding module writes.

* ``executor``  — ``ToolConfig``, ``build_toolbox(domain, config)``, ``execute_actions(actions, tools, variables, ...)``
* ``math``      — Calculator, SetEquation, SolveEquation, SolveInequality, Count, Code, Define (sympy worker / WolframAlpha)
* ``knowledge`` — KnowledgeQuery over a local BM25 corpus or live Wikipedia
* ``retrieve``  — ParagraphRetrieve (dense all-MiniLM-L6-v2 or BM25)
* ``qa``        — QA, the QA-domain Calculator and Code (LLM through ``Backend.chat``), ``final_answer``
* ``code``      — LLM-written Python run in ``sandbox``; ``sandbox`` — ``run_python`` and its CLI
* ``cache``     — the sqlite cache of tool calls; ``execute`` — the ``python -m lumos.tools.execute`` CLI

Heavy dependencies (sympy, bm25s, sentence-transformers, httpx) load only when a tool first needs them.
"""

from lumos.tools.base import Tool, ToolCall, ToolError, ToolOutput, ToolResult
from lumos.tools.executor import ToolConfig, build_toolbox, execute_actions, render_value

__all__ = [
    "Tool",
    "ToolCall",
    "ToolConfig",
    "ToolError",
    "ToolOutput",
    "ToolResult",
    "build_toolbox",
    "execute_actions",
    "render_value",
]
