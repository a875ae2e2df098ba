"""The Lumos agent's shop tools over one ``WebShopSession``: ``Search``, ``Click``, ``FeatureRetrieve``, ``Pick``.

The grounding module writes them as in the original's in-context demonstrations::

    R1 = Search(Find me slim fit women's tops ... and price lower than 50.00 dollars)
    -> "b09s3bn15c - Mens Linen Shirt,... ** b094q7b3ss - Women Cold Shoulder Tops, ... Blouse *"
    R2 = Click(b09s3bn15c)                       -> the item page's clickables (a list)
    R3 = FeatureRetrieve(R2, Query: Find me ...) -> "short, casual, shoulder"  (top 3 option values)
    R7 = Pick(Item_names: R1, Item_features: [R3, R6], Query: Find me ...) -> "b094q7b3ss"
    R9 = Click(R7); R10 = Click(black); R13 = Click(buy now)  -> the reward (a float) when the episode ends

* ``Search``: ``search[...]`` in the session; the first two results as ``"<asin> - <title>"`` joined by
  `` ** ``, ending in `` *`` exactly as the original's string slicing left it.
* ``Click``: ``click[x]`` (``x`` literal, or the value of a variable such as ``R7``); returns the new page's
  clickables, or the reward when the click bought the product.
* ``FeatureRetrieve``: ranks the option values of an item page (its clickables after the first six, which are
  the page's buttons) against the query; the top three joined by ``", "``.
* ``Pick``: ranks ``"<item>. Available features: <features>"`` (items with a feature result) against the
  query; returns the best item's ASIN (the first item's when none has features).

An empty result is replaced by ``"buy now"``, as the original's executor did. Ranking: the original used the
cross-encoder ``cross-encoder/stsb-roberta-large``; ``make_ranker("auto")`` uses it when a local copy loads
(a path or the Hugging Face cache) and otherwise the offline MiniLM bi-encoder (``lumos.tools.retrieve.DenseRanker``);
``ranker.name`` says which ran.

Changes from the original's tools (all recorded in docs/differences.md): the session persists across
subgoals, so ``Click`` no longer replays the episode's whole action history (the original replayed it on
every ``Click`` without resetting in between) and there is no module-level replay list;
``FeatureRetrieve`` keeps the whole query (the original dropped its last character); failures are
``ToolError`` results instead of ending the episode with reward 0.

Exercise: ``pytest tests/envs/webshop/test_tools.py``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Literal

from lumos.envs.webshop.env import EpisodeOver, WebShopSession
from lumos.tools.base import Tool, ToolCall, ToolError, ToolOutput
from lumos.tools.retrieve import CrossEncoderRanker, DenseRanker, Ranker

logger = logging.getLogger(__name__)

SHOP_ACTIONS = ("Search", "FeatureRetrieve", "Pick", "Click")
EMPTY_RESULT = "buy now"
SEARCH_ITEMS = 2
FEATURE_TOP_K = 3
NAVIGATION_CLICKABLES = 6
CROSS_ENCODER = "cross-encoder/stsb-roberta-large"
RankerChoice = Literal["auto", "cross-encoder", "dense"]
_VAR = re.compile(r"\bR\d+\b")
_QUERY = re.compile(r"(?:Query|QUERY): ")


def make_ranker(choice: RankerChoice = "auto", *, model: str | Path | None = None) -> Ranker:
    """The ranker of ``FeatureRetrieve`` / ``Pick``.

    ``cross-encoder``: ``model`` or stsb-roberta-large (must load; may download); ``dense``: the MiniLM
    bi-encoder (``model`` overrides its path); ``auto``: the cross-encoder if a local copy loads now (a path, or
    the Hugging Face cache; no download is tried), else the dense ranker (logged).

    Raises:
        ValueError: an unknown choice.
    """
    if choice == "dense":
        return DenseRanker(model)
    if choice == "cross-encoder":
        ranker = CrossEncoderRanker(model or CROSS_ENCODER)
        ranker.load()
        return ranker
    if choice != "auto":
        raise ValueError(f"unknown ranker {choice!r}; choose auto, cross-encoder or dense")
    cross = CrossEncoderRanker(model or CROSS_ENCODER, local_files_only=True)
    try:
        cross.load()
        return cross
    except (OSError, ValueError, RuntimeError, ImportError) as e:
        logger.warning("cross-encoder %s did not load (%s: %s); ranking with the offline MiniLM bi-encoder",
                       cross.model, type(e).__name__, str(e).splitlines()[0][:200] if str(e) else "")
        return DenseRanker()


def _best(ranker: Ranker, query: str, passages: Sequence[str], k: int) -> list[int]:
    scores = ranker.scores(query, passages)
    return sorted(range(len(passages)), key=lambda i: (-scores[i], i))[:k]


def _or_empty(value: str) -> str:
    return value if value != "" else EMPTY_RESULT


class ShopSearch:
    """``R1 = Search(query)``: search in the session; the first two results as the original formatted them."""

    name = "Search"
    cacheable = False

    def __init__(self, session: WebShopSession, *, n_items: int = SEARCH_ITEMS) -> None:
        self.session = session
        self.n_items = n_items

    def __call__(self, call: ToolCall) -> ToolOutput:
        try:
            obs, _, _, info = self.session.step(f"search[{call.action.args}]")
        except EpisodeOver as e:
            raise ToolError(str(e)) from None
        if not info["valid"]:
            raise ToolError(f"Search({call.action.args}) is not a valid search")
        out = ""
        for item in self.session.clickables[2: 2 + self.n_items]:
            marker = item.upper() + " [SEP] "
            start = obs.find(marker) + len(marker)
            end = obs[start:].find(" [SEP] ") + start
            out += f"{item} - {obs[start:end]} ** "
        return ToolOutput(_or_empty(out[:-2]), extra={"observation": obs})


class ShopClick:
    """``R2 = Click(b09s3bn15c)`` / ``Click(R7)`` / ``Click(buy now)``: clickables after the click, or the reward."""

    name = "Click"
    cacheable = False

    def __init__(self, session: WebShopSession) -> None:
        self.session = session

    def __call__(self, call: ToolCall) -> ToolOutput:
        arg = call.action.args
        if _VAR.search(arg):
            name = arg.strip()
            if not _VAR.fullmatch(name):
                raise ToolError(f"Click({arg}): expected one item or one variable")
            if name not in call.variables:
                raise ToolError(f"Click({arg}): {name} is not bound")
            arg = str(call.variables[name])
        try:
            obs, reward, terminated, info = self.session.step(f"click[{arg}]")
        except EpisodeOver as e:
            raise ToolError(str(e)) from None
        extra = {"observation": obs, "valid": info["valid"]}
        if terminated:
            return ToolOutput(reward, extra={**extra, "reward_info": self.session.info})
        return ToolOutput(self.session.clickables, extra=extra)


def _split_query(args: str, action: str) -> tuple[str, str]:
    m = _QUERY.search(args)
    if m is None:
        raise ToolError(f"{action}({args}): expected 'Query: ...'")
    return args[: m.start()], args[m.end():].strip()


class FeatureRetrieve:
    """``R3 = FeatureRetrieve(R2, Query: q)``: the top three option values of the clicked item page."""

    name = "FeatureRetrieve"
    cacheable = True

    def __init__(self, ranker: Ranker, *, top_k: int = FEATURE_TOP_K) -> None:
        self.ranker = ranker
        self.top_k = top_k

    def __call__(self, call: ToolCall) -> str:
        head, query = _split_query(call.action.args, self.name)
        names = _VAR.findall(head)
        if not names:
            raise ToolError(f"FeatureRetrieve({call.action.args}): no variable holding an item page")
        if names[0] not in call.variables:
            raise ToolError(f"FeatureRetrieve({call.action.args}): {names[0]} is not bound")
        value = call.variables[names[0]]
        if not isinstance(value, (list, tuple)):
            raise ToolError(f"FeatureRetrieve: {names[0]} is not a page's clickables (got {type(value).__name__})")
        features = [str(v) for v in value[NAVIGATION_CLICKABLES:]]
        if not features:
            return EMPTY_RESULT
        return ", ".join(features[i] for i in _best(self.ranker, query, features, self.top_k))


class Pick:
    """``R7 = Pick(Item_names: R1, Item_features: [R3, R6], Query: q)``: the ASIN of the best-matching item."""

    name = "Pick"
    cacheable = True

    def __init__(self, ranker: Ranker) -> None:
        self.ranker = ranker

    def __call__(self, call: ToolCall) -> str:
        args = call.action.args
        head, query = _split_query(args, self.name)
        m = re.fullmatch(r"\s*Item_names:\s*(R\d+)\s*,\s*Item_features:\s*\[(.*)\]\s*,?\s*", head)
        if m is None:
            raise ToolError(f"Pick({args}): expected 'Item_names: Rk, Item_features: [Ra, Rb], Query: ...'")
        names_var, feature_vars = m.group(1), _VAR.findall(m.group(2))
        if names_var not in call.variables:
            raise ToolError(f"Pick({args}): {names_var} is not bound")
        items = str(call.variables[names_var]).split(" ** ")
        described = []
        for i, var in enumerate(sorted(feature_vars, key=lambda v: int(v[1:]))):
            value = call.variables.get(var)
            if isinstance(value, str):
                if i >= len(items):
                    raise ToolError(f"Pick({args}): more feature variables than items in {names_var}")
                described.append(f"{items[i]}. Available features: {value}")
        chosen = items[0] if not described else described[_best(self.ranker, query, described, 1)[0]]
        return chosen.split(" - ")[0].strip() if not described else chosen.split(" - ")[0]


def shop_tools(session: WebShopSession, ranker: Ranker) -> Mapping[str, Tool]:
    """The four shop tools of one episode (``Search``/``Click`` bound to ``session``; the ranker is shared)."""
    return {"Search": ShopSearch(session), "FeatureRetrieve": FeatureRetrieve(ranker), "Pick": Pick(ranker),
            "Click": ShopClick(session)}
