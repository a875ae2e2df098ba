"""WebShop (an unseen task for the unified model): buy the product a goal describes in a text shop.

An example is a goal of WebShop's shuffled goal list (seed 233; test = the first 500, dev = the next 1,000,
train = the rest), e.g. ``"i need a long clip-in hair extension which is natural looking, and price lower
than 40.00 dollars"``. Each episode opens its own session of the shop (``lumos.envs.webshop``: WebShop's pages,
search and ``get_reward``, built once per run); the agent's tools are the original's ``Search``, ``Click``,
``FeatureRetrieve``, ``Pick`` over that session. Prompts are the original's: two in-context demonstrations in
front of every planning and grounding prompt, the grounding reply forced to start with ``R1 = ``, feedback
``The executed result for Subgoal k is <result>`` (``lumos.formats.webshop_prompts``, byte-identical). The
episode ends when ``Buy Now`` is clicked (the environment ends the task) or after 5 subgoals.

Metrics over ALL goals (a failed or never-buying episode scores 0; the original averaged over finished
episodes only): ``score`` = mean reward x100 (the paper's "average reward"), ``success`` = reward 1.
Goals: the offline catalogue has 13 human instructions, so ``--goals auto`` uses synthetic goals there (the
original's evaluation also built synthetic goals: it never passed WebShop's human goals to the env).
Default modules: ``lumos_unified_*`` (``--module_domain`` for the others).

Run: ``python -m eval.webshop.run_eval --data_dir $LUMOS_DATA_DIR --model_name_or_path models --max_num_examples 5``.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from lumos.agent.episode import Episode, PlanDecision, StandardDialogue
from lumos.agent.trajectory import Step
from lumos.benchmarks.base import Benchmark, Dataset, Example, MetricSpec, register_benchmark
from lumos.envs.webshop import WebShop
from lumos.envs.webshop.tools import make_ranker, shop_tools
from lumos.formats.actions import Action, parse_actions
from lumos.formats.webshop_prompts import FORCED_PREFIX, ground_prompt, plan_prompt
from lumos.paths import data_dir as env_data_dir
from lumos.tools.base import ToolResult

if TYPE_CHECKING:
    from lumos.runtime import RunContext


@dataclass
class WebShopOptions:
    """WebShop options."""

    split: str = field(default="test", init=False)  # --split: test | dev | train
    goals: Literal["auto", "human", "synthetic"] = field(default="auto", metadata={"help": (
        "human (items_human_ins.json), synthetic (items_ins_v2), or auto: human when the full human file is present")})
    search_engine: Literal["bm25s", "pyserini"] = field(default="bm25s", metadata={"help": (
        "bm25s (default, no Java) or pyserini (the original's Lucene index; needs Java and pyserini)")})
    index_dir: str | None = field(default=None, metadata={"help": "pyserini index folder (built there when empty)"})
    num_products: int | None = field(default=None, metadata={"help": "use only the first N products"})
    feature_ranker: Literal["auto", "cross-encoder", "dense"] = field(default="auto", metadata={"help": (
        "FeatureRetrieve/Pick ranker: cross-encoder/stsb-roberta-large (the original's) when a local copy loads, "
        "else the offline MiniLM bi-encoder")})
    spacy_model: str | None = field(default=None, metadata={"help": "the reward's spaCy pipeline (default: "
                                                                   "en_core_web_lg if installed, else the offline small one)"})


@functools.lru_cache(maxsize=2)
def _shop(data_dir: str, goals: str, search_engine: str, index_dir: str | None, num_products: int | None,
          spacy_model: str | None) -> WebShop:
    return WebShop.load(data_dir, goals=goals, search_engine=search_engine, index_dir=index_dir,  # type: ignore[arg-type]
                        num_products=num_products, spacy_model=spacy_model)


def shop_for(data_dir: Path | str | None, opts: WebShopOptions) -> WebShop:
    """The shop of ``data_dir`` (default ``$LUMOS_DATA_DIR``, then data/eval/webshop), built once per process."""
    base = Path(data_dir) if data_dir else env_data_dir() or Path("data/eval/webshop")
    if base.is_file():
        base = base.parent
    return _shop(str(base), opts.goals, opts.search_engine, opts.index_dir, opts.num_products, opts.spacy_model)


def load(data_dir: Path | None, options: WebShopOptions | None = None) -> Dataset:
    opts = options or WebShopOptions()
    shop = shop_for(data_dir, opts)
    tasks = shop.tasks(opts.split)
    examples = tuple(Example(id=str(t.goal_index), question=t.instruction, answer=t.goal_asin,
                             metadata={"goal_index": t.goal_index}) for t in tasks)
    return Dataset(examples, shop.files.products, info={"webshop": shop.describe(), "split": opts.split})


@dataclass(frozen=True)
class WebShopDialogue:
    """The original WebShop prompts: demonstrations, ``R1 = `` forced, feedback = the last result's text."""

    def plan_messages(self, ep: Episode, *, onetime: bool) -> str:
        history = [(s.plan_output, s.feedback) for s in ep.trajectory.steps if s.feedback is not None]
        return plan_prompt(ep.task, history)

    def parse_plan(self, ep: Episode, output: str, *, onetime: bool) -> PlanDecision:
        return StandardDialogue("webshop").parse_plan(ep, output, onetime=onetime)

    def ground_messages(self, ep: Episode, *, onetime: bool) -> tuple[str, str]:
        steps = ep.trajectory.steps
        grounded = [s.ground_output or "" for s in steps[:-1]]
        prompt = ground_prompt(ep.task, [s.plan_output for s in steps], grounded)
        if len(steps) == 1:  # the prompt ends with the forced "R1 = ": give it as the reply's start
            return prompt[: -len(FORCED_PREFIX)], FORCED_PREFIX
        return prompt, ""

    def feedback(self, ep: Episode, step: Step, results: Sequence[ToolResult]) -> str:
        return str(results[-1].value) if results else ""

    def parse_actions(self, output: str) -> list[Action]:
        return parse_actions(output)


def webshop_episode(bench: Benchmark, example: Example, ctx: RunContext) -> Episode:
    opts: WebShopOptions = ctx.options or WebShopOptions()

    def build_shop() -> WebShop:
        shop = shop_for(ctx.config.data_dir, opts)
        ctx.record("webshop", shop.describe())
        return shop

    def build_ranker() -> Any:
        ranker = make_ranker(opts.feature_ranker)
        ctx.record("webshop_ranker", getattr(ranker, "name", type(ranker).__name__))
        return ranker

    shop = ctx.shared("webshop", build_shop)
    ranker = ctx.shared("webshop_ranker", build_ranker)
    session = shop.session(int(example.metadata["goal_index"]))

    def scorer(ep: Episode) -> dict[str, float]:
        reward = float(session.info.get("reward") or 0.0)
        if session.last_reward is not None:
            ctx.record("spacy_model", getattr(shop.scorer, "model_name", None))
        return {"score": 100.0 * reward, "success": float(reward == 1.0), "reward": reward}

    return Episode(example=example, task=example.question, tools=shop_tools(session, ranker), scorer=scorer,
                   dialogue=WebShopDialogue(), observation="None.", env=session, max_subgoals=bench.max_subgoals,
                   extract=lambda ep: session.info.get("asin"))


WEBSHOP = register_benchmark(Benchmark(
    name="webshop", domain="unified", load=load, make_episode=webshop_episode,
    metrics=(MetricSpec("score"), MetricSpec("success"), MetricSpec("reward")), primary="score", max_subgoals=5,
    formulations=("lumos_iterative",), options=WebShopOptions, rescore=False, splits=("test", "dev", "train")))
