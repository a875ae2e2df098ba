"""The text shop: ``WebShop`` (catalogue, goals, search index, reward; built once) and one ``WebShopSession``
per episode (Gym-like ``reset`` / ``step`` / ``close``; the episode ends on ``Buy Now`` with the reward).

    shop = WebShop.load("../shared/data/webshop")            # offline: 1,000 products, synthetic goals
    s = shop.session(0)
    s.reset()   # 'WebShop [SEP] Instruction: [SEP] Find me double sided, ... lower than 50.00 dollars [SEP] Search'
    obs, reward, terminated, info = s.step("search[wood console table]")
    s.step("click[b06y3vldfb]")
    obs, reward, terminated, info = s.step("click[buy now]")   # terminated; info has the reward's parts

Actions are WebShop's: ``search[keywords]`` (from any page) and ``click[text]`` for one of the current page's
clickables (``session.clickables``); anything else changes nothing (``info["valid"]`` is False). Action
arguments are lower-cased, as WebShop does. The page logic follows WebShop's server: ``Next >`` / ``< Prev``
move between result pages, ``< Prev`` on an item page returns to the results (forgetting chosen options),
``Back to Search`` returns to the start page, clicking an option value selects it.

Play it: ``python -m lumos.envs.webshop play --data_dir ../shared/data/webshop --goal_index 3``.
Exercise: ``pytest tests/envs/webshop/test_env.py``.
"""

from __future__ import annotations

import logging
import random
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, NamedTuple

from lumos.envs.webshop.catalog import (
    Product,
    WebShopFiles,
    generate_prices,
    load_products,
    product_document,
    read_documents,
)
from lumos.envs.webshop.goals import GOAL_KINDS, Goal, GoalKind, Split, build_goals, split_range
from lumos.envs.webshop.pages import (
    BACK_TO_SEARCH,
    BUY_NOW,
    NEXT_PAGE,
    PREV_PAGE,
    PRODUCT_WINDOW,
    SUB_PAGES,
    Page,
    done_page,
    item_page,
    results_page,
    search_page,
    sub_page,
)
from lumos.envs.webshop.reward import Reward, RewardScorer
from lumos.envs.webshop.search import SEARCH_RETURN_N, SearchEngine, SearchEngineName, make_search_engine

logger = logging.getLogger(__name__)

GoalChoice = Literal["auto", "human", "synthetic"]
DEFAULT_SEED = 233
_ACTION = re.compile(r"(.+)\[(.+)\]")


class EpisodeOver(RuntimeError):
    """``step`` after the episode ended (a purchase was made) or after ``close``."""


def parse_action(action: str) -> tuple[str, str | None]:
    """``"click[Buy Now]"`` -> ``("click", "Buy Now")``; text without ``name[arg]`` -> ``(text, None)``."""
    m = _ACTION.match(action)
    return (action, None) if m is None else (m.group(1), m.group(2))


@dataclass(frozen=True)
class ShopTask:
    """One goal as an evaluation example: its index (``shop.session(goal_index)``) and the instruction the agent gets."""

    goal_index: int
    instruction: str
    goal_asin: str


class StepResult(NamedTuple):
    """What ``step`` returns (unpacks as ``observation, reward, terminated, info``)."""

    observation: str
    reward: float
    terminated: bool
    info: dict[str, Any]


