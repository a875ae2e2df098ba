"""JSON / JSON-lines I/O with errors that name the file and line, and append-only result writing.

Every run appends one complete JSON line per finished record (``append_jsonl``), so a killed run
loses at most the record in flight and a rerun can skip what is done (``read_jsonl(...,
skip_invalid_tail=True)`` tolerates a half-written last line).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import subprocess
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from lumos.utils.cli import ReportedError

logger = logging.getLogger(__name__)


class DataFormatError(ReportedError, ValueError):
    """Malformed input data; the message names the file, the line and the field (a CLI prints it as one line)."""


def _decode(raw: bytes, where: str) -> str:
    """``raw`` as UTF-8, or ``DataFormatError`` naming ``where`` and the offending byte and column."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        bad = raw[e.start : e.end].hex(" ")
        raise DataFormatError(f"{where}: not valid UTF-8 (byte {bad} at column {e.start + 1}); "
                              "re-encode the file as UTF-8") from None  # fmt: skip


def iter_jsonl(path: str | Path, *, skip_invalid_tail: bool = False) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line_number, record)`` for each non-blank line (1-based line numbers).

    Args:
        skip_invalid_tail: tolerate (and log) an unparsable *last* line, as left by a killed writer
            (a half-written JSON text or a cut multi-byte character).

    Raises:
        DataFormatError: a line is not UTF-8 or not a JSON object (``file:line: reason``).
    """
    path = Path(path)
    with path.open("rb") as f:
        lines = f.read().split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    for i, raw in enumerate(lines, 1):
        try:
            line = _decode(raw, f"{path}:{i}")
        except DataFormatError as e:
            if skip_invalid_tail and i == len(lines):
                logger.warning("%s (ignored: a truncated last line)", e)
                return
            raise
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as e:
            if skip_invalid_tail and i == len(lines):
                logger.warning("%s:%d: ignoring a truncated last line (%s)", path, i, e)
                return
            raise DataFormatError(f"{path}:{i}: not valid JSON ({e})") from None
        if not isinstance(rec, dict):
            raise DataFormatError(f"{path}:{i}: expected a JSON object, got {type(rec).__name__}")
        yield i, rec


def read_jsonl(path: str | Path, *, skip_invalid_tail: bool = False) -> list[dict[str, Any]]:
    """All records of a JSON-lines file (see ``iter_jsonl``)."""
    return [rec for _, rec in iter_jsonl(path, skip_invalid_tail=skip_invalid_tail)]


def read_text(path: str | Path) -> str:
    """A UTF-8 text file; ``DataFormatError`` naming the file and line of a byte that is not UTF-8."""
    path = Path(path)
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        column = e.start - (data.rfind(b"\n", 0, e.start) + 1) + 1
        raise DataFormatError(f"{path}:{line}: not valid UTF-8 (byte {data[e.start:e.end].hex(' ')} at column "
                              f"{column}); re-encode the file as UTF-8") from None  # fmt: skip


def read_json(path: str | Path) -> Any:
    """Load a JSON file; raise ``DataFormatError`` naming the file (and line) on bad JSON or bad UTF-8."""
    path = Path(path)
    text = read_text(path)
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise DataFormatError(f"{path}:{e.lineno}: not valid JSON ({e.msg})") from None


def require_field(rec: dict[str, Any], field: str, where: str, kind: type | tuple[type, ...] | None = None) -> Any:
    """``rec[field]``, or ``DataFormatError`` naming ``where`` (e.g. ``"file.jsonl:12"``) and the field."""
    if field not in rec:
        raise DataFormatError(f"{where}: missing field {field!r} (has {sorted(rec)})")
    value = rec[field]
    if kind is not None and not isinstance(value, kind):
        raise DataFormatError(f"{where}: field {field!r} has type {type(value).__name__}")
    return value


def cut_torn_tail(path: str | Path) -> int:
    """Cut a half-written last line (no final newline: a killed writer) off ``path`` so that appends start on a
    fresh line; returns the bytes removed (0 when the file is whole or absent)."""
    path = Path(path)
    if not path.exists():
        return 0
    data = path.read_bytes()
    if not data or data.endswith(b"\n"):
        return 0
    keep = data.rfind(b"\n") + 1
    logger.warning("%s: removing a truncated last line (%d bytes) left by an interrupted run", path, len(data) - keep)
    with path.open("r+b") as f:
        f.truncate(keep)
    return len(data) - keep


def append_jsonl(path: str | Path, records: Iterable[dict[str, Any]]) -> None:
    """Append records, one complete line each, flushed and fsynced before returning."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as f:
        for rec in records:
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
        f.flush()
        os.fsync(f.fileno())


def write_jsonl(path: str | Path, records: Iterable[dict[str, Any]]) -> int:
    """Write records atomically (temp file + rename); returns the count."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    n = 0
    with tmp.open("w", encoding="utf-8") as f:
        for rec in records:
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
            n += 1
    tmp.replace(path)
    return n


def write_json(path: str | Path, obj: Any) -> None:
    """Write pretty JSON atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(obj, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    tmp.replace(path)


def git_commit() -> str | None:
    """The current git commit of the lumos checkout (None outside a git checkout)."""
    root = Path(__file__).resolve().parents[2]
    try:
        out = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() or None


def file_sha256(path: str | Path) -> str:
    """The sha256 hex digest of a file's bytes (read in 1 MiB chunks; ``hashlib.file_digest`` needs Python 3.11)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
