"""Mind2Web tasks as typed records, read from the official files and from the trimmed layouts found offline.

One task of the official format (Hugging Face ``osunlp/Mind2Web`` train files, the authors' test_task /
test_website / test_domain files), abridged::

    {"annotation_id": "8f6261cf-...", "website": "seatgeek", "domain": "Entertainment", "subdomain": "Event",
     "confirmed_task": "Find all events taking place in New York City during the month of September.",
     "action_reprs": ["[button]  Change Location -> CLICK", ...],
     "actions": [{"action_uid": "f3ae6144-...", "operation": {"op": "CLICK", "original_op": "CLICK", "value": ""},
                  "cleaned_html": "<html backend_node_id=\\"1\\">...", "raw_html": "...",
                  "pos_candidates": [{"tag": "button", "attributes": "{\\"backend_node_id\\": \\"2058\\", ...}",
                                      "backend_node_id": "2058", "is_original_target": false, ...}],
                  "neg_candidates": [...]}, ...]}

Accepted layouts (``load_tasks`` tells them apart per record):

* ``official``: as above; ``raw_html`` is dropped on load (nothing here reads it).
* ``seeclick``: SeeClick's trimmed test files: no HTML, no ``neg_candidates``; each positive carries MindAct's
  ``score``, 0-based ``rank`` and ``choice`` (its multiple-choice text). ``Step.has_negatives`` is False.
* ``reprs_only``: ``actions`` missing or empty (e.g. the five real train tasks kept offline); no steps, only
  ``action_reprs`` (what the training-data conversion reads).

Also: ``load_step_samples`` reads single-step files rebuilt from train steps (``{"instances": [{"input": ...,
"ground_truth": ..., "metadata": {"annotation_id", "action_uid", "target_bnids", "candidate_bnids", ...}}]}``),
and ``load_candidate_scores`` reads MindAct's ``scores_all_data.pkl`` (``{"scores": {"<annotation_id>_<action_uid>":
{backend_node_id: float}}, "ranks": {...}}``) with an unpickler that only builds plain containers and numbers.

Bad input raises ``DataFormatError`` naming the file, the task (index and annotation_id), the step and the field.

Exercise: ``pytest tests/envs/mind2web/test_data.py``.
"""

from __future__ import annotations

import json
import logging
import pickle
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from lumos.utils.io import DataFormatError, read_json, require_field

logger = logging.getLogger(__name__)

Op = Literal["CLICK", "TYPE", "SELECT"]
OPS: tuple[str, ...] = ("CLICK", "TYPE", "SELECT")
Split = Literal["train", "test_task", "test_website", "test_domain"]
SPLITS: tuple[str, ...] = ("train", "test_task", "test_website", "test_domain")
SourceFormat = Literal["official", "seeclick", "reprs_only", "step_samples"]


@dataclass(frozen=True)
class Operation:
    """The gold operation of a step. ``original_op`` may also be HOVER or ENTER (both scored as CLICK)."""

    op: str
    value: str = ""
    original_op: str = ""


@dataclass(frozen=True)
class Candidate:
    """One element of a page the agent may act on.

    ``attributes`` are the element's raw attributes (names with ``-`` written ``_``, as Mind2Web stores them);
    ``score``/``rank`` are MindAct's candidate-generation values when known (rank 0 = best); ``choice`` is the
    element's text in SeeClick's files (MindAct's multiple-choice rendering, e.g. ``(button id=34 (span Go ) )``).
    """

    backend_node_id: str
    tag: str = ""
    attributes: Mapping[str, str] = field(default_factory=dict, hash=False, compare=False)
    is_positive: bool = False
    score: float | None = None
    rank: int | None = None
    choice: str | None = None


@dataclass(frozen=True)
class Step:
    """One gold step: the page before the action (``cleaned_html``, candidates) and the gold operation.

    ``has_negatives`` is False when the file carries no negative candidates (SeeClick layout): every candidate
    is then a positive, so element accuracy on such data says nothing about element choice.
    """

    action_uid: str
    operation: Operation
    action_repr: str
    pos_candidates: tuple[Candidate, ...] = ()
    neg_candidates: tuple[Candidate, ...] = ()
    cleaned_html: str | None = field(default=None, repr=False)
    has_negatives: bool = True

    @property
    def candidates(self) -> tuple[Candidate, ...]:
        """Positives then negatives, in file order (the original's unsorted environment)."""
        return self.pos_candidates + self.neg_candidates

    @property
    def positive_ids(self) -> frozenset[str]:
        return frozenset(c.backend_node_id for c in self.pos_candidates)


