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


def test_numeric_match():
    assert numeric_match("18.0", "18") == 1.0
    assert numeric_match("1,000", "1000") == 1.0
    assert numeric_match("$18", "18") == 1.0
    assert numeric_match("18 dollars", 18) == 1.0
    assert numeric_match("37/2", "18.5") == 1.0
    assert numeric_match("x = 5", "5") == 1.0
    assert numeric_match("17.999", "18") == 0.0
    assert numeric_match("-3", "3") == 0.0
    assert numeric_match(None, "18") == 0.0
    assert numeric_match("no number", "18") == 0.0
    assert parse_number("1/0") is None


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
