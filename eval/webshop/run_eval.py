"""Evaluate on WebShop with the original eval flags plus --split, --goals, --search_engine, --ranker, --module_domain, ...

Run: ``python -m eval.webshop.run_eval --help``. The logic is in ``lumos.evaluate`` and ``lumos.benchmarks.webshop``.
"""

import sys

from lumos.evaluate import main
from lumos.utils.cli import run_cli

if __name__ == "__main__":
    sys.exit(run_cli(main, prog="python -m eval.webshop.run_eval", benchmark="webshop"))
