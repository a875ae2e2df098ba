"""Evaluate on Mind2Web with the original eval flags plus --split, --ranker, --ranker_scores, --candidates, ...

Run: ``python -m eval.mind2web.run_eval --help``. The logic is in ``lumos.evaluate`` and ``lumos.benchmarks.mind2web``;
``python -m eval.mind2web.score`` recomputes the metrics from a run's ``steps.jsonl``.
"""

import sys

from lumos.evaluate import main
from lumos.utils.cli import run_cli

if __name__ == "__main__":
    sys.exit(run_cli(main, prog="python -m eval.mind2web.run_eval", benchmark="mind2web"))
