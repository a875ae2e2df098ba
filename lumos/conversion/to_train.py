"""Converted annotations -> chat-format training files (docs/original.md, "Training files"), equal to the original's output.

Reads every converted file of ``data/train/<domain>/converted/`` (sorted by name; ``*.failed.jsonl`` and
``*.metrics.json`` side files skipped) and writes ``data/train/<domain>/train_annots/lumos_<domain>_<module>_<iterative|
onetime>.jsonl`` (plus ``<domain>_cot.jsonl``, ``<domain>_direct.jsonl``, ``lumos_<domain>_integrated.jsonl``). A line::

    {"dataset": "maths", "id": "maths_0", "messages": [{"role": "user", "content": "Please provide ..."}, ...]}

Faithful to the original, quirks included: ``Output`` renamed to ``R<n+1>`` in iterative grounding targets (with
the index carried over from earlier records when a record's first subgoal ends in ``Output``), kept in one-time
targets; earlier results listed in lexicographic subgoal order; calls re-serialised as ``vars = Name(args)``
(``Output = (R9)`` for a plain assignment); JSON written with ``json.dumps`` defaults. Records are dropped for the
original's reasons, and also where the input is degenerate and the original wrote a broken example (no
``Subgoal 1``, an empty feedback result, an action line ``lumos.formats`` cannot parse); every drop is counted with
its reason in the log and in ``metrics_<formulation>.json``. Input files are read in name order (the original used
``os.listdir`` order).

Grounding target lines that the original's re-serialisation left broken are written exactly as it wrote them, and
counted per file in ``metrics_<formulation>.json`` (``target_line_quirks``): arguments cut at the last ``)`` when a
parenthesis never closes (``Calculator(48/2 = 24`` -> ``Calculator(48/2 = 2)``), unbalanced brackets, a call name
that is not an identifier, invisible or control characters, and the ``Output = (R9)`` assignment form. With
``--strict_targets`` records holding any of these but the assignment form are dropped instead, with their reason.

Run: ``python -m data.process_for_train --domain maths --formulation lumos_iterative``.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import sys
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lumos.conversion.convert import FAILED_SUFFIX, METRICS_SUFFIX
from lumos.formats import (
    Action,
    ActionParseError,
    PlanBlock,
    join_onetime_plan,
    parse_action,
    parse_converted_action,
    parse_converted_plan,
    render_plan_turn,
    render_training_action,
)
from lumos.formats.prompts import (
    STOP_PLANNING,
    ground_first_user,
    ground_next_user,
    ground_onetime_user,
    plan_feedback_user,
    plan_feedback_web_user,
    plan_first_user,
)
from lumos.paths import REPO_ROOT
from lumos.utils.cli import UsageError, cli_entry
from lumos.utils.io import git_commit, iter_jsonl, require_field, write_json
from lumos.utils.lock import LOCK_SUFFIX

logger = logging.getLogger(__name__)

TRAIN_DOMAINS: tuple[str, ...] = ("maths", "complex_qa", "web_agent")
TRAIN_FORMULATIONS: tuple[str, ...] = ("lumos_iterative", "lumos_onetime", "cot", "direct", "integrated")
Messages = list[dict[str, str]]


class Dropped(Exception):
    """A converted record that yields no training example; ``reason`` (a fixed category) is counted in the report.

    ``degenerate``: text the original did not drop for this reason but turned into a broken example (or crashed
    on); in iterative files the original may still have dropped the record for a later reason.
    """

    def __init__(self, reason: str, *, degenerate: bool = False, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.degenerate = degenerate


@dataclass
class FileReport:
    """Rows written to one training file, the records dropped on the way (by reason), and for grounding files
    the target action lines written as the original wrote them although they are broken (by quirk)."""

    path: str
    rows: int = 0
    dropped: Counter[str] = field(default_factory=Counter)
    dropped_degenerate: Counter[str] = field(default_factory=Counter)
    target_lines: int = 0
    target_line_quirks: Counter[str] = field(default_factory=Counter)
    rows_with_target_quirks: int = 0

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": self.path, "rows": self.rows, "dropped": dict(self.dropped),
                               "dropped_degenerate": dict(self.dropped_degenerate)}  # fmt: skip
        if self.target_lines:
            out.update(target_lines=self.target_lines, target_line_quirks=dict(self.target_line_quirks),
                       rows_with_target_quirks=self.rows_with_target_quirks)  # fmt: skip
        return out


# Ways in which a grounding target line, re-serialised exactly as the original did, is broken.
QUIRK_CUT = "arguments cut at the last ')' (no closing parenthesis)"
QUIRK_UNBALANCED = "unbalanced brackets in the arguments"
QUIRK_NAME = "call name is not an identifier"
QUIRK_INVISIBLE = "invisible or control characters"
QUIRK_ASSIGNMENT = "assignment written as 'vars = (value)'"
QUIRK_OTHER = "not read back by lumos.formats.parse_action"
#: Quirks ``--strict_targets`` drops a record for (the assignment form is the original's normal way of writing
#: ``Output = R9`` and is only counted).
STRICT_QUIRKS = frozenset({QUIRK_CUT, QUIRK_UNBALANCED, QUIRK_NAME, QUIRK_INVISIBLE, QUIRK_OTHER})
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


@dataclass
class TargetCheck:
    """Counts the quirks of the grounding targets of one file; with ``strict``, records holding one are dropped."""

    report: FileReport
    strict: bool = False
    _lines: int = 0
    _quirks: Counter[str] = field(default_factory=Counter)

    def line(self, line: str, action: Action, domain: str) -> None:
        self._lines += 1
        self._quirks.update(target_quirks(line, action, domain))

    def start_record(self) -> None:
        self._lines = 0
        self._quirks.clear()

    def end_record(self) -> None:
        """Call once the record is kept: adds its lines to the report, or raises ``Dropped`` (strict) for its
        first strict quirk."""
        if self.strict:
            strict = [q for q in self._quirks if q in STRICT_QUIRKS]
            if strict:
                raise Dropped(f"grounding target: {strict[0]} (--strict_targets)")
        self.report.target_lines += self._lines
        self.report.target_line_quirks.update(self._quirks)
        self.report.rows_with_target_quirks += bool(self._quirks)


def _never_closes(line: str, open_idx: int) -> bool:
    depth = 0
    for ch in line[open_idx:]:
        depth += ch == "("
        depth -= ch == ")"
        if depth == 0:
            return False
    return True


def _balanced(text: str) -> bool:
    depth = 0
    for ch in text:
        depth += ch in "([{"
        depth -= ch in ")]}"
        if depth < 0:
            return False
    return depth == 0


def _invisible(text: str) -> bool:
    return any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") and c != "\t" for c in text)


def target_quirks(line: str, action: Action, domain: str) -> list[str]:
    """How the original's target for converted ``line`` (``action`` = ``parse_training_action(line)``) is broken.

    ``[]`` for a clean line. The target itself is written as the original wrote it either way.
    """
    rendered = render_training_action(action)
    quirks = []
    if not action.name:
        quirks.append(QUIRK_ASSIGNMENT)
    elif domain != "web_agent" and _never_closes(line, line.find("(", line.find(" = "))):
        quirks.append(QUIRK_CUT)
    if _invisible(rendered):
        quirks.append(QUIRK_INVISIBLE)
    if action.name:
        try:
            read_back = parse_action(rendered)
        except ActionParseError:
            read_back = None
        if read_back != Action(action.variables, action.name, action.args):
            if not _balanced(action.args):
                quirks.append(QUIRK_UNBALANCED)
            elif not _IDENTIFIER.match(action.name):
                quirks.append(QUIRK_NAME)
            elif QUIRK_INVISIBLE not in quirks:
                quirks.append(QUIRK_OTHER)
    return quirks


@dataclass
class _OutputIndex:
    """The original's ``current_variable_idx``: a function-level variable that outlives each record."""

    value: int | None = None


