"""Benchmarks by their original eval folder names: gsm, svamp, hotpotqa, strategyqa.

``get_benchmark("gsm", data_dir)`` loads one; importing this package registers all of them.
"""

from lumos.benchmarks import gsm, hotpotqa, strategyqa, svamp  # noqa: F401  (registration)
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
