"""What happened on one task: every prompt, output, parsed action, tool result and error.

A ``Trajectory`` is a list of ``Step``s, one per planning round (Lumos-I: one subgoal; Lumos-O: the
whole plan; cot/direct: the single answer). It is JSON-serialisable and round-trips::

    {"task": "Janet's ducks lay 16 eggs...", "domain": "maths", "formulation": "lumos_onetime",
     "status": "done", "prediction": "18", "steps": [{"index": 1, "plan_prompt": "<|user|>\\n...",
     "plan_output": "Subgoal 1: ...", "subgoals": ["Subgoal 1: ..."], "ground_prompt": "...",
     "ground_output": "R1 = Calculator(16 - 3 - 4); ...", "actions": [{"variables": ["R1"],
     "name": "Calculator", "args": "16 - 3 - 4"}], "results": [{"action": "R1 = ...", "value": "9",
     "error": null, "cached": false}], "feedback": null, "error": null}], "variables": {"R1": "9"}}

Exercise: ``pytest tests/agent/test_loop.py -k roundtrip``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from lumos.formats.actions import Action

# running: still being planned; done: finished normally (stop sentence, the environment ended the task,
# or Lumos-O/cot/direct after their single pass); max_subgoals: the per-benchmark cap ended it; parse_error / tool_error: ended
# by a model output outside the grammar or by a failed subgoal result.
Status = Literal["running", "done", "max_subgoals", "parse_error", "tool_error"]
STATUSES: tuple[str, ...] = ("running", "done", "max_subgoals", "parse_error", "tool_error")


def jsonable(value: Any) -> Any:
    """A JSON-safe copy of a tool value: containers recursively, anything else not JSON-native as ``str``."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return str(value)


def action_dict(action: Action) -> dict[str, Any]:
    return {"variables": list(action.variables), "name": action.name, "args": action.args}


@dataclass
class Step:
    """One planning round and what followed it.

    ``index`` is the 1-based subgoal number (Lumos-I) or 1 (one pass). ``subgoals`` holds the parsed
    ``Subgoal k: ...`` lines (empty when the planner stopped). ``feedback`` is the result text fed
    back to the planner. ``error`` names what ended the task in this step, if anything.
    """

    index: int
    plan_prompt: str
    plan_output: str = ""
    subgoals: list[str] = field(default_factory=list)
    stop: bool = False
    ground_prompt: str | None = None
    ground_output: str | None = None
    actions: list[dict[str, Any]] = field(default_factory=list)
    results: list[dict[str, Any]] = field(default_factory=list)
    feedback: str | None = None
    error: str | None = None


@dataclass
class Trajectory:
    """One task through the agent. ``variables`` is the final variable table (JSON-safe copy);
    ``observation`` the Initial Environment Description the prompts showed; ``terminated`` whether the
    environment ended the task; ``env_info`` what the environment reported at the end (reward, ...)."""

    task: str
    domain: str
    formulation: str
    steps: list[Step] = field(default_factory=list)
    status: Status = "running"
    prediction: str | None = None
    error: str | None = None
    variables: dict[str, Any] = field(default_factory=dict)
    observation: str | None = None
    terminated: bool = False
    env_info: dict[str, Any] = field(default_factory=dict)

    @property
    def finished(self) -> bool:
        return self.status != "running"

    @property
    def subgoals(self) -> list[str]:
        return [s for step in self.steps for s in step.subgoals]

    def finish(self, status: Status, error: str | None = None) -> None:
        if status not in STATUSES or status == "running":
            raise ValueError(f"cannot finish with status {status!r}; expected one of {STATUSES[1:]}")
        self.status = status
        self.error = error

    def to_dict(self) -> dict[str, Any]:
        return jsonable(asdict(self))

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Trajectory:
        try:
            steps = [Step(**s) for s in d.get("steps", [])]
            return cls(
                task=d["task"], domain=d["domain"], formulation=d["formulation"], steps=steps,
                status=d.get("status", "running"), prediction=d.get("prediction"), error=d.get("error"),
                variables=dict(d.get("variables", {})), observation=d.get("observation"),
                terminated=bool(d.get("terminated", False)), env_info=dict(d.get("env_info") or {}),
            )
        except (KeyError, TypeError) as e:
            raise ValueError(f"malformed trajectory record: {e}") from None
