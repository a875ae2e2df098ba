"""SVAMP (1,000 problems). Record of data/eval/svamp/test.json (= upstream svamp/SVAMP.json):
``{"ID": "chal-1", "Body": "Each pack of dvds costs 76 dollars...", "Question": "How much do you have to pay...",
"Equation": "( 76.0 - 25.0 )", "Answer": 51.0, "Type": "Subtraction"}``.
Task = (Body + " " + Question).strip(), as the original; gold = the answer as an integer when integral. Metric:
strict numeric accuracy. Lumos-I cap: 8 subgoals as for GSM8K (the same maths modules); the original's
``range(4)`` loop stopped after 2 subgoals, cutting most plans short (a fixed bug, docs/differences.md).

Run: ``python -m eval.svamp.run_eval --data_dir $LUMOS_DATA_DIR --formulation lumos_onetime --max_num_examples 10``.
"""

from __future__ import annotations

from pathlib import Path

from lumos.answers import maths_cot, maths_direct
from lumos.benchmarks.answer import answer_episode
from lumos.benchmarks.base import Benchmark, Dataset, Example, MetricSpec, find_data_file, register_benchmark
from lumos.metrics import numeric_match
from lumos.utils.io import DataFormatError, read_json, require_field

FILES = ("test.json", "SVAMP.json", "svamp/test.json", "svamp/SVAMP.json")


def load_examples(path: Path) -> list[Example]:
    data = read_json(path)
    if not isinstance(data, list):
        raise DataFormatError(f"{path}: expected a JSON list of problems, got {type(data).__name__}")
    out = []
    for i, rec in enumerate(data):
        where = f"{path}[{i}]"
        body = require_field(rec, "Body", where, str)
        question = require_field(rec, "Question", where, str)
        answer = require_field(rec, "Answer", where, (int, float))
        gold = str(int(answer)) if float(answer).is_integer() else str(answer)
        out.append(Example(id=str(rec.get("ID", i)), question=f"{body} {question}".strip(), answer=gold))
    return out


def load(data_dir: Path | None, options: object = None) -> Dataset:
    path = find_data_file("svamp", data_dir, FILES)
    return Dataset(tuple(load_examples(path)), path)


SVAMP = register_benchmark(Benchmark(
    name="svamp", domain="maths", load=load, make_episode=answer_episode, metrics=(MetricSpec("acc", numeric_match),),
    primary="acc", max_subgoals=8, extract_answer={"cot": maths_cot, "direct": maths_direct}))
