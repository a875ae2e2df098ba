"""Episodes: one object per example that owns everything the agent does on it.

An ``Episode`` holds the example, the task text the agent is told, the *Initial Environment
Description* (``None.`` for maths and QA), the episode's tools (stateful ones bound to this
episode's environment session; read-only backends such as a BM25 index or a QA model are shared by
all episodes), the R-variable table, the ``Trajectory`` and, for web, shop and SQL benchmarks, an
``Environment`` session. The runtime (``lumos.agent.loop``) starts it (``env.reset()``), drives it,
scores it while its session is still open and always closes it (``env.close()``).

How the prompts are built from the trajectory is the episode's ``Dialogue``: ``StandardDialogue``
reproduces the original maths / complex-QA dialogues byte for byte (complex QA also lists earlier
results in grounding requests); WebShop (in-context demonstrations, a forced ``R1 = ``) and Mind2Web
(teacher-forced planner history) bring their own.

    >>> ep = Episode(example=Example("0", "What is 2 + 2?", "4"), task="What is 2 + 2?", tools=math_tools(),
    ...              dialogue=StandardDialogue("maths"), max_subgoals=8, scorer=answer_scorer(metrics))
    >>> run_episodes([ep], planner=..., grounder=..., config=AgentConfig("lumos_iterative"))
    >>> ep.trajectory.prediction, ep.score()
    ('4', {'acc': 1.0})

Exercise: ``pytest tests/agent/test_episode.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from lumos.agent.trajectory import Step, Trajectory
from lumos.formats.actions import Action, parse_actions
from lumos.formats.chat import Message
from lumos.formats.plan import parse_plan_output, split_onetime_plan
from lumos.formats.prompts import (
    ground_first_user,
    ground_next_user,
    ground_onetime_user,
    plan_feedback_user,
    plan_first_user,
)
from lumos.tools.base import Tool, ToolResult

if TYPE_CHECKING:
    from lumos.benchmarks.base import Example

NO_OBSERVATION = "None."


@runtime_checkable
class Environment(Protocol):
    """A per-episode session, Gymnasium-like (so it could move behind a process boundary).

    ``reset()`` returns the initial observation (the text the prompt's *Initial Environment
    Description* shows, unless the episode fixes that text itself); ``terminated`` says the
    environment ended the task (a purchase, the last gold step), which is distinct from the loop's
    caps; ``info`` holds what scoring needs (reward components, step predictions).
    """

    terminated: bool
    info: dict[str, Any]

    def reset(self) -> str: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class PlanDecision:
    """What a planning output means: ``stop``, or the ``subgoals`` to ground next."""

    stop: bool = False
    subgoals: tuple[str, ...] = ()


class Dialogue(Protocol):
    """How one kind of episode talks to the two modules. Prompts are pure functions of the episode."""

    def plan_messages(self, ep: Episode, *, onetime: bool) -> list[Message] | str:
        """The planning dialogue for the next subgoal (or the whole plan when ``onetime``); a ``str`` is a
        finished prompt used as is (the original built some prompts as raw text, e.g. WebShop's)."""
        ...

    def parse_plan(self, ep: Episode, output: str, *, onetime: bool) -> PlanDecision:
        """Read a planning output; raise ``PlanParseError`` for text outside the grammar."""
        ...

    def ground_messages(self, ep: Episode, *, onetime: bool) -> tuple[list[Message] | str, str]:
        """The grounding dialogue (or a finished prompt) for the last step, and a forced start of the reply."""
        ...

    def feedback(self, ep: Episode, step: Step, results: Sequence[ToolResult]) -> str:
        """The text the planner is told after ``step`` was executed (stored in ``step.feedback``)."""
        ...

    def parse_actions(self, output: str) -> list[Action]:
        """The grounding output as actions; raise ``ActionParseError`` for text outside the grammar."""
        ...


# ------------------------------------------------------------------------------------------------
# Results as the planner and the grounding module see them
# ------------------------------------------------------------------------------------------------
def answer_text(value: Any) -> str | None:
    """The answer a tool value states, as the grounding module saw earlier results in training: the text
    after the last ``Answer: `` (QA replies ``Question: q; Answer: X.``), whitespace-stripped, its final
    period kept; numbers and booleans as text; None for lists, tables and multi-line text (pages, evidence)."""
    if value is None:
        return None
    if isinstance(value, bool | int | float):
        return str(value)
    if not isinstance(value, str):
        return None
    if "Answer: " in value:
        value = value.rsplit("Answer: ", 1)[1]
    value = value.strip()
    if not value or "\n" in value:
        return None
    return value


def feedback_text(value: Any) -> str:
    """What the planner is told about a subgoal's last result, as the training files wrote it: the answer
    (``answer_text``; a list ``", "``-joined), then the text after its last ``=`` (an equation's right side),
    without surrounding spaces and periods. ``Question: q; Answer: American.`` -> ``American``;
    ``x + 3 = 11`` -> ``11``."""
    text = answer_text(value)
    if text is None:
        text = ", ".join(str(v) for v in value) if isinstance(value, list | tuple) else str(value)
    if "=" in text:
        text = text[text.rfind("=") + 1 :]
    return text.strip().strip(".").rstrip()


def bare_answer(value: Any) -> str | None:
    """``feedback_text`` of a short answer (``answer_text`` not None), else None."""
    return None if answer_text(value) is None else feedback_text(value)


def step_answer(step: Step, text: Callable[[Any], str | None] | None = None) -> str | None:
    """A step's last result as earlier results are listed in grounding requests (``answer_text`` unless ``text``
    is given), None if it failed."""
    if not step.results or step.results[-1].get("error") is not None:
        return None
    return (text or answer_text)(step.results[-1].get("value"))


@dataclass(frozen=True)
class StandardDialogue:
    """The original Lumos dialogues of maths and complex QA (and any benchmark in the unified format).

    Args:
        ground_domain: which grounding instruction heads the first grounding request
            (``GROUND_INSTRUCTION`` key: maths, complex_qa, web_agent, intercode_sql, ...).
        list_earlier_results: complex QA: later grounding requests list the earlier subgoals'
            results (``The grounding could be based on the following results: ...``).
        result_text: how a listed result is written (default ``answer_text``: short answers only).
        action_parser: the grounding grammar (default ``lumos.formats.actions.parse_actions``).
    """

    ground_domain: str
    list_earlier_results: bool = False
    result_text: Callable[[Any], str | None] = field(default=None, compare=False)  # type: ignore[assignment]
    action_parser: Callable[[str], list[Action]] = field(default=parse_actions, compare=False)

    def parse_actions(self, output: str) -> list[Action]:
        return self.action_parser(output)

    def plan_messages(self, ep: Episode, *, onetime: bool) -> list[Message]:
        msgs = [Message("user", plan_first_user(ep.task, ep.observation))]
        for step in ep.trajectory.steps:
            if step.feedback is None:
                break
            msgs += [Message("assistant", step.plan_output), Message("user", plan_feedback_user(step.index, step.feedback))]
        return msgs

    def parse_plan(self, ep: Episode, output: str, *, onetime: bool) -> PlanDecision:
        if onetime:
            return PlanDecision(subgoals=tuple(split_onetime_plan(output)))
        parsed = parse_plan_output(output)
        if parsed.kind == "stop":
            return PlanDecision(stop=True)
        return PlanDecision(subgoals=(parsed.subgoal,))

    def ground_messages(self, ep: Episode, *, onetime: bool) -> tuple[list[Message], str]:
        steps = ep.trajectory.steps
        current = steps[-1]
        if onetime:
            return [Message("user", ground_onetime_user(self.ground_domain, ep.task, current.subgoals))], ""
        done = steps[:-1]
        first = done[0].subgoals[0] if done else current.subgoals[0]
        msgs = [Message("user", ground_first_user(self.ground_domain, ep.task, first))]
        for j, step in enumerate(done):
            nxt = steps[j + 1]
            earlier = None
            if self.list_earlier_results:
                earlier = {f"Subgoal {s.index}": a for s in steps[: j + 1]
                           if (a := step_answer(s, self.result_text)) is not None}
            msgs += [Message("assistant", step.ground_output or ""),
                     Message("user", ground_next_user(nxt.subgoals[0], earlier))]
        return msgs, ""

    def feedback(self, ep: Episode, step: Step, results: Sequence[ToolResult]) -> str:
        return feedback_text(results[-1].value) if results else ""


# ------------------------------------------------------------------------------------------------
# The episode
# ------------------------------------------------------------------------------------------------
Scorer = Callable[["Episode"], dict[str, float]]
Extractor = Callable[["Episode"], "str | None"]


def final_answer(ep: Episode) -> str | None:
    """``Output`` if bound, else the highest ``R`` variable; its bare answer (or text)."""
    from lumos.formats.actions import highest_r_variable

    variables = ep.variables
    key = "Output" if "Output" in variables else highest_r_variable(variables)
    if key is None or variables[key] is None:
        return None
    return feedback_text(variables[key])


@dataclass(eq=False)
class Episode:
    """One example's run: its tools, variables, environment session and trajectory.

    ``observation=None`` takes the text ``env.reset()`` returns as the Initial Environment
    Description (SQL: the database's tables); give a string to fix it (``None.`` for maths and QA).
    ``predict_at_cap``: whether an episode ended by ``max_subgoals`` still gets a prediction.
    ``teacher_forced`` (Mind2Web's step-by-step runner): the planner's history is the gold one, a round's
    parse or tool failure is recorded without ending the episode, and ``after_ground(ep, step)`` (called
    after every grounding round) moves the environment on; only the environment or the cap end it.
    ``extract`` reads the prediction of a finished Lumos episode (default: ``final_answer``);
    ``answer_of_output`` reads it from the single output of cot/direct. ``scorer`` scores the
    finished episode (it may read the environment, which is still open when scoring runs).
    """

    example: Example
    task: str
    tools: Mapping[str, Tool]
    scorer: Scorer
    dialogue: Dialogue = field(default_factory=lambda: StandardDialogue("maths"))
    observation: str | None = NO_OBSERVATION
    env: Environment | None = None
    max_subgoals: int = 5
    predict_at_cap: bool = True
    teacher_forced: bool = False
    after_ground: Callable[[Episode, Step], None] | None = None
    extract: Extractor = final_answer
    answer_of_output: Callable[[str], str | None] = lambda out: out
    variables: dict[str, Any] = field(default_factory=dict)
    trajectory: Trajectory = field(init=False)

    def __post_init__(self) -> None:
        self.trajectory = Trajectory(task=self.task, domain=getattr(self.dialogue, "ground_domain", ""), formulation="")
        self._started = False
        self._closed = False

    @property
    def terminated(self) -> bool:
        """The environment ended the task (never true without an environment)."""
        return bool(self.env is not None and self.env.terminated)

    @property
    def truncated(self) -> bool:
        """The environment's own step limit was reached (Gym's ``truncated``; optional on an environment)."""
        return bool(self.env is not None and getattr(self.env, "truncated", False))

    def start(self, formulation: str) -> None:
        """Reset the environment (once) and fix the observation the prompts show."""
        if self._started:
            return
        self._started = True
        self.trajectory.formulation = formulation
        initial = self.env.reset() if self.env is not None else NO_OBSERVATION
        if self.observation is None:
            self.observation = initial
        self.trajectory.observation = self.observation

    def close(self) -> None:
        """Close the environment session (idempotent)."""
        if self._closed:
            return
        self._closed = True
        if self.env is not None:
            self.env.close()

    def score(self) -> dict[str, float]:
        return {k: float(v) for k, v in self.scorer(self).items()}
