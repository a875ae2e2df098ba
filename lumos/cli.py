"""The ``lumos`` command. ``lumos run "TASK" --domain maths|complex_qa`` runs the agent on one new task
and prints its trajectory; ``--html FILE`` also writes it as a web page, ``--json FILE`` as JSON.

    lumos run "Natalia sold 48 clips in April and half as many in May. How many in total?" --domain maths \\
        --model_name_or_path models/smollm2-135m-instruct --formulation lumos_iterative --html natalia.html

Models are found as in the evaluation: a root holding ``lumos_<domain>_<module>_<formulation>`` folders
(or one model folder standing in for every module), or ``--plan_model`` / ``--ground_model``.

Exercise: ``pytest tests/agent/test_cli.py``.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from lumos.agent.loop import AGENT_DOMAINS, AgentConfig, run_agent
from lumos.evaluate import chat_backend, make_toolbox, resolve_module
from lumos.formats.chat import PROMPT_STYLES
from lumos.inference import BACKENDS, load_module_backends
from lumos.paths import DEFAULT_BASE_MODEL, FORMULATIONS, checkpoint_name
from lumos.report import format_trajectory, trajectories_html

logger = logging.getLogger(__name__)
DEFAULT_MAX_SUBGOALS = {"maths": 8, "complex_qa": 5}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="lumos", description="Agent Lumos: plan -> ground -> execute.")
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="run the agent on one task and print its trajectory")
    r.add_argument("task")
    r.add_argument("--domain", required=True, choices=AGENT_DOMAINS)
    r.add_argument("--formulation", default="lumos_iterative", choices=FORMULATIONS)
    r.add_argument("--model_name_or_path", default=str(DEFAULT_BASE_MODEL))
    r.add_argument("--plan_model")
    r.add_argument("--ground_model")
    r.add_argument("--backend", default="hf", choices=BACKENDS)
    r.add_argument("--openai_base_url")
    r.add_argument("--dtype", default="float32", choices=("float32", "bfloat16"))
    r.add_argument("--prompt_style", default="original", choices=PROMPT_STYLES)
    r.add_argument("--max_new_tokens", type=int, default=512)
    r.add_argument("--max_subgoals", type=int, help="default: maths 8, complex_qa 5")
    r.add_argument("--knowledge", default="local", choices=("local", "wikipedia"))
    r.add_argument("--corpus")
    r.add_argument("--qa_model")
    r.add_argument("--tool_cache", default="none", help="sqlite cache of tool calls (a file, or 'none')")
    r.add_argument("--seed", type=int, default=42)
    r.add_argument("--show_prompts", action="store_true", help="print the full prompts too")
    r.add_argument("--html", type=Path, help="write the trajectory as an HTML page")
    r.add_argument("--json", type=Path, help="write the trajectory as JSON")
    return p


def run(args: argparse.Namespace) -> int:
    lumos = args.formulation.startswith("lumos_")
    plan = resolve_module(args.model_name_or_path, args.plan_model,
                          checkpoint_name(args.domain, "plan", args.formulation), args.backend)
    ground = (resolve_module(args.model_name_or_path, args.ground_model,
                             checkpoint_name(args.domain, "ground", args.formulation), args.backend) if lumos else None)
    args.eval_batch_size = 1
    planner, grounder = load_module_backends(args.backend, plan, ground, prompt_style=args.prompt_style, batch_size=1,
                                             dtype=args.dtype, seed=args.seed, base_url=args.openai_base_url)
    tools, execute = {}, None
    if lumos:
        loaded = {plan: planner, **({ground: grounder} if ground else {})}
        qa = chat_backend(args.qa_model, args, loaded) if args.qa_model else None
        tools, execute, _ = make_toolbox(args.domain, args, qa)
    config = AgentConfig(domain=args.domain, formulation=args.formulation, prompt_style=args.prompt_style,
                         max_subgoals=args.max_subgoals or DEFAULT_MAX_SUBGOALS[args.domain],
                         max_new_tokens=args.max_new_tokens, batch_size=1)
    [traj] = run_agent([args.task], planner=planner, grounder=grounder, tools=tools, config=config, execute=execute)
    sys.stdout.write(format_trajectory(traj, show_prompts=args.show_prompts) + "\n")
    if args.html:
        args.html.write_text(trajectories_html([traj], title="Lumos: " + args.task[:80]), encoding="utf-8")
        logger.info("wrote %s", args.html)
    if args.json:
        args.json.write_text(json.dumps(traj.to_dict(), ensure_ascii=False, indent=1), encoding="utf-8")
        logger.info("wrote %s", args.json)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    if args.command == "run":
        return run(args)
    raise ValueError(f"unknown command {args.command!r}")


if __name__ == "__main__":
    sys.exit(main())
