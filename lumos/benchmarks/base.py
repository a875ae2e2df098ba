"""Benchmark records and registry: one small file per benchmark registers one ``Benchmark``.

A ``Benchmark`` says how to load its examples (``load(data_dir) -> Dataset``), how to make the
episode of one example (``make_episode(example, ctx)``: its tools, dialogue, environment session and
scorer), which metrics it reports with which aggregation, its Lumos-I cap, and which extra
command-line options it takes (a dataclass, ``options``)::

    >>> bench, data = load_benchmark("gsm", "../shared/data")          # or data/eval/gsm, or a file
    >>> data.examples[0]
    Example(id='0', question="Janet's ducks lay 16 eggs per day...", answer='18', metadata={})

``data_dir`` may be the original folder (``data/eval/gsm/``), a data root holding the benchmark's
upstream folder, that folder, or a file; when omitted, ``$LUMOS_DATA_DIR`` and then
``data/eval/<key>/`` are used.

Exercise: ``pytest tests/benchmarks``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from lumos.paths import FORMULATIONS, REPO_ROOT
from lumos.paths import data_dir as env_data_dir
from lumos.utils.io import DataFormatError

if TYPE_CHECKING:
    from lumos.agent.episode import Episode
    from lumos.runtime import RunContext


@dataclass(frozen=True)
class Example:
    """One task: ``question`` is what the agent sees, ``answer`` the gold answer as text."""

    id: str
    question: str
    answer: str
    metadata: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Dataset:
    """A benchmark's loaded examples, the file they came from, and facts worth recording in metrics.json."""

    examples: tuple[Example, ...]
    source: Path
    info: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.examples:
            raise DataFormatError(f"{self.source}: no examples (an empty data file?)")
        ids = [e.id for e in self.examples]
        if len(set(ids)) != len(ids):
            dup = next(i for i in ids if ids.count(i) > 1)
            raise DataFormatError(f"{self.source}: example id {dup!r} appears more than once")


AnswerMetric = Callable[[str | None, str], float]


@dataclass(frozen=True)
class MetricSpec:
    """A reported metric and how it aggregates over examples.

    * ``mean`` (default): the mean of the per-example score ``name`` over ALL selected examples; a
      failed or missing example scores 0.
    * ``micro``: ``sum(score[numerator]) / sum(denominator(example))`` over all examples (Mind2Web's
      per-step rates; a missing example still counts in the denominator).

    ``fn`` computes the per-example score from the prediction and the gold answer (answer
    benchmarks); ``None`` when the episode's scorer computes it from the trajectory.
    """

    name: str
    fn: AnswerMetric | None = None
    aggregation: Literal["mean", "micro"] = "mean"
    numerator: str | None = None
    denominator: Callable[[Example], float] | None = None
    higher_is_better: bool = True

    def __post_init__(self) -> None:
        if self.aggregation not in ("mean", "micro"):
            raise ValueError(f"metric {self.name}: unknown aggregation {self.aggregation!r}")
        if self.aggregation == "micro" and (self.numerator is None or self.denominator is None):
            raise ValueError(f"micro metric {self.name} needs numerator and denominator")


EpisodeFactory = Callable[["Benchmark", Example, "RunContext"], "Episode"]