@dataclass(frozen=True)
class StepSample:
    """A step in its task context: what a ranker or the environment needs for one page."""

    annotation_id: str
    website: str
    domain: str
    subdomain: str
    confirmed_task: str
    previous_actions: tuple[str, ...]
    step: Step
    step_index: int
    html_truncated: bool = False

    @property
    def sample_id(self) -> str:
        """MindAct's key ``<annotation_id>_<action_uid>`` (used by ``scores_all_data.pkl``)."""
        return sample_id(self.annotation_id, self.step.action_uid)


@dataclass(frozen=True)
class Task:
    """One Mind2Web task; ``steps`` is empty for ``reprs_only`` records."""

    annotation_id: str
    website: str
    domain: str
    subdomain: str
    confirmed_task: str
    action_reprs: tuple[str, ...]
    steps: tuple[Step, ...] = ()
    source: str = ""
    source_format: str = "official"

    def sample(self, i: int) -> StepSample:
        """Step ``i`` with the gold actions before it as previous actions."""
        return StepSample(self.annotation_id, self.website, self.domain, self.subdomain, self.confirmed_task,
                          self.action_reprs[:i], self.steps[i], i)  # fmt: skip

    def samples(self) -> Iterator[StepSample]:
        return (self.sample(i) for i in range(len(self.steps)))


def sample_id(annotation_id: str, action_uid: str) -> str:
    return f"{annotation_id}_{action_uid}"


# ------------------------------------------------------------------------------------------------
# Task files
# ------------------------------------------------------------------------------------------------
def _str_field(rec: Mapping[str, Any], name: str, where: str, *, default: str | None = None) -> str:
    if default is not None and name not in rec:
        return default
    value = require_field(dict(rec), name, where)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise DataFormatError(f"{where}: field {name!r} must be a string, got {type(value).__name__}")
    return value


def _attributes(value: Any, where: str) -> dict[str, str]:
    if value is None or value == "":
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as e:
            raise DataFormatError(f"{where}: field 'attributes' is not a JSON object string ({e.msg})") from None
    if not isinstance(value, dict):
        raise DataFormatError(f"{where}: field 'attributes' must be an object, got {type(value).__name__}")
    return {str(k): "" if v is None else str(v) for k, v in value.items()}


def _number(rec: Mapping[str, Any], name: str, where: str, kind: type) -> Any:
    value = rec.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise DataFormatError(f"{where}: field {name!r} must be a number, got {value!r}")
    return kind(value)


def _candidate(rec: Any, where: str, positive: bool) -> Candidate:
    if not isinstance(rec, dict):
        raise DataFormatError(f"{where}: expected a candidate object, got {type(rec).__name__}")
    choice = rec.get("choice")
    if choice is not None and not isinstance(choice, str):
        raise DataFormatError(f"{where}: field 'choice' must be a string")
    return Candidate(
        backend_node_id=_str_field(rec, "backend_node_id", where),
        tag=_str_field(rec, "tag", where, default=""),
        attributes=_attributes(rec.get("attributes"), where),
        is_positive=positive,
        score=_number(rec, "score", where, float),
        rank=_number(rec, "rank", where, int),
        choice=choice,
    )


def _operation(rec: Any, where: str) -> Operation:
    if not isinstance(rec, dict):
        raise DataFormatError(f"{where}: field 'operation' must be an object")
    op = _str_field(rec, "op", f"{where} operation")
    if op not in OPS:
        raise DataFormatError(f"{where}: operation.op {op!r} is not one of {', '.join(OPS)}")
    return Operation(op=op, value=_str_field(rec, "value", f"{where} operation", default=""),
                     original_op=_str_field(rec, "original_op", f"{where} operation", default=op))  # fmt: skip


def _step(rec: Any, where: str, action_repr: str) -> Step:
    if not isinstance(rec, dict):
        raise DataFormatError(f"{where}: expected an action object, got {type(rec).__name__}")
    pos = require_field(rec, "pos_candidates", where, list)
    neg = rec.get("neg_candidates")
    if neg is not None and not isinstance(neg, list):
        raise DataFormatError(f"{where}: field 'neg_candidates' must be a list")
    html = rec.get("cleaned_html")
    if html is not None and not isinstance(html, str):
        raise DataFormatError(f"{where}: field 'cleaned_html' must be a string")
    return Step(
        action_uid=_str_field(rec, "action_uid", where),
        operation=_operation(require_field(rec, "operation", where), where),
        action_repr=action_repr,
        pos_candidates=tuple(_candidate(c, f"{where} pos_candidates[{k}]", True) for k, c in enumerate(pos)),
        neg_candidates=tuple(_candidate(c, f"{where} neg_candidates[{k}]", False) for k, c in enumerate(neg or [])),
        cleaned_html=html,
        has_negatives=neg is not None,
    )


