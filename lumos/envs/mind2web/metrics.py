"""Mind2Web's official step metrics, computed as MindAct's evaluation code computes them.

A prediction per gold step (a ``steps.jsonl`` line)::

    {"annotation_id": "8f6261cf-...", "action_uid": "f3ae6144-...", "element": "2058", "operation": "CLICK", "value": ""}

Per step:

* element accuracy: the predicted ``element`` (a ``backend_node_id``) is one of the step's positive candidates;
* operation F1: token-set F1 between ``"<OP> <value>"`` strings (MindAct's ``calculate_f1``: whitespace tokens, case
  kept, both empty = 1, one empty = 0). The gold string drops the value of a CLICK, as MindAct's target text
  does; values are read up to the first line break, as MindAct parses ``Value: ...``;
* step success: element right and operation F1 = 1.

As MindAct, a step scores 0 on all three when it has no positive candidate or no element was predicted
(``element`` null); steps without a prediction line count as failed. Per task: task success = every step
successful. Aggregates: ``micro`` (mean over all steps) and ``macro`` (mean over tasks of the per-task mean; the
Mind2Web paper's numbers), plus ``lumos_step_sr``: the original Lumos's step success (element right, operation name
equal and, for TYPE/SELECT, value equal ignoring case), micro over all steps.

``rank_cap=50`` reproduces MindAct's evaluation further: positives ranked 50 or worse by its candidate generator
do not count (such steps score 0, operation F1 included). Off by default: under the ``ranked`` protocol with
MindAct's ranks only operation F1 differs; under ``original`` the gold element is always offered.

Exercise: ``python -m eval.mind2web.score --data_dir ../shared/data --predictions steps.jsonl``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lumos.envs.mind2web.data import OPS, Operation, Step, Task
from lumos.utils.io import DataFormatError, iter_jsonl

PREDICTION_FIELDS: tuple[str, ...] = ("annotation_id", "action_uid", "element", "operation", "value")


def op_f1(pred: str, label: str) -> float:
    """MindAct's token-set F1 of two ``"<OP> <value>"`` strings."""
    p, g = set(pred.strip().split()), set(label.strip().split())
    if not p and not g:
        return 1.0
    if not p or not g:
        return 0.0
    tp = len(p & g)
    precision, recall = tp / len(p), tp / len(g)
    if precision == 0 or recall == 0:
        return 0.0
    return 2 * precision * recall / (precision + recall)


def _first_line(value: str) -> str:
    return value.split("\n", 1)[0].strip()


def target_action(op: Operation) -> str:
    """The gold ``"<OP> <value>"`` as MindAct builds it (no value for CLICK)."""
    value = "" if op.op == "CLICK" else _first_line(op.value)
    return f"{op.op} {value}".strip()


def predicted_action(operation: str, value: str) -> str:
    return f"{operation.strip()} {_first_line(value)}"


@dataclass(frozen=True)
class StepScore:
    annotation_id: str
    action_uid: str
    element: float
    op_f1: float
    success: float
    lumos_success: float
    has_positive: bool
    predicted: bool


def score_step(annotation_id: str, step: Step, pred: Mapping[str, Any] | None, *, rank_cap: int | None = None) -> StepScore:
    """Score one step against a prediction line (``None``: no prediction).

    ``rank_cap=k`` scores as MindAct's evaluation does: positives of MindAct rank >= k do not count, so a step
    whose positives were all ranked out scores 0 on every metric, operation F1 included (ranks must be known).
    """
    positives = step.pos_candidates
    if rank_cap is not None:
        if any(c.rank is None for c in positives):
            raise ValueError(f"step {annotation_id}_{step.action_uid}: rank_cap needs MindAct ranks on every positive")
        positives = tuple(c for c in positives if c.rank < rank_cap)  # type: ignore[operator]
    has_pos = bool(positives)
    element = pred.get("element") if pred else None
    if not has_pos or element is None:
        return StepScore(annotation_id, step.action_uid, 0.0, 0.0, 0.0, 0.0, has_pos, pred is not None)
    assert pred is not None
    operation, value = pred.get("operation") or "", pred.get("value") or ""
    hit = 1.0 if str(element) in {c.backend_node_id for c in positives} else 0.0
    f1 = op_f1(predicted_action(operation, value), target_action(step.operation))
    gold = step.operation
    same_value = gold.op == "CLICK" or value.strip().lower() == gold.value.lower()
    lumos = 1.0 if hit and operation == gold.op and same_value else 0.0
    return StepScore(annotation_id, step.action_uid, hit, f1, 1.0 if hit == 1.0 and f1 == 1.0 else 0.0, lumos, has_pos, True)


@dataclass(frozen=True)
class TaskScore:
    annotation_id: str
    steps: tuple[StepScore, ...]

    def _mean(self, name: str) -> float:
        return sum(getattr(s, name) for s in self.steps) / len(self.steps)

    @property
    def success(self) -> float:
        return 1.0 if all(s.success == 1.0 for s in self.steps) else 0.0

    def as_dict(self) -> dict[str, float]:
        return {"element_acc": self._mean("element"), "op_f1": self._mean("op_f1"), "step_sr": self._mean("success"),
                "task_sr": self.success, "lumos_step_sr": self._mean("lumos_success"), "n_steps": float(len(self.steps))}  # fmt: skip


