"""``python -m eval.mind2web.score``: recompute every Mind2Web metric from a ``steps.jsonl`` file.

    python -m eval.mind2web.score --data_dir ../shared/data --predictions results/mind2web/steps.jsonl --split test_task

``--data_dir`` is a folder holding the split (the authors' ``test_task/*.json``, a ``test_task.json``, or SeeClick's
``seeclick_mind2web_data_test_task.json``, also under ``mind2web/``) or the task file itself. Prints one JSON object:
``element_acc``, ``op_f1``, ``step_sr`` (each ``{"micro", "macro"}``), ``task_sr``, ``lumos_step_sr``, ``n_steps``,
``n_tasks`` and diagnostics (steps without a positive or a prediction, predictions for unknown steps). Steps without a
prediction count as failed. Works for any system's predictions (MindAct's, ours, ...) on the same split.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from typing import Any

from lumos.envs.mind2web.data import (
    SPLITS,
    CandidateScores,
    attach_scores,
    load_candidate_scores,
    load_split,
    resolve_split,
)
from lumos.envs.mind2web.metrics import read_predictions, score_predictions
from lumos.utils.io import DataFormatError

logger = logging.getLogger(__name__)


def score_file(data_dir: str, predictions: str, *, split: str = "test_task", max_num_examples: int | None = None,
               rank_cap: int | None = None, scores: str | None = None) -> dict[str, Any]:  # fmt: skip
    """The scorer's result object (see the module docstring)."""
    tasks = load_split(data_dir, split, max_tasks=max_num_examples)
    if scores:
        table: CandidateScores = load_candidate_scores(scores)
        tasks = attach_scores(tasks, table)
    result = score_predictions(tasks, read_predictions(predictions), rank_cap=rank_cap)
    result["split"] = split
    result["data"] = str(resolve_split(data_dir, split))
    result["rank_cap"] = rank_cap
    return result


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    p = argparse.ArgumentParser(prog="python -m eval.mind2web.score", description=__doc__.split("\n")[0])
    p.add_argument("--data_dir", required=True, help="folder holding the split, or the task file itself")
    p.add_argument("--predictions", required=True, help="steps.jsonl: annotation_id, action_uid, element, operation, value")
    p.add_argument("--split", default="test_task", choices=SPLITS)
    p.add_argument("--max_num_examples", type=int, default=None, help="score only the first N tasks (as the eval)")
    p.add_argument("--rank_cap", type=int, default=None,
                   help="as MindAct: positives of MindAct rank >= K do not count (e.g. 50; needs ranks)")
    p.add_argument("--scores", default=None, help="scores_all_data.pkl, for --rank_cap on the authors' files")
    args = p.parse_args(argv)
    try:
        result = score_file(args.data_dir, args.predictions, split=args.split, max_num_examples=args.max_num_examples,
                            rank_cap=args.rank_cap, scores=args.scores)  # fmt: skip
    except (DataFormatError, FileNotFoundError, ValueError) as e:
        logger.error("%s", e)
        return 2
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
