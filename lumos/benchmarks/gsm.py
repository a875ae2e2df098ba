"""GSM8K test set (1,319 problems). Line of data/eval/gsm/test.jsonl (= upstream gsm8k/test.jsonl):
``{"question": "Janet's ducks lay 16 eggs per day...", "answer": "Janet sells 16 - 3 - 4 = <<16-3-4=9>>9 ...\\n#### 18"}``.
Question stripped as the original did; gold = text after ``####`` without thousands commas (a number, or the
record is rejected). Metric: strict numeric accuracy (``lumos.metrics.numeric_match``). Lumos-I cap: 8 subgoals.

Run: ``python -m eval.gsm.run_eval --data_dir $LUMOS_DATA_DIR --formulation lumos_onetime --max_num_examples 10``.
"""

from __future__ import annotations

from pathlib import Path

from lumos.answers import maths_cot, maths_direct
from lumos.benchmarks.answer import answer_episode
from lumos.benchmarks.base import Benchmark, Dataset, Example, MetricSpec, find_data_file, register_benchmark
from lumos.metrics import numeric_match, parse_number
from lumos.utils.io import DataFormatError, iter_jsonl, require_field

FILES = ("test.jsonl", "gsm/test.jsonl", "gsm8k/test.jsonl")


def load_examples(path: Path) -> list[Example]:
    out = []
    for line, rec in iter_jsonl(path):
        where = f"{path}:{line}"
        question = require_field(rec, "question", where, str)
        answer = require_field(rec, "answer", where, str)
        if "####" not in answer:
            raise DataFormatError(f"{where}: field 'answer' has no '#### <number>' final answer")
        gold = answer.split("####")[-1].strip().replace(",", "")
        if parse_number(gold) is None:
            raise DataFormatError(f"{where}: field 'answer' ends with '#### {gold}', not a number")
        out.append(Example(id=str(len(out)), question=question.strip(), answer=gold))
    return out


def load(data_dir: Path | None, options: object = None) -> Dataset:
    path = find_data_file("gsm", data_dir, FILES)
    return Dataset(tuple(load_examples(path)), path)


GSM = register_benchmark(Benchmark(
    name="gsm", domain="maths", load=load, make_episode=answer_episode, metrics=(MetricSpec("acc", numeric_match),),
    primary="acc", max_subgoals=8, extract_answer={"cot": maths_cot, "direct": maths_direct}))