# --------------------------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------------------------
def converted_files(converted_dir: Path) -> list[Path]:
    """Every converted file in ``converted_dir`` in name order, side files of the converter excluded."""
    if not converted_dir.is_dir():
        raise FileNotFoundError(f"no converted annotations folder {converted_dir} (run python -m data.prompt_convertion)")
    return sorted(p for p in converted_dir.iterdir()
                  if p.is_file() and not p.name.startswith(".")
                  and not p.name.endswith((FAILED_SUFFIX, METRICS_SUFFIX, LOCK_SUFFIX, ".tmp")))


def read_converted(converted_dir: Path) -> list[tuple[str, dict[str, Any]]]:
    """``(where, record)`` for all converted records (no de-duplication, as the original; duplicates logged)."""
    out: list[tuple[str, dict[str, Any]]] = []
    for path in converted_files(converted_dir):
        for line, rec in iter_jsonl(path):
            where = f"{path}:{line}"
            require_field(rec, "task", where, str)
            require_field(rec, "subgoal_plan", where, str)
            out.append((where, rec))
    ids = Counter(rec["id"] for _, rec in out if isinstance(rec.get("id"), str))
    dup = sum(n - 1 for n in ids.values() if n > 1)
    if dup:
        logger.warning("%s: %d records share an id with an earlier one (kept, as the original did)", converted_dir, dup)
    return out


