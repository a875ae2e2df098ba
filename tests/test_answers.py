"""CoT / direct answer extraction (lumos.answers), one line per case; the original's reading where it worked."""

from __future__ import annotations

import pytest

from lumos.answers import extract_answer, true_false_to_yes_no
from lumos.benchmarks import benchmark_names, get_benchmark
from lumos.metrics import exact_match, numeric_match, yes_no_accuracy

QA_COT = "Q1 ... Based on these evidences and decomposed questions, the answer is {}"


@pytest.mark.parametrize(
    ("bench", "formulation", "output", "answer"),
    [
        # maths cot: after the LAST "Answer is ", final period dropped
        ("gsm", "cot", "Natalia sold 48/2 = 24 clips in May. Answer is 72.", "72"),
        ("gsm", "cot", "Answer is 3. Then 3 + 4 = 7. Answer is 7.", "7"),
        ("svamp", "cot", "9 - 4 = 5. Answer is 5", "5"),  # no final period: the last digit stays
        ("gsm", "cot", "Natalia sold 72 clips.", None),  # no "Answer is ": no answer
        ("gsm", "cot", "the answer is 72.", None),  # case-sensitive, as the original
        # maths direct: the bare answer (the training targets), or "Answer is X."
        ("gsm", "direct", "72", "72"),
        ("gsm", "direct", "Answer is 72.", "72"),
        ("svamp", "direct", " 1,000. ", "1,000"),
        ("gsm", "direct", "", None),
        # HotpotQA cot: after the phrase, final period dropped, true/false -> yes/no
        ("hotpotqa", "cot", QA_COT.format("Chief of Protocol."), "Chief of Protocol"),
        ("hotpotqa", "cot", QA_COT.format("True."), "yes"),
        ("hotpotqa", "cot", QA_COT.format("false."), "no"),
        ("hotpotqa", "cot", QA_COT.format("True or False."), "True or False"),  # whole answer only
        ("hotpotqa", "cot", "Scott Derrickson is American, so the answer is yes.", None),  # phrase absent
        # HotpotQA direct: the whole output, same mapping
        ("hotpotqa", "direct", "  Paris. ", "Paris."),
        ("hotpotqa", "direct", "FALSE", "no"),
        ("hotpotqa", "direct", "True.", "yes"),
        # StrategyQA: the complex-QA targets ("... the answer is True." / "True")
        ("strategyqa", "cot", QA_COT.format("True."), "yes"),
        ("strategyqa", "direct", "False", "False"),
        ("strategyqa", "direct", "True.", "True"),
    ],
)
def test_extract_answer(bench, formulation, output, answer):
    assert extract_answer(bench, formulation, output) == answer


def test_extraction_then_the_official_metric():
    assert numeric_match(extract_answer("gsm", "cot", "So 2*x + 3 = 11. Answer is x = 4."), "4") == 0.0  # strict
    assert numeric_match(extract_answer("gsm", "cot", "... Answer is $1,000."), "1000") == 1.0
    assert exact_match(extract_answer("hotpotqa", "cot", QA_COT.format("True.")), "yes") == 1.0
    assert yes_no_accuracy(extract_answer("strategyqa", "direct", "False"), False) == 1.0
    assert yes_no_accuracy(extract_answer("strategyqa", "cot", QA_COT.format("True.")), True) == 1.0


def test_missing_output_and_unknown_pair():
    assert extract_answer("gsm", "cot", None) is None
    with pytest.raises(ValueError, match="no answer extractor for gsm/lumos_iterative"):
        extract_answer("gsm", "lumos_iterative", "R1 = 3")
    answer_benchmarks = {b for b in benchmark_names() if get_benchmark(b).rescore}
    assert {b for b in answer_benchmarks if set(get_benchmark(b).extract_answer) == {"cot", "direct"}} >= \
        {"gsm", "svamp", "hotpotqa", "strategyqa"}
    assert true_false_to_yes_no("Truex") == "Truex"
