"""Thin command-line shims with the original module names: ``python -m eval.<bench>.run_eval``.

All logic lives in ``lumos.evaluate`` and ``lumos.benchmarks``.
"""
