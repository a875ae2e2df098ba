"""Mind2Web (``web_agent``): the paper's headline benchmark, scored step by step against the gold history.

A task of the official test files (or SeeClick's trimmed copies)::

    {"annotation_id": "...", "confirmed_task": "Find a flight from Columbus to Chicago on June 3", "action_reprs":
     ["[combobox]  From -> TYPE: Columbus", ...], "actions": [{"action_uid": "...", "operation": {"op": "TYPE", ...},
     "cleaned_html": "...", "pos_candidates": [...], "neg_candidates": [...]}, ...]}

The *teacher-forced runner* (the original's protocol): for every gold step the planner sees the gold history
(``Subgoal k: <gold action phrased>`` / ``We have already ...``, phrasing seeded per task), writes the next
subgoal, the grounding module writes ``Rk = CLICK|TYPE|SELECT(Env|Rj, QUERY: ...[, TEXT: ...])`` over its own
earlier outputs, and the action is executed on that step's candidates: the element is the top one when the
step's candidate set is ranked against the QUERY (``lumos.envs.mind2web``). A round that yields no executable
action records a failed step and the next gold step follows; the episode ends after the last gold step (or the
original's 15 steps). Metrics over ALL gold steps (a step with no positive candidate fails): element accuracy,
operation F1 and step success, micro (over steps) and macro (mean over tasks), task success, and the original
Lumos's step success rate. ``steps.jsonl`` holds one line per step; ``python -m eval.mind2web.score`` recomputes
every metric from it.

Run: ``python -m eval.mind2web.run_eval --data_dir $LUMOS_DATA_DIR --split test_task --ranker bm25
--ranker_scores attached --model_name_or_path models --max_num_examples 5``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from lumos.agent.episode import Episode, PlanDecision, StandardDialogue
from lumos.agent.trajectory import Step
from lumos.benchmarks.base import Benchmark, Dataset, Example, MetricSpec, register_benchmark
from lumos.envs.mind2web import Mind2WebResources, Mind2WebSession, load_split, web_tools
from lumos.envs.mind2web.ranking import RankerUnavailable
from lumos.envs.mind2web.session import MAX_STEPS, teacher_forced_turns
from lumos.formats.actions import Action, parse_actions
from lumos.formats.chat import Message
from lumos.formats.plan import strip_keep_planning
from lumos.formats.prompts import plan_first_user
from lumos.paths import data_dir as env_data_dir
from lumos.tools.base import ToolResult
from lumos.utils.io import write_jsonl

if TYPE_CHECKING:
    from lumos.runtime import RunContext

logger = logging.getLogger(__name__)
STEPS_FILE = "steps.jsonl"


@dataclass
class Mind2WebOptions:
    """Mind2Web options."""

    split: str = field(default="test_domain", init=False)  # --split (the original evaluated test_domain)
    ranker: Literal["auto", "mindact", "dense", "bm25"] = field(default="auto", metadata={"help": (
        "ranks a step's candidates against the grounding QUERY: mindact (the original's cross-encoder "
        "osunlp/MindAct_CandidateGeneration_deberta-v3-base, needs the hub or a local copy), dense (MiniLM), bm25; "
        "auto: mindact when it loads, else bm25")})
    ranker_scores: str | None = field(default=None, metadata={"help": (
        "MindAct's released ranking for --candidates ranked: scores_all_data.pkl, or 'attached' for the scores "
        "inside the task files (SeeClick's copies carry them)")})
    candidates: Literal["ranked", "original"] = field(default="ranked", metadata={"help": (
        "ranked: the top 50 candidates by the ranker (MindAct's protocol; a gold element ranked out fails the step); "
        "original: the original's first 50 of positives then negatives, unsorted (the gold is always offered)")})
    max_steps: int = field(default=MAX_STEPS, metadata={"help": "gold steps acted on per task (the original's 15)"})
    mindact_model: str | None = field(default=None, metadata={"help": "a local copy of MindAct's ranker"})


def load(data_dir: Path | None, options: Mind2WebOptions | None = None) -> Dataset:
    opts = options or Mind2WebOptions()
    base = data_dir or env_data_dir() or Path("data/eval/mind2web")
    tasks = [t for t in load_split(base, opts.split) if t.steps]
    examples = tuple(Example(id=t.annotation_id, question=t.confirmed_task, answer="; ".join(t.action_reprs),
                             metadata={"task": t, "n_steps": len(t.steps), "website": t.website, "domain": t.domain})
                     for t in tasks)
    source = Path(tasks[0].source) if tasks and tasks[0].source else Path(base)
    return Dataset(examples, source, info={"split": opts.split, "n_steps": sum(len(t.steps) for t in tasks),
                                           "source_format": tasks[0].source_format if tasks else None})


@dataclass
class Mind2WebDialogue:
    """Teacher-forced planning over the gold history; grounding over the module's own earlier outputs (as the
    original). The planner's stop sentence does not end a task: every gold step is asked for."""

    session: Mind2WebSession
    seed: int

    def plan_messages(self, ep: Episode, *, onetime: bool) -> list[Message]:
        msgs = [Message("user", plan_first_user(ep.task))]
        for k, phrase in enumerate(self.session.teacher_forced_history(self.seed), 1):
            assistant, user = teacher_forced_turns(k, phrase)
            msgs += [Message("assistant", assistant), Message("user", user)]
        return msgs

    def parse_plan(self, ep: Episode, output: str, *, onetime: bool) -> PlanDecision:
        return PlanDecision(subgoals=(strip_keep_planning(output),))

    def ground_messages(self, ep: Episode, *, onetime: bool) -> tuple[list[Message], str]:
        return StandardDialogue("web_agent").ground_messages(ep, onetime=onetime)

    def feedback(self, ep: Episode, step: Step, results: Sequence[ToolResult]) -> str:
        history = self.session.teacher_forced_history(self.seed)
        return teacher_forced_turns(len(history), history[-1])[1] if history else ""

    def parse_actions(self, output: str) -> list[Action]:
        return parse_actions(output)