@dataclass(frozen=True)
class Benchmark:
    """One registered benchmark.

    Args:
        name: the key (the original eval folder name): ``python -m eval.<name>.run_eval``.
        domain: the checkpoint domain (``lumos_<domain>_<module>_<formulation>``): maths,
            complex_qa, web_agent or unified (unseen tasks).
        load: ``(data_dir, options) -> Dataset`` (``options``: the benchmark's options instance or None).
        make_episode: ``(benchmark, example, ctx) -> Episode``.
        metrics: what is reported; ``primary`` names the headline one.
        max_subgoals: the Lumos-I cap.
        formulations: the formulations it supports.
        options: a dataclass of benchmark-specific command-line options (or None).
        tool_options: ``ToolConfig`` fields this benchmark fixes (StrategyQA: ``last_question="yes_no"``).
        extract_answer: formulation -> reader of the answer from a cot/direct output.
        rescore: whether ``lumos score`` recomputes scores from saved predictions (answer metrics);
            False when scores come from an environment and are read back as recorded.
        predict_at_cap: whether a Lumos-I episode ended by ``max_subgoals`` gets a prediction (the
            original: maths yes, the final variable; complex QA no, only stopped tasks were answered).
        groups: example metadata keys whose values break the metrics down in metrics.json
            (InterCode-SQL: ``hardness``).
        write_outputs: ``(save_dir, records by id, examples)``: writes files derived from the predictions
            next to metrics.json (Mind2Web's ``steps.jsonl``), whenever the metrics are written.
        splits: the splits ``--split`` may choose (kept in ``options.split``, a field outside the command line).
    """

    name: str
    domain: str
    load: Callable[[Path | None, Any], Dataset]
    make_episode: EpisodeFactory
    metrics: tuple[MetricSpec, ...]
    primary: str
    max_subgoals: int
    formulations: tuple[str, ...] = FORMULATIONS
    options: type | None = None
    tool_options: Mapping[str, Any] = field(default_factory=dict)
    extract_answer: Mapping[str, Callable[[str], str | None]] = field(default_factory=dict)
    rescore: bool = True
    predict_at_cap: bool = True
    groups: tuple[str, ...] = ()
    write_outputs: Callable[[Path, Mapping[str, Mapping[str, Any]], Sequence[Example]], None] | None = None
    splits: tuple[str, ...] = ()

    def make_options(self, stored: Mapping[str, Any] | None = None) -> Any:
        """An options instance (None without options), from ``stored`` (as ``config.json`` records it) if given."""
        import dataclasses

        if self.options is None:
            return None
        stored = dict(stored or {})
        fields = {f.name: f for f in dataclasses.fields(self.options)}
        options = self.options(**{k: v for k, v in stored.items() if k in fields and fields[k].init})
        for k, v in stored.items():
            if k in fields and not fields[k].init:
                setattr(options, k, v)
        return options

    def __post_init__(self) -> None:
        names = [m.name for m in self.metrics]
        if self.primary not in names:
            raise ValueError(f"{self.name}: primary metric {self.primary!r} not in {names}")
        bad = set(self.formulations) - set(FORMULATIONS)
        if bad:
            raise ValueError(f"{self.name}: unknown formulations {sorted(bad)}")

    def metric(self, name: str) -> MetricSpec:
        return next(m for m in self.metrics if m.name == name)

    def score_prediction(self, prediction: str | None, example: Example) -> dict[str, float]:
        """The answer metrics of one prediction (metrics without ``fn`` are left out)."""
        return {m.name: float(m.fn(prediction, example.answer)) for m in self.metrics if m.fn is not None}


_REGISTRY: dict[str, Benchmark] = {}
# The benchmark files, imported (and so registered) on the first look-up: a new benchmark adds its module here.
BENCHMARK_MODULES: tuple[str, ...] = ("gsm", "svamp", "hotpotqa", "strategyqa", "mind2web", "webshop", "intercode_sql")
_loaded = False


def _load_builtin() -> None:
    global _loaded
    if not _loaded:
        _loaded = True
        import importlib

        for name in BENCHMARK_MODULES:
            importlib.import_module(f"lumos.benchmarks.{name}")


def register_benchmark(bench: Benchmark) -> Benchmark:
    """Register ``bench`` under its name (one registration per benchmark file)."""
    if bench.name in _REGISTRY:
        raise ValueError(f"benchmark {bench.name!r} registered twice")
    _REGISTRY[bench.name] = bench
    return bench


def benchmark_names() -> tuple[str, ...]:
    _load_builtin()
    return tuple(sorted(_REGISTRY))


def get_benchmark(name: str) -> Benchmark:
    """A registered benchmark; raises ``ValueError`` listing the valid names."""
    _load_builtin()
    if name not in _REGISTRY:
        raise ValueError(f"unknown benchmark {name!r}; expected one of {', '.join(benchmark_names())}")
    return _REGISTRY[name]


def load_benchmark(name: str, data_dir: str | Path | None = None, options: Any = None) -> tuple[Benchmark, Dataset]:
    """``get_benchmark(name)`` and its examples from ``data_dir`` (with its ``options``; default ones when None)."""
    bench = get_benchmark(name)
    if options is None and bench.options is not None:
        options = bench.options()
    return bench, bench.load(Path(data_dir) if data_dir else None, options)


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
