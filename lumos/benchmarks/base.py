"""Benchmark records and registry: one small file per benchmark registers a loader under its key.

    >>> bench = get_benchmark("gsm", data_dir="../shared/data")   # or data/eval/gsm, or a file
    >>> bench.examples[0]
    Example(id='0', question="Janet's ducks lay 16 eggs per day...", answer='18', metadata={})

``data_dir`` may be the original folder (``data/eval/gsm/``), the shared data root
(``../shared/data``), the benchmark's upstream folder (``../shared/data/gsm8k``) or a file; when
omitted, ``$LUMOS_DATA_DIR`` and then ``data/eval/<key>/`` are used.

Exercise: ``pytest tests/benchmarks``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lumos.paths import REPO_ROOT
from lumos.paths import data_dir as env_data_dir


@dataclass(frozen=True)
class Example:
    """One task: ``question`` is what the agent sees, ``answer`` the gold answer as text."""

    id: str
    question: str
    answer: str
    metadata: Mapping[str, Any] = field(default_factory=dict)


Metric = Callable[[str | None, str], float]


@dataclass(frozen=True)
class Benchmark:
    """A loaded benchmark: examples, metrics ``(prediction, gold) -> float`` and the loop caps.

    ``primary`` names the headline metric; ``info`` holds facts worth recording in metrics.json
    (e.g. the StrategyQA train/test overlap); ``tool_options`` are ``ToolConfig`` fields this benchmark
    fixes (StrategyQA: ``last_question="yes_no"``).
    """

    name: str
    domain: str
    examples: tuple[Example, ...]
    metrics: Mapping[str, Metric]
    primary: str
    max_subgoals: int
    source: Path
    info: Mapping[str, Any] = field(default_factory=dict)
    tool_options: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.primary not in self.metrics:
            raise ValueError(f"{self.name}: primary metric {self.primary!r} not in {sorted(self.metrics)}")


Loader = Callable[[Path | None], Benchmark]
_REGISTRY: dict[str, Loader] = {}


def register_benchmark(name: str) -> Callable[[Loader], Loader]:
    """Register ``loader(data_dir) -> Benchmark`` under ``name`` (the original eval folder name)."""

    def deco(fn: Loader) -> Loader:
        if name in _REGISTRY:
            raise ValueError(f"benchmark {name!r} registered twice")
        _REGISTRY[name] = fn
        return fn

    return deco


def benchmark_names() -> tuple[str, ...]:
    return tuple(sorted(_REGISTRY))


def get_benchmark(name: str, data_dir: str | Path | None = None) -> Benchmark:
    """Load a registered benchmark; raises ``ValueError`` listing the valid names."""
    if name not in _REGISTRY:
        raise ValueError(f"unknown benchmark {name!r}; expected one of {', '.join(benchmark_names())}")
    return _REGISTRY[name](Path(data_dir) if data_dir else None)


def find_data_file(bench: str, data_dir: Path | None, candidates: Sequence[str]) -> Path:
    """The first existing ``data_dir/<candidate>`` (``data_dir`` may itself be the file).

    Raises:
        FileNotFoundError: listing every path tried.
    """
    base = data_dir or env_data_dir() or REPO_ROOT / "data" / "eval" / bench
    if base.is_file():
        return base
    tried = [base / c for c in candidates]
    for path in tried:
        if path.is_file():
            return path
    raise FileNotFoundError(
        f"no {bench} data found; tried {', '.join(str(p) for p in tried)}. Pass --data_dir (the original "
        f"data/eval/{bench}/ folder, the shared data root, or a file) or set LUMOS_DATA_DIR."
    )
