"""StrategyQA yes/no questions. Record of data/eval/strategyqa/test.json: ``{"question": "...", "answer": true}``;
upstream dev.json/train.json records add ``qid, term, facts, decomposition, evidence``. Metric: yes/no accuracy.
Lumos-I cap: 5 subgoals. Questions are stripped as the original did.

The original test.json (2,290 questions) is StrategyQA's whole *train* set, from which Lumos's complex-QA
training data was converted (docs/original.md, "Evaluation data"). When a ``train.json`` sits next to the eval
file (or under ``<data_dir>/strategyqa/``), every example is checked against it: ``info["train_overlap"]`` counts
the eval questions present in train and each example's ``metadata["in_train"]`` says whether it is one. Without
``test.json`` the upstream ``dev.json`` (229 questions) is used.

Run: ``python -m eval.strategyqa.run_eval --data_dir $LUMOS_DATA_DIR --formulation lumos_onetime --max_num_examples 5``.
"""

from __future__ import annotations

import logging
from pathlib import Path

from lumos.answers import strategyqa_cot, strategyqa_direct
from lumos.benchmarks.answer import answer_episode
from lumos.benchmarks.base import Benchmark, Dataset, Example, MetricSpec, find_data_file, register_benchmark
from lumos.metrics import normalize_answer, yes_no_accuracy
from lumos.utils.io import DataFormatError, read_json, require_field

logger = logging.getLogger(__name__)
FILES = ("test.json", "dev.json", "strategyqa/test.json", "strategyqa/dev.json")


def _records(path: Path) -> list[dict]:
    data = read_json(path)
    if not isinstance(data, list):
        raise DataFormatError(f"{path}: expected a JSON list of questions, got {type(data).__name__}")
    return data


def _train_file(path: Path, data_dir: Path | None) -> Path | None:
    for cand in (path.parent / "train.json", (data_dir or path.parent) / "strategyqa" / "train.json"):
        if cand.is_file() and cand.resolve() != path.resolve():
            return cand
    return None


def load(data_dir: Path | None, options: object = None) -> Dataset:
    path = find_data_file("strategyqa", data_dir, FILES)
    train = _train_file(path, data_dir)
    train_questions = {normalize_answer(r["question"]) for r in _records(train)} if train else set()
    examples = []
    for i, rec in enumerate(_records(path)):
        where = f"{path}[{i}]"
        question = require_field(rec, "question", where, str)
        answer = require_field(rec, "answer", where, bool)
        examples.append(Example(id=str(rec.get("qid", i)), question=question.strip(), answer=str(answer),
                                metadata={"in_train": normalize_answer(question) in train_questions}))
    n_in = sum(e.metadata["in_train"] for e in examples)
    overlap = {"train_file": str(train) if train else None, "n_eval": len(examples), "n_in_train": n_in if train else None}
    if n_in:
        logger.warning("StrategyQA: %d of %d eval questions in %s also appear in %s (train/test overlap)",
                       n_in, len(examples), path, train)
    return Dataset(tuple(examples), path, info={"train_overlap": overlap})


STRATEGYQA = register_benchmark(Benchmark(
    name="strategyqa", domain="complex_qa", load=load, make_episode=answer_episode,
    metrics=(MetricSpec("acc", yes_no_accuracy),), primary="acc", max_subgoals=5,
    tool_options={"last_question": "yes_no"}, extract_answer={"cot": strategyqa_cot, "direct": strategyqa_direct}, predict_at_cap=False))
