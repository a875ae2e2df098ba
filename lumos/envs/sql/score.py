"""Score SQL queries with InterCode's reward: per question, over a predictions file, and by Spider hardness.

Predictions are JSON lines ``{"id": 0, "query": "SELECT T1.Name FROM people AS T1 ..."}`` where ``id`` is the
question's index in the data file. Each query runs on the question's database and then the gold query on the same
connection (InterCode's order), and ``intercode_reward`` compares their rows. Averages are over **all**
questions of the data file: a question without a prediction (or with a null/empty query) scores 0.

    $ python -m eval.intercode_sql.score --data_dir ../shared/data --predictions preds.jsonl
    {"success_rate": 0.412, "reward": 0.455, "n": 1034, "by_hardness": {"easy": {...}, ...}, ...}

Exercise: ``pytest tests/envs/test_sql_score.py``.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from lumos.envs.sql.backend import (
    BACKENDS,
    DEFAULT_MAX_ROWS,
    DEFAULT_TIMEOUT_S,
    QueryResult,
    SqlBackend,
    SqlBackendError,
    make_backend,
)
from lumos.envs.sql.data import HARDNESS, SqlQuestion, find_data, find_dump, load_questions
from lumos.envs.sql.reward import intercode_reward, is_success
from lumos.utils.io import DataFormatError, append_jsonl, iter_jsonl

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class QueryScore:
    """One question's score. ``error`` is the agent query's error message, if it failed."""

    id: int
    reward: float
    success: bool
    hardness: str
    query: str | None
    error: str | None = None
    gold_error: str | None = None
    elapsed_s: float = 0.0


def gold_observation(result: QueryResult) -> list[tuple[Any, ...]]:
    """The gold side of InterCode's reward: the rows, or ``[]`` when the gold query failed or gave no result set."""
    obs = result.observation
    return obs if isinstance(obs, list) else []


def run_with_gold(backend: SqlBackend, question: SqlQuestion, query: str) -> tuple[QueryResult, QueryResult]:
    """Run ``query``, then the gold query, on one new connection to the question's database (see ``score_query``)."""
    conn = backend.connect(question.db)
    try:
        return conn.execute(query), conn.execute(question.gold)
    finally:
        conn.close()


def gold_reward(agent_observation: Any, gold: QueryResult) -> float:
    """InterCode's reward of an agent's observation against the gold query's result."""
    return intercode_reward(agent_observation, gold_observation(gold))


def score_query(backend: SqlBackend, question: SqlQuestion, query: str | None) -> QueryScore:
    """InterCode's reward of ``query`` on ``question`` (no query: 0).

    As in InterCode, the agent's query runs first and the gold query after it on the same connection: a server
    may break ties of ``ORDER BY ... LIMIT`` differently on another connection (MariaDB does), and on one
    connection the gold query then scores 1 against itself.
    """
    start = time.perf_counter()
    if not query or not query.strip():
        return QueryScore(question.index, 0.0, False, question.hardness, query, error="no query")
    agent, gold = run_with_gold(backend, question, query)
    reward = gold_reward(agent.observation, gold)
    agent_error = agent.observation if isinstance(agent.observation, str) else None
    return QueryScore(question.index, reward, is_success(reward), question.hardness, query, error=agent_error,
                      gold_error=gold.error, elapsed_s=round(time.perf_counter() - start, 4))  # fmt: skip


def summarize(scores: Iterable[QueryScore], questions: Sequence[SqlQuestion]) -> dict[str, Any]:
    """Success rate and mean reward over all ``questions`` (unscored ones count 0), overall and by hardness."""
    by_id = {s.id: s for s in scores}

    def block(qs: Sequence[SqlQuestion]) -> dict[str, Any]:
        n = len(qs)
        rewards = [by_id[q.index].reward if q.index in by_id else 0.0 for q in qs]
        wins = sum(1 for q in qs if q.index in by_id and by_id[q.index].success)
        return {"success_rate": wins / n if n else 0.0, "reward": sum(rewards) / n if n else 0.0, "n": n}

    out = block(questions)
    levels = [h for h in HARDNESS if any(q.hardness == h for q in questions)]
    levels += sorted({q.hardness for q in questions} - set(levels))
    out["by_hardness"] = {h: block([q for q in questions if q.hardness == h]) for h in levels}
    return out