# --------------------------------------------------------------------------------------------------------------
# The original's per-line conventions, on top of lumos.formats
# --------------------------------------------------------------------------------------------------------------
def _blocks(subgoal_plan: str, *, iterative: bool) -> list[PlanBlock]:
    """The subgoal blocks; a plan without ``Subgoal 1`` or with a blank block is dropped (the original kept
    such records in one-time files, with the last character of the text or an empty subgoal)."""
    if "Subgoal 1" not in subgoal_plan:
        raise Dropped("no 'Subgoal 1' in subgoal_plan", degenerate=not iterative)
    blocks = parse_converted_plan(subgoal_plan)
    if len(blocks) != len(subgoal_plan[subgoal_plan.find("Subgoal 1") :].split("\n\n")):
        raise Dropped("a blank block between subgoals", degenerate=not iterative)
    return blocks


def parse_training_action(line: str, domain: str) -> tuple[Action, str]:
    """A converted action line and its result, read as the original did (``lumos.formats.parse_converted_action``)."""
    return parse_converted_action(line, web=domain == "web_agent")


def _parse_block(block: PlanBlock, k: int, domain: str, check: TargetCheck | None = None) -> list[tuple[Action, str]]:
    try:
        parsed = [parse_training_action(line, domain) for line in block.action_lines]
    except ActionParseError as e:
        raise Dropped("an action line lumos.formats cannot parse", degenerate=True, detail=f"subgoal {k}: {e}") from e
    if check is not None:
        for line, (action, _) in zip(block.action_lines, parsed):
            check.line(line, action, domain)
    return parsed


def _plan_feedback(block: PlanBlock, k: int, domain: str) -> str:
    """The user turn after subgoal ``k``: its last action's result (text after the last ``=``), or for web
    the subgoal itself; all trailing periods and spaces removed, as the original's ``strip`` calls did."""
    if domain == "web_agent":
        text = block.subgoal[block.subgoal.find(": ") + 2 :]
        text = (text[:1].lower() + text[1:]).rstrip(".").rstrip()
        if not text:
            raise Dropped("empty web subgoal text (the original crashed here)", degenerate=True, detail=f"subgoal {k}")
        return plan_feedback_web_user(f"Subgoal {k}: {text}.")
    last = block.action_lines[-1]
    result = last[last.rfind("=") + 2 :].strip().strip(".").rstrip()
    if not result:
        raise Dropped("empty result in a subgoal's last action", degenerate=True, detail=f"subgoal {k}")
    return plan_feedback_user(k, result)


def _plan_last_variable(line: str) -> str:
    """The original's plan-side reading of a line's last variable (``Action 1-2: R5, R6 = ...`` -> ``R6``)."""
    parts = line.split(" = ")[0].split(":")
    if len(parts) < 2:
        raise Dropped("no ':' before the variables of a last action")
    return parts[1].strip().split(", ")[-1]


