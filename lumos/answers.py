"""The answer inside a CoT or direct model output, read as the original evaluation read it.

The CoT and direct baselines answer in one line of text; the metric needs the answer alone. Each
benchmark read it in its own way (docs/original.md, "Answer extraction"); the functions here do the
same, with the fixes listed in docs/differences.md:

    maths cot        "She sold 48/2 = 24 clips in May. ... Answer is 72."   -> "72"
    maths direct     "72"  (or "Answer is 72.")                              -> "72"
    complex-QA cot   "... Based on these evidences and decomposed questions, the answer is True."  -> "yes"
    complex-QA direct "False."                                               -> "no"

``None`` means the output holds no answer (scored 0, as the original counted it wrong). The
extractors are pure ``str -> str | None`` functions; each benchmark registers its own (``Benchmark.extract_answer``)
and ``extract_answer("gsm", "cot", output)`` looks one up. Lumos-I / Lumos-O answers
come from the last tool result, not from here.

Exercise: ``pytest tests/test_answers.py``.
"""

from __future__ import annotations

from collections.abc import Callable

ANSWER_IS = "Answer is "
QA_ANSWER_IS = "decomposed questions, the answer is"
Extractor = Callable[[str], str | None]


def _drop_final_period(text: str) -> str:
    """The original cut the last character, which in its training targets is always the final period;
    we cut it only when it is a period (an output truncated before its period keeps its last digit)."""
    text = text.strip()
    return text[:-1].rstrip() if text.endswith(".") else text


def true_false_to_yes_no(answer: str) -> str:
    """HotpotQA's mapping of the complex-QA models' ``True``/``False`` answers: ``true``/``true.`` -> ``yes``,
    ``false``/``false.`` -> ``no`` (case-insensitive, whole answer only); anything else unchanged."""
    low = answer.lower()
    if low in ("true", "true."):
        return "yes"
    if low in ("false", "false."):
        return "no"
    return answer


def maths_cot(output: str) -> str | None:
    """GSM8K/SVAMP CoT: the text after the last ``Answer is `` without its final period.

    The training targets end with `` Answer is X.``. Without ``Answer is `` there is no answer (the
    original then sliced ``output[9:-1]``, a fragment of the rationale).
    """
    pos = output.rfind(ANSWER_IS)
    if pos < 0:
        return None
    return _drop_final_period(output[pos + len(ANSWER_IS) :]) or None


def maths_direct(output: str) -> str | None:
    """GSM8K/SVAMP direct: the whole output without a leading ``Answer is `` and a final period.

    The direct training targets are the bare answer (``72``); the original sliced ``output[10:-1]`` as if
    they were ``Answer is 72.``, which turns ``72`` into an empty string. Both shapes are read here.
    """
    text = output.strip()
    if text.startswith(ANSWER_IS):
        text = text[len(ANSWER_IS) :]
    return _drop_final_period(text) or None


def qa_cot(output: str) -> str | None:
    """HotpotQA CoT: the text after the first ``decomposed questions, the answer is``, stripped, without its
    final period, ``True``/``False`` mapped to ``yes``/``no``. None when the phrase is absent (the original
    skipped such rows and counted them wrong)."""
    if QA_ANSWER_IS not in output:
        return None
    answer = output.split(QA_ANSWER_IS)[1]
    return true_false_to_yes_no(_drop_final_period(answer)) or None


def qa_direct(output: str) -> str | None:
    """HotpotQA direct: the whole stripped output, ``True``/``False`` mapped to ``yes``/``no``.

    The original kept a final period here (``Paris.``); the official normalisation drops punctuation
    before EM/F1, so it never mattered and we keep the text as is.
    """
    return true_false_to_yes_no(output.strip()) or None


def strategyqa_cot(output: str) -> str | None:
    """StrategyQA CoT: as HotpotQA CoT (the complex-QA CoT targets end ``... the answer is True.``).

    The original looked for ``Answer is `` (capital A), which these targets never contain, so it scored 0.
    """
    return qa_cot(output)


def strategyqa_direct(output: str) -> str | None:
    """StrategyQA direct: the whole output without a final period (the targets are ``True``/``False``).

    The original sliced ``output[10:-1]`` (an empty string for ``True``), so it scored 0.
    """
    return _drop_final_period(output) or None


def extract_answer(benchmark: str, formulation: str, output: str | None) -> str | None:
    """The answer in a cot/direct ``output`` of ``benchmark`` (its registered ``extract_answer``); None for a
    missing output or no answer.

    Raises:
        ValueError: a benchmark without an extractor for ``formulation``, listing the ones it has.
    """
    from lumos.benchmarks import get_benchmark

    extractors = get_benchmark(benchmark).extract_answer
    fn = extractors.get(formulation)
    if fn is None:
        raise ValueError(f"no answer extractor for {benchmark}/{formulation}; {benchmark} has {sorted(extractors)}")
    return None if output is None else fn(output)
