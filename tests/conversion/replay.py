"""Test helper: does the planner (and the grounding module) see at evaluation what it saw in training?

Takes converted records (``python -m data.prompt_convertion`` output), builds their Lumos-I training
dialogues exactly as ``process_for_train`` does, then *replays* each record's gold actions through the
evaluation: the real tools (sympy maths; for complex QA the real KnowledgeQuery / ParagraphRetrieve /
QA / Calculator code with the QA model replaced by one that answers each question with the record's
gold result) and the evaluation's prompt builders (``StandardDialogue``). The planning and grounding
dialogues the evaluation would build are compared, message by message, with the training dialogues.

    $ PYTHONPATH=.:tests python -m conversion.replay --domain maths --converted data/train/maths/converted/x.json --n 300
    {"records": 300, "identical_records": 300, "plan_turns": 1062, "identical_plan_turns": 1062, ...}

It lives with the tests because it replaces the QA model with one that answers the record's gold result
(``GoldAnswers``): a fake, there only to compare formats.

Differences are classified (``plan feedback`` / ``ground request``) with examples, so a class can be
fixed or explained (docs/differences.md).

Exercise: ``pytest tests/conversion/test_replay.py``.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lumos.agent.episode import Episode, StandardDialogue
from lumos.agent.trajectory import Step, jsonable
from lumos.benchmarks.base import Example
from lumos.conversion.to_train import Dropped, _blocks, _OutputIndex, _parse_block, ground_messages, plan_messages
from lumos.formats.chat import Message
from lumos.formats.plan import parse_plan_output, render_plan_turn
from lumos.tools.executor import ToolConfig, build_toolbox, execute_actions
from lumos.utils.io import iter_jsonl

logger = logging.getLogger(__name__)
_QUESTION = re.compile(r"^Question: (.*?)\n", re.MULTILINE)


class GoldAnswers:
    """A stand-in QA model for the replay: answers each question with the record's gold result."""

    name = "gold"

    def __init__(self) -> None:
        self.answers: dict[str, str] = {}

    def chat(self, conversations: Sequence[Sequence[Message]], *, max_new_tokens: int = 100) -> list[str]:
        out = []
        for conv in conversations:
            m = _QUESTION.search(conv[-1].content)
            question = m.group(1) if m else ""
            out.append(f"Answer: {self.answers[question]}" if question in self.answers else "No answer")
        return out


@dataclass
class ReplayReport:
    records: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    identical_records: int = 0
    plan_turns: int = 0
    identical_plan_turns: int = 0
    ground_turns: int = 0
    identical_ground_turns: int = 0
    classes: Counter[str] = field(default_factory=Counter)
    examples: dict[str, list[dict[str, str]]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"records": self.records, "identical_records": self.identical_records,
                "plan_turns": self.plan_turns, "identical_plan_turns": self.identical_plan_turns,
                "ground_turns": self.ground_turns, "identical_ground_turns": self.identical_ground_turns,
                "share_identical_turns": (self.identical_plan_turns + self.identical_ground_turns)
                / max(1, self.plan_turns + self.ground_turns),
                "skipped": dict(self.skipped), "classes": dict(self.classes),
                "examples": {k: v[:5] for k, v in self.examples.items()}}


def _difference(report: ReplayReport, kind: str, train: str, evaluation: str) -> None:
    report.classes[kind] += 1
    report.examples.setdefault(kind, []).append({"training": train, "evaluation": evaluation})