def parse_task(rec: Any, where: str) -> Task:
    """One task record (any accepted layout). ``where`` names it in errors, e.g. ``"test.json: task 3"``."""
    if not isinstance(rec, dict):
        raise DataFormatError(f"{where}: expected a task object, got {type(rec).__name__}")
    aid = _str_field(rec, "annotation_id", where)
    where = f"{where} ({aid})"
    reprs = require_field(rec, "action_reprs", where, list)
    if not all(isinstance(r, str) for r in reprs):
        raise DataFormatError(f"{where}: field 'action_reprs' must be a list of strings")
    actions = rec.get("actions") or []
    if not isinstance(actions, list):
        raise DataFormatError(f"{where}: field 'actions' must be a list")
    if actions and len(actions) != len(reprs):
        raise DataFormatError(f"{where}: {len(actions)} actions but {len(reprs)} action_reprs")
    steps = tuple(_step(a, f"{where} step {j}", reprs[j]) for j, a in enumerate(actions))
    if not steps:
        fmt = "reprs_only"
    elif all(s.cleaned_html is None and not s.has_negatives for s in steps):
        fmt = "seeclick"
    else:
        fmt = "official"
    return Task(
        annotation_id=aid,
        website=_str_field(rec, "website", where, default=""),
        domain=_str_field(rec, "domain", where, default=""),
        subdomain=_str_field(rec, "subdomain", where, default=""),
        confirmed_task=_str_field(rec, "confirmed_task", where),
        action_reprs=tuple(reprs),
        steps=steps,
        source=where,
        source_format=fmt,
    )


def task_files(path: str | Path) -> list[Path]:
    """``path`` itself, or the ``*.json`` files of a folder in name order."""
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix == ".json" and p.is_file())
        if not files:
            raise DataFormatError(f"{path}: no .json task file in this folder")
        return files
    if not path.is_file():
        raise FileNotFoundError(f"Mind2Web task file not found: {path}")
    return [path]


def load_tasks(path: str | Path, *, max_tasks: int | None = None) -> list[Task]:
    """Tasks of a JSON list file or of every ``*.json`` file of a folder (name order), in file order.

    Raises:
        DataFormatError: bad JSON or a bad record (file, task index, annotation_id, step and field named).
        FileNotFoundError: ``path`` does not exist.
    """
    tasks: list[Task] = []
    for file in task_files(path):
        data = read_json(file)
        if not isinstance(data, list):
            raise DataFormatError(f"{file}: expected a JSON list of Mind2Web tasks, got {type(data).__name__}")
        for i, rec in enumerate(data):
            tasks.append(parse_task(rec, f"{file}: task {i}"))
            if max_tasks is not None and len(tasks) >= max_tasks:
                return tasks
    seen: dict[str, str] = {}
    for t in tasks:
        if t.annotation_id in seen:
            raise DataFormatError(f"{t.source}: annotation_id repeated (first at {seen[t.annotation_id]})")
        seen[t.annotation_id] = t.source
    return tasks


def split_paths(data_dir: str | Path, split: str) -> list[Path]:
    """Where a split may live under ``data_dir``, in the order tried.

    The authors' layout (``<split>/*.json``, also under ``data/``), a single ``<split>.json``, and SeeClick's
    trimmed files (``seeclick_mind2web_data_<split>.json``, also under ``mind2web/``).
    """
    d = Path(data_dir)
    return [d / split, d / "data" / split, d / f"{split}.json", d / f"seeclick_mind2web_data_{split}.json",
            d / "mind2web" / split, d / "mind2web" / f"seeclick_mind2web_data_{split}.json"]  # fmt: skip


def resolve_split(data_dir: str | Path, split: str) -> Path:
    """The file or folder holding ``split`` (``data_dir`` itself when it is a file).

    Raises:
        ValueError: unknown split.  FileNotFoundError: nothing found (the message lists what was tried).
    """
    if split not in SPLITS:
        raise ValueError(f"unknown Mind2Web split {split!r}; choose one of {', '.join(SPLITS)}")
    if Path(data_dir).is_file():
        return Path(data_dir)
    tried = split_paths(data_dir, split)
    for p in tried:
        if p.is_file() or (p.is_dir() and any(p.glob("*.json"))):
            return p
    raise FileNotFoundError(f"no Mind2Web {split} data under {data_dir}; tried {', '.join(str(p) for p in tried)}")