def read_predictions(path: str | Path) -> tuple[dict[int, str | None], list[Any]]:
    """``{id: query}`` from a JSON-lines file, and the ids that are not integers.

    Raises:
        DataFormatError: a line without ``id`` or ``query``, a non-string query, or an id given twice.
    """
    preds: dict[int, str | None] = {}
    bad_ids: list[Any] = []
    for line, rec in iter_jsonl(path):
        where = f"{path}:{line}"
        if "id" not in rec or "query" not in rec:
            raise DataFormatError(f"{where}: expected fields 'id' and 'query' (has {sorted(rec)})")
        query = rec["query"]
        if query is not None and not isinstance(query, str):
            raise DataFormatError(f"{where}: field 'query' has type {type(query).__name__}")
        raw = rec["id"]
        try:
            key = int(raw) if not isinstance(raw, bool) else None
        except (TypeError, ValueError):
            key = None
        if key is None or str(key) != str(raw).strip():
            bad_ids.append(raw)
            continue
        if key in preds:
            raise DataFormatError(f"{where}: id {key} appears twice")
        preds[key] = query
    return preds, bad_ids


def score_predictions(
    backend: SqlBackend,
    questions: Sequence[SqlQuestion],
    predictions: Mapping[int, str | None],
    *,
    details: Path | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Score every question that has a prediction; summarize over all questions.

    Returns:
        ``{"success_rate", "reward", "n", "by_hardness", "scored", "missing", "unknown_ids"}``; ``unknown_ids``
        are prediction ids with no question.
    """
    known = {q.index for q in questions}
    scores = []
    for q in tqdm(questions, desc="scoring", disable=not progress):
        if q.index in predictions:
            s = score_query(backend, q, predictions[q.index])
            scores.append(s)
            if details is not None:
                append_jsonl(details, [asdict(s)])
    out = summarize(scores, questions)
    out["scored"] = len(scores)
    out["missing"] = len(known - set(predictions))
    out["unknown_ids"] = sorted(set(predictions) - known)
    return out


def add_backend_args(p: argparse.ArgumentParser) -> None:
    """The backend flags shared by the SQL command lines."""
    p.add_argument("--sql_backend", choices=BACKENDS, default="sqlite", help="sqlite (embedded, default) or mysql (a server)")
    p.add_argument("--sql_url", default=None, help="mysql://USER:PASS@HOST:PORT for --sql_backend mysql")
    p.add_argument("--sql_dump", default=None, help="the MySQL dump (default: ic_spider_dbs.sql beside the data file)")
    p.add_argument("--cache_dir", type=Path, default=None, help="converted SQLite files (default $LUMOS_CACHE_DIR)")
    p.add_argument("--sql_timeout", type=float, default=DEFAULT_TIMEOUT_S, help="seconds per statement")
    p.add_argument("--sql_max_rows", type=int, default=DEFAULT_MAX_ROWS, help="rows kept per result; more is an error")


def backend_from_args(args: argparse.Namespace, data_file: Path) -> SqlBackend:
    dump = find_dump(data_file, args.sql_dump) if args.sql_backend == "sqlite" else None
    return make_backend(args.sql_backend, dump=dump, url=args.sql_url, cache_dir=args.cache_dir,
                        timeout_s=args.sql_timeout, max_rows=args.sql_max_rows)  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    p = argparse.ArgumentParser(prog="python -m eval.intercode_sql.score",
                                description="Score SQL queries on InterCode-SQL with InterCode's reward.")  # fmt: skip
    p.add_argument("--data_dir", default=None, help="the data root, the intercode_sql folder or ic_spider_dev.json (default $LUMOS_DATA_DIR)")
    p.add_argument("--predictions", required=True, type=Path, help='JSON lines {"id": <question index>, "query": "SELECT ..."}')
    p.add_argument("--details", type=Path, default=None, help="write one JSON line per scored question here (replaced)")
    add_backend_args(p)
    args = p.parse_args(argv)
    try:
        data_file = find_data(args.data_dir)
        questions = load_questions(data_file)
        predictions, bad_ids = read_predictions(args.predictions)
        backend = backend_from_args(args, data_file)
    except (FileNotFoundError, DataFormatError, SqlBackendError, ValueError) as e:
        logger.error("%s", e)
        return 1
    if args.details is not None and args.details.exists():
        args.details.unlink()
    try:
        result = score_predictions(backend, questions, predictions, details=args.details)
    except SqlBackendError as e:
        logger.error("%s", e)
        return 1
    finally:
        backend.close()
    result["unknown_ids"] = result["unknown_ids"] + bad_ids
    if result["unknown_ids"]:
        logger.warning("%d prediction id(s) match no question: %s", len(result["unknown_ids"]), result["unknown_ids"][:20])
    result["backend"] = backend.describe()
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
