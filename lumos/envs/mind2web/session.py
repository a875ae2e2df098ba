"""A Mind2Web task as an environment session: gold pages in order, one grounded action per step.

The grounding module writes one action per subgoal::

    R1 = TYPE(Env, QUERY: Type Columbus in the From box, TEXT: Columbus)
    R2 = CLICK(R1, QUERY: Click on Columbus, OH)

``Env`` is the page of step 0; each action acts on the page its first argument names, ranks that page's candidate
set (``candidate_set``, per protocol) against ``task is: <QUERY>\\nPrevious actions: <last 3 gold actions>`` (SELECT
adds `` The option contents should be close to '<TEXT>'.``), takes the top element, records the prediction for the
current gold step (``StepPrediction``), and returns the next gold page, bound to the action's variable. After the
last gold step the session is ``terminated``; ``max_steps`` (15, the original's loop) makes it ``truncated``.

The planner is teacher-forced by the gold history, phrased by ``verbalise_action`` with a seeded generator
(``task_rng``), and the ranker sees the gold ``previous_actions``.

Shared, read-only parts (rankers) are built once per run (``Mind2WebResources``); a session is per task:

    resources = Mind2WebResources.build(ranker="dense", protocol="ranked")
    session = Mind2WebSession(task, resources)
    session.reset()
    tools, variables = web_tools(session), session.initial_variables()

Exercise: ``pytest tests/envs/mind2web/test_session.py``.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lumos.envs.mind2web.data import OPS, CandidateScores, Task, load_candidate_scores
from lumos.envs.mind2web.ranking import (
    CANDIDATE_PROTOCOLS,
    TOP_K,
    BM25Ranker,
    CandidateRanker,
    DenseRanker,
    PairOrder,
    ScoresRanker,
    StepPage,
    candidate_set,
    make_ranker,
    order_by_scores,
    ranking_query,
)
from lumos.formats.actions import Action
from lumos.tools.base import ToolCall, ToolError, ToolOutput

MAX_STEPS = 15
INITIAL_OBSERVATION = "None."
_CLICK_PHRASES = ("Visit", "Click", "Find and go into", "Enter")
_TYPE_PHRASES = ("Type", "Input", "Put text")
_SELECT_PHRASES = ("Select", "Choose", "Pick up")
_QUERY = ", QUERY:"
_TEXT = ", TEXT:"


# ------------------------------------------------------------------------------------------------
# Teacher forcing: the gold history as the planner sees it
# ------------------------------------------------------------------------------------------------
def task_rng(seed: int, annotation_id: str) -> random.Random:
    """The phrasing generator of one task: same seed and task, same phrasing, whatever the batch order."""
    return random.Random(f"{seed}:{annotation_id}")


def verbalise_action(action_repr: str, rng: random.Random) -> str:
    """The original's phrasing of a gold ``"[tag]  text -> OP: value"`` as a subgoal, with a seeded ``rng``.

    CLICK/HOVER: ``Visit|Click|Find and go into|Enter <tag> <text>``; TYPE: ``Type|Input|Put text <value> in the
    <tag> <text>``; SELECT: ``Select|Choose|Pick up <value> in the <tag> <text>``; other operations (ENTER):
    ``<op> <tag> <text>.``. Quirks kept: an empty element text leaves a trailing space (``Click svg ``).
    """
    parts = action_repr.split(" -> ")
    if len(parts) < 2:
        raise ValueError(f"action repr {action_repr!r} has no ' -> '")
    element, op = parts[0], parts[1]
    tag = element[element.find("[") + 1 : element.find("]")]
    contents = element[element.find("]") + 1 :].strip()
    if "CLICK" in op or "HOVER" in op:
        return f"{_CLICK_PHRASES[rng.randint(0, 3)]} {tag} {contents}"
    if "TYPE" in op:
        return f"{_TYPE_PHRASES[rng.randint(0, 2)]} {op.split('TYPE:')[-1].strip()} in the {tag} {contents}"
    if "SELECT" in op:
        return f"{_SELECT_PHRASES[rng.randint(0, 2)]} {op.split('SELECT:')[-1].strip()} in the {tag} {contents}"
    return f"{op.split(':')[0].strip().lower()} {tag} {contents}."


def teacher_forced_turns(k: int, verbalised: str) -> tuple[str, str]:
    """The planner turns the original appends for gold step ``k`` (1-based): the assistant turn
    ``Subgoal k: <phrase>`` (without the ``No, I will keep planning.`` prefix of training) and the user turn
    ``We have already <phrase, first letter lower-cased>. Should we stop planning?`` (nothing stripped, unlike
    ``plan_feedback_web_user`` used for training data: an ``ENTER`` phrase keeps its period).
    """
    lowered = verbalised[:1].lower() + verbalised[1:]
    return f"Subgoal {k}: {verbalised}", f"We have already {lowered}. Should we stop planning?"


def previous_actions(task: Task, i: int) -> str:
    """The original's ranking context at step ``i``: gold ``action_reprs[max(i-3, 0):i]`` joined by ``"; "``."""
    return "; ".join(task.action_reprs[max(i - 3, 0) : i])


