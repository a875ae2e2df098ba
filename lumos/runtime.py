"""What one evaluation run shares between its episodes, built once from the ``EvalConfig``.

``RunContext`` holds the loaded modules, the LLM behind the QA tool (loaded on first use), the
tool cache, and any read-only backend a benchmark builds once with ``ctx.shared(key, build)`` (a
BM25 index, a ranker model, a product catalogue, a database file). ``ctx.record(key, value)`` notes
what actually ran (which spaCy model, which ranker), and ``ctx.describe()`` is what metrics.json
stores under ``resources``. Model folders are resolved here (``resolve_module``).

    >>> ctx = RunContext(config, bench, planner=planner, grounder=grounder, save_dir=Path("results/gsm"))
    >>> tools = ctx.toolbox("maths")             # built once, shared by every episode
    >>> ctx.close()

Exercise: ``pytest tests/test_runtime.py``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from lumos.config import EvalConfig
from lumos.inference.base import Backend
from lumos.paths import checkpoint_name
from lumos.utils.cli import UsageError

if TYPE_CHECKING:
    from lumos.agent.loop import AgentConfig
    from lumos.benchmarks.base import Benchmark
    from lumos.tools.base import Tool

logger = logging.getLogger(__name__)
T = TypeVar("T")


def resolve_module(root: str | None, explicit: str | None, name: str, backend: str) -> str:
    """The model for one module: ``explicit``, else ``root/name``, else ``root`` itself if it is a model folder.

    With ``--backend openai`` the result is a served model name (``explicit`` or ``name``).

    Raises:
        ValueError: no root and no explicit model.
        FileNotFoundError: ``root/name`` does not exist and ``root`` is not a model folder.
    """
    if explicit:
        return explicit
    if backend == "openai":
        return name
    if root is None:
        raise UsageError(f"give --model_name_or_path (a root holding {name}/) or --plan_model/--ground_model")
    base = Path(root)
    if (base / name).is_dir():
        return str(base / name)
    if (base / "config.json").is_file() or (base / "adapter_config.json").is_file():
        logger.warning("%s has no %s/; the model %s stands in for this module", base, name, base)
        return str(base)
    raise FileNotFoundError(f"no model for {name}: {base / name} does not exist and {base} is not a model folder")


def module_paths(config: EvalConfig, domain: str) -> tuple[str, str | None]:
    """(planning model, grounding model or None for cot/direct) of ``domain`` (or ``--module_domain``) under ``config``."""
    domain = config.module_domain or domain
    plan = resolve_module(config.model_name_or_path, config.plan_model,
                          checkpoint_name(domain, "plan", config.formulation), config.backend)
    if not config.lumos:
        return plan, None
    ground = resolve_module(config.model_name_or_path, config.ground_model,
                            checkpoint_name(domain, "ground", config.formulation), config.backend)
    return plan, ground


def load_modules(config: EvalConfig, plan_path: str, ground_path: str | None) -> tuple[Backend, Backend | None]:
    """Load the planning and grounding backends once (one model when both are the same folder)."""
    from lumos.inference import load_module_backends

    return load_module_backends(
        config.backend, plan_path, ground_path, prompt_style=config.prompt_style, batch_size=config.eval_batch_size,
        dtype=config.dtype, seed=config.seed, base_url=config.base_url, api_key=config.api_key(),
        openai_api=config.openai_api, load_in_8bit=config.load_in_8bit)


def agent_config(config: EvalConfig, planner: Backend) -> AgentConfig:
    """How the loop drives this run's episodes: concurrently for a backend behind a server, else in batches."""
    from lumos.agent.loop import AgentConfig

    return AgentConfig(formulation=config.formulation, prompt_style=config.prompt_style,
                       max_new_tokens=config.max_new_tokens, batch_size=config.eval_batch_size,
                       concurrency=config.concurrency if getattr(planner, "concurrent", False) else 0,
                       failed_action=config.failed_action)


def backend_description(backend: Any) -> dict[str, Any] | None:
    """What a backend is, for metrics.json: its kind and model (and settings it reports)."""
    if backend is None:
        return None
    describe = getattr(backend, "describe", None)
    if callable(describe):
        return dict(describe())
    from lumos.tools.code import backend_id

    return {"kind": getattr(backend, "name", type(backend).__name__), "id": backend_id(backend)}


