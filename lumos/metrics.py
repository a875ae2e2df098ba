"""Answer metrics, each benchmark's official definition, plus an opt-in LLM judge.

* HotpotQA: the official ``normalize_answer`` (lower-case, drop punctuation, drop articles
  a/an/the, collapse whitespace), exact match and token F1 (yes/no/noanswer must match exactly).
* Maths (GSM8K, SVAMP): strict numeric accuracy. A prediction is right only if it *is* one number
  equal to the gold (``parse_number`` lists what may surround the number): ``18.0``, ``$1,000``,
  ``18 dollars``, ``40%``, ``1 1/2``, ``1e3`` read as numbers; ``2*x + 3 = 11``, ``18 or 20``,
  ``x > 3``, ``sqrt(2)``, ``R1 + 5``, ``-2, 2`` and ``6,4`` are not numbers, hence wrong.
* StrategyQA: yes/no accuracy; a prediction is True iff it says ``yes`` or ``true``.
* ``llm_judge``: the original GPT-4 judge prompt (``JUDGE``), off by default; counts 1 iff the
  stripped reply is ``CORRECT``.

Every metric maps (prediction or None, gold) to a float; a missing prediction scores 0.

    >>> numeric_match("18.0", "18"), numeric_match("18 or 20", "18"), exact_match("The Eiffel Tower", "eiffel tower")
    (1.0, 0.0, 1.0)

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


# Maths answers --------------------------------------------------------------------------------------
# What may surround the one number of a maths answer (see ``parse_number``).
_CURRENCY = "$€£¥₹"
_PLAIN = re.compile(r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?")
_FRACTION = re.compile(r"(\d+)/(\d+)")
_MIXED = re.compile(r"(\d+)\s+(\d+)/(\d+)")
_UNIT_WORD = re.compile(r"[A-Za-z]{2,}")
# Trailing words that are not units: they join, compare or scale numbers (``18 or 20``, ``5 million``)
# or make the answer a sentence (``18 is the answer``).
NOT_UNITS = frozenset(
    "or and to by times plus minus over divided multiplied than more less of is are was were equals equal "
    "an the hundred hundreds thousand thousands million millions billion billions trillion dozen dozens "
    "half halves quarter quarters third thirds".split()
)
MAX_UNIT_WORDS = 2


def _strip_unit(s: str) -> str:
    """``s`` without a unit of at most ``MAX_UNIT_WORDS`` trailing words (at least one word stays)."""
    words = s.split()
    n = 0
    while n < MAX_UNIT_WORDS and len(words) - n > 1:
        word = words[-1 - n]
        if not _UNIT_WORD.fullmatch(word) or word.lower() in NOT_UNITS:
            break
        n += 1
    return " ".join(words[: len(words) - n]) if n else s


def _take_sign(s: str) -> tuple[int, str]:
    if s[:1] in ("+", "-"):
        return (-1 if s[0] == "-" else 1), s[1:].lstrip()
    return 1, s


def parse_number(text: str | float | int | None) -> Fraction | None:
    """The number a maths answer *is*, exactly; None unless the whole text is one number.

    Around the number only these may appear, in this order from the outside in: surrounding
    whitespace; one final period (``18.``); a unit of at most two trailing words of letters
    (``18 dollars``, ``5 square feet``; single letters such as ``x`` and the words in ``NOT_UNITS``
    are not units); a ``%`` or ``percent``; a leading sign and/or currency sign (``-$5``, ``$-5``,
    ``€3``). The number itself is an integer or decimal with optional valid thousands separators
    (``1,000``, ``12,345.5``; not ``6,4`` or ``1,0000``) and an optional exponent (``1e3``), an
    integer fraction ``37/2`` (18.5; the form WolframAlpha and our sympy tools print non-terminating
    values in), or a mixed number ``1 1/2`` (1.5).

    >>> parse_number("$1,000."), parse_number("1 1/2 cups"), parse_number("18 or 20"), parse_number("6,4")
    (Fraction(1000, 1), Fraction(3, 2), None, None)
    """
    if text is None or isinstance(text, bool):
        return None
    if isinstance(text, int):
        return Fraction(text)
    if isinstance(text, float):
        return Fraction(repr(text)) if math.isfinite(text) else None
    s = str(text).strip().replace("\u2212", "-")
    if s.endswith("."):
        s = s[:-1].rstrip()
    if not s:
        return None
    s = _strip_unit(s)  # ``percent`` is a unit word
    if s.endswith("%"):
        s = s[:-1].rstrip()
    sign, s = _take_sign(s)
    if s[:1] and s[0] in _CURRENCY:
        s = s[1:].lstrip()
        if sign == 1:
            sign, s = _take_sign(s)
    if m := _MIXED.fullmatch(s):
        whole, num, den = (int(g) for g in m.groups())
        return sign * (whole + Fraction(num, den)) if 0 < num < den else None
    if m := _FRACTION.fullmatch(s):
        num, den = int(m.group(1)), int(m.group(2))
        return sign * Fraction(num, den) if den else None
    if _PLAIN.fullmatch(s):
        return sign * Fraction(s.replace(",", ""))
    return None


def numeric_match(prediction: str | None, gold: str | float | int, *, rel_tol: float = 1e-9) -> float:
    """Strict maths accuracy: 1.0 iff ``prediction`` is one number (``parse_number``) equal to the gold.

    Equal means exactly equal, or within ``rel_tol`` for floating-point noise (``18.000000000001``).
    A prediction that is not one number scores 0 (``x = 5``, ``18 or 20``); apply the original's answer
    extraction first for cot/direct outputs (``lumos.answers``).

    Raises:
        ValueError: when the gold answer is not a number (a data error, not a wrong prediction).
    """
    g = parse_number(gold)
    if g is None:
        raise ValueError(f"gold answer {gold!r} is not a number")
    p = parse_number(prediction)
    if p is None:
        return 0.0
    return float(p == g or math.isclose(float(p), float(g), rel_tol=rel_tol, abs_tol=0.0))


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
    """The original judge (docs/original.md): 1.0 iff the reply to ``JUDGE`` is exactly ``CORRECT``.

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