@dataclass
class WebShop:
    """Read-only shop resources shared by all episodes: products, prices, goals, search engine, reward scorer."""

    products: list[Product]
    prices: dict[str, float]
    goals: list[Goal]
    goal_kind: str
    engine: SearchEngine
    show_attrs: bool = False
    seed: int = DEFAULT_SEED
    files: WebShopFiles | None = None
    spacy_model: str | None = None
    _scorer: RewardScorer | None = None
    by_asin: dict[str, Product] = field(init=False)
    attribute_to_asins: dict[str, set[str]] = field(init=False)

    def __post_init__(self) -> None:
        self.by_asin = {p.asin: p for p in self.products}
        self.attribute_to_asins = defaultdict(set)
        for p in self.products:
            for a in p.attributes:
                self.attribute_to_asins[a].add(p.asin)

    @classmethod
    def load(
        cls,
        data_dir: str | Path,
        *,
        goals: GoalChoice = "auto",
        search_engine: SearchEngineName = "bm25s",
        index_dir: str | Path | None = None,
        num_products: int | None = None,
        spacy_model: str | None = None,
        seed: int = DEFAULT_SEED,
        show_attrs: bool = False,
        scorer: RewardScorer | None = None,
    ) -> WebShop:
        """Load the catalogue in ``data_dir`` and build goals and the search engine.

        Args:
            goals: ``human`` (``items_human_ins*.json``), ``synthetic`` (``items_ins_v2*.json``), or ``auto``:
                human when the full ``items_human_ins.json`` is present, else synthetic.
            search_engine: ``bm25s`` or ``pyserini`` (needs ``index_dir``; built there when empty).
            num_products: use only the first N raw products (WebShop's ``num_products``).
            spacy_model: the reward's spaCy pipeline (default: the first installed of ``SPACY_MODELS``).
            seed: seeds the price draws of price ranges and of goal price limits (WebShop leaves them unseeded).
            scorer: a ready ``RewardScorer`` (else one is built on the first purchase).
        """
        files = WebShopFiles.discover(data_dir)
        kind = resolve_goal_kind(goals, files)
        products = load_products(files, num_products=num_products, human=kind == "human")
        rng = random.Random(seed)
        prices = generate_prices(products, rng)
        goal_list = build_goals(products, prices, kind, rng)  # type: ignore[arg-type]
        if files.documents is not None and num_products is None:
            documents = read_documents(files.documents)
        else:
            documents = [product_document(p) for p in products]
        engine = make_search_engine(search_engine, documents,
                                    documents_path=files.documents if num_products is None else None,
                                    index_dir=Path(index_dir) if index_dir else None)
        logger.info("WebShop: %d products, %d %s goals, %s search", len(products), len(goal_list), kind, engine.name)
        return cls(products=products, prices=prices, goals=goal_list, goal_kind=kind, engine=engine,
                   show_attrs=show_attrs, seed=seed, files=files, spacy_model=spacy_model, _scorer=scorer)

    @property
    def scorer(self) -> RewardScorer:
        """The reward scorer (spaCy loads on first use)."""
        if self._scorer is None:
            self._scorer = RewardScorer(spacy_model=self.spacy_model)
        return self._scorer

    def split(self, split: Split) -> range:
        """Goal indices of WebShop's ``test`` (0-499), ``dev`` (500-1499), ``train`` (1500-) or ``all``."""
        return split_range(split, len(self.goals))

    def tasks(self, split: Split = "test", max_num_examples: int | None = None) -> list[ShopTask]:
        """The examples of a split, in goal order (the first ``max_num_examples``)."""
        indices = list(self.split(split))[:max_num_examples]
        return [ShopTask(k, self.goals[k].instruction_text.strip(), self.goals[k].asin) for k in indices]

    def session(self, goal_index: int) -> WebShopSession:
        """A new episode for goal ``goal_index`` (call ``reset()`` to start it)."""
        if not 0 <= goal_index < len(self.goals):
            raise IndexError(f"goal index {goal_index} out of range; this shop has {len(self.goals)} {self.goal_kind} goals")
        return WebShopSession(self, goal_index)

    def search(self, keywords: Sequence[str], rng: random.Random) -> list[Product]:
        """WebShop's search over keywords (``<r>`` random, ``<a> attr``, ``<c> category``, ``<q> query`` or text)."""
        if keywords and keywords[0] == "<r>":
            return rng.sample(self.products, k=min(SEARCH_RETURN_N, len(self.products)))
        if keywords and keywords[0] == "<a>":
            asins = self.attribute_to_asins.get(" ".join(keywords[1:]).strip(), set())
            return [p for p in self.products if p.asin in asins]
        if keywords and keywords[0] == "<c>":
            category = keywords[1].strip() if len(keywords) > 1 else ""
            return [p for p in self.products if p.category == category]
        if keywords and keywords[0] == "<q>":
            query = " ".join(keywords[1:]).strip()
            return [p for p in self.products if p.query == query]
        asins = self.engine.search(" ".join(keywords), k=SEARCH_RETURN_N)
        return [self.by_asin[a] for a in asins if a in self.by_asin]

    def reward(self, asin: str, options: dict[str, str], goal: Goal) -> Reward:
        """The reward of buying ``asin`` with ``options`` for ``goal`` (the product's generated price)."""
        return self.scorer.score(self.by_asin[asin], goal, self.prices[asin], options)

    def describe(self) -> dict[str, Any]:
        """What a run needs to record: data files, goal kind, counts, engine, seed, spaCy pipeline (if loaded)."""
        return {"files": self.files.to_dict() if self.files else None, "goals": self.goal_kind,
                "n_goals": len(self.goals), "n_products": len(self.products), "search_engine": self.engine.name,
                "search_params": getattr(self.engine, "params", {}), "seed": self.seed,
                "spacy_model": self._scorer.model_name if self._scorer is not None else self.spacy_model}


def resolve_goal_kind(choice: GoalChoice, files: WebShopFiles) -> GoalKind:
    """``auto`` -> ``human`` when the full ``items_human_ins.json`` is there, else ``synthetic``."""
    if choice == "auto":
        return "human" if files.human is not None and files.human.name == "items_human_ins.json" else "synthetic"
    if choice not in GOAL_KINDS:
        raise ValueError(f"unknown goal kind {choice!r}; choose auto, human or synthetic")
    if choice == "human" and files.human is None:
        raise FileNotFoundError(f"--goals human needs items_human_ins.json next to {files.products}")
    return choice  # type: ignore[return-value]


