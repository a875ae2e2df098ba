"""The one agent loop: Lumos-I (iterative), Lumos-O (one-time) and the cot/direct baselines, over a batch.

Each module is a ``Backend`` loaded once by the caller and kept resident. Tasks run in a pool of at
most ``batch_size``; every round makes one batched planning call and one batched grounding call over
the *unfinished* tasks only, then executes the grounded actions, and refills the pool from the queue
as tasks finish (``on_finish`` is called at once, so results can be written as they come).

Lumos-I round for a task at subgoal k (spec §1.3, §5.1, §9):
  plan:   render_prompt([user plan_first_user(task), (assistant <plan output j>, user
          plan_feedback_user(j, <result j>))...]) -> ``Subgoal k: ...`` or the stop sentence
  ground: render_prompt([user ground_first_user(...subgoal 1), (assistant <actions j>, user
          ground_next_user(subgoal j+1, <earlier results> if complex_qa))...]) -> ``R1 = ...; R2 = ...``
  execute the actions with one variable table per task; the subgoal's last result is fed back.
It ends on the stop sentence (``done``), after ``max_subgoals`` subgoals (``max_subgoals``), on a
model output outside the grammar (``parse_error``) or when a subgoal's last action failed
(``tool_error``); the reason is recorded and the other tasks go on. Only ``done`` and
``max_subgoals`` tasks get a prediction; failed tasks have none and count as wrong.

Choices that differ from the original eval code (spec §6.3) and why:
  * the result fed back to the planner is the bare answer (text after ``Answer: ``, without the
    ``Question: ...;`` part and without a final period), as in the training data;
  * the keep-planning prefix is removed from the subgoal in every grounding request (the GSM8K bug);
  * complex QA grounding requests list every earlier subgoal whose last result is a short answer
    (a scalar without newlines), not only results that contained ``Answer: ``;
  * the final answer is the value of ``Output`` or else the highest ``R`` variable (complex QA: the
    text after ``Answer: ``), not a second GPT-3.5 call.

Exercise: ``pytest tests/agent/test_loop.py``.
"""

from __future__ import annotations

import logging
import re
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from lumos.agent.trajectory import Step, Trajectory, action_dict, jsonable
from lumos.formats.actions import Action, ActionParseError, highest_r_variable, parse_actions
from lumos.formats.chat import Message, PromptStyle, adds_bos, render_prompt
from lumos.formats.plan import PlanParseError, parse_plan_output, split_onetime_plan
from lumos.formats.prompts import (
    ground_first_user,
    ground_next_user,
    ground_onetime_user,
    plan_feedback_user,
    plan_first_user,
)
from lumos.inference.base import Backend
from lumos.paths import FORMULATIONS, check_choice
from lumos.tools.base import Tool, ToolResult

logger = logging.getLogger(__name__)

STOP = ("\n",)
AGENT_DOMAINS: tuple[str, ...] = ("maths", "complex_qa")


class Executor(Protocol):
    """``lumos.tools.executor.execute_actions``: runs actions in order, binding results into ``variables``."""

    def __call__(self, actions: Sequence[Action], tools: Mapping[str, Tool], variables: dict[str, Any], *,
                 task: str, subgoal: str, subgoals: tuple[str, ...], is_last_group: bool) -> list[ToolResult]: ...


@dataclass(frozen=True)
class AgentConfig:
    """How to run the loop. ``max_subgoals`` caps Lumos-I (spec §5.0: hotpotqa/strategyqa 5, gsm 8; svamp 8, not the original's 2)."""

    domain: str
    formulation: str
    max_subgoals: int = 5
    prompt_style: PromptStyle = "original"
    max_new_tokens: int = 512
    batch_size: int = 8

    def __post_init__(self) -> None:
        check_choice(self.domain, AGENT_DOMAINS, "agent domain")
        check_choice(self.formulation, FORMULATIONS, "formulation")
        adds_bos(self.prompt_style)
        if self.max_subgoals < 1 or self.batch_size < 1 or self.max_new_tokens < 1:
            raise ValueError(f"max_subgoals, batch_size and max_new_tokens must be >= 1: {self}")


# ------------------------------------------------------------------------------------------------
# Prompts: pure functions of the trajectory so far
# ------------------------------------------------------------------------------------------------
def plan_messages(traj: Trajectory) -> list[Message]:
    """The planning dialogue for the next subgoal (Lumos-I) or the single plan (Lumos-O)."""
    msgs = [Message("user", plan_first_user(traj.task))]
    for step in traj.steps:
        if step.feedback is None:
            break
        msgs += [Message("assistant", step.plan_output), Message("user", plan_feedback_user(step.index, step.feedback))]
    return msgs


