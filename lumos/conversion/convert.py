"""Annotation conversion driver: raw benchmark file -> converted records, resumable (``python -m data.prompt_convertion``).

Each finished record is appended at once as one JSON line with a stable id; a record that cannot be converted
goes to ``<output>.failed.jsonl`` with its reason; run counts, token usage and the config go to
``<output>.metrics.json``. Rerunning the same command converts only what is not in the output yet (failures are
retried), so after a crash or a kill nothing is duplicated and nothing is lost. An output line::

    {"id": "gsm8k:train:0", "source": "gsm8k", "task": "...", "natural_language_plan": "...", "subgoal_plan": "...", "ans": "72"}

Run::

    python -m data.prompt_convertion --domain maths --data_fn ../shared/data/gsm8k/train.jsonl --convert_all --backend rule
    python -m data.prompt_convertion --domain complex_qa --data_fn strategyqa_train.json --convert_all \\
        --backend openai --model gpt-4 --base_url http://127.0.0.1:8000/v1 --concurrency 8
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import re
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from lumos.conversion.instructions import MAX_TOKENS, conversion_messages
from lumos.conversion.openai_backend import OpenAIConfig, RequestFailed, complete, make_client
from lumos.conversion.rule_backend import converted_record, rule_convert
from lumos.conversion.rule_plan import RuleError
from lumos.conversion.sources import SOURCE_DOMAIN, SOURCES, SourceRecord, detect_source, load_source
from lumos.paths import REPO_ROOT, check_choice
from lumos.utils.cli import UsageError, cli_entry
from lumos.utils.io import DataFormatError, append_jsonl, cut_torn_tail, git_commit, iter_jsonl, write_json, write_jsonl
from lumos.utils.lock import lock_output

logger = logging.getLogger(__name__)

CONVERT_DOMAINS: tuple[str, ...] = ("maths", "complex_qa", "web_agent", "multimodal")
BACKENDS: tuple[str, ...] = ("openai", "rule")
PRM_TARGET = 10_000  # the original kept the first 10,000 successful PRM800K conversions
FAILED_SUFFIX = ".failed.jsonl"
METRICS_SUFFIX = ".metrics.json"
_RULE_CHUNK = 512


def _choice(value: str, choices: tuple[str, ...], what: str) -> str:
    try:
        return check_choice(value, choices, what)
    except ValueError as e:
        raise UsageError(str(e)) from None


@dataclass
class ConversionStats:
    selected: int = 0
    not_convertible: int = 0
    already_done: int = 0
    converted: int = 0
    failed: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    truncated: int = 0
    retried_requests: int = 0
    failure_reasons: dict[str, int] = field(default_factory=dict)

    def fail(self, reason: str) -> None:
        self.failed += 1
        key = re.sub(r"-?\d[\d,./]*", "N", reason)[:80]
        self.failure_reasons[key] = self.failure_reasons.get(key, 0) + 1


def failed_path(output: Path) -> Path:
    return output.with_name(output.name + FAILED_SUFFIX)


def metrics_path(output: Path) -> Path:
    return output.with_name(output.name + METRICS_SUFFIX)


def default_output(domain: str, source: str, data_fn: Path, *, convert_all: bool, st_idx: int, ed_idx: int,
                   root: Path | None = None) -> Path:
    """The original's path: ``data/train/<domain>/converted/<name>_converted[_<st>_<ed>].json``.

    ``<name>`` is the raw file's name up to its first dot for maths (prefixed by the source when the name does
    not say it, e.g. ``gsm8k_train``), else the source (``strategyqa``, ``musique``, ``mind2web``, ``aokvqa``);
    PRM800K with ``--convert_all`` gives ``prm800k_converted_10000.json``.
    """
    folder = (root or REPO_ROOT / "data" / "train") / domain / "converted"
    if source == "prm800k" and convert_all:
        return folder / f"prm800k_converted_{PRM_TARGET}.json"
    if domain == "maths":
        name = data_fn.name.split(".")[0]
        name = name if source in name.lower() else f"{source}_{name}"
    else:
        name = source
    suffix = "" if convert_all else f"_{st_idx}_{ed_idx}"
    return folder / f"{name}_converted{suffix}.json"


def done_ids(output: Path) -> set[str]:
    """Ids already in ``output`` (after repairing its tail).

    Raises:
        DataFormatError: a line without an ``id`` (the file was not written by this converter).
    """
    cut_torn_tail(output)
    if not output.exists():
        return set()
    ids = set()
    for line, rec in iter_jsonl(output):
        rid = rec.get("id")
        if not isinstance(rid, str):
            raise DataFormatError(f"{output}:{line}: record has no 'id', so a rerun cannot tell what is done; "
                                  "choose a new --output")
        ids.add(rid)
    return ids


def compact_failed(output: Path, done: set[str]) -> int:
    """Rewrite ``<output>.failed.jsonl`` keeping the last failure of each id that is still not converted."""
    path = failed_path(output)
    cut_torn_tail(path)
    if not path.exists():
        return 0
    last: dict[str, dict[str, Any]] = {}
    for _, rec in iter_jsonl(path, skip_invalid_tail=True):
        if isinstance(rec.get("id"), str) and rec["id"] not in done:
            last[rec["id"]] = rec
    if not last:
        path.unlink()
        return 0
    return write_jsonl(path, last.values())


def _failure(record: SourceRecord, reason: str, **extra: Any) -> dict[str, Any]:
    return {"id": record.id, "source": record.source, "where": record.where, "reason": reason, **extra}


def run_rule(pending: Sequence[SourceRecord], output: Path, stats: ConversionStats) -> None:
    """Convert by rule, appending converted records and failures in chunks."""
    ok: list[dict[str, Any]] = []
    bad: list[dict[str, Any]] = []

    def flush() -> None:
        if ok:
            append_jsonl(output, ok)
        if bad:
            append_jsonl(failed_path(output), bad)
        ok.clear()
        bad.clear()

    for record in tqdm(pending, desc="rule conversion", unit="rec", mininterval=1.0):
        try:
            ok.append(rule_convert(record))
            stats.converted += 1
        except RuleError as e:
            bad.append(_failure(record, str(e)))
            stats.fail(str(e))
        if len(ok) + len(bad) >= _RULE_CHUNK:
            flush()
    flush()


async def run_openai(pending: Sequence[SourceRecord], output: Path, cfg: OpenAIConfig, stats: ConversionStats,
                     *, limit: int | None = None, client: Any = None) -> None:
    """Convert with an OpenAI-compatible server, ``cfg.concurrency`` requests at a time.

    Each record is appended the moment its answer arrives. ``limit``: stop taking new records once the output
    holds that many (PRM800K's 10,000).
    """
    client = client or make_client(cfg)
    queue: asyncio.Queue[SourceRecord] = asyncio.Queue()
    for record in pending:
        queue.put_nowait(record)
    bar = tqdm(total=len(pending), desc=f"converting with {cfg.model}", unit="rec")

    async def worker() -> None:
        while not queue.empty():
            if limit is not None and stats.already_done + stats.converted >= limit:
                return
            record = queue.get_nowait()
            try:
                comp = await complete(client, conversion_messages(record), cfg)
            except RequestFailed as e:
                append_jsonl(failed_path(output), [_failure(record, e.reason)])
                stats.fail(e.reason)
            else:
                stats.prompt_tokens += comp.prompt_tokens
                stats.completion_tokens += comp.completion_tokens
                stats.truncated += comp.finish_reason == "length"
                stats.retried_requests += comp.attempts > 1
                if "Subgoal 1" in comp.text:
                    append_jsonl(output, [converted_record(record, comp.text)])
                    stats.converted += 1
                else:
                    reason = "response has no 'Subgoal 1'"
                    append_jsonl(failed_path(output), [_failure(record, reason, response=comp.text)])
                    stats.fail(reason)
            bar.update(1)
            bar.set_postfix(ok=stats.converted, failed=stats.failed, refresh=False)

    workers = [asyncio.ensure_future(worker()) for _ in range(cfg.concurrency)]
    try:
        await asyncio.gather(*workers)
    except BaseException:
        for w in workers:
            w.cancel()
        raise
    finally:
        bar.close()
        await client.close()


def select(records: list[SourceRecord], *, convert_all: bool, st_idx: int, ed_idx: int) -> list[SourceRecord]:
    """``records[st_idx:ed_idx]`` unless ``convert_all`` (the original's selection)."""
    if convert_all:
        return records
    if ed_idx <= st_idx:
        raise UsageError(f"nothing selected: pass --convert_all or --ed_idx > --st_idx (got {st_idx}..{ed_idx})")
    return records[st_idx:ed_idx]


def convert(args: argparse.Namespace) -> ConversionStats:
    """Run one conversion as the CLI describes; returns the run's statistics."""
    _choice(args.domain, CONVERT_DOMAINS, "domain")
    _choice(args.backend, BACKENDS, "backend")
    data_fn = Path(args.data_fn) if args.data_fn else REPO_ROOT / "data" / "train" / args.domain / "raw_data"
    source = args.source or detect_source(data_fn)
    _choice(source, SOURCES, "source")
    if SOURCE_DOMAIN[source] != args.domain:
        raise UsageError(f"{data_fn} is {source} data, which belongs to domain {SOURCE_DOMAIN[source]}, not {args.domain}")
    output = Path(args.output) if args.output else default_output(
        args.domain, source, data_fn, convert_all=args.convert_all, st_idx=args.st_idx, ed_idx=args.ed_idx)
    with lock_output(output):  # one writer per output: a second run refuses at once, naming this one
        records = select(load_source(data_fn, source), convert_all=args.convert_all, st_idx=args.st_idx, ed_idx=args.ed_idx)
        stats = ConversionStats(selected=len(records))
        done = done_ids(output)
        pending = [r for r in records if r.id not in done]
        stats.already_done = len(records) - len(pending)
        if args.backend == "openai":
            convertible = [r for r in pending if r.plan is not None]
            stats.not_convertible = len(pending) - len(convertible)
            pending = convertible
        logger.info("%s: %d records selected, %d already converted in %s, %d to convert", data_fn, len(records),
                    stats.already_done, output, len(pending))
        output.parent.mkdir(parents=True, exist_ok=True)
        try:
            cfg = OpenAIConfig(model=args.model, base_url=args.base_url, api_key=os.environ.get(args.api_key_env) or None,
                               concurrency=args.concurrency,
                               max_retries=args.max_retries, timeout=args.timeout, backoff_base=args.retry_wait,
                               max_tokens=args.max_tokens or MAX_TOKENS[args.domain])
        except ValueError as e:
            raise UsageError(str(e)) from None
        start = time.time()
        try:
            if args.backend == "rule":
                run_rule(pending, output, stats)
            else:
                limit = PRM_TARGET if source == "prm800k" and args.convert_all else None
                asyncio.run(run_openai(pending, output, cfg, stats, limit=limit))
        finally:
            in_output = done_ids(output)
            remaining_failed = compact_failed(output, in_output)
            config = dict(vars(args), source=source, output=str(output), data_fn=str(data_fn))
            if args.backend == "openai":
                config["openai"] = {k: v for k, v in asdict(cfg).items() if k != "api_key"}
            write_json(metrics_path(output), {
                "config": config, "git_commit": git_commit(), "seconds": round(time.time() - start, 2),
                "counts": asdict(stats), "records_in_output": len(in_output), "failed_in_file": remaining_failed,
            })
        logger.info("converted %d, failed %d, skipped %d already done, %d without a plan; tokens: %d prompt + %d completion; "
                    "output %s (%d records)", stats.converted, stats.failed, stats.already_done, stats.not_convertible,
                    stats.prompt_tokens, stats.completion_tokens, output, len(in_output))
        if stats.failure_reasons:
            logger.info("failure reasons: %s", dict(sorted(stats.failure_reasons.items(), key=lambda kv: -kv[1])[:10]))
        return stats


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m data.prompt_convertion", description=__doc__.split("\n")[0])
    p.add_argument("--domain", required=True, choices=CONVERT_DOMAINS)
    p.add_argument("--data_fn", help="raw data file (web_agent: a file or a folder of train_*.json; "
                                     "default data/train/<domain>/raw_data)")
    p.add_argument("--source", choices=SOURCES, help="raw format (default: detected from the file name)")
    p.add_argument("--convert_all", action="store_true", help="convert every record (else records[st_idx:ed_idx])")
    p.add_argument("--st_idx", type=int, default=0)
    p.add_argument("--ed_idx", type=int, default=0)
    p.add_argument("--backend", choices=BACKENDS, default="openai")
    p.add_argument("--model", default="gpt-4")
    p.add_argument("--base_url", default=None, help="any OpenAI-compatible server, e.g. http://127.0.0.1:8000/v1")
    p.add_argument("--api_key_env", default="OPENAI_API_KEY",
                   help="environment variable holding the endpoint's key (a local server needs none)")
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--max_retries", type=int, default=6)
    p.add_argument("--timeout", type=float, default=120.0, help="seconds per request")
    p.add_argument("--retry_wait", type=float, default=1.0,
                   help="first backoff in seconds (doubles per retry, capped at 60) unless the server sends Retry-After")
    p.add_argument("--max_tokens", type=int, default=None, help="default: 800 for web_agent, else 500")
    p.add_argument("--output", default=None, help="default: data/train/<domain>/converted/<name>_converted[_st_ed].json")
    return p


@cli_entry("python -m data.prompt_convertion")
def main(argv: Sequence[str] | None = None) -> int:
    """The CLI; data and usage errors, a busy ``--output`` and a refused server end as one line on stderr."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    convert(build_parser().parse_args(argv))
    return 0


if __name__ == "__main__":
    sys.exit(main())