class RunContext:
    """Shared state of one run. Thread-safe: episodes of the concurrent driver share it.

    Args:
        config: the run's configuration.
        bench: the benchmark (its ``tool_options`` configure the toolbox).
        options: the benchmark's options dataclass instance (or None).
        planner, grounder: the loaded modules, and ``plan_path`` / ``ground_path`` the models they hold (an LLM tool
            naming the same model reuses them).
        qa: the LLM of the QA tool (default: loaded from ``config.qa_model`` on first use).
        save_dir: the run's folder (the tool cache lives there with ``--cache auto``).
    """

    def __init__(self, config: EvalConfig, bench: Benchmark, *, options: Any = None, planner: Backend | None = None,
                 grounder: Backend | None = None, plan_path: str | None = None, ground_path: str | None = None,
                 qa: Backend | None = None, save_dir: Path | None = None) -> None:
        self.config = config
        self.bench = bench
        self.options = options
        self.planner = planner
        self.grounder = grounder
        self.save_dir = save_dir
        self._qa = qa
        self._qa_loaded = qa is not None
        self._loaded = {path: backend for path, backend in ((plan_path, planner), (ground_path, grounder))
                        if path is not None and backend is not None}
        self._shared: dict[str, Any] = {}
        self._recorded: dict[str, Any] = {}
        self._lock = threading.RLock()
        self._closers: list[Callable[[], None]] = []

    # -- shared resources ------------------------------------------------------------------------
    def shared(self, key: str, build: Callable[[], T]) -> T:
        """The resource under ``key``, built on first request and shared afterwards."""
        with self._lock:
            if key not in self._shared:
                self._shared[key] = build()
                close = getattr(self._shared[key], "close", None)
                if callable(close):
                    self._closers.append(close)
            return self._shared[key]

    def record(self, key: str, value: Any) -> None:
        """Note what actually ran (metrics.json ``resources``)."""
        with self._lock:
            self._recorded[key] = value

    def describe(self) -> dict[str, Any]:
        with self._lock:
            return dict(self._recorded)

    def close(self) -> None:
        """Close shared resources (workers, caches, connections)."""
        with self._lock:
            closers, self._closers = self._closers, []
        for close in reversed(closers):
            close()

    # -- LLM backends for tools and the judge ----------------------------------------------------
    def llm(self, spec: str) -> Backend:
        """A chat backend for an LLM tool or the judge: a loaded module if it is the same folder, a local
        folder (hf), or a model name at ``--base_url``."""
        with self._lock:
            if spec in self._loaded:
                return self._loaded[spec]
            from lumos.inference import load_backend

            if Path(spec).exists():
                for path, backend in self._loaded.items():
                    if Path(path).exists() and Path(path).resolve() == Path(spec).resolve():
                        return backend
                kind = "hf" if self.config.backend == "openai" else self.config.backend
                backend = load_backend(kind, spec, batch_size=self.config.eval_batch_size, dtype=self.config.dtype,
                                       seed=self.config.seed)
            else:
                backend = load_backend("openai", spec, base_url=self.config.base_url, api_key=self.config.api_key(),
                                       openai_api="chat")
            self._loaded[spec] = backend
            return backend

    @property
    def qa(self) -> Backend | None:
        """The QA tool's LLM (``--qa_model``), loaded on first use; None without one."""
        with self._lock:
            if not self._qa_loaded:
                self._qa_loaded = True
                if self.config.qa_model:
                    self._qa = self.llm(self.config.qa_model)
            return self._qa

    # -- the maths / complex-QA toolbox ----------------------------------------------------------
    def cache_path(self) -> Path | None:
        cache = self.config.cache
        if cache == "none":
            return None
        if cache == "auto":
            return (self.save_dir / "tool_cache.sqlite") if self.save_dir is not None else None
        return Path(cache)

    def toolbox(self, domain: str) -> dict[str, Tool]:
        """The stateless tools of ``domain`` (maths, complex_qa), built once and shared by all episodes."""

        def build() -> dict[str, Tool]:
            from lumos.tools.executor import ToolConfig, build_toolbox

            qa = self.qa
            if domain == "complex_qa" and qa is None:
                logger.warning("no --qa_model: the QA and Calculator tools have no LLM and will fail")
            cfg = ToolConfig(knowledge=self.config.knowledge, corpus=self.config.corpus, qa_backend=qa,
                             retriever=self.config.retriever, math_backend=self.config.math_backend,
                             cache_path=self.cache_path(), **dict(self.bench.tool_options))
            self.record("tools", cfg.to_dict())
            return build_toolbox(domain, cfg)

        return self.shared(f"toolbox:{domain}", build)