def _key(rec: Mapping[str, Any]) -> tuple[str, str]:
    return str(rec["annotation_id"]), str(rec["action_uid"])


def score_task(task: Task, predictions: Iterable[Any], *, rank_cap: int | None = None) -> TaskScore:
    """Score every gold step of ``task``; ``predictions`` are ``StepPrediction``s or prediction dicts."""
    if not task.steps:
        raise ValueError(f"task {task.annotation_id} has no steps to score")
    by_uid = {}
    for p in predictions:
        rec = p.to_dict() if hasattr(p, "to_dict") else p
        by_uid.setdefault(str(rec["action_uid"]), rec)
    return TaskScore(task.annotation_id, tuple(score_step(task.annotation_id, s, by_uid.get(s.action_uid), rank_cap=rank_cap)
                                                for s in task.steps))


def aggregate(task_scores: Sequence[TaskScore]) -> dict[str, Any]:
    """``element_acc``/``op_f1``/``step_sr`` as ``{"micro", "macro"}``, ``task_sr``, ``lumos_step_sr`` and counts."""
    steps = [s for t in task_scores for s in t.steps]
    if not steps:
        raise ValueError("no steps to aggregate")

    def both(name: str) -> dict[str, float]:
        return {"micro": sum(getattr(s, name) for s in steps) / len(steps),
                "macro": sum(t._mean(name) for t in task_scores) / len(task_scores)}  # fmt: skip

    return {
        "element_acc": both("element"),
        "op_f1": both("op_f1"),
        "step_sr": both("success"),
        "task_sr": sum(t.success for t in task_scores) / len(task_scores),
        "lumos_step_sr": sum(s.lumos_success for s in steps) / len(steps),
        "n_steps": len(steps),
        "n_tasks": len(task_scores),
        "n_steps_without_positive": sum(not s.has_positive for s in steps),
        "n_steps_predicted": sum(s.predicted for s in steps),
    }


def check_prediction(rec: Mapping[str, Any], where: str) -> dict[str, Any]:
    """A validated prediction line (``value`` defaults to ""; a numeric element becomes a string).

    Raises:
        DataFormatError: a missing or ill-typed field (file and line named in ``where``).
    """
    for name in ("annotation_id", "action_uid", "element", "operation"):
        if name not in rec:
            raise DataFormatError(f"{where}: missing field {name!r} (has {sorted(rec)})")
    for name in ("annotation_id", "action_uid"):
        if not isinstance(rec[name], str):
            raise DataFormatError(f"{where}: field {name!r} must be a string")
    element = rec["element"]
    if element is not None and (isinstance(element, bool) or not isinstance(element, (str, int))):
        raise DataFormatError(f"{where}: field 'element' must be a backend_node_id string or null")
    operation = rec["operation"]
    if operation is not None and operation not in OPS:
        raise DataFormatError(f"{where}: field 'operation' must be one of {', '.join(OPS)} or null, got {operation!r}")
    value = rec.get("value", "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise DataFormatError(f"{where}: field 'value' must be a string")
    return {"annotation_id": rec["annotation_id"], "action_uid": rec["action_uid"],
            "element": None if element is None else str(element), "operation": operation, "value": value}  # fmt: skip


def read_predictions(path: str | Path) -> list[dict[str, Any]]:
    """Validated lines of a ``steps.jsonl`` file.

    Raises:
        DataFormatError: a bad line, or the same step twice with different contents (file and line named).
    """
    out: list[dict[str, Any]] = []
    first: dict[tuple[str, str], tuple[int, dict[str, Any]]] = {}
    for line_no, rec in iter_jsonl(path):
        where = f"{path}:{line_no}"
        pred = check_prediction(rec, where)
        key = _key(pred)
        if key in first:
            if first[key][1] != pred:
                raise DataFormatError(f"{where}: step {key[0]}_{key[1]} predicted twice, differently (first at line {first[key][0]})")
            continue
        first[key] = (line_no, pred)
        out.append(pred)
    return out


def score_predictions(tasks: Sequence[Task], predictions: Sequence[Mapping[str, Any]], *,
                      rank_cap: int | None = None) -> dict[str, Any]:
    """Every metric over all gold steps of ``tasks``; predictions for unknown steps are counted and listed.

    Returns:
        ``aggregate(...)`` plus ``n_unknown_predictions`` and ``unknown_predictions`` (up to 10 ``aid_uid`` ids).
    """
    known = {(t.annotation_id, s.action_uid) for t in tasks for s in t.steps}
    by_task: dict[str, list[Mapping[str, Any]]] = {}
    unknown: list[str] = []
    for p in predictions:
        key = _key(p)
        if key in known:
            by_task.setdefault(key[0], []).append(p)
        else:
            unknown.append(f"{key[0]}_{key[1]}")
    result = aggregate([score_task(t, by_task.get(t.annotation_id, []), rank_cap=rank_cap) for t in tasks if t.steps])
    result["n_unknown_predictions"] = len(unknown)
    result["unknown_predictions"] = unknown[:10]
    return result
