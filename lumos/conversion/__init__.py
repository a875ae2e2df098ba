"""Annotation conversion: raw benchmark data -> subgoal/action annotations -> training files (docs/original.md, "Annotation conversion").

- ``sources``: one reader per raw source (GSM8K, ASDiv, PRM800K / MATH, StrategyQA, MuSiQue, Mind2Web, A-OKVQA).
- ``convert``: the resumable driver behind ``python -m data.prompt_convertion`` with two backends,
  ``openai`` (any OpenAI-compatible server; prompts in ``instructions``) and ``rule`` (LLM-free, ``rule_*``).
- ``to_train``: converted annotations -> ``lumos_<domain>_<module>_<formulation>.jsonl`` (``python -m data.process_for_train``);
  ``baselines``: the CoT and direct files.
- ``download``: released annotations, raw and eval files (``python -m data.download``).

Example: ``python -m data.prompt_convertion --domain maths --data_fn ../shared/data/gsm8k/train.jsonl --convert_all
--backend rule`` then ``python -m data.process_for_train --domain maths --formulation lumos_iterative``.
"""

from lumos.conversion.rule_backend import rule_convert
from lumos.conversion.rule_plan import PlanBuilder, RuleError
from lumos.conversion.sources import SOURCES, SourceRecord, detect_source, load_source

__all__ = ["SOURCES", "PlanBuilder", "RuleError", "SourceRecord", "detect_source", "load_source", "rule_convert"]