def _ground_last_variable(line: str) -> str:
    """The original's ground-side reading of a line's last variable: between ``": "`` and the first ``" = "``
    (the same as the parsed variables for a well-formed line)."""
    return line[line.find(":") + 2 : line.find(" = ")].split(", ")[-1]


def _track_output(variable: str, state: _OutputIndex, text: str) -> str:
    """Record ``R<n>``'s index, or rename ``Output`` in ``text`` to ``R<last index + 1>``."""
    if variable[:1] == "R":
        try:
            state.value = int(variable[1:])
        except ValueError:
            raise Dropped("a subgoal's last variable is R but not R<number>", detail=repr(variable)) from None
        return text
    if not variable:
        raise Dropped("empty last variable")
    if state.value is None:
        raise Dropped("Output-like last variable before any R<number> (no index to rename it after)", detail=repr(variable))
    return text.replace("Output", f"R{state.value + 1}")


# --------------------------------------------------------------------------------------------------------------
# One record -> messages
# --------------------------------------------------------------------------------------------------------------
def user_message(content: str) -> dict[str, str]:
    return {"role": "user", "content": content}


def assistant_message(content: str) -> dict[str, str]:
    return {"role": "assistant", "content": content}


def plan_messages(rec: dict[str, Any], domain: str, *, iterative: bool, state: _OutputIndex) -> Messages:
    """The planning dialogue of one converted record. Raises ``Dropped``."""
    blocks = _blocks(rec["subgoal_plan"], iterative=iterative)
    messages = [user_message(plan_first_user(rec["task"]))]
    if not iterative:
        return [*messages, assistant_message(join_onetime_plan([b.subgoal for b in blocks]))]
    degenerate: Dropped | None = None  # raised after the loop, so that the Output index advances as the original's
    for k, block in enumerate(blocks, 1):
        if not block.action_lines:
            raise Dropped("a subgoal without action lines")
        try:
            feedback = _plan_feedback(block, k, domain)
        except Dropped as e:
            degenerate, feedback = degenerate or e, ""
        feedback = _track_output(_plan_last_variable(block.action_lines[-1]), state, feedback)
        messages += [assistant_message(render_plan_turn(k, block.subgoal)), user_message(feedback)]
    if degenerate is not None:
        raise degenerate
    return [*messages, assistant_message(STOP_PLANNING)]


def ground_messages(rec: dict[str, Any], domain: str, *, iterative: bool, state: _OutputIndex,
                    check: TargetCheck | None = None) -> Messages:  # fmt: skip
    """The grounding dialogue of one converted record. Raises ``Dropped``.

    ``check`` counts the quirks of the target lines (and drops the record in strict mode)."""
    if check is not None:
        check.start_record()
    blocks = _blocks(rec["subgoal_plan"], iterative=iterative)
    task = rec["task"]
    if not iterative:
        actions = [a for k, b in enumerate(blocks, 1) for a, _ in _parse_block(b, k, domain, check)]
        if not actions:
            raise Dropped("no action lines", degenerate=True)
        user = ground_onetime_user(domain, task, [b.subgoal for b in blocks])
        if check is not None:
            check.end_record()
        return [user_message(user), assistant_message("; ".join(render_training_action(a) for a in actions))]
    messages: Messages = []
    results: dict[str, str] = {}
    degenerate: Dropped | None = None  # raised after the loop, so that the Output index advances as the original's
    for k, block in enumerate(blocks, 1):
        if not block.action_lines:
            raise Dropped("a subgoal without action lines")
        if k == 1:
            user = ground_first_user(domain, task, block.subgoal)
        else:
            user = ground_next_user(block.subgoal, dict(results) if domain == "complex_qa" else None)
        try:
            parsed = _parse_block(block, k, domain, check)
        except Dropped as e:
            degenerate, parsed = degenerate or e, []
        if parsed:
            results[block.subgoal[: block.subgoal.find(":")]] = parsed[-1][1]
        assistant = "; ".join(render_training_action(a) for a, _ in parsed)
        assistant = _track_output(_ground_last_variable(block.action_lines[-1]), state, assistant)
        messages += [user_message(user), assistant_message(assistant)]
    if degenerate is not None:
        raise degenerate
    if check is not None:
        check.end_record()
    return messages


