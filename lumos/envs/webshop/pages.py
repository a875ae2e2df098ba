"""The shop's pages as WebShop's text mode shows them: visible texts joined by `` [SEP] `` plus the clickables.

WebShop renders an HTML page and its text environment keeps the visible text nodes in document order,
stripped (a whitespace-only node that contains a newline is dropped, one without a newline stays as an
empty item), joined by `` [SEP] ``. The clickables are the buttons' and product links' texts, lower-cased,
followed by the option values of an item page. The same observation, built here from the page's data::

    search:   WebShop [SEP] Instruction: [SEP] <instruction> [SEP] Search
    results:  Instruction: [SEP] <instruction> [SEP] Back to Search [SEP] Page 1 (Total results: 50) [SEP] Next >
              [SEP] B06Y3VLDFB [SEP] Vhomes Lights Reclaimed Wood Console Table ... [SEP] $877.8 [SEP] ...
    item:     Instruction: [SEP] <instruction> [SEP] Back to Search [SEP] < Prev [SEP] size [SEP] small [SEP] ...
              [SEP] <title> [SEP] Price: $19.99 to $27.99 [SEP] Rating: N.A. [SEP] Description [SEP] Features
              [SEP] Reviews [SEP] Buy Now
    sub-page: Instruction: [SEP] <instruction> [SEP] Back to Search [SEP] < Prev [SEP] <description | bullet points ...>

Clickables of a results page: ``["back to search", "< prev" (page > 1), "next >", "b06y3vldfb", ...]``; of an
item page: ``["back to search", "< prev", "description", "features", "reviews", "buy now", <option values>]``.

Exercise: ``pytest tests/envs/webshop/test_env.py``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from lumos.envs.webshop.catalog import Product

PageKind = Literal["search", "results", "item", "item_sub", "done"]
SEP = " [SEP] "
PRODUCT_WINDOW = 10
BUY_NOW = "Buy Now"
NEXT_PAGE = "Next >"
PREV_PAGE = "< Prev"
BACK_TO_SEARCH = "Back to Search"
SUB_PAGES = ("Description", "Features", "Reviews", "Attributes")
_ASCII_SPACE = frozenset(" \n\t\f\r")


@dataclass(frozen=True)
class Clickable:
    """What a clickable text leads to: a button, a product link, or an option value (``option`` = its name)."""

    kind: Literal["button", "product", "option"]
    target: str
    option: str | None = None


@dataclass(frozen=True)
class Page:
    """One rendered page: its visible text items and its clickables (ordered, text -> ``Clickable``)."""

    kind: PageKind
    texts: tuple[str, ...]
    clickables: Mapping[str, Clickable] = field(default_factory=dict)

    @property
    def observation(self) -> str:
        return SEP.join(self.texts)


def visible(*raw: str | None) -> list[str]:
    """Text items of raw text nodes, as WebShop's text mode keeps them (None or "" -> no node)."""
    out = []
    for s in raw:
        if not s:
            continue
        if all(c in _ASCII_SPACE for c in s):
            if "\n" not in s:
                out.append("")
            continue
        out.append(s.strip())
    return out


def _instruction(instruction: str) -> list[str]:
    return visible("Instruction: ", instruction)


def _buttons(labels: Iterable[str]) -> dict[str, Clickable]:
    return {label.lower(): Clickable("button", label) for label in labels}


def search_page(instruction: str) -> Page:
    """The start page: the instruction and the search box."""
    return Page("search", tuple(visible("WebShop") + _instruction(instruction) + visible("Search")),
                _buttons(["Search"]))


def results_page(instruction: str, products: Sequence[Product], page: int, total: int) -> Page:
    """Search results page ``page`` (``products`` = the up to 10 on it; ``total`` = results found, at most 50)."""
    nav = [PREV_PAGE, NEXT_PAGE] if page > 1 else [NEXT_PAGE]
    texts = _instruction(instruction) + visible(BACK_TO_SEARCH, f"Page {page} (Total results: {total})", *nav)
    clickables = _buttons([BACK_TO_SEARCH, *nav])
    for p in products:
        texts += visible(p.asin, p.title, p.price_tag)
        clickables[p.asin.lower()] = Clickable("product", p.asin)
    return Page("results", tuple(texts), clickables)


def item_page(instruction: str, product: Product, *, show_attrs: bool = False) -> Page:
    """A product's page: options, title, price, rating, sub-page buttons and Buy Now."""
    texts = _instruction(instruction) + visible(BACK_TO_SEARCH, PREV_PAGE)
    for name, values in product.options.items():
        texts += visible(name, *values)
    subs = [s for s in SUB_PAGES if show_attrs or s != "Attributes"]
    texts += visible(product.title, f"Price: {product.price_tag}", f"Rating: {product.rating}", *subs, BUY_NOW)
    clickables = _buttons([BACK_TO_SEARCH, PREV_PAGE, *subs, BUY_NOW])
    for name, values in product.options.items():
        for value in values:
            clickables[value] = Clickable("option", value, option=name)
    return Page("item", tuple(texts), clickables)


def sub_page(instruction: str, product: Product, which: str) -> Page:
    """The Description, Features, Reviews or Attributes page of a product."""
    texts = _instruction(instruction) + visible(BACK_TO_SEARCH, PREV_PAGE)
    if which == "Description":
        texts += visible(product.description)
    elif which == "Features":
        texts += visible(*(f" {b}" for b in product.bullet_points))
    elif which == "Reviews":
        for r in product.reviews:
            texts += visible(f'"{r.get("title")}"', str(r.get("score")), r.get("body"))
    elif which == "Attributes":
        texts += visible(*(f" {a}" for a in product.attributes), product.category, product.query, product.product_category)
    else:
        raise ValueError(f"unknown sub-page {which!r}; expected one of {SUB_PAGES}")
    return Page("item_sub", tuple(texts), _buttons([BACK_TO_SEARCH, PREV_PAGE]))


def _tojson(options: Mapping[str, str]) -> str:
    """Flask's ``tojson`` filter: sorted keys, ASCII only, ``<>&'`` escaped."""
    text = json.dumps(dict(options), sort_keys=True, ensure_ascii=True)
    for ch, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("'", "\\u0027")):
        text = text.replace(ch, esc)
    return text


def done_page(asin: str, options: Mapping[str, str], reward: float) -> Page:
    """The page after Buy Now (WebShop's thank-you page, hidden details included, no clickables)."""
    texts = visible(
        "Thank you for shopping with us!", "Your code: ", "None", "(Paste it in your MTurk interface.)",
        "Purchased", "asin", asin, "options", _tojson(options), "attrs", "None", "category", "None", "query", "None",
        "product category", "None", "Target", "asin", "options", "attrs", "price upper", "instuction text",
        "category", "product category", "query", "Goal", "None", "Reward", "Your score (min 0.0, max 1.0)",
        str(reward), "Reward Details", "None")
    return Page("done", tuple(texts), {})
