"""Answer metrics, each benchmark's official definition, plus an opt-in LLM judge.

* HotpotQA: the official ``normalize_answer`` (lower-case, drop punctuation, drop articles
  a/an/the, collapse whitespace), exact match and token F1 (yes/no/noanswer must match exactly).
* Maths (GSM8K, SVAMP): numeric comparison, so ``18.0 == 18``, ``"1,000" == 1000``, ``"$18"`` and
  ``"18 dollars"`` both read 18, ``37/2`` is 18.5; non-numbers compare as normalised text.
* StrategyQA: yes/no accuracy; a prediction is True iff it says ``yes`` or ``true``.
* ``llm_judge``: the original GPT-4 judge prompt (``JUDGE``), off by default; counts 1 iff the
  stripped reply is ``CORRECT``.

Every metric maps (prediction or None, gold) to a float; a missing prediction scores 0.

    >>> numeric_match("18.0", "18"), exact_match("The Eiffel Tower", "eiffel tower")
    (1.0, 1.0)

Exercise: ``pytest tests/test_metrics.py``.
"""

from __future__ import annotations

import math
import re
import string
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction

from lumos.formats.chat import Message
from lumos.formats.prompts import JUDGE
from lumos.inference.base import Backend

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?(?:\s*/\s*\d+(?:\.\d+)?)?|-?\.\d+")
_PUNCT = set(string.punctuation)


def normalize_answer(s: str) -> str:
    """HotpotQA's official answer normalisation."""
    s = s.lower()
    s = "".join(ch for ch in s if ch not in _PUNCT)
    s = _ARTICLES.sub(" ", s)
    return " ".join(s.split())


def exact_match(prediction: str | None, gold: str) -> float:
    """HotpotQA EM: normalised equality."""
    if prediction is None:
        return 0.0
    return float(normalize_answer(prediction) == normalize_answer(gold))


def f1_score(prediction: str | None, gold: str) -> float:
    """HotpotQA token F1 (yes / no / noanswer must match exactly)."""
    if prediction is None:
        return 0.0
    pred, ref = normalize_answer(prediction), normalize_answer(gold)
    special = ("yes", "no", "noanswer")
    if (pred in special or ref in special) and pred != ref:
        return 0.0
    p_tokens, r_tokens = pred.split(), ref.split()
    common = Counter(p_tokens) & Counter(r_tokens)
    same = sum(common.values())
    if same == 0:
        return 0.0
    precision, recall = same / len(p_tokens), same / len(r_tokens)
    return 2 * precision * recall / (precision + recall)


def parse_number(text: str | float | int | None) -> float | None:
    """The number a maths answer states: its last number (commas dropped, ``a/b`` evaluated); None if none."""
    if text is None:
        return None
    if isinstance(text, int | float) and not isinstance(text, bool):
        return float(text)
    found = _NUMBER.findall(str(text))
    if not found:
        return None
    token = found[-1].replace(",", "").replace(" ", "")
    try:
        if "/" in token:
            num, den = token.split("/")
            return float(Fraction(num) / Fraction(den)) if float(den) != 0 else None
        return float(token)
    except (ValueError, ZeroDivisionError):
        return None


def numeric_match(prediction: str | None, gold: str | float | int, *, rel_tol: float = 1e-6) -> float:
    """Maths accuracy: numbers equal within ``rel_tol`` (``18.0`` == ``18``); else normalised text equality."""
    if prediction is None:
        return 0.0
    p, g = parse_number(prediction), parse_number(gold)
    if p is not None and g is not None:
        return float(math.isclose(p, g, rel_tol=rel_tol, abs_tol=1e-9))
    return float(normalize_answer(str(prediction)) == normalize_answer(str(gold)) != "")


def yes_no(prediction: str | None) -> bool | None:
    """StrategyQA reading of a prediction: True if it says yes/true, False otherwise; None if missing."""
    if prediction is None:
        return None
    words = set(normalize_answer(prediction).split())
    return bool(words & {"yes", "true"})


def yes_no_accuracy(prediction: str | None, gold: str | bool) -> float:
    """StrategyQA accuracy against a boolean gold (``True``/``"True"``/``"yes"``)."""
    pred = yes_no(prediction)
    if pred is None:
        return 0.0
    gold_bool = gold if isinstance(gold, bool) else normalize_answer(str(gold)) in ("true", "yes")
    return float(pred == gold_bool)


def llm_judge(judge: Backend, items: list[tuple[str, str | None, str]], *, max_new_tokens: int = 100) -> list[float]:
    """The original judge (spec §5.1): 1.0 iff the reply to ``JUDGE`` is exactly ``CORRECT``.

    Args:
        judge: a chat backend (the paper used gpt-4).
        items: (question, prediction, gold answer); a None prediction scores 0 without a call.
    """
    asked = [(i, q, p, a) for i, (q, p, a) in enumerate(items) if p is not None]
    scores = [0.0] * len(items)
    if not asked:
        return scores
    convs = [[Message("user", JUDGE.format(question=q, prediction=p, answer=a))] for _, q, p, a in asked]
    replies = judge.chat(convs, max_new_tokens=max_new_tokens)
    for (i, *_), reply in zip(asked, replies):
        scores[i] = float(reply.strip() == "CORRECT")
    return scores


@dataclass(frozen=True)
class PairedComparison:
    """Two agents scored 0/1 on the same examples: means, the discordant pairs and the exact McNemar p-value."""

    n: int
    a: float
    b: float
    a_only: int  # examples only A got right
    b_only: int
    p_value: float

    @property
    def diff(self) -> float:
        return self.a - self.b


def paired_comparison(a: Mapping[str, float], b: Mapping[str, float]) -> PairedComparison:
    """Compare per-example 0/1 scores of two agents on the examples both have (keyed by example id).

    The p-value is the exact two-sided McNemar test: a binomial test of ``a_only`` out of the discordant pairs.
    """
    from scipy.stats import binomtest

    ids = sorted(set(a) & set(b))
    if not ids:
        raise ValueError("the two agents share no scored example")
    a_only = sum(1 for i in ids if a[i] >= 0.5 > b[i])
    b_only = sum(1 for i in ids if b[i] >= 0.5 > a[i])
    p = binomtest(a_only, a_only + b_only, 0.5).pvalue if a_only + b_only else 1.0
    return PairedComparison(n=len(ids), a=sum(a[i] >= 0.5 for i in ids) / len(ids),
                            b=sum(b[i] >= 0.5 for i in ids) / len(ids), a_only=a_only, b_only=b_only,
                            p_value=float(p))