# --------------------------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------------------------
def write_rows(path: Path, rows: Iterable[dict[str, Any]]) -> int:
    """Write rows the way the original did (``json.dumps`` defaults, one per line), atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    n = 0
    with tmp.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")
            n += 1
    tmp.replace(path)
    return n


def build_dialogues(records: Sequence[tuple[str, dict[str, Any]]], domain: str, module: str, *, iterative: bool,
                    report: FileReport, strict_targets: bool = False) -> list[Messages]:  # fmt: skip
    """Messages of every kept record, in input order; drops (and grounding-target quirks) are counted in ``report``.

    ``strict_targets``: drop grounding records with a broken target line (``STRICT_QUIRKS``) instead of writing
    it as the original did."""
    state = _OutputIndex()
    check = TargetCheck(report, strict=strict_targets) if module == "ground" else None
    kept = []
    for where, rec in records:
        try:
            if check is None:
                kept.append(plan_messages(rec, domain, iterative=iterative, state=state))
            else:
                kept.append(ground_messages(rec, domain, iterative=iterative, state=state, check=check))
        except Dropped as e:
            (report.dropped_degenerate if e.degenerate else report.dropped)[e.reason] += 1
            logger.debug("%s: dropped from %s: %s", where, report.path, e)
    return kept


def training_rows(domain: str, dialogues: Iterable[Messages], prefix: str = "") -> Iterator[dict[str, Any]]:
    """``{"dataset", "id": "<domain>_<prefix><i>", "messages"}`` rows, numbered over the kept dialogues."""
    for i, messages in enumerate(dialogues):
        yield {"dataset": domain, "id": f"{domain}_{prefix}{i}", "messages": messages}


def build_lumos(domain: str, converted_dir: Path, output_dir: Path, formulation: str, *,
                strict_targets: bool = False) -> list[FileReport]:  # fmt: skip
    """Plan and ground files of one Lumos formulation (``lumos_iterative`` / ``lumos_onetime``)."""
    records = read_converted(converted_dir)
    iterative = "iterative" in formulation
    suffix = "iterative" if iterative else "onetime"
    reports = []
    for module in ("plan", "ground"):
        path = output_dir / f"lumos_{domain}_{module}_{suffix}.jsonl"
        report = FileReport(str(path))
        report.rows = write_rows(path, training_rows(domain, build_dialogues(records, domain, module, iterative=iterative, report=report,
                                                                               strict_targets=strict_targets)))
        reports.append(report)
    return reports


def build_integrated(domain: str, converted_dir: Path, output_dir: Path, *, strict_targets: bool = False) -> list[FileReport]:
    """One file for a single model that plans and grounds: the iterative plan dialogues, then the iterative
    ground dialogues (ids ``<domain>_plan_<i>`` / ``<domain>_ground_<i>``)."""
    records = read_converted(converted_dir)
    path = output_dir / f"lumos_{domain}_integrated.jsonl"
    report = FileReport(str(path))
    rows: list[dict[str, Any]] = []
    for module in ("plan", "ground"):
        rows += training_rows(domain, build_dialogues(records, domain, module, iterative=True, report=report,
                                                       strict_targets=strict_targets), f"{module}_")
    report.rows = write_rows(path, rows)
    return [report]


def build_unified(domains: Sequence[str], data_root: Path, output_dir: Path) -> list[FileReport]:
    """``lumos_unified_{plan,ground}_iterative.jsonl``: the domains' iterative files concatenated in order."""
    reports = []
    for module in ("plan", "ground"):
        path = output_dir / f"lumos_unified_{module}_iterative.jsonl"
        report = FileReport(str(path))
        rows: list[dict[str, Any]] = []
        for domain in domains:
            src = data_root / domain / "train_annots" / f"lumos_{domain}_{module}_iterative.jsonl"
            if not src.exists():
                raise FileNotFoundError(f"{src} is missing; build it first with --domain {domain} --formulation lumos_iterative")
            rows += [rec for _, rec in iter_jsonl(src)]
        report.rows = write_rows(path, rows)
        reports.append(report)
    return reports