def replay_record(rec: dict[str, Any], domain: str, tools: dict[str, Any], gold: GoldAnswers | None,
                  report: ReplayReport) -> None:
    """Replay one record and add its comparison to ``report``; raises ``Dropped`` for records the training
    files leave out."""
    train_plan = plan_messages(rec, domain, iterative=True, state=_OutputIndex())
    train_ground = ground_messages(rec, domain, iterative=True, state=_OutputIndex())
    blocks = _blocks(rec["subgoal_plan"], iterative=True)
    parsed = [_parse_block(b, k, domain) for k, b in enumerate(blocks, 1)]
    if gold is not None:
        gold.answers = {a.args.split("Question: ", 1)[1].strip(): result for block in parsed for a, result in block
                        if a.name in ("QA", "Calculator") and "Question: " in a.args}
    dialogue = StandardDialogue(domain, list_earlier_results=domain == "complex_qa")
    ep = Episode(example=Example("replay", rec["task"], ""), task=rec["task"], tools=tools, scorer=lambda e: {},
                 dialogue=dialogue)
    ep.start("lumos_iterative")
    same = True
    for k, (block, actions) in enumerate(zip(blocks, parsed), 1):
        plan_output = render_plan_turn(k, block.subgoal)
        step = Step(index=k, plan_prompt="", plan_output=plan_output,
                    subgoals=[parse_plan_output(plan_output).subgoal])
        ep.trajectory.steps.append(step)
        # the grounding request for subgoal k
        msgs, _ = dialogue.ground_messages(ep, onetime=False)
        report.ground_turns += 1
        want = train_ground[2 * (k - 1)]["content"]
        if msgs[-1].content == want:
            report.identical_ground_turns += 1
        else:
            same = False
            _difference(report, "ground request", want, msgs[-1].content)
        step.ground_output = train_ground[2 * (k - 1) + 1]["content"]
        results = execute_actions([a for a, _ in actions], tools, ep.variables, task=ep.task, subgoal=block.subgoal,
                                  subgoals=tuple(ep.trajectory.subgoals))
        step.results = [jsonable(r.to_dict()) for r in results]
        if not results or not results[-1].ok:
            report.classes["tool error"] += 1
            report.examples.setdefault("tool error", []).append(
                {"training": block.action_lines[-1], "evaluation": str(results[-1].error if results else "")})
            same = False
            break
        step.feedback = dialogue.feedback(ep, step, results)
        # the planning dialogue after subgoal k
        plan_msgs = dialogue.plan_messages(ep, onetime=False)
        report.plan_turns += 1
        want = train_plan[2 * k]["content"]
        if plan_msgs[-1].content == want and [m.content for m in plan_msgs] == [m["content"] for m in train_plan[: 2 * k + 1]]:
            report.identical_plan_turns += 1
        else:
            same = False
            _difference(report, "plan feedback", want, plan_msgs[-1].content)
    report.identical_records += same


def pages_corpus(records: Sequence[dict[str, Any]], path: Path) -> Path:
    """A paragraph corpus with one page per ``KnowledgeQuery`` argument of ``records`` (its text: the
    record's plan), so the replay's retrieval finds a page; what it retrieves is not compared."""
    titles: dict[str, str] = {}
    for rec in records:
        for title in re.findall(r"KnowledgeQuery\(([^)]*)\)", rec.get("subgoal_plan", "")):
            titles.setdefault(title, f"{title}. {rec.get('natural_language_plan', '')}")
    path.write_text("".join(json.dumps({"title": t, "paragraph_text": x}) + "\n" for t, x in titles.items()),
                    encoding="utf-8")
    return path


def replay(records: Sequence[dict[str, Any]], domain: str, *, corpus: Path | None = None) -> ReplayReport:
    """Replay ``records`` of ``domain`` (maths or complex_qa); see the module docstring. Without ``corpus``
    (complex QA) the pages come from ``pages_corpus``."""
    import tempfile

    gold = GoldAnswers() if domain == "complex_qa" else None
    report = ReplayReport()
    with tempfile.TemporaryDirectory() as tmp:
        if domain == "complex_qa" and corpus is None:
            corpus = pages_corpus(records, Path(tmp) / "pages.jsonl")
        config = ToolConfig(corpus=corpus, retriever="bm25", qa_backend=gold, cache_path=None, last_question="action",
                            index_dir=Path(tmp) / "index")
        tools = build_toolbox(domain, config)  # type: ignore[arg-type]
        for rec in records:
            try:
                replay_record(rec, domain, tools, gold, report)
            except Dropped as e:
                report.skipped[e.reason] += 1
                continue
            report.records += 1
    return report


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--domain", required=True, choices=("maths", "complex_qa"))
    p.add_argument("--converted", required=True, type=Path, help="a converted file (python -m data.prompt_convertion)")
    p.add_argument("--n", type=int, default=300, help="replay the first N records")
    p.add_argument("--corpus", type=Path, help="complex QA: a paragraph corpus for KnowledgeQuery (any; QA is gold)")
    args = p.parse_args(argv)
    records = [rec for _, rec in iter_jsonl(args.converted)][: args.n]
    report = replay(records, args.domain, corpus=args.corpus)
    sys.stdout.write(json.dumps(report.as_dict(), indent=1, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