class WebShopSession:
    """One episode in the shop: the goal, the current page and the purchase (see the module docstring)."""

    def __init__(self, shop: WebShop, goal_index: int) -> None:
        self.shop = shop
        self.goal_index = goal_index
        self.goal = shop.goals[goal_index]
        self._rng = random.Random(f"{shop.seed}:{goal_index}")
        self._closed = False
        self.reset()

    # -- Gym-like interface ---------------------------------------------------------------------
    def reset(self) -> str:
        """Back to the start page with nothing chosen; returns the first observation."""
        self.keywords: list[str] | None = None
        self.page_number: int | None = None
        self.asin: str | None = None
        self.options: dict[str, str] = {}
        self.visited: list[str] = []
        self.actions: list[str] = []
        self.terminated = False
        self.last_reward: Reward | None = None
        self._closed = False
        self.page: Page = search_page(self.goal.instruction_text)
        return self.observation

    def step(self, action: str) -> StepResult:
        """Apply ``search[...]`` or ``click[...]``; returns ``(observation, reward, terminated, info)``.

        Raises:
            EpisodeOver: the episode already ended with a purchase, or the session was closed.
        """
        if self._closed:
            raise EpisodeOver("the WebShop session is closed")
        if self.terminated:
            raise EpisodeOver("the episode already ended with a purchase")
        name, arg = parse_action(action)
        if arg is not None:
            arg = arg.lower()
        self.actions.append(action)
        reward = 0.0
        valid = True
        if name == "search" and arg:
            self._search(arg.split(" "), page=1)
        elif name == "click" and arg in self.page.clickables and arg != "search":
            reward = self._click(arg)
        else:
            valid = False
        info: dict[str, Any] = {"valid": valid, "page": self.page.kind}
        if self.terminated:
            info.update(self.info)
        return StepResult(self.observation, reward, self.terminated, info)

    def close(self) -> None:
        """End the session (further steps raise ``EpisodeOver``)."""
        self._closed = True

    @property
    def observation(self) -> str:
        return self.page.observation

    @property
    def clickables(self) -> list[str]:
        return list(self.page.clickables)

    def available_actions(self) -> dict[str, Any]:
        """WebShop's ``get_available_actions()``: ``{"has_search_bar", "clickables"}``."""
        return {"has_search_bar": self.page.kind == "search", "clickables": self.clickables}

    @property
    def instruction(self) -> str:
        """The instruction as the observation shows it (what the original agent read as its task)."""
        return self.goal.instruction_text.strip()

    @property
    def info(self) -> dict[str, Any]:
        """The goal, the purchase and, after ``Buy Now``, the reward and its parts."""
        out: dict[str, Any] = {"goal_index": self.goal_index, "goal_asin": self.goal.asin,
                               "n_actions": len(self.actions), "terminated": self.terminated}
        if self.last_reward is not None:
            out.update({"asin": self.asin, "options": dict(self.options), "price": self.shop.prices[self.asin or ""],
                        **self.last_reward.to_dict()})
        return out

    # -- page logic (WebShop's server) -------------------------------------------------------------
    def _search(self, keywords: list[str], page: int) -> None:
        self.keywords = keywords
        self.page_number = page
        self.asin = None
        self.options = {}
        found = self.shop.search(keywords, self._rng)
        shown = found[(page - 1) * PRODUCT_WINDOW: page * PRODUCT_WINDOW]
        self.page = results_page(self.goal.instruction_text, shown, page, len(found))

    def _item(self) -> None:
        assert self.asin is not None
        self.page = item_page(self.goal.instruction_text, self.shop.by_asin[self.asin], show_attrs=self.shop.show_attrs)

    def _click(self, name: str) -> float:
        kind = self.page.kind
        if name == BUY_NOW.lower():
            return self._buy()
        if name == BACK_TO_SEARCH.lower():
            self.keywords, self.page_number, self.asin, self.options, self.visited = None, None, None, {}, []
            self.page = search_page(self.goal.instruction_text)
        elif name == NEXT_PAGE.lower() and kind == "results":
            self._search(self.keywords or [], page=(self.page_number or 1) + 1)
        elif name == PREV_PAGE.lower() and kind == "results":
            self._search(self.keywords or [], page=(self.page_number or 1) - 1)
        elif name == PREV_PAGE.lower() and kind == "item_sub":
            self._item()
        elif name == PREV_PAGE.lower() and kind == "item":
            self._search(self.keywords or [], page=self.page_number or 1)
        elif name in {s.lower() for s in SUB_PAGES}:
            which = next(s for s in SUB_PAGES if s.lower() == name)
            assert self.asin is not None
            self.page = sub_page(self.goal.instruction_text, self.shop.by_asin[self.asin], which)
        else:
            target = self.page.clickables[name]
            if target.kind == "product":
                self.asin = name.upper()
                self.visited.append(self.asin)
            elif target.kind == "option" and target.option is not None:
                self.options[target.option.lower()] = name
            self._item()
        return 0.0

    def _buy(self) -> float:
        assert self.asin is not None
        result = self.shop.reward(self.asin, self.options, self.goal)
        self.last_reward = result
        self.terminated = True
        self.page = done_page(self.asin, self.options, result.reward)
        return result.reward
