"""``EvalConfig``: the one typed configuration of an evaluation, built from the command line.

``python -m eval.<bench>.run_eval``, ``lumos run``, ``bench/`` scripts and the tests all build an
``EvalConfig`` (plus the benchmark's own options dataclass, e.g. ``--ranker`` for Mind2Web) with
``parse_eval_args``. The original eval flags keep their names and meanings (``--data_dir``,
``--max_num_examples``, ``--save_dir``, ``--model_name_or_path``, ``--eval_batch_size``,
``--formulation``, ``--load_in_8bit``, ``--gptq``, ``--base_model``); every other flag has one
spelling with one meaning everywhere (conversion included): ``--base_url`` and ``--api_key_env`` name
the OpenAI-compatible endpoint for the modules, the QA tool and the judge alike; ``--cache`` the tool
cache; ``--qa_model`` the QA tool's model; ``--retriever`` the ParagraphRetrieve ranker.

    >>> cfg, opts = parse_eval_args(["--formulation", "lumos_onetime", "--max_num_examples", "3"], benchmark="gsm")
    >>> cfg.formulation, cfg.num_shards
    ('lumos_onetime', 1)

Exercise: ``pytest tests/test_config.py``.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from lumos.paths import FORMULATIONS, check_choice
from lumos.utils.cli import UsageError


def _help(text: str) -> dict[str, str]:
    return {"help": text}


@dataclass
class EvalConfig:
    """Everything that decides an evaluation run (benchmark-specific options live in the benchmark's dataclass)."""

    benchmark: str | None = field(default=None, metadata=_help("benchmark key (fixed by python -m eval.<bench>.run_eval)"))
    # --- the original flags -------------------------------------------------------------------
    data_dir: str | None = field(default=None, metadata=_help(
        "data/eval/<bench>/, a data root holding the benchmark's upstream folder, or a file (default $LUMOS_DATA_DIR)"))
    max_num_examples: int | None = field(default=None, metadata=_help("evaluate the first N examples"))
    save_dir: str | None = field(default=None, metadata=_help("output folder (default results/<bench>/<formulation>)"))
    model_name_or_path: str | None = field(default=None, metadata=_help(
        "a root holding lumos_<domain>_<module>_<formulation> folders, or one model folder standing in for every module"))
    eval_batch_size: int = field(default=8, metadata=_help("episodes per batched generation (hf, vllm)"))
    formulation: Literal["lumos_iterative", "lumos_onetime", "cot", "direct"] = field(
        default="lumos_iterative", metadata=_help("Lumos-I, Lumos-O, or a cot/direct baseline"))
    load_in_8bit: bool = field(default=False, metadata=_help("hf backend: load the modules in 8 bit (bitsandbytes, GPU)"))
    gptq: bool = field(default=False, metadata=_help(
        "accepted as in the original; GPTQ checkpoints load from their own quantization_config"))
    base_model: str | None = field(default=None, metadata=_help("accepted as in the original (unused there and here)"))
    # --- models and inference -----------------------------------------------------------------
    module_domain: str | None = field(default=None, metadata=_help(
        "which trained modules to read under --model_name_or_path: lumos_<module_domain>_<module>_<formulation> "
        "(default: the benchmark's domain; unseen tasks: unified). E.g. maths to run Lumos-I_Math on InterCode-SQL"))
    plan_model: str | None = field(default=None, metadata=_help("planning module (overrides the root); cot/direct: the model"))
    ground_model: str | None = field(default=None, metadata=_help("grounding module (overrides the root)"))
    split: str | None = field(default=None, metadata=_help(
        "the benchmark's split (webshop: test | dev | train; mind2web: test_domain | test_task | test_website | train); "
        "default: the benchmark's"))
    backend: Literal["hf", "vllm", "openai"] = field(default="hf", metadata=_help(
        "hf (in process, default), vllm (in process), openai (any OpenAI-compatible server at --base_url)"))
    base_url: str | None = field(default=None, metadata=_help(
        "OpenAI-compatible endpoint for --backend openai, the QA tool and the judge (default: api.openai.com)"))
    api_key_env: str = field(default="OPENAI_API_KEY", metadata=_help(
        "environment variable holding the endpoint's API key (a local server needs none)"))
    openai_api: Literal["completions", "chat"] = field(default="completions", metadata=_help(
        "--backend openai: completions sends the exact Tulu-rendered prompt (byte-exact with training); chat "
        "sends the messages and lets the server apply its chat template"))
    concurrency: int = field(default=8, metadata=_help(
        "--backend openai: episodes advancing side by side (requests in flight); hf/vllm batch instead"))
    dtype: Literal["float32", "bfloat16", "float16"] = field(default="float32", metadata=_help("hf / vllm weights"))
    max_new_tokens: int = field(default=512, metadata=_help("per generation (the original's 512)"))
    prompt_style: Literal["original", "consistent"] = field(default="original", metadata=_help(
        "original: the paper's eval prompts (no BOS, blank line between turns); consistent: the training rendering"))
    seed: int = field(default=42, metadata=_help("random seed (decoding is greedy)"))
    final_answer: Literal["last_result", "qa"] = field(default="last_result", metadata=_help(
        "complex QA, Lumos-I: the prediction is the last result (default), or, as the original, the QA model's answer "
        "to the task's question over every QA result (needs --qa_model)"))
    failed_action: Literal["end", "continue"] = field(default="end", metadata=_help(
        "end (the original): the first failed action ends the task; continue: the subgoal's other actions run and "
        "the task ends only when its last action failed"))
    # --- tools ------------------------------------------------------------------------------------
    knowledge: Literal["local", "wikipedia"] = field(default="local", metadata=_help(
        "KnowledgeQuery source: local (BM25 over --corpus) or wikipedia (live, the paper's)"))
    corpus: str | None = field(default=None, metadata=_help(
        "paragraph corpus for --knowledge local (e.g. hotpotqa/ircot_dev_subsampled.jsonl)"))
    retriever: Literal["dense", "bm25"] = field(default="dense", metadata=_help("ParagraphRetrieve ranker"))
    math_backend: Literal["sympy", "wolframalpha"] = field(default="sympy", metadata=_help(
        "maths tools: sympy (offline) or the WolframAlpha API (key in $WOLFRAM_API_KEY)"))
    qa_model: str | None = field(default=None, metadata=_help(
        "LLM of the QA tool: a local model folder, or a model name at --base_url (gpt-3.5-turbo in the paper)"))
    judge_model: str | None = field(default=None, metadata=_help(
        "optional LLM judge (off by default): a local folder or a model name at --base_url"))
    cache: str = field(default="auto", metadata=_help(
        "sqlite cache of tool calls: a file, 'auto' (<save_dir>/tool_cache.sqlite) or 'none'"))
    # --- sharding ---------------------------------------------------------------------------------
    num_shards: int | None = field(default=None, metadata=_help(
        "split the selected examples into N contiguous shards (default: the launcher's WORLD_SIZE, else 1)"))
    shard_index: int | None = field(default=None, metadata=_help("which shard this process runs (default: RANK, else 0)"))

    def __post_init__(self) -> None:
        check_choice(self.formulation, FORMULATIONS, "formulation")
        if self.num_shards is None or self.shard_index is None:
            world, rank = launcher_rank()
            if self.num_shards is None:
                self.num_shards = world if self.shard_index is None else 1
            if self.shard_index is None:
                self.shard_index = rank if self.num_shards == world else 0
        if self.num_shards < 1 or not 0 <= self.shard_index < self.num_shards:
            raise UsageError(f"--shard_index must be in [0, --num_shards); got {self.shard_index} of {self.num_shards}")
        if self.max_num_examples is not None and self.max_num_examples < 1:
            raise UsageError(f"--max_num_examples must be >= 1, got {self.max_num_examples}")
        if self.eval_batch_size < 1 or self.max_new_tokens < 1 or self.concurrency < 1:
            raise UsageError("--eval_batch_size, --max_new_tokens and --concurrency must be >= 1")

    @property
    def lumos(self) -> bool:
        return self.formulation.startswith("lumos_")

    @property
    def sharded(self) -> bool:
        return (self.num_shards or 1) > 1

    def api_key(self) -> str | None:
        """The key in ``$<api_key_env>`` (None when unset)."""
        return os.environ.get(self.api_key_env) or None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def launcher_rank() -> tuple[int, int]:
    """``(WORLD_SIZE, RANK)`` as set by ``accelerate launch`` / ``torchrun`` (``(1, 0)`` otherwise)."""
    try:
        return int(os.environ.get("WORLD_SIZE", "1")), int(os.environ.get("RANK", "0"))
    except ValueError:
        return 1, 0


def option_classes(benchmark: str | None) -> list[type]:
    """The options dataclasses of ``benchmark`` (or of every registered benchmark when None)."""
    from lumos.benchmarks import benchmark_names, get_benchmark

    names = [benchmark] if benchmark else list(benchmark_names())
    seen: list[type] = []
    for name in names:
        cls = get_benchmark(name).options
        if cls is not None and cls not in seen:
            seen.append(cls)
    return seen


def build_eval_parser(benchmark: str | None = None, extra: Sequence[type] = ()) -> Any:
    """An ``HfArgumentParser`` over ``EvalConfig``, the benchmark's options and ``extra`` dataclasses."""
    from transformers import HfArgumentParser

    return HfArgumentParser([EvalConfig, *option_classes(benchmark), *extra],
                            description=f"Evaluate a Lumos agent on {benchmark or 'a benchmark'}.")


def parse_eval_args(argv: Sequence[str] | None = None, *, benchmark: str | None = None,
                    extra: Sequence[type] = ()) -> tuple[Any, ...]:
    """Parse ``argv`` into ``(EvalConfig, <benchmark options>..., <extra>...)``.

    With ``benchmark`` given (``python -m eval.<bench>.run_eval``) it is fixed; otherwise
    ``--benchmark`` is read from ``argv`` and every registered benchmark's options are accepted.
    """
    parser = build_eval_parser(benchmark, extra)
    parsed = parser.parse_args_into_dataclasses(args=list(argv) if argv is not None else None)
    config = parsed[0]
    if benchmark is not None:
        if config.benchmark not in (None, benchmark):
            raise UsageError(f"--benchmark {config.benchmark} given to the {benchmark} entry point")
        config.benchmark = benchmark
    return tuple(parsed)


def benchmark_options(parsed: Sequence[Any], benchmark: str) -> Any:
    """The options instance of ``benchmark`` among ``parsed`` (a default one when it was not parsed), with
    ``--split`` applied (``apply_split``)."""
    from lumos.benchmarks import get_benchmark

    cls = get_benchmark(benchmark).options
    config = next((obj for obj in parsed if isinstance(obj, EvalConfig)), None)
    options = None if cls is None else next((obj for obj in parsed if isinstance(obj, cls)), None) or cls()
    return apply_split(benchmark, options, config.split if config is not None else None)


def apply_split(benchmark: str, options: Any, split: str | None) -> Any:
    """Set ``options.split`` (a benchmark with splits keeps it in its options, outside the command line) to
    ``split`` after checking it against the benchmark's splits.

    Raises:
        UsageError: an unknown split, or ``--split`` for a benchmark without splits.
    """
    from lumos.benchmarks import get_benchmark

    if split is None:
        return options
    splits = get_benchmark(benchmark).splits
    if not splits or options is None:
        raise UsageError(f"{benchmark} has no --split")
    if split not in splits:
        raise UsageError(f"unknown {benchmark} split {split!r}; choose one of {', '.join(splits)}")
    options.split = split
    return options
