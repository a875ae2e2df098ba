"""Training files of the baselines (docs/original.md, "Training files"): ``<domain>_cot.jsonl`` and ``<domain>_direct.jsonl``.

CoT: maths from the raw files (GSM8K reasoning with its ``<<a=b>>`` marks + `` Answer is X.``; PRM800K's first
10,000 lines; ASDiv solution / formula), complex QA from the converted pseudo plans (facts + the answer sentence).
Direct: question -> ``str(answer)``. A CoT line::

    {"dataset": "maths", "id": "maths_0", "messages": [{"role": "user", "content": "Natalia sold ..."},
     {"role": "assistant", "content": "Natalia sold 48/2 = <<48/2=24>>24 clips in May. ... Answer is 72."}]}

Run: ``python -m data.process_for_train --domain maths --formulation cot``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

from lumos.conversion.sources import SourceRecord, load_source
from lumos.conversion.to_train import (
    FileReport,
    Messages,
    assistant_message,
    read_converted,
    training_rows,
    user_message,
    write_rows,
)
from lumos.utils.io import DataFormatError


def _raw_files(raw_dir: Path, hints: Sequence[str]) -> list[tuple[str, Path]]:
    if not raw_dir.is_dir():
        raise FileNotFoundError(f"no raw data folder {raw_dir} (run python -m data.download --only raw)")
    found = []
    for path in sorted(raw_dir.iterdir()):
        for hint in hints:
            if hint in path.name.lower() and path.is_file():
                found.append((hint, path))
                break
    if not found:
        raise FileNotFoundError(f"{raw_dir}: no raw file whose name contains one of {', '.join(hints)}")
    return found


def _maths_raw(raw_dir: Path) -> Iterator[tuple[str, SourceRecord]]:
    """``(hint, record)`` of the maths raw files (GSM8K, PRM800K's first 10,000 lines, ASDiv, MATH)."""
    for hint, path in _raw_files(raw_dir, ("gsm", "prm", "asdiv", "math")):
        records = load_source(path, {"gsm": "gsm8k", "prm": "prm800k", "asdiv": "asdiv", "math": "math"}[hint])
        yield from ((hint, r) for r in (records[:10_000] if hint == "prm" else records))


def _maths_cot_text(hint: str, record: SourceRecord) -> str | None:
    raw = record.raw
    if hint == "gsm":
        answer = raw["answer"]
        return answer.split("#### ")[0].replace("\n", " ").strip() + f" Answer is {answer.split('####')[1].strip()}."
    if hint == "prm":
        return f"{record.plan} Answer is {record.ans}." if record.plan else None
    if hint == "asdiv":
        solution = raw.get("solution", raw.get("formula"))
        return f"{solution}. Answer is {record.ans}."
    return f"{record.plan} Answer is {record.ans}."


def build_cot(domain: str, converted_dir: Path, raw_dir: Path, output_dir: Path) -> list[FileReport]:
    """``<domain>_cot.jsonl``: maths from the raw files (reasoning + `` Answer is X.``), complex QA from the
    converted pseudo plans (facts + the answer sentence)."""
    path = output_dir / f"{domain}_cot.jsonl"
    report = FileReport(str(path))
    dialogues: list[Messages] = []
    if domain == "maths":
        for hint, record in _maths_raw(raw_dir):
            text = _maths_cot_text(hint, record)
            if text is None:
                report.dropped["PRM800K line without solution or answer"] += 1
                continue
            dialogues.append([user_message(record.task), assistant_message(text)])
    elif domain == "complex_qa":
        for _, rec in read_converted(converted_dir):
            plan = rec.get("natural_language_plan")
            if not isinstance(plan, str):
                report.dropped["natural_language_plan is not text"] += 1
                continue
            answer_part = plan[plan.find("Based on these evidences and decomposed questions") :]
            dialogues.append([user_message(rec["task"]), assistant_message(plan.split("We need to answer these questions:")[0].strip() + " " + answer_part)])
    else:
        raise DataFormatError(f"cot training data exists for maths and complex_qa, not {domain!r}")
    report.rows = write_rows(path, training_rows(domain, dialogues))
    return [report]


def build_direct(domain: str, raw_dir: Path, output_dir: Path) -> list[FileReport]:
    """``<domain>_direct.jsonl``: question -> ``str(answer)`` from the raw files (complex QA: MuSiQue then
    StrategyQA, whose booleans become ``True``/``False``)."""
    path = output_dir / f"{domain}_direct.jsonl"
    report = FileReport(str(path))
    dialogues: list[Messages] = []
    if domain == "maths":
        for _, record in _maths_raw(raw_dir):
            dialogues.append([user_message(record.task), assistant_message(str(record.ans))])
    elif domain == "complex_qa":
        files = _raw_files(raw_dir, ("musique", "strategyqa"))
        for _, p in sorted(files, key=lambda hp: hp[0] != "musique"):
            for r in load_source(p):
                dialogues.append([user_message(str(r.raw["question"])), assistant_message(str(r.raw["answer"]))])
    else:
        raise DataFormatError(f"direct training data exists for maths and complex_qa, not {domain!r}")
    report.rows = write_rows(path, training_rows(domain, dialogues))
    return [report]
