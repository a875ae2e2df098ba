"""Episodes of answer benchmarks (GSM8K, SVAMP, HotpotQA, StrategyQA): thin episodes over shared tools.

No environment: the Initial Environment Description is ``None.``, the tools are the domain's
stateless toolbox (sympy maths; KnowledgeQuery / ParagraphRetrieve / QA), built once per run and
shared; the prompts are the original's (``StandardDialogue``; complex QA lists earlier results in
grounding requests); the prediction is the final variable (Lumos) or the answer read from the
single output (cot/direct, per benchmark); the scores are the benchmark's answer metrics.

    >>> bench = get_benchmark("gsm")
    >>> ep = answer_episode(bench, Example("0", "What is 2 + 2?", "4"), ctx)
    >>> ep.dialogue, ep.max_subgoals
    (StandardDialogue(ground_domain='maths', list_earlier_results=False), 8)

Exercise: ``pytest tests/benchmarks/test_smoke.py``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lumos.agent.episode import Episode, StandardDialogue

if TYPE_CHECKING:
    from lumos.benchmarks.base import Benchmark, Example
    from lumos.runtime import RunContext


def answer_episode(bench: Benchmark, example: Example, ctx: RunContext) -> Episode:
    """The episode of one question of an answer benchmark (``bench.domain`` is maths or complex_qa)."""
    lumos = ctx.config.lumos
    tools = ctx.toolbox(bench.domain) if lumos else {}
    extract = bench.extract_answer.get(ctx.config.formulation, lambda out: out)  # cot/direct: lumos.answers

    def scorer(ep: Episode) -> dict[str, float]:
        return bench.score_prediction(ep.trajectory.prediction, ep.example)

    return Episode(example=example, task=example.question, tools=tools, scorer=scorer,
                   dialogue=StandardDialogue(bench.domain, list_earlier_results=bench.domain == "complex_qa"),
                   max_subgoals=bench.max_subgoals, predict_at_cap=bench.predict_at_cap, answer_of_output=extract)

