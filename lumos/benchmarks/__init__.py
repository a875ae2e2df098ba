"""Benchmarks by their eval folder names: gsm, svamp, hotpotqa, strategyqa, webshop (the original's), intercode_sql.

``get_benchmark("gsm")`` gives one, ``load_benchmark("gsm", data_dir)`` also its examples; importing this
package registers all of them (one import per benchmark file).
"""

from lumos.benchmarks import gsm, hotpotqa, intercode_sql, strategyqa, svamp, webshop  # noqa: F401  (registration)
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