# ------------------------------------------------------------------------------------------------
# Records
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Page:
    """The value bound to ``Env`` and to each action's variable: a gold page of a task (``final`` after the last).

    ``n_candidates`` counts the page's candidate elements (before any protocol selects among them).
    """

    annotation_id: str
    step_index: int
    n_candidates: int = 0
    final: bool = False

    def __str__(self) -> str:
        if self.final:
            return f"Task {self.annotation_id} finished."
        return f"Page {self.step_index + 1} of task {self.annotation_id} ({self.n_candidates} candidate elements)"


@dataclass(frozen=True)
class StepPrediction:
    """What the agent did on one gold step; ``to_dict`` is a ``steps.jsonl`` line."""

    annotation_id: str
    action_uid: str
    element: str | None
    operation: str | None
    value: str = ""
    detail: Mapping[str, Any] = field(default_factory=dict, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {"annotation_id": self.annotation_id, "action_uid": self.action_uid, "element": self.element,
                "operation": self.operation, "value": self.value}  # fmt: skip


def parse_web_args(name: str, args: str) -> tuple[str, str, str]:
    """``(input variable, query, text)`` of ``CLICK|TYPE|SELECT(<var>, QUERY: <q>[, TEXT: <t>])``.

    As the original: the variable is the text before the first ``", "``; for TYPE/SELECT the query ends at the
    last ``", TEXT:"`` (the original took the text after the first one; a value containing ``", TEXT:"`` is kept
    whole here).

    Raises:
        ToolError: no ``", QUERY:"``, or TYPE/SELECT without ``", TEXT:"``.
    """
    comma = args.find(", ")
    variable = (args[:comma] if comma >= 0 else args).strip()
    q = args.find(_QUERY)
    if q < 0:
        raise ToolError(f"{name}({args}): expected '<page>, QUERY: ...'")
    rest = args[q + len(_QUERY) :]
    if name == "CLICK":
        return variable, rest.strip(), ""
    t = rest.rfind(_TEXT)
    if t < 0:
        raise ToolError(f"{name}({args}): expected '<page>, QUERY: ..., TEXT: ...'")
    return variable, rest[:t].strip(), rest[t + len(_TEXT) :].strip()


# ------------------------------------------------------------------------------------------------
# Shared resources and the session
# ------------------------------------------------------------------------------------------------
@dataclass
class Mind2WebResources:
    """Read-only parts shared by every session of a run.

    ``element_ranker`` picks the element for the grounding QUERY (the original used MindAct's cross-encoder);
    ``candidate_ranker`` builds the ``ranked`` candidate set (MindAct's released ranks when given).
    """

    element_ranker: CandidateRanker
    candidate_ranker: CandidateRanker | None = None
    protocol: str = "ranked"
    top_k: int = TOP_K
    max_steps: int = MAX_STEPS

    def __post_init__(self) -> None:
        if self.protocol not in CANDIDATE_PROTOCOLS:
            raise ValueError(f"unknown candidate protocol {self.protocol!r}; choose one of {', '.join(CANDIDATE_PROTOCOLS)}")
        if isinstance(self.element_ranker, ScoresRanker):
            raise ValueError("the released scores ignore the QUERY; choose mindact, dense or bm25 to pick elements")
        if self.candidate_ranker is None:
            self.candidate_ranker = self.element_ranker

    @classmethod
    def build(cls, *, ranker: str = "dense", ranker_scores: str | Path | None = None, protocol: str = "ranked",
              top_k: int = TOP_K, max_steps: int = MAX_STEPS, mindact_model: str | Path | None = None,
              pair_order: PairOrder = "candidate_first", dense_model: str | Path | None = None,
              device: str = "cpu") -> Mind2WebResources:  # fmt: skip
        """Rankers by name; ``ranker_scores`` (``scores_all_data.pkl``, or ``"attached"`` for the scores inside the
        task files) makes the ``ranked`` protocol use MindAct's released ranking.

        ``mindact`` gets the original's input for both roles. The untrained stand-ins (``dense``, ``bm25``) pick the
        element from the grounding QUERY alone (without the previous actions, which on 23 real train steps with a
        known gold action took top-1 element accuracy among 30 candidates from 0.30 to 0.52 for bm25 and from 0.35
        to 0.48 for dense) and rank candidates for the ``ranked`` protocol with the full query.
        """
        kw: dict[str, Any] = {"pair_order": pair_order, "dense_model": dense_model, "device": device}
        if mindact_model:
            kw["mindact_model"] = mindact_model
        element = make_ranker(ranker, **kw)
        candidates: CandidateRanker | None = None
        if isinstance(element, (DenseRanker, BM25Ranker)):
            candidates = element
            element = element.with_previous_actions(False)
        if ranker_scores is not None:
            table: CandidateScores | None = None if str(ranker_scores) == "attached" else load_candidate_scores(ranker_scores)
            candidates = ScoresRanker(table)
        return cls(element, candidates, protocol, top_k, max_steps)

    def describe(self) -> dict[str, Any]:
        """For metrics.json."""
        return {"protocol": self.protocol, "top_k": self.top_k, "max_steps": self.max_steps,
                "element_ranker": self.element_ranker.name,
                "candidate_ranker": self.candidate_ranker.name if self.protocol == "ranked" and self.candidate_ranker else None}  # fmt: skip


class Mind2WebSession:
    """One task's environment: the gold pages in order, the agent's predictions, one per acted step.

    ``reset()`` -> the initial observation (``"None."``, as the original's prompts); ``close()``; ``terminated``
    (every gold step acted on); ``truncated`` (``max_steps`` reached first); ``info``.
    """

    def __init__(self, task: Task, resources: Mind2WebResources) -> None:
        if not task.steps:
            raise ValueError(f"task {task.annotation_id} has no steps (actions) to act on")
        self.task = task
        self.resources = resources
        self.step_index = 0
        self.predictions: list[StepPrediction] = []
        self._pages: dict[int, StepPage] = {}
        self._sets: dict[int, list[Any]] = {}

    # Environment protocol ----------------------------------------------------------------------
    def reset(self) -> str:
        self.step_index = 0
        self.predictions = []
        self._pages, self._sets = {}, {}
        return INITIAL_OBSERVATION

    def close(self) -> None:
        self._pages, self._sets = {}, {}

    @property
    def n_steps(self) -> int:
        return len(self.task.steps)

    @property
    def terminated(self) -> bool:
        return self.step_index >= self.n_steps

    @property
    def truncated(self) -> bool:
        return not self.terminated and self.step_index >= self.resources.max_steps

    @property
    def info(self) -> dict[str, Any]:
        return {"annotation_id": self.task.annotation_id, "step_index": self.step_index, "n_steps": self.n_steps,
                "n_predicted": len(self.predictions), "terminated": self.terminated, "truncated": self.truncated,
                "has_negatives": all(s.has_negatives for s in self.task.steps),
                "predictions": [p.to_dict() for p in self.predictions], **self.resources.describe()}  # fmt: skip

    # Pages ---------------------------------------------------------------------------------------
    def page(self, i: int) -> Page:
        if i >= self.n_steps:
            return Page(self.task.annotation_id, i, 0, final=True)
        return Page(self.task.annotation_id, i, len(self.task.steps[i].candidates))

    def initial_variables(self) -> dict[str, Any]:
        """``{"Env": <page of step 0>}``: the variable table an episode starts with."""
        return {"Env": self.page(0)}

    def _step_page(self, i: int) -> StepPage:
        if i not in self._pages:
            self._pages[i] = StepPage(self.task.sample(i))
        return self._pages[i]

    def candidates(self, i: int) -> list[Any]:
        """The candidate set of gold step ``i`` under the run's protocol (computed once)."""
        if i not in self._sets:
            r = self.resources
            self._sets[i] = candidate_set(self._step_page(i), r.protocol, r.candidate_ranker, r.top_k)
        return self._sets[i]

    def teacher_forced_history(self, seed: int) -> list[str]:
        """The phrases of the gold steps before the current one (``verbalise_action`` with ``task_rng``)."""
        rng = task_rng(seed, self.task.annotation_id)
        return [verbalise_action(r, rng) for r in self.task.action_reprs[: self.step_index]]

    # Acting --------------------------------------------------------------------------------------
    def _check_open(self, what: str) -> None:
        if self.terminated:
            raise ToolError(f"{what}: task {self.task.annotation_id} is finished (all {self.n_steps} gold steps acted on)")
        if self.truncated:
            raise ToolError(f"{what}: the step limit ({self.resources.max_steps}) is reached")

    def act(self, action: Action, variables: Mapping[str, Any]) -> ToolOutput:
        """Execute one grounded action on the current gold step, record it, advance; the value is the next page.

        Raises:
            ToolError: unknown action, malformed arguments, a variable that is not a page of this task, or the
                session is terminated / truncated. Nothing is recorded then.
        """
        self._check_open(action.render())
        if action.name not in OPS:
            raise ToolError(f"unknown web action {action.name!r}; available: {', '.join(OPS)}")
        variable, query, text = parse_web_args(action.name, action.args)
        page = variables.get(variable)
        if not isinstance(page, Page) or page.annotation_id != self.task.annotation_id:
            raise ToolError(f"{action.render()}: {variable!r} is not a page of this task (use Env or an earlier R variable)")
        if page.final:
            raise ToolError(f"{action.render()}: {variable} is the page after the last step")
        i = self.step_index
        cands = self.candidates(page.step_index)
        stepp = self._step_page(page.step_index)
        element_query = query if action.name != "SELECT" else f"{query} The option contents should be close to '{text}'."
        ranked_query = ranking_query(element_query, self.task.action_reprs[max(i - 3, 0) : i])
        chosen = None
        if cands:
            scores = self.resources.element_ranker.scores(ranked_query, cands, stepp.texts(cands),
                                                          sample_id=stepp.sample.sample_id)  # fmt: skip
            chosen = cands[order_by_scores(scores, cands)[0]]
        step = self.task.steps[i]
        detail = {"step_index": i, "page_step": page.step_index, "query": ranked_query, "n_candidates": len(cands),
                  "gold_in_candidates": any(c.backend_node_id in step.positive_ids for c in cands) if page.step_index == i else False,
                  "chosen_text": stepp.text(chosen) if chosen is not None else None}  # fmt: skip
        pred = StepPrediction(self.task.annotation_id, step.action_uid, chosen.backend_node_id if chosen else None,
                              action.name, text, detail)  # fmt: skip
        self.predictions.append(pred)
        self.step_index += 1
        return ToolOutput(self.page(self.step_index), extra={"prediction": pred.to_dict(), **detail})

    def skip_step(self, reason: str) -> StepPrediction:
        """Record a failed step (no executable action this round, e.g. an unparsable grounding) and advance.

        Raises:
            ToolError: the session is terminated or truncated.
        """
        self._check_open("skip")
        step = self.task.steps[self.step_index]
        pred = StepPrediction(self.task.annotation_id, step.action_uid, None, None, "",
                              {"step_index": self.step_index, "error": reason})  # fmt: skip
        self.predictions.append(pred)
        self.step_index += 1
        return pred

    def score(self) -> dict[str, float]:
        """This task's metrics over all its gold steps (steps not acted on count as failed)."""
        from lumos.envs.mind2web.metrics import score_task

        return score_task(self.task, self.predictions).as_dict()


class WebAction:
    """``CLICK`` / ``TYPE`` / ``SELECT`` bound to one session (stateful: never cached)."""

    cacheable = False

    def __init__(self, session: Mind2WebSession, name: str) -> None:
        if name not in OPS:
            raise ValueError(f"unknown web action {name!r}")
        self.session, self.name = session, name

    def __call__(self, call: ToolCall) -> ToolOutput:
        return self.session.act(call.action, call.variables)


def web_tools(session: Mind2WebSession) -> dict[str, WebAction]:
    """The episode's tools: the actions the web grounding prompt advertises, bound to ``session``."""
    return {name: WebAction(session, name) for name in OPS}
