"""HotpotQA dev questions, from the file a user has. Metrics: official EM and F1. Lumos-I cap: 5 subgoals.

Readers (``load_examples`` picks one by the file's shape; questions are stripped as the original did):

* the original ``data/eval/hotpotqa/test.json`` (= upstream ``hotpot_dev_v1_simplified.json``), a JSON list of
  ``{"question": "Were Scott Derrickson and Ed Wood of the same nationality?", "answer": "yes", "type": "comparison"}``;
* HotpotQA's official files (``hotpot_dev_distractor_v1.json``, ``hotpot_dev_fullwiki_v1.json``), a JSON list of
  ``{"_id", "question", "answer", "type", "level", "supporting_facts", "context": [[title, [sentences]], ...]}``;
* the Hugging Face ``hotpot_qa`` layout exported to JSON lines, ``{"id", "question", "answer", "type", "level",
  "supporting_facts": {...}, "context": {"title": [...], "sentences": [[...], ...]}}``;
* IRCoT's ``ircot_dev_subsampled.jsonl`` (``question_text``, ``answers_objects[0].spans[0]``).

The files with paragraphs double as a local corpus (``--corpus``, see ``lumos.tools.knowledge``).

Run: ``python -m eval.hotpotqa.run_eval --data_dir $LUMOS_DATA_DIR/hotpotqa/hotpot_dev_distractor_v1.json
--knowledge local --corpus $LUMOS_DATA_DIR/hotpotqa/hotpot_dev_distractor_v1.json --max_num_examples 5``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lumos.answers import qa_cot, qa_direct
from lumos.benchmarks.answer import answer_episode
from lumos.benchmarks.base import Benchmark, Dataset, Example, MetricSpec, find_data_file, register_benchmark
from lumos.metrics import exact_match, f1_score
from lumos.utils.io import DataFormatError, iter_jsonl, read_json, require_field

FILES = ("test.json", "hotpot_dev_v1_simplified.json", "hotpot_dev_distractor_v1.json", "ircot_dev_subsampled.jsonl",
         "hotpotqa/test.json", "hotpotqa/hotpot_dev_v1_simplified.json", "hotpotqa/hotpot_dev_distractor_v1.json",
         "hotpotqa/ircot_dev_subsampled.jsonl")  # fmt: skip


def _ircot_example(rec: dict[str, Any], where: str, line: int) -> Example:
    answers = require_field(rec, "answers_objects", where, list)
    spans = answers[0].get("spans") if answers and isinstance(answers[0], dict) else None
    if not spans:
        raise DataFormatError(f"{where}: field 'answers_objects' has no spans")
    return Example(id=str(rec.get("question_id", line)), question=require_field(rec, "question_text", where, str).strip(),
                   answer=str(spans[0]))  # fmt: skip


def _hotpot_example(rec: dict[str, Any], where: str, index: int) -> Example:
    """A record of the original/simplified file, the official files or the Hugging Face layout."""
    if not isinstance(rec, dict):
        raise DataFormatError(f"{where}: expected an object, got {type(rec).__name__}")
    question = require_field(rec, "question", where, str).strip()
    answer = require_field(rec, "answer", where)
    metadata = {k: rec[k] for k in ("type", "level") if k in rec}
    return Example(id=str(rec.get("_id", rec.get("id", index))), question=question, answer=str(answer), metadata=metadata)


def load_examples(path: Path) -> list[Example]:
    """Questions of any of the files in the module docstring."""
    if path.suffix == ".jsonl":
        out = []
        for line, rec in iter_jsonl(path):
            where = f"{path}:{line}"
            out.append(_ircot_example(rec, where, line) if "question_text" in rec else _hotpot_example(rec, where, len(out)))
        return out
    data = read_json(path)
    if not isinstance(data, list):
        raise DataFormatError(f"{path}: expected a JSON list of questions, got {type(data).__name__}")
    return [_hotpot_example(rec, f"{path}[{i}]", i) for i, rec in enumerate(data)]


def load(data_dir: Path | None, options: object = None) -> Dataset:
    path = find_data_file("hotpotqa", data_dir, FILES)
    return Dataset(tuple(load_examples(path)), path)


HOTPOTQA = register_benchmark(Benchmark(
    name="hotpotqa", domain="complex_qa", load=load, make_episode=answer_episode,
    metrics=(MetricSpec("em", exact_match), MetricSpec("f1", f1_score)), primary="em", max_subgoals=5,
    tool_options={"last_question": "task"}, extract_answer={"cot": qa_cot, "direct": qa_direct}, predict_at_cap=False))
