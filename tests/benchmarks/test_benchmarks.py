"""Benchmark loading: registry, original and upstream file names, clear data errors, StrategyQA overlap."""

from __future__ import annotations

import json

import pytest
from tiny_models import FIXTURES

from lumos.benchmarks import get_benchmark, load_benchmark
from lumos.utils.io import DataFormatError


def test_unknown_benchmark_lists_choices():
    with pytest.raises(ValueError, match="gsm, hotpotqa, strategyqa, svamp"):
        get_benchmark("gsm8k")


@pytest.mark.parametrize("bench,first_answer", [("gsm", "12"), ("svamp", "5"), ("hotpotqa", "the Silver River"),
                                                ("strategyqa", "True")])
def test_original_file_names(bench, first_answer):
    b = load_benchmark(bench, FIXTURES / "eval" / bench)[1]
    assert len(b.examples) == 2 and b.examples[0].answer == first_answer
    assert get_benchmark(bench).domain == ("maths" if bench in ("gsm", "svamp") else "complex_qa")


def test_gsm_gold_drops_thousands_commas():
    assert load_benchmark("gsm", FIXTURES / "eval" / "gsm")[1].examples[1].answer == "1500"


def test_svamp_task_is_body_plus_question():
    ex = load_benchmark("svamp", FIXTURES / "eval" / "svamp")[1].examples[0]
    assert ex.question == "Mary had 9 marbles. She gave 4 marbles to Sam. How many marbles does Mary have now?"
    assert ex.id == "fx-1"


def test_missing_data_names_the_paths(tmp_path):
    with pytest.raises(FileNotFoundError, match="gsm8k/test.jsonl"):
        load_benchmark("gsm", tmp_path)[1]


def test_malformed_record_names_file_line_and_field(tmp_path):
    (tmp_path / "test.jsonl").write_text('{"question": "q", "answer": "#### 3"}\n{"question": "q2"}\n')
    with pytest.raises(DataFormatError, match=r"test.jsonl:2: missing field 'answer'"):
        load_benchmark("gsm", tmp_path)[1]
    (tmp_path / "test.json").write_text(json.dumps([{"question": "q", "answer": "yes"}]))
    with pytest.raises(DataFormatError, match=r"test.json\[0\]: field 'answer' has type str"):
        load_benchmark("strategyqa", tmp_path)[1]


def test_strategyqa_overlap_with_train_is_counted():
    b = load_benchmark("strategyqa", FIXTURES / "eval" / "strategyqa")[1]
    assert b.info["train_overlap"]["n_in_train"] == 1 and b.info["train_overlap"]["n_eval"] == 2
    assert [e.metadata["in_train"] for e in b.examples] == [False, True]
    assert get_benchmark("strategyqa").tool_options == {"last_question": "yes_no"}


def test_empty_data_file_is_refused(tmp_path):
    (tmp_path / "test.jsonl").write_text("\n")
    with pytest.raises(DataFormatError, match="no examples"):
        load_benchmark("gsm", tmp_path)


@pytest.mark.parametrize("bench,n,source", [("gsm", 1319, "gsm8k/test.jsonl"), ("svamp", 1000, "svamp/SVAMP.json"),
                                            ("hotpotqa", 7405, "hotpotqa/hotpot_dev_v1_simplified.json"),
                                            ("strategyqa", 229, "strategyqa/dev.json")])
def test_upstream_file_names(shared_data, bench, n, source):
    b = load_benchmark(bench, shared_data)[1]
    assert len(b.examples) == n and str(b.source).endswith(source)


def test_upstream_ircot_file(shared_data):
    b = load_benchmark("hotpotqa", shared_data / "hotpotqa" / "ircot_dev_subsampled.jsonl")[1]
    assert len(b.examples) == 500 and b.examples[0].answer == "Chief of Protocol"


def test_strategyqa_overlap_on_the_real_files(shared_data, tmp_path):
    # dev.json (229) vs train.json (2,061): disjoint splits of StrategyQA's official train set
    dev = load_benchmark("strategyqa", shared_data)[1]
    assert dev.info["train_overlap"]["n_in_train"] == 0
    # the original data/eval/strategyqa/test.json held all 2,290 official-train questions (docs/original.md)
    records = [{"question": r["question"], "answer": r["answer"]}
               for name in ("train.json", "dev.json") for r in json.loads((shared_data / "strategyqa" / name).read_text())]
    (tmp_path / "test.json").write_text(json.dumps(records))
    (tmp_path / "train.json").write_bytes((shared_data / "strategyqa" / "train.json").read_bytes())
    original = load_benchmark("strategyqa", tmp_path)[1]
    assert original.info["train_overlap"] == {"train_file": str(tmp_path / "train.json"), "n_eval": 2290,
                                              "n_in_train": 2061}
