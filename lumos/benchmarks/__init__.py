"""Benchmarks by their eval folder names: gsm, svamp, hotpotqa, strategyqa, webshop (the original's), intercode_sql.

``get_benchmark("gsm")`` gives one, ``load_benchmark("gsm", data_dir)`` also its examples. The benchmark files
are imported on the first look-up (``lumos.benchmarks.base.BENCHMARK_MODULES``: one line per benchmark), so that
environments may use ``lumos.benchmarks.base`` without importing every benchmark.
"""
from lumos.benchmarks.base import (
    Benchmark,
    Dataset,
    Example,
    MetricSpec,
    benchmark_names,
    get_benchmark,
    load_benchmark,
    register_benchmark,
)

__all__ = ["Benchmark", "Dataset", "Example", "MetricSpec", "benchmark_names", "get_benchmark", "load_benchmark",
           "register_benchmark"]
