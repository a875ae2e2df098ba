"""Metric edge cases, one line each."""

from __future__ import annotations

import pytest

from lumos.inference.scripted import ScriptedBackend
from lumos.metrics import (
    exact_match,
    f1_score,
    llm_judge,
    normalize_answer,
    numeric_match,
    parse_number,
    yes_no_accuracy,
)


def test_normalize_answer():
    assert normalize_answer("  The  Eiffel-Tower! ") == "eiffeltower"


def test_exact_match():
    assert exact_match("the United States", "United States") == 1.0
    assert exact_match("American", "America") == 0.0
    assert exact_match(None, "x") == 0.0


def test_f1():
    assert f1_score("Chief of Protocol of the US", "Chief of Protocol") == pytest.approx(0.75)
    assert f1_score("yes", "no") == 0.0
    assert f1_score("no", "no") == 1.0
    assert f1_score("yes it is", "yes") == 0.0  # yes/no must match exactly


@pytest.mark.parametrize(
    ("prediction", "gold", "score"),
    [
        ("18", "18", 1.0),
        ("18.0", "18", 1.0),  # a decimal that equals the integer
        ("18.", "18", 1.0),  # a final period
        ("1,000", "1000", 1.0),  # valid thousands groups
        ("12,345.5", "12345.5", 1.0),
        ("6,4", "64", 0.0),  # not a thousands group: not a number
        ("1,0000", "10000", 0.0),
        ("$18", "18", 1.0),  # currency sign
        ("-$5", "-5", 1.0),
        ("$-5", "-5", 1.0),
        ("18 dollars", 18, 1.0),  # a unit word
        ("5 apples.", "5", 1.0),
        ("5 square feet", "5", 1.0),  # two unit words
        ("40%", "40", 1.0),
        ("40 percent", "40", 1.0),
        ("1 1/2", "1.5", 1.0),  # a mixed number
        ("37/2", "18.5", 1.0),  # an integer fraction is its value
        ("37/2", "18", 0.0),
        ("1e3", "1000", 1.0),
        (".5", "0.5", 1.0),
        ("−3", "-3", 1.0),  # Unicode minus
        ("18.000000000001", "18", 1.0),  # floating-point noise
        ("17.999", "18", 0.0),
        ("-3", "3", 0.0),
        ("2*x + 3 = 11", "4", 0.0),  # an equation
        ("x = 5", "5", 0.0),
        ("18 or 20", "18", 0.0),  # two numbers
        ("-2, 2", "2", 0.0),
        ("x > 3", "3", 0.0),  # an inequality
        ("sqrt(2)", "1.41421356", 0.0),  # an expression
        ("R1 + 5", "5", 0.0),  # an unresolved variable
        ("5 x", "5", 0.0),  # a single letter is a variable, not a unit
        ("5 million", "5", 0.0),  # a magnitude word scales the number
        ("18 is the answer", "18", 0.0),  # a sentence
        ("no number", "18", 0.0),
        ("", "18", 0.0),
        (None, "18", 0.0),
    ],
)
def test_numeric_match_is_strict(prediction, gold, score):
    assert numeric_match(prediction, gold) == score


def test_parse_number_edges():
    assert parse_number("1/0") is None and parse_number("3 3/2") is None  # zero denominator, improper mixed number
    assert parse_number(18.5) == parse_number("37/2") and parse_number(True) is None


def test_numeric_match_rejects_a_non_numeric_gold():
    with pytest.raises(ValueError, match="gold answer 'eighteen' is not a number"):
        numeric_match("18", "eighteen")


def test_yes_no_accuracy():
    assert yes_no_accuracy("Yes", True) == 1.0
    assert yes_no_accuracy("True", "True") == 1.0
    assert yes_no_accuracy("no", False) == 1.0
    assert yes_no_accuracy("eyes closed", True) == 0.0  # whole words only
    assert yes_no_accuracy(None, False) == 0.0


def test_llm_judge_exact_prompt_and_strict_reply():
    judge = ScriptedBackend([], chat_responses=["CORRECT", "INCORRECT"])
    scores = llm_judge(judge, [("Q1?", "yes", "yes"), ("Q2?", None, "no"), ("Q3?", "Paris", "Rome")])
    assert scores == [1.0, 0.0, 0.0] and len(judge.chat_calls) == 2
    assert judge.chat_calls[0][0].content == (
        "Please judge whether the model prediction can be regarded as correct according to the given question and "
        "its ground-truth answer. Please answer 'CORRECT' or 'INCORRECT'. No more details and explanations.\n\n"
        "Question: Q1?\nModel prediction: yes\nGround-truth answer: yes\n")
