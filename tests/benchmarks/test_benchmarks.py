"""Benchmark loading: registry, original and upstream file names, clear data errors, StrategyQA overlap."""

from __future__ import annotations

import json

import pytest
from tiny_models import FIXTURES

from lumos.benchmarks import get_benchmark, load_benchmark
from lumos.utils.io import DataFormatError


def test_unknown_benchmark_lists_choices():
    with pytest.raises(ValueError, match="gsm, hotpotqa, intercode_sql, mind2web, strategyqa, svamp, webshop"):
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
    # the original data/eval/strategyqa/test.json held all 2,290 official-train questions (docs/original.md, "Evaluation data")
    records = [{"question": r["question"], "answer": r["answer"]}
               for name in ("train.json", "dev.json") for r in json.loads((shared_data / "strategyqa" / name).read_text())]
    (tmp_path / "test.json").write_text(json.dumps(records))
    (tmp_path / "train.json").write_bytes((shared_data / "strategyqa" / "train.json").read_bytes())
    original = load_benchmark("strategyqa", tmp_path)[1]
    assert original.info["train_overlap"] == {"train_file": str(tmp_path / "train.json"), "n_eval": 2290,
                                              "n_in_train": 2061}


# ------------------------------------------------------------------------------------------------
# HotpotQA as users have it: the official files and the Hugging Face layout; questions stripped
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name,ids", [("hotpot_dev_distractor_v1.json", ["fx-dist-1", "fx-dist-2"]),
                                      ("hotpot_qa_distractor_validation.jsonl", ["fx-hf-1", "fx-hf-2"])])
def test_hotpotqa_official_and_hugging_face_files(name, ids):
    b = load_benchmark("hotpotqa", FIXTURES / "eval" / "hotpotqa" / name)[1]
    assert [e.id for e in b.examples] == ids
    assert [e.question for e in b.examples] == ["Which river flows through the capital of Freedonia?",
                                                "Were Alice Example and Bob Sample born in the same country?"]
    assert [e.answer for e in b.examples] == ["the Silver River", "no"]
    assert b.examples[1].metadata == {"type": "comparison", "level": "hard"}


def test_a_question_with_surrounding_spaces_renders_as_the_original():
    from lumos.formats.chat import Message, render_prompt
    from lumos.formats.prompts import ground_first_user, plan_first_user

    q = load_benchmark("hotpotqa", FIXTURES / "eval" / "hotpotqa" / "hotpot_dev_distractor_v1.json")[1].examples[0].question
    raw = "Which river flows through the capital of Freedonia? "  # the file's text, trailing space included
    # the original: "<|user|>\n" + prompt_prefix + "Task: " + example["question"].strip() + "; Initial ..."
    original = ("<|user|>\nPlease provide a reasonable subgoal-based plan to solve the given task.\nTask: "
                + raw.strip() + "; Initial Environment Description: None.\n<|assistant|>\n")
    assert render_prompt([Message("user", plan_first_user(q))], style="original") == original
    assert "Freedonia?; Initial" in original and ground_first_user("complex_qa", q, "Subgoal 1: x").endswith(
        "Task: Which river flows through the capital of Freedonia? \nSubgoal to be grounded: Subgoal 1: x\n")


@pytest.mark.parametrize("bench,record", [
    ("gsm", '{"question": "  How many? ", "answer": "#### 3"}\n'),
    ("strategyqa", '[{"question": " Is it? ", "answer": true}]'),
    ("svamp", '[{"Body": " Tom has 3. ", "Question": "How many? ", "Answer": 3.0}]'),
])
def test_every_loader_strips_questions(tmp_path, bench, record):
    (tmp_path / ("test.jsonl" if bench == "gsm" else "test.json")).write_text(record)
    q = load_benchmark(bench, tmp_path)[1].examples[0].question
    assert q == q.strip() and q.endswith("?") and "  " not in q.replace(". ", "")


def test_gsm_gold_must_be_a_number(tmp_path):
    (tmp_path / "test.jsonl").write_text('{"question": "q", "answer": "#### three"}\n')
    with pytest.raises(DataFormatError, match=r"test.jsonl:1: field 'answer' ends with '#### three', not a number"):
        load_benchmark("gsm", tmp_path)[1]


def test_real_official_hotpotqa_file(shared_data):
    path = shared_data / "hotpotqa" / "hipporag_hotpot_train_sample100.json"
    if not path.is_file():
        pytest.skip(f"{path} not present")
    raw = json.loads(path.read_text())
    b = load_benchmark("hotpotqa", path)[1]
    assert len(b.examples) == 100 and b.examples[0].id == raw[0]["_id"]
    spaced = [i for i, r in enumerate(raw) if r["question"] != r["question"].strip()]
    assert len(spaced) == 8 and all(b.examples[i].question == raw[i]["question"].strip() for i in spaced)


def test_original_hotpotqa_questions_with_spaces(shared_data):
    b = load_benchmark("hotpotqa", shared_data)[1]  # hotpot_dev_v1_simplified.json: 63 of the first 1,000 have spaces
    raw = json.loads(b.source.read_text())[:1000]
    assert sum(r["question"] != r["question"].strip() for r in raw) == 63
    assert all(e.question == r["question"].strip() for e, r in zip(b.examples, raw))


@pytest.mark.parametrize("bench,cap", [("gsm", 8), ("svamp", 8), ("hotpotqa", 5), ("strategyqa", 5)])
def test_lumos_i_subgoal_caps(bench, cap):
    # the original's loops: gsm 16 steps (8 subgoals), hotpotqa/strategyqa 10 (5); svamp 4 (2), raised to 8 here
    assert get_benchmark(bench).max_subgoals == cap
