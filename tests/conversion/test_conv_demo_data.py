"""The shipped demo data (data/demo/) is consistent: arithmetic checks out, answers are in their paragraphs, and the
rule backend + training-file builder turn it into training data with nothing dropped."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from lumos.conversion import convert, to_train
from lumos.conversion.arith import evaluate, parse_number
from lumos.conversion.sources import load_source

DEMO = Path(__file__).resolve().parents[2] / "data" / "demo"
MARK = re.compile(r"<<([^<>=]*)=([^<>]*)>>([\d.]+)")


def rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize("name", ["gsm8k_train.jsonl", "gsm8k_test.jsonl"])
def test_maths_marks_and_answers(name):
    data = rows(DEMO / "maths" / name)
    assert len(data) == {"gsm8k_train.jsonl": 32, "gsm8k_test.jsonl": 8}[name]
    for rec in data:
        reasoning, gold = rec["answer"].split("\n#### ")
        marks = MARK.findall(reasoning)
        assert marks and len(marks) == reasoning.count("<<") == len(reasoning.splitlines()), rec
        for expr, result, shown in marks:
            assert evaluate(expr) == parse_number(result) == parse_number(shown), (expr, result, shown)
        assert parse_number(marks[-1][1]) == parse_number(gold)


def test_complex_qa_hops_are_supported_by_their_paragraphs():
    corpus = {r["title"]: r["paragraph_text"] for r in rows(DEMO / "complex_qa" / "corpus.jsonl")}
    train = rows(DEMO / "complex_qa" / "musique_train.jsonl")
    assert len(train) == 15
    for rec in train:
        paras = {p["idx"]: p for p in rec["paragraphs"]}
        steps = rec["question_decomposition"]
        assert len(steps) == 2 and "#1" in steps[1]["question"] and steps[-1]["answer"] == rec["answer"]
        for step in steps:
            para = paras[step["paragraph_support_idx"]]
            assert para["is_supporting"] and corpus[para["title"]] == para["paragraph_text"]
            assert step["answer"].lower() in para["paragraph_text"].lower(), step
    test = rows(DEMO / "complex_qa" / "twohop_test.jsonl")
    assert len(test) == 5
    train_questions = {r["question"] for r in train}
    for rec in test:
        assert rec["question_text"] not in train_questions
        gold = rec["answers_objects"][0]["spans"][0]
        support = [c for c in rec["contexts"] if c["is_supporting"]]
        assert len(support) >= 2 and all(corpus[c["title"]] == c["paragraph_text"] for c in rec["contexts"])
        assert gold in support[-1]["paragraph_text"]


def test_demo_pipeline_rule_conversion_to_training_files(tmp_path):
    root = tmp_path / "train"
    for domain, name in (("maths", "maths/gsm8k_train.jsonl"), ("complex_qa", "complex_qa/musique_train.jsonl")):
        out = root / domain / "converted" / "demo_converted.json"
        assert convert.main(["--backend", "rule", "--domain", domain, "--data_fn", str(DEMO / name), "--convert_all",
                             "--output", str(out)]) == 0
        assert len(rows(out)) == len(load_source(DEMO / name))
        assert not (out.parent / (out.name + ".failed.jsonl")).exists()
        for report in to_train.build_lumos(domain, out.parent, root / domain / "train_annots", "lumos_iterative"):
            assert report.rows == len(rows(out)) and not report.dropped and not report.dropped_degenerate