def ground_messages(traj: Trajectory) -> list[Message]:
    """The grounding dialogue for the last step's subgoal(s)."""
    current = traj.steps[-1]
    if traj.formulation == "lumos_onetime":
        return [Message("user", ground_onetime_user(traj.domain, traj.task, current.subgoals))]
    done = traj.steps[:-1]
    first = done[0].subgoals[0] if done else current.subgoals[0]
    msgs = [Message("user", ground_first_user(traj.domain, traj.task, first))]
    for j, step in enumerate(done):
        nxt = traj.steps[j + 1]
        earlier = None
        if traj.domain == "complex_qa":
            earlier = {f"Subgoal {s.index}": a for s in traj.steps[: j + 1] if (a := _step_answer(s)) is not None}
        msgs += [Message("assistant", step.ground_output or ""), Message("user", ground_next_user(nxt.subgoals[0], earlier))]
    return msgs


def single_turn_messages(traj: Trajectory) -> list[Message]:
    """cot / direct: the question alone as the user turn (spec §4.9)."""
    return [Message("user", traj.task)]


# ------------------------------------------------------------------------------------------------
# Results and answers
# ------------------------------------------------------------------------------------------------
def bare_answer(value: Any) -> str | None:
    """The short answer in a tool value: text after the last ``Answer: `` (no final period), a number, or
    a one-line string; None for lists, tables and multi-line text (evidence, pages)."""
    if isinstance(value, bool) or value is None:
        return None if value is None else str(value)
    if isinstance(value, int | float):
        return str(value)
    if not isinstance(value, str):
        return None
    if "Answer: " in value:
        value = value.rsplit("Answer: ", 1)[1]
    value = value.strip()
    if not value or "\n" in value:
        return None
    return value[:-1].strip() if value.endswith(".") else value


def feedback_text(value: Any) -> str:
    """What the planner is told about a subgoal: its bare answer, else the value as text."""
    answer = bare_answer(value)
    if answer is not None:
        return answer
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value).strip()


def _step_answer(step: Step) -> str | None:
    if not step.results or step.results[-1].get("error") is not None:
        return None
    return bare_answer(step.results[-1].get("value"))


def final_answer(variables: Mapping[str, Any]) -> str | None:
    """``Output`` if bound, else the highest ``R`` variable; its bare answer (or text)."""
    key = "Output" if "Output" in variables else highest_r_variable(variables)
    if key is None or variables[key] is None:
        return None
    return feedback_text(variables[key])


_ANSWER_IS = re.compile(r"answer is\s*:?\s*", re.IGNORECASE)


def cot_answer(output: str) -> str:
    """The answer of a CoT rationale: text after the last ``answer is`` (maths ``Answer is X.``,
    complex QA ``... the answer is X.``), without the final period; the whole output if absent."""
    parts = _ANSWER_IS.split(output)
    answer = parts[-1] if len(parts) > 1 else output
    answer = answer.strip()
    return answer[:-1].strip() if answer.endswith(".") else answer


# ------------------------------------------------------------------------------------------------
# The loop
# ------------------------------------------------------------------------------------------------
def run_agent(
    tasks: Sequence[str],
    *,
    planner: Backend,
    grounder: Backend | None,
    tools: Mapping[str, Tool],
    config: AgentConfig,
    execute: Executor | None = None,
    on_finish: Callable[[int, Trajectory], None] | None = None,
) -> list[Trajectory]:
    """Run every task to completion and return their trajectories (in task order).

    Args:
        tasks: the task texts.
        planner: the planning module (or the cot/direct model).
        grounder: the grounding module (None for cot/direct).
        tools: action name -> tool, shared by all tasks.
        config: domain, formulation, caps, prompt style.
        execute: the action executor (default ``lumos.tools.executor.execute_actions``).
        on_finish: called with (task index, trajectory) as soon as a task finishes.
    """
    lumos = config.formulation.startswith("lumos_")
    if lumos and grounder is None:
        raise ValueError(f"formulation {config.formulation} needs a grounding backend")
    if lumos and execute is None:
        from lumos.tools.executor import execute_actions

        execute = execute_actions
    trajs = [Trajectory(task=t, domain=config.domain, formulation=config.formulation) for t in tasks]
    tables: list[dict[str, Any]] = [{} for _ in tasks]
    queue = deque(range(len(tasks)))
    active: list[int] = []
    while queue or active:
        while queue and len(active) < config.batch_size:
            active.append(queue.popleft())
        if not lumos:
            _answer_round(active, trajs, planner, config)
        else:
            _lumos_round(active, trajs, tables, planner, grounder, tools, config, execute)  # type: ignore[arg-type]
        still = []
        for i in active:
            if trajs[i].finished:
                if lumos:
                    trajs[i].variables = jsonable(tables[i])
                    if trajs[i].status in ("done", "max_subgoals"):
                        trajs[i].prediction = final_answer(tables[i])
                if on_finish is not None:
                    on_finish(i, trajs[i])
            else:
                still.append(i)
        active = still
    return trajs


