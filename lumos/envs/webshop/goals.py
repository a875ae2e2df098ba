"""WebShop goals (what to buy), built, shuffled and split as WebShop does.

One goal, in WebShop's dict form (``Goal.to_dict()``; the reward command reads this form)::

    {"asin": "B09QQP3356", "category": "beauty", "query": "hair extensions", "name": "...",
     "product_category": "Beauty & Personal Care › Hair Care › ...",
     "instruction_text": "i need a long clip-in hair extension which is natural looking, and price lower than 40.00 dollars",
     "attributes": ["natural looking"], "price_upper": 40.0, "goal_options": [], "weight": 1}

* human goals: one per instruction of ``items_human_ins.json`` with at least one instruction attribute;
  ``goal_options`` is the list of the instruction's option values;
* synthetic goals: one per product with an ``items_ins_v2`` instruction and per combination of its option
  values (options in name order), ``goal_options`` a dict ``{option name: value}``, the instruction text
  ``"<instruction> with color: black, and size: large"``.

Both add ``", and price lower than X.00 dollars"`` with X drawn as WebShop does (the larger of two of the
first four multiples of ten above the product's price; none when fewer than two exist, ``price_upper``
then 1000000). The goals are then shuffled with ``random.seed(233)``; WebShop's splits over the shuffled
list are test = goals 0-499 (the paper's test set), dev = 500-1499, train = the rest.

Exercise: ``pytest tests/envs/webshop/test_goals.py``.
"""

from __future__ import annotations

import itertools
import random
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from lumos.envs.webshop.catalog import Product

GoalKind = Literal["human", "synthetic"]
GOAL_KINDS: tuple[str, ...] = ("human", "synthetic")
Split = Literal["test", "dev", "train", "all"]
SPLITS: tuple[str, ...] = ("test", "dev", "train", "all")
SHUFFLE_SEED = 233
PRICE_RANGE = [10.0 * i for i in range(1, 100)]
NO_PRICE_LIMIT = 1000000
_SPLIT_BOUNDS = {"test": (0, 500), "dev": (500, 1500), "train": (1500, None), "all": (0, None)}


@dataclass
class Goal:
    """One shopping goal; ``goal_options`` is a list (human goals) or a dict name -> value (synthetic)."""

    asin: str
    category: str
    query: str
    name: str
    product_category: str
    instruction_text: str
    attributes: list[str]
    price_upper: float
    goal_options: list[str] | dict[str, str]
    weight: float = 1.0

    def to_dict(self) -> dict[str, Any]:
        """WebShop's goal dict."""
        opts = dict(self.goal_options) if isinstance(self.goal_options, dict) else list(self.goal_options)
        return {"asin": self.asin, "category": self.category, "query": self.query, "name": self.name,
                "product_category": self.product_category, "instruction_text": self.instruction_text,
                "attributes": list(self.attributes), "price_upper": self.price_upper, "goal_options": opts,
                "weight": self.weight}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], where: str = "goal") -> Goal:
        """Read WebShop's goal dict (``weight`` optional).

        Raises:
            ValueError: a required key is missing or has the wrong type (the message names it).
        """
        need = {"asin": str, "category": str, "query": str, "name": str, "product_category": str,
                "attributes": list, "price_upper": (int, float), "goal_options": (list, dict)}
        for key, kind in need.items():
            if key not in d:
                raise ValueError(f"{where}: missing key {key!r}")
            if not isinstance(d[key], kind):
                raise ValueError(f"{where}: key {key!r} has type {type(d[key]).__name__}")
        return cls(asin=d["asin"], category=d["category"], query=d["query"], name=d["name"],
                   product_category=d["product_category"], instruction_text=str(d.get("instruction_text", "")),
                   attributes=list(d["attributes"]), price_upper=d["price_upper"], goal_options=d["goal_options"],
                   weight=d.get("weight", 1.0))


def _price_limit(price: float, rng: random.Random) -> tuple[float, str]:
    candidates = [p for p in PRICE_RANGE if p > price][:4]
    if len(candidates) < 2:
        return NO_PRICE_LIMIT, ""
    _, upper = sorted(rng.sample(candidates, 2))
    return upper, f", and price lower than {upper:.2f} dollars"


def human_goals(products: Sequence[Product], prices: Mapping[str, float], rng: random.Random) -> list[Goal]:
    """Goals from the human instructions attached to ``products`` (instructions without attributes are skipped)."""
    goals = []
    for p in products:
        for ins in p.human_instructions or ():
            attributes = ins["instruction_attributes"]
            if not attributes:
                continue
            upper, price_text = _price_limit(prices[p.asin], rng)
            goals.append(Goal(
                asin=p.asin, category=p.category, query=p.query, name=p.title, product_category=p.product_category,
                instruction_text=ins["instruction"].strip(".") + price_text, attributes=list(attributes),
                price_upper=upper, goal_options=list(ins["instruction_options"]), weight=1))
    return goals


def synthetic_goals(products: Sequence[Product], prices: Mapping[str, float], rng: random.Random) -> list[Goal]:
    """Goals from the ``items_ins_v2`` instructions: one per product and option combination (see module doc).

    Raises:
        ValueError: a product has an instruction but no instruction attributes (WebShop asserts this).
    """
    goals: list[Goal] = []
    counts: dict[str, int] = defaultdict(int)
    for p in products:
        if p.instruction_text is None:
            continue
        attributes = p.instruction_attributes or []
        if not attributes:
            raise ValueError(f"product {p.asin} has a synthetic instruction but no instruction_attributes")
        upper, price_text = _price_limit(prices[p.asin], rng)
        names = sorted(p.options)
        for combination in itertools.product(*(p.options[n] for n in names)):
            chosen = dict(zip(names, combination))
            option_text = ", and ".join(f"{k}: {v}" for k, v in chosen.items())
            option_text = f" with {option_text}" if option_text else ""
            goals.append(Goal(
                asin=p.asin, category=p.category, query=p.query, name=p.title, product_category=p.product_category,
                instruction_text=f"{p.instruction_text}{option_text}{price_text}", attributes=list(attributes),
                price_upper=upper, goal_options=chosen))
            for att in attributes:
                counts[att] += 1
    for g in goals:
        g.weight = sum(1.0 / counts[a] for a in g.attributes) / len(g.attributes)
    return goals


def build_goals(products: Sequence[Product], prices: Mapping[str, float], kind: GoalKind, rng: random.Random) -> list[Goal]:
    """Human or synthetic goals, shuffled with WebShop's fixed seed (233)."""
    if kind not in GOAL_KINDS:
        raise ValueError(f"unknown goal kind {kind!r}; choose one of {', '.join(GOAL_KINDS)}")
    goals = human_goals(products, prices, rng) if kind == "human" else synthetic_goals(products, prices, rng)
    random.Random(SHUFFLE_SEED).shuffle(goals)
    return goals


def split_range(split: Split, n_goals: int) -> range:
    """Goal indices of a split: test = 0-499, dev = 500-1499, train = 1500-end (clipped to ``n_goals``)."""
    if split not in _SPLIT_BOUNDS:
        raise ValueError(f"unknown split {split!r}; choose one of {', '.join(SPLITS)}")
    lo, hi = _SPLIT_BOUNDS[split]
    hi = n_goals if hi is None else min(hi, n_goals)
    return range(min(lo, n_goals), hi)
