"""The LLM-free ``rule`` backend: raw record -> converted record, deterministic and offline.

Output has the converted-record shape of the openai backend plus ``source``::

    {"id": "gsm8k:train:0", "source": "gsm8k", "task": "Natalia sold ...", "natural_language_plan": "...",
     "subgoal_plan": "Subgoal 1: ...\\nAction 1-1: R1 = Calculator(48/2) = 24\\n\\n...", "ans": "72"}

Run: ``python -m data.prompt_convertion --backend rule --domain maths --data_fn ../shared/data/gsm8k/train.jsonl --convert_all``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from lumos.conversion.rule_maths import convert_asdiv, convert_gsm8k
from lumos.conversion.rule_plan import RuleError
from lumos.conversion.rule_qa import convert_musique, convert_strategyqa
from lumos.conversion.rule_web import convert_mind2web
from lumos.conversion.sources import SourceRecord, strategyqa_human_solution, strategyqa_step_evidence

RULE_CONVERTERS: Mapping[str, Callable[[SourceRecord], str]] = {
    "gsm8k": convert_gsm8k,
    "asdiv": convert_asdiv,
    "strategyqa": convert_strategyqa,
    "musique": convert_musique,
    "mind2web": convert_mind2web,
}


def converted_record(record: SourceRecord, subgoal_plan: str, plan: str | list[str] | None = None) -> dict[str, Any]:
    """The converted-record dict both backends write (``ans`` only when the gold answer is known)."""
    out: dict[str, Any] = {
        "id": record.id,
        "source": record.source,
        "task": record.task,
        "natural_language_plan": record.plan if plan is None else plan,
        "subgoal_plan": subgoal_plan,
    }
    if record.ans is not None:
        out["ans"] = record.ans
    return out


def rule_convert(record: SourceRecord) -> dict[str, Any]:
    """Convert one record by rule.

    Raises:
        RuleError: the record cannot be converted (the message is the reason), or its source has no rule.
    """
    converter = RULE_CONVERTERS.get(record.source)
    if converter is None:
        raise RuleError(f"the rule backend has no converter for {record.source!r} (supported: {', '.join(RULE_CONVERTERS)})")
    plan = record.plan
    if record.source == "strategyqa" and plan is None:
        refs = strategyqa_step_evidence(record.raw, relaxed=True)
        plan = strategyqa_human_solution(record.raw, refs) if refs is not None else None
    return converted_record(record, converter(record), plan)