def _prompts(backend: Backend, msgs: list[list[Message]], style: PromptStyle) -> list[str]:
    eos = getattr(backend, "eos_token", None) or "</s>"
    return [render_prompt(m, style=style, eos_token=eos) for m in msgs]


def _answer_round(active: list[int], trajs: list[Trajectory], model: Backend, config: AgentConfig) -> None:
    prompts = _prompts(model, [single_turn_messages(trajs[i]) for i in active], config.prompt_style)
    outputs = model.generate(prompts, max_new_tokens=config.max_new_tokens, stop=STOP)
    for i, prompt, out in zip(active, prompts, outputs):
        out = out.strip()
        trajs[i].steps.append(Step(index=1, plan_prompt=prompt, plan_output=out))
        trajs[i].prediction = cot_answer(out) if config.formulation == "cot" else out
        trajs[i].finish("done")


def _lumos_round(active: list[int], trajs: list[Trajectory], tables: list[dict[str, Any]], planner: Backend,
                 grounder: Backend, tools: Mapping[str, Tool], config: AgentConfig, execute: Executor) -> None:
    onetime = config.formulation == "lumos_onetime"
    # 1. plan, for every unfinished task
    prompts = _prompts(planner, [plan_messages(trajs[i]) for i in active], config.prompt_style)
    outputs = planner.generate(prompts, max_new_tokens=config.max_new_tokens, stop=STOP)
    to_ground = []
    for i, prompt, out in zip(active, prompts, outputs):
        traj = trajs[i]
        step = Step(index=len(traj.steps) + 1, plan_prompt=prompt, plan_output=out.strip())
        traj.steps.append(step)
        try:
            if onetime:
                step.subgoals = split_onetime_plan(step.plan_output)
            else:
                parsed = parse_plan_output(step.plan_output)
                if parsed.kind == "stop":
                    step.stop = True
                    traj.finish("done")
                    continue
                step.subgoals = [parsed.subgoal]
        except PlanParseError as e:
            step.error = f"plan: {e}"
            traj.finish("parse_error", step.error)
            continue
        to_ground.append(i)
    if not to_ground:
        return
    # 2. ground the new subgoal(s)
    prompts = _prompts(grounder, [ground_messages(trajs[i]) for i in to_ground], config.prompt_style)
    outputs = grounder.generate(prompts, max_new_tokens=config.max_new_tokens, stop=STOP)
    # 3. execute
    for i, prompt, out in zip(to_ground, prompts, outputs):
        traj, step = trajs[i], trajs[i].steps[-1]
        step.ground_prompt, step.ground_output = prompt, out.strip()
        try:
            actions = parse_actions(step.ground_output)
        except ActionParseError as e:
            step.error = f"ground: {e}"
            traj.finish("parse_error", step.error)
            continue
        step.actions = [action_dict(a) for a in actions]
        # the executor turns every ToolError into ToolResult(error=...); anything else is a bug and propagates
        results = execute(actions, tools, tables[i], task=traj.task, subgoal=step.subgoals[-1],
                          subgoals=tuple(traj.subgoals), is_last_group=onetime)
        step.results = [jsonable(r.to_dict()) for r in results]
        last = results[-1] if results else None
        if last is None or not last.ok:
            step.error = f"tool: {last.error if last is not None else 'no result'}"
            traj.finish("tool_error", step.error)
            continue
        if onetime:
            traj.finish("done")
            continue
        step.feedback = feedback_text(last.value)
        if step.index >= config.max_subgoals:
            traj.finish("max_subgoals")