def check_domain(domain: str) -> str:
    if domain not in TRAIN_DOMAINS:
        raise UsageError(f"no training-data builder for domain {domain!r}; expected one of {', '.join(TRAIN_DOMAINS)}")
    return domain


# --------------------------------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m data.process_for_train", description=__doc__.split("\n")[0])
    p.add_argument("--domain", default="maths", help=f"one of {', '.join(TRAIN_DOMAINS)}")
    p.add_argument("--formulation", default="lumos_iterative", help=f"one of {', '.join(TRAIN_FORMULATIONS)}")
    p.add_argument("--unified", default=None, help="comma list of domains whose iterative files to concatenate")
    p.add_argument("--data_root", default=str(REPO_ROOT / "data" / "train"), help="root of the data/train layout")
    p.add_argument("--converted_dir", default=None, help="default <data_root>/<domain>/converted")
    p.add_argument("--raw_dir", default=None, help="cot / direct inputs; default <data_root>/<domain>/raw_data")
    p.add_argument("--strict_targets", action="store_true",
                   help="drop grounding records whose target lines the original wrote broken (arguments cut at the "
                        "last ')', unbalanced brackets, a call name that is not an identifier, invisible characters); "
                        "default: write them as the original did and count them in metrics_<formulation>.json")
    p.add_argument("--output_dir", default=None, help="default <data_root>/<domain>/train_annots "
                                                      "(unified: <data_root>/unified/train_annots)")
    return p


def run(args: argparse.Namespace) -> list[FileReport]:
    """Build the files the arguments ask for; write ``metrics_<formulation>.json`` next to them."""
    from lumos.conversion.baselines import build_cot, build_direct

    root = Path(args.data_root)
    if args.unified:
        domains = [check_domain(d.strip()) for d in args.unified.split(",") if d.strip()]
        output_dir = Path(args.output_dir) if args.output_dir else root / "unified" / "train_annots"
        reports, name = build_unified(domains, root, output_dir), "unified"
    else:
        domain = check_domain(args.domain)
        name = args.formulation
        if name not in TRAIN_FORMULATIONS:
            raise UsageError(f"unknown formulation {name!r}; expected one of {', '.join(TRAIN_FORMULATIONS)}")
        converted = Path(args.converted_dir) if args.converted_dir else root / domain / "converted"
        raw = Path(args.raw_dir) if args.raw_dir else root / domain / "raw_data"
        output_dir = Path(args.output_dir) if args.output_dir else root / domain / "train_annots"
        if name.startswith("lumos_"):
            reports = build_lumos(domain, converted, output_dir, name, strict_targets=args.strict_targets)
        elif name == "integrated":
            reports = build_integrated(domain, converted, output_dir, strict_targets=args.strict_targets)
        elif name == "cot":
            reports = build_cot(domain, converted, raw, output_dir)
        else:
            reports = build_direct(domain, raw, output_dir)
    for r in reports:
        drops = sum(r.dropped.values()) + sum(r.dropped_degenerate.values())
        logger.info("%s: %d rows, %d records dropped", r.path, r.rows, drops)
        for reason, n in r.dropped.most_common():
            logger.info("    dropped %5d  %s", n, reason)
        for reason, n in r.dropped_degenerate.most_common():
            logger.info("    dropped %5d  %s (degenerate input the original did not filter)", n, reason)
        for quirk, n in r.target_line_quirks.most_common():
            logger.info("    written as the original did: %5d target lines with %s", n, quirk)
    write_json(output_dir / f"metrics_{name}.json", {
        "config": vars(args), "git_commit": git_commit(), "files": [r.as_dict() for r in reports]})
    return reports


@cli_entry("python -m data.process_for_train")
def main(argv: Sequence[str] | None = None) -> int:
    """The CLI; data and usage errors and missing inputs end as one line on stderr (exit status 2)."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    run(build_parser().parse_args(argv))
    return 0


if __name__ == "__main__":
    sys.exit(main())
