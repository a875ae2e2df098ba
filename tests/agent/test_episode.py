"""Episodes with state: a toy environment (a vending machine per example) through the real loop.

Checks that every episode gets its own session (reset once, closed once, also when the loop fails),
that the environment's observation reaches the prompt, that a purchase ends the episode
(``terminated``) before the planner's caps, that scores are computed from the open environment, that
stateful tools are never cached, and that the concurrent driver gives the trajectories of the batched one.
"""

from __future__ import annotations

import pytest

from lumos.agent.episode import Episode, StandardDialogue
from lumos.agent.loop import AgentConfig, run_episodes
from lumos.benchmarks.base import Example
from lumos.inference.scripted import ScriptedBackend
from lumos.tools.base import ToolError
from lumos.tools.cache import CachedTool, ToolCache


class VendingMachine:
    """One session: coins inserted so far; ``Buy`` ends the task with a reward when enough was paid."""

    instances: list[VendingMachine] = []

    def __init__(self, price: int) -> None:
        self.price, self.coins, self.terminated = price, 0, False
        self.info: dict = {}
        self.resets = self.closes = 0
        VendingMachine.instances.append(self)

    def reset(self) -> str:
        self.resets += 1
        self.coins, self.terminated = 0, False
        return f"A machine selling tea for {self.price} coins."

    def close(self) -> None:
        self.closes += 1


class Insert:
    name, cacheable = "Insert", False

    def __init__(self, env: VendingMachine) -> None:
        self.env = env

    def __call__(self, call):
        self.env.coins += int(call.action.args)
        return self.env.coins


class Buy:
    name, cacheable = "Buy", False

    def __init__(self, env: VendingMachine) -> None:
        self.env = env

    def __call__(self, call):
        if self.env.coins < self.env.price:
            raise ToolError(f"{self.env.coins} coins are not enough")
        self.env.terminated = True
        self.env.info = {"reward": 1.0, "change": self.env.coins - self.env.price}
        return "tea"


def machine_episode(example: Example) -> Episode:
    env = VendingMachine(int(example.answer))
    return Episode(example=example, task=example.question, tools={"Insert": Insert(env), "Buy": Buy(env)},
                   scorer=lambda ep: {"reward": ep.env.info.get("reward", 0.0), "paid": float(ep.env.coins)},
                   dialogue=StandardDialogue("maths"), observation=None, env=env, max_subgoals=5)


def plan(prompt: str) -> str:
    k = prompt.count("<|assistant|>")
    return f"Subgoal {k}: Insert a coin." if k < 4 else "Subgoal 4: Buy tea."


def ground(prompt: str) -> str:
    k = prompt.count("<|assistant|>")
    return f"R{k} = Insert(2)" if k < 4 else "R4 = Buy()"


EXAMPLES = [Example("a", "Buy tea for 4 coins.", "4"), Example("b", "Buy tea for 9 coins.", "9"),
            Example("c", "Buy tea for 2 coins.", "2")]


def _run(config: AgentConfig, *, concurrent: bool = False):
    VendingMachine.instances = []
    planner = ScriptedBackend(plan, concurrent=concurrent)
    grounder = ScriptedBackend(ground, concurrent=concurrent)
    seen: dict[str, dict] = {}

    def on_finish(ep: Episode) -> None:
        assert ep.env.closes == 0  # scored while the session is open
        seen[ep.example.id] = ep.score()

    eps = [machine_episode(e) for e in EXAMPLES]
    run_episodes(iter(eps), planner=planner, grounder=grounder, config=config, on_finish=on_finish)
    return eps, seen, planner


def test_each_episode_owns_its_session_and_ends_on_purchase():
    eps, scores, planner = _run(AgentConfig(formulation="lumos_iterative", batch_size=2))
    assert [(m.resets, m.closes) for m in VendingMachine.instances] == [(1, 1)] * 3
    a, b, c = (ep.trajectory for ep in eps)
    # the observation of reset() is the Initial Environment Description
    assert "Task: Buy tea for 4 coins.; Initial Environment Description: A machine selling tea for 4 coins.\n" \
        in planner.calls[0]
    assert a.observation == "A machine selling tea for 4 coins."
    # 2 + 2 + ... : a pays 6 >= 4 and buys at subgoal 4 -> the environment ended it
    assert a.status == "done" and a.terminated and a.env_info == {"reward": 1.0, "change": 2}
    assert len(a.steps) == 4 and not a.steps[-1].stop
    # b: 6 coins < 9 -> Buy fails -> tool_error, no reward; state of a did not leak into b
    assert b.status == "tool_error" and not b.terminated and "6 coins are not enough" in b.error
    assert scores == {"a": {"reward": 1.0, "paid": 6.0}, "b": {"reward": 0.0, "paid": 6.0},
                      "c": {"reward": 1.0, "paid": 6.0}}
    assert c.terminated


def test_concurrent_driver_gives_the_batched_trajectories():
    batched, scores_b, _ = _run(AgentConfig(formulation="lumos_iterative", batch_size=2))
    concurrent, scores_c, _ = _run(AgentConfig(formulation="lumos_iterative", concurrency=3), concurrent=True)
    assert [e.trajectory.to_dict() for e in batched] == [e.trajectory.to_dict() for e in concurrent]
    assert scores_b == scores_c
    assert [(m.resets, m.closes) for m in VendingMachine.instances] == [(1, 1)] * 3


def test_sessions_close_when_the_loop_fails():
    VendingMachine.instances = []
    eps = [machine_episode(e) for e in EXAMPLES]

    def boom(prompt: str) -> str:
        raise RuntimeError("the model server died")

    with pytest.raises(RuntimeError, match="server died"):
        run_episodes(eps, planner=ScriptedBackend(boom), grounder=ScriptedBackend(ground),
                     config=AgentConfig(formulation="lumos_iterative", batch_size=2))
    opened = [m for m in VendingMachine.instances if m.resets]
    assert len(opened) == 2 and all(m.closes == 1 for m in opened)  # the third was never started


def test_stateful_tools_are_never_cached(tmp_path):
    env = VendingMachine(4)
    cache = ToolCache(tmp_path / "c.sqlite")
    insert = CachedTool(Insert(env), cache)
    from lumos.formats.actions import parse_action
    from lumos.tools.base import ToolCall

    call = ToolCall(action=parse_action("R1 = Insert(2)"), variables={})
    assert [insert(call), insert(call)] == [2, 4] and len(cache) == 0
