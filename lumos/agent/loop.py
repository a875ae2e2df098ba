"""The one agent loop: Lumos-I (iterative), Lumos-O (one-time) and the cot/direct baselines, over episodes.

Each episode advances through one small state machine: ``next_request`` says which module to ask
and with what prompt (built by the episode's ``Dialogue`` from its trajectory), ``advance`` reads
the reply (and, after grounding, executes the actions with the episode's tools and variables).
Two drivers share it:

* ``batched`` (in-process ``hf`` / ``vllm`` backends): at most ``batch_size`` episodes are open;
  every round makes one batched planning call over the episodes that need a plan, then one batched
  grounding call, and refills the pool as episodes finish;
* ``concurrent`` (a model behind a server, ``--concurrency C``): up to C episodes advance side by
  side, each with its own single requests, moving on as soon as its own reply arrives; tool calls of
  different episodes overlap.
Both give the same trajectories on a deterministic backend.

Lumos-I round for an episode at subgoal k (docs/original.md has the prompts):
  plan:   [user plan_first_user(task, observation), (assistant <plan output j>, user
          plan_feedback_user(j, <result j>))...] -> ``Subgoal k: ...`` or the stop sentence
  ground: [user ground_first_user(...subgoal 1), (assistant <actions j>, user ground_next_user(subgoal
          j+1, <earlier results> if complex QA))...] -> ``R1 = ...; R2 = ...``
  execute the actions; the subgoal's last result is fed back.
An episode ends on the stop sentence (``done``), when its environment ends the task (``done``,
``trajectory.terminated``), after ``max_subgoals`` subgoals (``max_subgoals``; a prediction only where
the benchmark's original gave one at its cap: maths yes, complex QA no), on a model output outside the
grammar (``parse_error``) or on a failed action (``tool_error``: by default, as the original, the first
failed action; ``failed_action="continue"``: only a failed last action of the subgoal). The
loop calls ``on_finish(episode)`` while the episode's environment is still open (so it can be
scored), then closes the episode, always.

Exercise: ``pytest tests/agent/test_loop.py tests/agent/test_episode.py``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from lumos.agent.episode import Episode
from lumos.agent.trajectory import Status, Step, action_dict, jsonable
from lumos.formats.actions import Action, ActionParseError
from lumos.formats.chat import Message, PromptStyle, adds_bos, render_prompt
from lumos.formats.plan import PlanParseError
from lumos.inference.base import Backend
from lumos.paths import FORMULATIONS, check_choice
from lumos.tools.base import Tool, ToolResult

logger = logging.getLogger(__name__)

STOP = ("\n",)
Module = Literal["plan", "ground"]


class Executor(Protocol):
    """``lumos.tools.executor.execute_actions``: runs actions in order, binding results into ``variables``."""

    def __call__(self, actions: Sequence[Action], tools: Mapping[str, Tool], variables: dict[str, Any], *,
                 task: str, subgoal: str, subgoals: tuple[str, ...], is_last_group: bool,
                 on_error: str = "continue") -> list[ToolResult]: ...


@dataclass(frozen=True)
class AgentConfig:
    """How to drive the episodes.

    ``concurrency`` > 0 selects the concurrent driver (for backends behind a server); 0 the batched
    one with ``batch_size`` episodes open at a time. ``failed_action``: ``end`` (the original's rule: the
    first failed action ends the task, the rest of the group is not executed) or ``continue`` (the group
    runs on; the task ends only when the subgoal's last action failed).
    """

    formulation: str
    prompt_style: PromptStyle = "original"
    max_new_tokens: int = 512
    batch_size: int = 8
    concurrency: int = 0
    failed_action: Literal["end", "continue"] = "end"

    def __post_init__(self) -> None:
        check_choice(self.formulation, FORMULATIONS, "formulation")
        check_choice(self.failed_action, ("end", "continue"), "failed-action policy")
        adds_bos(self.prompt_style)
        if self.batch_size < 1 or self.max_new_tokens < 1 or self.concurrency < 0:
            raise ValueError(f"batch_size and max_new_tokens must be >= 1 and concurrency >= 0: {self}")

    @property
    def lumos(self) -> bool:
        return self.formulation.startswith("lumos_")

    @property
    def onetime(self) -> bool:
        return self.formulation == "lumos_onetime"


@dataclass(frozen=True)
class Request:
    """One generation an episode needs: which module, the dialogue (or, for dialogues the original wrote as
    raw text such as WebShop's in-context demonstrations, the finished prompt ``raw``), and a forced start of
    the reply."""

    module: Module
    messages: tuple[Message, ...]
    prefix: str = ""
    raw: str | None = None


def _request(module: Module, built: list[Message] | str, prefix: str = "") -> Request:
    if isinstance(built, str):
        return Request(module, (), prefix, raw=built)
    return Request(module, tuple(built), prefix)


# ------------------------------------------------------------------------------------------------
# The state machine of one episode
# ------------------------------------------------------------------------------------------------
def next_request(ep: Episode, config: AgentConfig) -> Request | None:
    """What ``ep`` needs next, or None when it is finished."""
    traj = ep.trajectory
    if traj.finished:
        return None
    if not config.lumos:  # cot / direct: the question alone as the user turn
        return Request("plan", (Message("user", ep.task),))
    last = traj.steps[-1] if traj.steps else None
    if last is not None and last.subgoals and last.ground_output is None:
        msgs, prefix = ep.dialogue.ground_messages(ep, onetime=config.onetime)
        return _request("ground", msgs, prefix)
    return _request("plan", ep.dialogue.plan_messages(ep, onetime=config.onetime))


def advance(ep: Episode, request: Request, prompt: str, output: str, config: AgentConfig, execute: Executor) -> None:
    """Record the reply to ``request`` and move ``ep`` on (executing actions after a grounding reply)."""
    output = (request.prefix + output).strip()
    if request.module == "plan":
        _after_plan(ep, prompt, output, config)
    else:
        _after_ground(ep, prompt, output, config, execute)
    if ep.trajectory.finished:
        _finalise(ep, config)


def _after_plan(ep: Episode, prompt: str, output: str, config: AgentConfig) -> None:
    traj = ep.trajectory
    step = Step(index=len(traj.steps) + 1, plan_prompt=prompt, plan_output=output)
    traj.steps.append(step)
    if not config.lumos:
        traj.prediction = ep.answer_of_output(output)
        traj.finish("done")
        return
    try:
        decision = ep.dialogue.parse_plan(ep, output, onetime=config.onetime)
    except PlanParseError as e:
        step.error = f"plan: {e}"
        traj.finish("parse_error", step.error)
        return
    if decision.stop:
        step.stop = True
        traj.finish("done")
        return
    step.subgoals = list(decision.subgoals)


def _after_ground(ep: Episode, prompt: str, output: str, config: AgentConfig, execute: Executor) -> None:
    traj, step = ep.trajectory, ep.trajectory.steps[-1]
    step.ground_prompt, step.ground_output = prompt, output
    try:
        actions = ep.dialogue.parse_actions(output)
    except ActionParseError as e:
        step.error = f"ground: {e}"
        _end_round(ep, step, config, failure="parse_error")
        return
    step.actions = [action_dict(a) for a in actions]
    end_on_failure = config.failed_action == "end" and not ep.teacher_forced
    # the executor turns every ToolError into ToolResult(error=...); anything else is a bug and propagates
    results = execute(actions, ep.tools, ep.variables, task=ep.task, subgoal=step.subgoals[-1],
                      subgoals=tuple(traj.subgoals), is_last_group=config.onetime,
                      on_error="stop" if end_on_failure else "continue")
    step.results = [jsonable(r.to_dict()) for r in results]
    last = results[-1] if results else None
    failed = next((r for r in results if not r.ok), None) if end_on_failure else (last if last and not last.ok else None)
    if last is None or failed is not None:
        step.error = f"tool: {failed.error if failed is not None else 'no result'}"
        _end_round(ep, step, config, failure="tool_error")
        return
    if not config.onetime:
        step.feedback = ep.dialogue.feedback(ep, step, results)
    _end_round(ep, step, config)


def _end_round(ep: Episode, step: Step, config: AgentConfig, failure: Status | None = None) -> None:
    """After a grounding round: the environment's end, a failure, the one-time pass, or the subgoal cap.

    A teacher-forced episode (Mind2Web) records a failure and goes on with the next gold step
    (``ep.after_ground`` moves its environment on); only the environment or the cap end it.
    """
    traj = ep.trajectory
    if ep.after_ground is not None:
        ep.after_ground(ep, step)
    if ep.terminated:
        traj.terminated = True
        traj.finish("done")
    elif failure is not None and not ep.teacher_forced:
        traj.finish(failure, step.error)
    elif config.onetime:
        traj.finish("done")
    elif step.index >= ep.max_subgoals or ep.truncated:
        traj.finish("max_subgoals")
    elif ep.teacher_forced and step.feedback is None:
        step.feedback = ep.dialogue.feedback(ep, step, [])


def _finalise(ep: Episode, config: AgentConfig) -> None:
    traj = ep.trajectory
    if config.lumos:
        traj.variables = jsonable(ep.variables)
        if traj.status == "done" or (traj.status == "max_subgoals" and ep.predict_at_cap):
            traj.prediction = ep.extract(ep)
    if ep.env is not None:
        traj.terminated = traj.terminated or ep.terminated
        traj.env_info = jsonable(dict(ep.env.info))


# ------------------------------------------------------------------------------------------------
# Generation
# ------------------------------------------------------------------------------------------------
def render_request(backend: Backend, request: Request, style: PromptStyle) -> str:
    """The exact text a completion backend continues: the Tulu rendering (or the raw prompt) plus the forced prefix."""
    if request.raw is not None:
        return request.raw + request.prefix
    eos = getattr(backend, "eos_token", None) or "</s>"
    return render_prompt(list(request.messages), style=style, eos_token=eos) + request.prefix


def _generate(backend: Backend, requests: Sequence[Request], prompts: Sequence[str], config: AgentConfig) -> list[str]:
    chat = getattr(backend, "generate_messages", None)
    if callable(chat) and getattr(backend, "api", "completions") == "chat" and all(r.raw is None for r in requests):
        return chat([list(r.messages) for r in requests], [r.prefix for r in requests],
                    max_new_tokens=config.max_new_tokens, stop=STOP)
    return backend.generate(list(prompts), max_new_tokens=config.max_new_tokens, stop=STOP)


def _default_executor() -> Executor:
    from lumos.tools.executor import execute_actions

    return execute_actions


def run_episodes(
    episodes: Iterable[Episode],
    *,
    planner: Backend,
    grounder: Backend | None,
    config: AgentConfig,
    execute: Executor | None = None,
    on_finish: Callable[[Episode], None] | None = None,
) -> list[Episode]:
    """Run every episode to the end (started, scored via ``on_finish``, closed); returns them in order.

    Args:
        episodes: created lazily as slots free up (a generator keeps at most ``batch_size`` /
            ``concurrency`` environment sessions open).
        planner: the planning module (or the cot/direct model).
        grounder: the grounding module (None for cot/direct).
        config: formulation, prompt style, batching or concurrency.
        execute: the action executor (default ``lumos.tools.executor.execute_actions``).
        on_finish: called with each finished episode while its environment is still open.
    """
    if config.lumos and grounder is None:
        raise ValueError(f"formulation {config.formulation} needs a grounding backend")
    execute = execute or _default_executor()
    backends: dict[str, Backend] = {"plan": planner, "ground": grounder or planner}
    if config.concurrency > 0:
        return _run_concurrent(iter(episodes), backends, config, execute, on_finish)
    return _run_batched(iter(episodes), backends, config, execute, on_finish)


def _finish(ep: Episode, on_finish: Callable[[Episode], None] | None) -> None:
    try:
        if on_finish is not None:
            on_finish(ep)
    finally:
        ep.close()


def _run_batched(source: Iterator[Episode], backends: Mapping[str, Backend], config: AgentConfig,
                 execute: Executor, on_finish: Callable[[Episode], None] | None) -> list[Episode]:
    done: list[Episode] = []
    active: list[Episode] = []
    try:
        while True:
            for ep in source:
                ep.start(config.formulation)
                active.append(ep)
                if len(active) >= config.batch_size:
                    break
            if not active:
                break
            for module in ("plan", "ground"):
                pending = [(ep, r) for ep in active if (r := next_request(ep, config)) is not None and r.module == module]
                if not pending:
                    continue
                backend = backends[module]
                prompts = [render_request(backend, r, config.prompt_style) for _, r in pending]
                outputs = _generate(backend, [r for _, r in pending], prompts, config)
                for (ep, r), prompt, out in zip(pending, prompts, outputs):
                    advance(ep, r, prompt, out, config, execute)
            still = []
            for ep in active:
                if ep.trajectory.finished:
                    _finish(ep, on_finish)
                    done.append(ep)
                else:
                    still.append(ep)
            active = still
    finally:
        for ep in active:
            ep.close()
    return done


def _drive_one(ep: Episode, backends: Mapping[str, Backend], config: AgentConfig, execute: Executor,
               on_finish: Callable[[Episode], None] | None, lock: threading.Lock) -> Episode:
    try:
        ep.start(config.formulation)
        while (r := next_request(ep, config)) is not None:
            backend = backends[r.module]
            prompt = render_request(backend, r, config.prompt_style)
            [out] = _generate(backend, [r], [prompt], config)
            advance(ep, r, prompt, out, config, execute)
        with lock:
            if on_finish is not None:
                on_finish(ep)
    finally:
        ep.close()
    return ep


def _run_concurrent(source: Iterator[Episode], backends: Mapping[str, Backend], config: AgentConfig,
                    execute: Executor, on_finish: Callable[[Episode], None] | None) -> list[Episode]:
    lock = threading.Lock()
    done: list[Episode] = []
    with ThreadPoolExecutor(max_workers=config.concurrency, thread_name_prefix="episode") as pool:
        running: set[Future[Episode]] = set()
        exhausted = False
        while running or not exhausted:
            while not exhausted and len(running) < config.concurrency:
                ep = next(source, None)
                if ep is None:
                    exhausted = True
                    break
                running.add(pool.submit(_drive_one, ep, backends, config, execute, on_finish, lock))
            if not running:
                break
            finished, running = wait(running, return_when=FIRST_COMPLETED)
            for fut in finished:
                done.append(fut.result())  # a bug in one episode propagates (the others still finish)
    return done
