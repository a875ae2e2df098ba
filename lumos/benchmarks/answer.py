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

from collections.abc import Callable
from typing import TYPE_CHECKING

from lumos.agent.episode import Episode, StandardDialogue, feedback_text

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

    episode = Episode(example=example, task=example.question, tools=tools, scorer=scorer,
                      dialogue=StandardDialogue(bench.domain, list_earlier_results=bench.domain == "complex_qa"),
                      max_subgoals=bench.max_subgoals, predict_at_cap=bench.predict_at_cap, answer_of_output=extract)
    if ctx.config.final_answer == "qa" and bench.domain == "complex_qa" and ctx.config.formulation == "lumos_iterative":
        episode.extract = _qa_final_answer(bench, ctx)
    return episode


def _qa_final_answer(bench: Benchmark, ctx: RunContext) -> Callable[[Episode], str | None]:
    """The original's final answer of complex-QA Lumos-I: the QA model answers the task's question (StrategyQA:
    with `` Must answer yes/no.``) over every ``Question: ...`` result of the trajectory."""
    from lumos.formats.prompts import MUST_ANSWER_YES_NO
    from lumos.tools.base import ToolError
    from lumos.tools.qa import final_answer
    from lumos.utils.cli import UsageError

    qa = ctx.qa
    if qa is None:
        raise UsageError("--final_answer qa needs a QA model (--qa_model)")
    yes_no = bench.tool_options.get("last_question") == "yes_no"

    def extract(ep: Episode) -> str | None:
        results = [r.get("value") for s in ep.trajectory.steps for r in s.results]
        question = ep.task + (MUST_ANSWER_YES_NO if yes_no else "")
        try:
            value, prompts = final_answer(qa, question, results)
        except ToolError as e:
            ep.trajectory.env_info["final_answer_error"] = str(e)
            return None
        ep.trajectory.env_info["final_answer_prompts"] = prompts
        return feedback_text(value)

    return extract