def _skip_failed_round(ep: Episode, step: Step) -> None:
    """A round with no executed web action records a failed gold step, so the next round asks for the next one;
    the round's output variable (``Rk`` of its first action, else ``R<round>``) is bound to the next page, so the
    grounding module's later references to it still name a page."""
    session: Mind2WebSession = ep.env  # type: ignore[assignment]
    if any(r.get("error") is None for r in step.results) or session.terminated or session.truncated:
        return
    session.skip_step(step.error or "no action")
    variable = step.actions[0]["variables"][0] if step.actions and step.actions[0]["variables"] else f"R{step.index}"
    ep.variables[variable] = session.page(session.step_index)


def _task_scores(session: Mind2WebSession) -> dict[str, float]:
    s = session.score()
    n = s["n_steps"]
    return {"element_acc_macro": s["element_acc"], "op_f1_macro": s["op_f1"], "step_sr_macro": s["step_sr"],
            "task_sr": s["task_sr"], "element_correct": s["element_acc"] * n, "op_f1_sum": s["op_f1"] * n,
            "step_correct": s["step_sr"] * n, "lumos_step_correct": s["lumos_step_sr"] * n}


def mind2web_episode(bench: Benchmark, example: Example, ctx: RunContext) -> Episode:
    opts: Mind2WebOptions = ctx.options or Mind2WebOptions()

    def build() -> Mind2WebResources:
        kw: dict[str, Any] = {"ranker_scores": opts.ranker_scores, "protocol": opts.candidates,
                              "max_steps": opts.max_steps, "mindact_model": opts.mindact_model}
        if opts.ranker == "auto":
            try:
                resources = Mind2WebResources.build(ranker="mindact", **kw)
                resources.element_ranker._load()  # type: ignore[attr-defined]  # fail now, not mid-run
            except RankerUnavailable as e:
                logger.warning("MindAct's ranker is not available (%s); ranking with bm25", e)
                resources = Mind2WebResources.build(ranker="bm25", **kw)
        else:
            resources = Mind2WebResources.build(ranker=opts.ranker, **kw)
        ctx.record("mind2web", resources.describe())
        return resources

    resources = ctx.shared("mind2web", build)
    session = Mind2WebSession(example.metadata["task"], resources)
    ep = Episode(example=example, task=example.question, tools=web_tools(session),
                 scorer=lambda e: _task_scores(session), dialogue=Mind2WebDialogue(session, ctx.config.seed),
                 observation="None.", env=session, max_subgoals=opts.max_steps, teacher_forced=True,
                 after_ground=_skip_failed_round,
                 extract=lambda e: "; ".join(f"{p.operation} {p.element}{' ' + p.value if p.value else ''}"
                                             for p in session.predictions))
    ep.variables.update(session.initial_variables())
    return ep


def write_steps(save_dir: Path, records: Mapping[str, Mapping[str, Any]], examples: Sequence[Example]) -> None:
    """``steps.jsonl``: every recorded step prediction, in example order (``python -m eval.mind2web.score`` input)."""
    rows = [p for e in examples if e.id in records
            for p in (records[e.id].get("trajectory", {}).get("env_info", {}).get("predictions") or [])]
    write_jsonl(save_dir / STEPS_FILE, rows)


def _steps(e: Example) -> float:
    return float(e.metadata["n_steps"])


MIND2WEB = register_benchmark(Benchmark(
    name="mind2web", domain="web_agent", load=load, make_episode=mind2web_episode,
    metrics=(MetricSpec("step_sr_macro"), MetricSpec("element_acc_macro"), MetricSpec("op_f1_macro"),
             MetricSpec("task_sr"),
             MetricSpec("step_sr_micro", aggregation="micro", numerator="step_correct", denominator=_steps),
             MetricSpec("element_acc_micro", aggregation="micro", numerator="element_correct", denominator=_steps),
             MetricSpec("op_f1_micro", aggregation="micro", numerator="op_f1_sum", denominator=_steps),
             MetricSpec("lumos_step_sr", aggregation="micro", numerator="lumos_step_correct", denominator=_steps)),
    primary="step_sr_macro", max_subgoals=MAX_STEPS, formulations=("lumos_iterative",), options=Mind2WebOptions,
    rescore=False, write_outputs=write_steps, splits=("test_domain", "test_task", "test_website", "train")))
