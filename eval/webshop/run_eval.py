"""Evaluate on WebShop with the original eval flags plus --split, --goals, --search_engine, --ranker, --module_domain, ...

Run: ``python -m eval.webshop.run_eval --help``. The logic is in ``lumos.evaluate`` and ``lumos.benchmarks.webshop``.
"""

from lumos.evaluate import main

if __name__ == "__main__":
    main(benchmark="webshop")
