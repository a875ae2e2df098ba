"""Run action lines by hand — for people debugging a plan. Prints ``{variable: result}`` as JSON.

    $ python -m lumos.tools.execute --domain maths "R1 = Calculator(2 - 0.5)" "R2 = Calculator(R1 / 0.25)"
    {"R1": "1.5", "R2": "6"}
    $ python -m lumos.tools.execute --domain complex_qa --corpus ../shared/data/hotpotqa/ircot_dev_subsampled.jsonl \\
        "R1 = KnowledgeQuery(Shirley Temple); R2 = ParagraphRetrieve(R1, Query: What position did she hold?)"

Each argument is one grounding line (``"; "``-joined actions allowed); all lines share one variable
table. Failed actions are listed under ``"errors"`` (``{"errors": {"R3 = QA(...)": "..."}}``) and the
exit status is 1. ``QA`` / ``Code`` need ``--qa_model``: a local model folder (served by
``lumos.inference.hf``) or, as in the evaluation, a model name at ``--base_url`` (any OpenAI-compatible
server; key in ``$<--api_key_env>``).

Exercise: ``pytest tests/tools/test_execute_cli.py``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

from lumos.formats.actions import ActionParseError, parse_actions
from lumos.tools.executor import TOOL_DOMAINS, ToolConfig, build_toolbox, execute_actions
from lumos.utils.cli import cli_entry

logger = logging.getLogger(__name__)


def load_qa_backend(spec: str, base_url: str | None = None, api_key_env: str = "OPENAI_API_KEY") -> Any:
    """An existing folder -> ``HFBackend(folder)``; otherwise a model name at ``base_url``."""
    if Path(spec).exists():
        from lumos.inference.hf import HFBackend

        return HFBackend(spec)
    from lumos.inference.openai import OpenAIBackend

    return OpenAIBackend(spec, base_url=base_url, api_key=os.environ.get(api_key_env), api="chat")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("lines", nargs="+", help="action lines, executed in order with one variable table")
    p.add_argument("--domain", required=True, choices=TOOL_DOMAINS)
    p.add_argument("--task", default="", help="task text (used by QA on the last Lumos-O action)")
    p.add_argument("--subgoal", default="", help="subgoal line (used by the QA-domain Calculator)")
    p.add_argument("--knowledge", choices=("local", "wikipedia"), default="local")
    p.add_argument("--corpus", type=Path, help="paragraph corpus for --knowledge local")
    p.add_argument("--retriever", choices=("dense", "bm25"), default="dense")
    p.add_argument("--qa_model", help="local model folder, or a model name at --base_url")
    p.add_argument("--base_url", help="OpenAI-compatible endpoint for a --qa_model name (default: api.openai.com)")
    p.add_argument("--api_key_env", default="OPENAI_API_KEY", help="environment variable holding the endpoint's key")
    p.add_argument("--math_backend", choices=("sympy", "wolframalpha"), default="sympy")
    p.add_argument("--cache", default="none", help="sqlite3 tool cache file, or 'none' (the default)")
    p.add_argument("-v", "--verbose", action="store_true")
    return p


@cli_entry("python -m lumos.tools.execute")
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    backend = load_qa_backend(args.qa_model, args.base_url, args.api_key_env) if args.qa_model else None
    config = ToolConfig(knowledge=args.knowledge, corpus=args.corpus, retriever=args.retriever, qa_backend=backend,
                        math_backend=args.math_backend,
                        cache_path=None if args.cache == "none" else Path(args.cache))  # fmt: skip
    tools = build_toolbox(args.domain, config)
    variables: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for line in args.lines:
        try:
            actions = parse_actions(line)
        except ActionParseError as e:
            errors[line] = str(e)
            continue
        for r in execute_actions(actions, tools, variables, task=args.task, subgoal=args.subgoal):
            if not r.ok:
                errors[r.action] = r.error or ""
    out: dict[str, Any] = dict(variables)
    if errors:
        out["errors"] = errors
    print(json.dumps(out, ensure_ascii=False, indent=1, default=str))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