def load_split(data_dir: str | Path, split: str = "test_task", *, max_tasks: int | None = None) -> list[Task]:
    """``load_tasks(resolve_split(data_dir, split))``."""
    return load_tasks(resolve_split(data_dir, split), max_tasks=max_tasks)


# ------------------------------------------------------------------------------------------------
# Single-step files rebuilt from train steps
# ------------------------------------------------------------------------------------------------
_CAND_LINE = re.compile(r"^\s*\d+\.\s*<(?P<tag>[\w-]+)\s+bnid=\"(?P<bnid>[^\"]+)\"(?P<rest>.*)$")
_ATTR = re.compile(r"([\w-]+)=\"([^\"]*)\"?")
_PREV_ITEM = re.compile(r"^\s*\d+\.\s+(.*)$")


def _section(text: str, start: str, end: str) -> str:
    i = text.find(start)
    if i < 0:
        return ""
    i += len(start)
    j = text.find(end, i)
    return text[i:] if j < 0 else text[i:j]


def _step_sample(inst: Any, where: str) -> StepSample:
    if not isinstance(inst, dict):
        raise DataFormatError(f"{where}: expected an instance object")
    meta = require_field(inst, "metadata", where, dict)
    text = _str_field(inst, "input", where)
    aid = _str_field(meta, "annotation_id", f"{where} metadata")
    where = f"{where} ({aid})"
    targets = require_field(meta, "target_bnids", f"{where} metadata", list)
    cand_ids = require_field(meta, "candidate_bnids", f"{where} metadata", list)
    op = _str_field(meta, "op", f"{where} metadata")
    if op not in OPS:
        raise DataFormatError(f"{where}: metadata.op {op!r} is not one of {', '.join(OPS)}")
    task_line = re.search(r"^Task: (.*)$", text, re.M)
    if not task_line:
        raise DataFormatError(f"{where}: field 'input' has no 'Task: ...' line")
    prev = [m.group(1) for ln in _section(text, "Previous actions (already executed):\n", "\n\n").splitlines()
            if (m := _PREV_ITEM.match(ln))]  # fmt: skip
    lines: dict[str, tuple[str, dict[str, str]]] = {}
    for ln in _section(text, "(bnid = backend_node_id):\n", "\n\n").splitlines():
        m = _CAND_LINE.match(ln)
        if m:
            attrs = {k: v for k, v in _ATTR.findall(m.group("rest"))}
            lines[m.group("bnid")] = (m.group("tag"), attrs)
    html = _section(text, "```html\n", "\n```")
    truncated = "[HTML truncated" in html
    if truncated:
        html = html[: html.find("\n... [HTML truncated")]

    def cand(bnid: Any, positive: bool) -> Candidate:
        tag, attrs = lines.get(str(bnid), ("", {}))
        return Candidate(str(bnid), tag=tag, attributes=attrs, is_positive=positive)

    target_set = {str(t) for t in targets}
    step = Step(
        action_uid=_str_field(meta, "action_uid", f"{where} metadata"),
        operation=Operation(op=op, value=_str_field(meta, "value", f"{where} metadata", default=""), original_op=op),
        action_repr="",
        pos_candidates=tuple(cand(b, True) for b in cand_ids if str(b) in target_set),
        neg_candidates=tuple(cand(b, False) for b in cand_ids if str(b) not in target_set),
        cleaned_html=html or None,
        has_negatives=True,
    )
    index = meta.get("action_idx", len(prev))
    return StepSample(aid, _str_field(meta, "website", where, default=""), _str_field(meta, "domain", where, default=""),
                      _str_field(meta, "subdomain", where, default=""), task_line.group(1).strip(), tuple(prev), step,
                      int(index), html_truncated=truncated)  # fmt: skip


def load_step_samples(path: str | Path) -> list[StepSample]:
    """Single train steps rebuilt as prompts (``{"instances": [...]}``): task, previous actions, the listed
    candidates (positives = ``metadata.target_bnids``) and the cleaned HTML as far as it was kept.

    The HTML there is cut after 8,000 characters (``html_truncated``); candidates outside the kept part get a
    text built from their tag and attributes only (see ``lumos.envs.mind2web.dom``).
    """
    path = Path(path)
    data = read_json(path)
    if not isinstance(data, dict):
        raise DataFormatError(f"{path}: expected an object with 'instances'")
    instances = require_field(data, "instances", str(path), list)
    return [_step_sample(inst, f"{path}: instances[{k}]") for k, inst in enumerate(instances)]


