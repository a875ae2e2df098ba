"""EvalConfig: the original flags keep their names, one spelling per flag everywhere, shards from the launcher."""

from __future__ import annotations

import pytest

from lumos.config import EvalConfig, build_eval_parser, parse_eval_args

ORIGINAL_FLAGS = ("--data_dir", "--max_num_examples", "--save_dir", "--model_name_or_path", "--eval_batch_size",
                  "--formulation", "--load_in_8bit", "--gptq", "--base_model")
OLD_SPELLINGS = ("--openai_base_url", "--qa_base_url", "--tool_cache", "--openai_api_key")


def _flags(parser) -> set[str]:
    return {s for a in parser._actions for s in a.option_strings}


def test_original_eval_flags_are_kept():
    flags = _flags(build_eval_parser("gsm"))
    assert set(ORIGINAL_FLAGS) <= flags
    cfg, *_ = parse_eval_args(["--formulation", "lumos_onetime", "--load_in_8bit", "--max_num_examples", "10"],
                              benchmark="gsm")
    assert (cfg.formulation, cfg.load_in_8bit, cfg.max_num_examples, cfg.benchmark) == ("lumos_onetime", True, 10, "gsm")


def test_one_spelling_for_endpoint_cache_and_tool_flags():
    from lumos.conversion.convert import build_parser as convert_parser
    from lumos.tools.execute import build_parser as execute_parser

    for parser in (build_eval_parser("hotpotqa"), execute_parser(), convert_parser()):
        flags = _flags(parser)
        assert {"--base_url", "--api_key_env"} <= flags and not flags & set(OLD_SPELLINGS)
    assert "--qa_model" in _flags(execute_parser()) and "--qa_model" in _flags(build_eval_parser("hotpotqa"))
    assert {"--cache", "--retriever", "--concurrency", "--openai_api", "--num_shards", "--shard_index"} <= \
        _flags(build_eval_parser("gsm"))


def test_lumos_run_accepts_every_eval_option():
    from lumos.cli import RunOptions

    eval_flags = _flags(build_eval_parser(None))
    run_flags = _flags(build_eval_parser(None, [RunOptions]))
    assert eval_flags <= run_flags and {"--domain", "--html", "--example_id"} <= run_flags


def test_bad_values_fail_loudly():
    with pytest.raises(SystemExit):
        parse_eval_args(["--formulation", "lumos-iterative"], benchmark="gsm")
    with pytest.raises(ValueError, match="shard_index"):
        EvalConfig(num_shards=3, shard_index=3)


def test_shards_come_from_the_launcher(monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "3")
    monkeypatch.setenv("RANK", "1")
    cfg = EvalConfig()
    assert (cfg.num_shards, cfg.shard_index) == (3, 1)
    assert (EvalConfig(num_shards=2, shard_index=0).num_shards, EvalConfig(num_shards=1).shard_index) == (2, 0)
    monkeypatch.delenv("WORLD_SIZE")
    monkeypatch.delenv("RANK")
    assert (EvalConfig().num_shards, EvalConfig().shard_index) == (1, 0)


def test_api_key_comes_from_the_named_variable(monkeypatch):
    monkeypatch.setenv("MY_ENDPOINT_KEY", "sk-test")
    cfg = EvalConfig(api_key_env="MY_ENDPOINT_KEY")
    assert cfg.api_key() == "sk-test" and "sk-test" not in str(cfg.to_dict())


def test_split_is_one_flag_checked_per_benchmark():
    from lumos.config import benchmark_options
    from lumos.utils.cli import UsageError

    parsed = parse_eval_args(["--split", "dev"], benchmark="webshop")
    assert benchmark_options(parsed, "webshop").split == "dev"
    parsed = parse_eval_args(["--split", "test_website"], benchmark="mind2web")
    assert benchmark_options(parsed, "mind2web").split == "test_website"
    with pytest.raises(UsageError, match="unknown webshop split 'test_task'"):
        benchmark_options(parse_eval_args(["--split", "test_task"], benchmark="webshop"), "webshop")
    with pytest.raises(UsageError, match="gsm has no --split"):
        benchmark_options(parse_eval_args(["--split", "test"], benchmark="gsm"), "gsm")
