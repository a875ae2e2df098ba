"""HotpotQA dev questions. Record of data/eval/hotpotqa/test.json (= upstream hotpot_dev_v1_simplified.json):
``{"question": "Were Scott Derrickson and Ed Wood of the same nationality?", "answer": "yes", "type": "comparison"}``;
also reads IRCoT's ``ircot_dev_subsampled.jsonl`` (``question_text``, ``answers_objects[0].spans[0]``), whose 500
questions and paragraphs pair with ``--knowledge local``. Metrics: official EM and F1. Lumos-I cap: 5 subgoals.

Run: ``python -m eval.hotpotqa.run_eval --data_dir ../shared/data --knowledge local
--corpus ../shared/data/hotpotqa/ircot_dev_subsampled.jsonl --max_num_examples 5``.
"""

from __future__ import annotations

from pathlib import Path

from lumos.benchmarks.answer import EXTRACT_ANSWER, answer_episode
from lumos.benchmarks.base import Benchmark, Dataset, Example, MetricSpec, find_data_file, register_benchmark
from lumos.metrics import exact_match, f1_score
from lumos.utils.io import DataFormatError, iter_jsonl, read_json, require_field

FILES = ("test.json", "hotpot_dev_v1_simplified.json", "ircot_dev_subsampled.jsonl",
         "hotpotqa/test.json", "hotpotqa/hotpot_dev_v1_simplified.json", "hotpotqa/ircot_dev_subsampled.jsonl")


def load_examples(path: Path) -> list[Example]:
    if path.suffix == ".jsonl":  # IRCoT format
        out = []
        for line, rec in iter_jsonl(path):
            where = f"{path}:{line}"
            answers = require_field(rec, "answers_objects", where, list)
            spans = answers[0].get("spans") if answers and isinstance(answers[0], dict) else None
            if not spans:
                raise DataFormatError(f"{where}: field 'answers_objects' has no spans")
            out.append(Example(id=str(rec.get("question_id", line)), question=require_field(rec, "question_text", where, str),
                               answer=str(spans[0])))
        return out
    data = read_json(path)
    if not isinstance(data, list):
        raise DataFormatError(f"{path}: expected a JSON list of questions, got {type(data).__name__}")
    return [Example(id=str(rec.get("_id", i)), question=require_field(rec, "question", f"{path}[{i}]", str),
                    answer=str(require_field(rec, "answer", f"{path}[{i}]")), metadata={"type": rec.get("type")})
            for i, rec in enumerate(data)]


def load(data_dir: Path | None) -> Dataset:
    path = find_data_file("hotpotqa", data_dir, FILES)
    return Dataset(tuple(load_examples(path)), path)


HOTPOTQA = register_benchmark(Benchmark(
    name="hotpotqa", domain="complex_qa", load=load, make_episode=answer_episode,
    metrics=(MetricSpec("em", exact_match), MetricSpec("f1", f1_score)), primary="em", max_subgoals=5,
    tool_options={"last_question": "task"}, extract_answer=EXTRACT_ANSWER, predict_at_cap=False))