# ------------------------------------------------------------------------------------------------
# MindAct candidate scores (scores_all_data.pkl)
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CandidateScores:
    """MindAct's released candidate-generation output: ``scores[sample_id][backend_node_id]`` and 0-based ``ranks``."""

    scores: Mapping[str, Mapping[str, float]]
    ranks: Mapping[str, Mapping[str, int]]

    def __len__(self) -> int:
        return len(self.scores)


_SAFE_GLOBALS: frozenset[tuple[str, str]] = frozenset({
    *(("builtins", n) for n in ("dict", "list", "tuple", "set", "frozenset", "float", "int", "str", "bytes", "bool")),
    ("collections", "OrderedDict"), ("collections", "defaultdict"),
    # numpy scalars (float32 scores, int64 ranks) are pickled as dtype + raw bytes; nothing else from numpy.
    ("numpy", "dtype"), ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
})  # fmt: skip


class _SafeUnpickler(pickle.Unpickler):
    def __init__(self, file: Any, name: str) -> None:
        super().__init__(file)
        self._name = name

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in _SAFE_GLOBALS:
            raise pickle.UnpicklingError(
                f"{self._name}: refusing to load {module}.{name} (only plain containers and numbers are allowed)")
        return super().find_class(module, name)


def safe_unpickle(path: str | Path) -> Any:
    """Unpickle a file that may only hold containers, strings and numbers (numpy scalars allowed).

    Raises:
        DataFormatError: the pickle references anything else (code, classes) or is corrupt.
    """
    path = Path(path)
    with path.open("rb") as f:
        try:
            return _SafeUnpickler(f, str(path)).load()
        except pickle.UnpicklingError as e:
            raise DataFormatError(str(e) if str(path) in str(e) else f"{path}: {e}") from None
        except (EOFError, ValueError, TypeError, AttributeError, IndexError) as e:
            raise DataFormatError(f"{path}: not a valid pickle of candidate scores ({type(e).__name__}: {e})") from None


def _score_table(value: Any, where: str, kind: type) -> dict[str, dict[str, Any]]:
    if not isinstance(value, Mapping):
        raise DataFormatError(f"{where}: expected a mapping of sample ids, got {type(value).__name__}")
    out: dict[str, dict[str, Any]] = {}
    for sid, per in value.items():
        if not isinstance(per, Mapping):
            raise DataFormatError(f"{where}[{sid!r}]: expected a mapping of backend_node_id -> number")
        try:
            out[str(sid)] = {str(k): kind(v) for k, v in per.items()}
        except (TypeError, ValueError) as e:
            raise DataFormatError(f"{where}[{sid!r}]: non-numeric value ({e})") from None
    return out


def load_candidate_scores(path: str | Path) -> CandidateScores:
    """Read MindAct's ``scores_all_data.pkl`` safely (see ``safe_unpickle``).

    Raises:
        DataFormatError: not ``{"scores": {...}, "ranks": {...}}`` of numbers, or an unsafe pickle.
    """
    data = safe_unpickle(path)
    if not isinstance(data, Mapping) or "scores" not in data or "ranks" not in data:
        raise DataFormatError(f"{path}: expected a dict with 'scores' and 'ranks'")
    return CandidateScores(scores=_score_table(data["scores"], f"{path}: scores", float),
                           ranks=_score_table(data["ranks"], f"{path}: ranks", int))  # fmt: skip


def attach_scores(tasks: Sequence[Task], scores: CandidateScores) -> list[Task]:
    """Copies of ``tasks`` whose candidates carry MindAct's score and rank (None where the file has none).

    Logs how many steps the file does not cover.
    """
    out, missing = [], 0
    for task in tasks:
        steps = []
        for step in task.steps:
            sid = sample_id(task.annotation_id, step.action_uid)
            s, r = scores.scores.get(sid), scores.ranks.get(sid)
            if s is None:
                missing += 1

            def fill(c: Candidate, s: Mapping[str, float] | None = s, r: Mapping[str, int] | None = r) -> Candidate:
                return replace(c, score=(s or {}).get(c.backend_node_id), rank=(r or {}).get(c.backend_node_id))

            steps.append(replace(step, pos_candidates=tuple(map(fill, step.pos_candidates)),
                                 neg_candidates=tuple(map(fill, step.neg_candidates))))  # fmt: skip
        out.append(replace(task, steps=tuple(steps)))
    if missing:
        logger.warning("candidate scores cover no entry for %d step(s)", missing)
    return out
