"""WebShop's product catalogue: the raw product files turned into shop products, as WebShop's loader does.

A line of the raw product list (``items_shuffle_1000.json`` and the full ``items_shuffle.json`` are JSON
arrays of such objects)::

    {"asin": "B06Y3VLDFB", "name": "Vhomes Lights Reclaimed Wood Console Table ...", "pricing": "$877.8",
     "full_description": "Solid, Reclaimed Fir Wood ...", "small_description": ["Material:SOLID WOOD ", ...],
     "customization_options": "", "images": ["https://m.media-amazon.com/images/I/51Y1zY1ZdZL.jpg"],
     "category": "garden", "query": "console tables", "product_category": "Home & Kitchen › Furniture › ..."}

Processing (the same as WebShop's ``load_products``): products whose ASIN is ``"nan"`` or longer than ten
characters, and repeated ASINs, are skipped; ``pricing`` becomes one or two floats (``"$19.99$27.99"`` ->
``[19.99, 27.99]``, shown as ``"$19.99 to $27.99"``; none -> ``[100.0]``, ``"$100.0"``); options are
lower-cased with ``/`` shown as `` | ``; attributes come from ``items_ins_v2*.json`` (``["DUMMY_ATTR"]``
for a product missing there); human instructions (``items_human_ins.json``) and the synthetic instruction
of ``items_ins_v2*.json`` are attached for goal building. Reviews are empty and the rating is ``"N.A."``,
as in WebShop (its review loading is switched off).

Prices used for rewards and goals: a product with a price range gets one price drawn uniformly from it
(``generate_prices``). WebShop draws it from the unseeded global ``random``; here the draw uses a seeded
generator, in WebShop's order, so a run is repeatable (equal to WebShop's with ``random.seed(seed)`` set
before it builds the shop).

Exercise: ``pytest tests/envs/webshop/test_catalog.py``.
"""

from __future__ import annotations

import json
import logging
import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from lumos.utils.io import DataFormatError, read_json

logger = logging.getLogger(__name__)

DEFAULT_PRICE = 100.0
DUMMY_ATTRIBUTE = "DUMMY_ATTR"
_NOT_A_PRICE = re.compile(r"[^\d.]")

# File names, in order of preference: the full catalogue, WebShop's 1,000-product subset, and the offline
# reconstruction of that subset (see the README's WebShop section).
PRODUCT_FILES = ("items_shuffle.json", "items_shuffle_1000.json", "items_shuffle_1000.reconstructed.json")
ATTRIBUTE_FILES = {"items_shuffle.json": "items_ins_v2.json"}
HUMAN_FILES = ("items_human_ins.json", "items_human_ins.partial13.json")
DOCUMENT_FILES = {"items_shuffle.json": ("documents.jsonl",)}
_SMALL_ATTRIBUTES = "items_ins_v2_1000.json"
_SMALL_DOCUMENTS = ("search_engine_documents_1000.jsonl", "documents_1000.jsonl")


@dataclass(frozen=True)
class WebShopFiles:
    """The data files of one catalogue; ``human`` and ``documents`` are optional."""

    products: Path
    attributes: Path
    human: Path | None = None
    documents: Path | None = None

    @classmethod
    def discover(cls, data_dir: str | Path) -> WebShopFiles:
        """Find the files in ``data_dir`` (or its ``webshop/`` sub-folder).

        The full catalogue (``items_shuffle.json`` + ``items_ins_v2.json``) wins over the 1,000-product one
        (``items_shuffle_1000[.reconstructed].json`` + ``items_ins_v2_1000.json``). Human instructions:
        ``items_human_ins.json``, else ``items_human_ins.partial13.json``. Search documents: the file WebShop's
        indexer reads for that catalogue when present (``documents.jsonl`` / ``search_engine_documents_1000.jsonl``).

        Raises:
            FileNotFoundError: no product file, or its attribute file is missing (names what was looked for).
        """
        root = Path(data_dir)
        for base in (root, root / "webshop"):
            for name in PRODUCT_FILES:
                if (base / name).is_file():
                    return cls._from(base, name)
        raise FileNotFoundError(
            f"no WebShop product file in {root} (looked for {', '.join(PRODUCT_FILES)} there and in {root / 'webshop'}); "
            "run `python -m data.download --only webshop` on a machine with internet")

    @classmethod
    def _from(cls, base: Path, product_name: str) -> WebShopFiles:
        attributes = base / ATTRIBUTE_FILES.get(product_name, _SMALL_ATTRIBUTES)
        if not attributes.is_file():
            raise FileNotFoundError(f"{base / product_name} needs its attribute file {attributes}")
        human = next((base / n for n in HUMAN_FILES if (base / n).is_file()), None)
        docs = next((base / n for n in DOCUMENT_FILES.get(product_name, _SMALL_DOCUMENTS) if (base / n).is_file()), None)
        return cls(products=base / product_name, attributes=attributes, human=human, documents=docs)

    def to_dict(self) -> dict[str, str | None]:
        return {k: (str(v) if v is not None else None) for k, v in self.__dict__.items()}


@dataclass
class Product:
    """One shop product after WebShop's processing (field names follow WebShop's keys in the comments)."""

    asin: str
    title: str  # Title (= name)
    description: str  # Description (= full_description)
    bullet_points: list[str]  # BulletPoints (= small_description as a list)
    pricing: list[float]  # pricing: one price or a [low, high] range
    price_tag: str  # Price: "$19.99" or "$19.99 to $27.99"
    options: dict[str, list[str]]  # options: option name -> values (lower-cased)
    option_to_image: dict[str, str | None]
    attributes: list[str]  # Attributes
    category: str
    query: str  # lower-cased, stripped
    product_category: str
    main_image: str  # MainImage
    rating: str = "N.A."
    reviews: list[dict[str, Any]] = field(default_factory=list)
    human_instructions: list[dict[str, Any]] | None = None  # instructions (items_human_ins.json)
    instruction_text: str | None = None  # synthetic instruction (items_ins_v2)
    instruction_attributes: list[str] | None = None

    @property
    def name(self) -> str:
        return self.title

    def to_webshop_dict(self) -> dict[str, Any]:
        """The product as WebShop's processed dict (the keys its reward and templates read)."""
        return {
            "asin": self.asin, "name": self.title, "Title": self.title, "Description": self.description,
            "BulletPoints": list(self.bullet_points), "pricing": list(self.pricing), "Price": self.price_tag,
            "options": {k: list(v) for k, v in self.options.items()}, "option_to_image": dict(self.option_to_image),
            "Attributes": list(self.attributes), "category": self.category, "query": self.query,
            "product_category": self.product_category, "MainImage": self.main_image, "Rating": self.rating,
            "Reviews": list(self.reviews),
        }


def parse_pricing(pricing: Any, where: str) -> tuple[list[float], str]:
    """``"$19.99$27.99"`` -> ``([19.99, 27.99], "$19.99 to $27.99")``; empty -> ``([100.0], "$100.0")``.

    Raises:
        DataFormatError: a price that is not a number (``where`` names the product).
    """
    if not pricing:
        return [DEFAULT_PRICE], f"${DEFAULT_PRICE}"
    if not isinstance(pricing, str):
        raise DataFormatError(f"{where}: field 'pricing' must be a string like '$19.99', got {pricing!r}")
    try:
        values = [float(Decimal(_NOT_A_PRICE.sub("", part))) for part in pricing.split("$")[1:]]
    except InvalidOperation:
        raise DataFormatError(f"{where}: field 'pricing' has a price that is not a number: {pricing!r}") from None
    if not values:
        raise DataFormatError(f"{where}: field 'pricing' has no '$' price: {pricing!r}")
    if len(values) == 1:
        return values, f"${values[0]}"
    return values[:2], f"${values[0]} to ${values[1]}"


def parse_options(customization: Any, where: str) -> tuple[dict[str, list[str]], dict[str, str | None]]:
    """``{"Color": [{"value": "Navy/White", "image": url}]}`` -> ``({"color": ["navy | white"]}, {value: url})``."""
    options: dict[str, list[str]] = {}
    images: dict[str, str | None] = {}
    if not customization:
        return options, images
    if not isinstance(customization, Mapping):
        raise DataFormatError(f"{where}: field 'customization_options' must be an object, got {type(customization).__name__}")
    for name, contents in customization.items():
        if contents is None:
            continue
        values = []
        for content in contents:
            if not isinstance(content, Mapping) or "value" not in content:
                raise DataFormatError(f"{where}: option {name!r} has an entry without 'value': {content!r}")
            value = str(content["value"]).strip().replace("/", " | ").lower()
            values.append(value)
            images[value] = content.get("image")
        options[name.lower()] = values
    return options, images


def _require(raw: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in raw:
        raise DataFormatError(f"{where}: missing field {key!r}")
    return raw[key]


def process_products(
    raw_products: Sequence[Mapping[str, Any]],
    attributes: Mapping[str, Mapping[str, Any]],
    human: Mapping[str, list[dict[str, Any]]] | None = None,
    *,
    num_products: int | None = None,
    source: str = "products",
) -> list[Product]:
    """WebShop's product processing over already-parsed files (see the module docstring).

    Args:
        raw_products: the product list (``items_shuffle*.json``).
        attributes: ``asin -> {"attributes", "instruction", "instruction_attributes"}`` (``items_ins_v2*.json``).
        human: ``asin -> [human instruction records]`` (``items_human_ins.json``), optional.
        num_products: keep only the first N raw products (WebShop's ``num_products``).
        source: the file name used in error messages.

    Raises:
        DataFormatError: a product lacks a field WebShop reads, or has a malformed price or option list.
    """
    if num_products is not None:
        raw_products = raw_products[:num_products]
    seen: set[str] = set()
    out: list[Product] = []
    for i, raw in enumerate(raw_products):
        where = f"{source}[{i}]"
        if not isinstance(raw, Mapping):
            raise DataFormatError(f"{where}: expected a product object, got {type(raw).__name__}")
        asin = str(_require(raw, "asin", where))
        if asin == "nan" or len(asin) > 10 or asin in seen:
            continue
        seen.add(asin)
        where = f"{source}[{i}] (asin {asin})"
        small = _require(raw, "small_description", where)
        pricing, price_tag = parse_pricing(raw.get("pricing"), where)
        options, option_to_image = parse_options(_require(raw, "customization_options", where), where)
        images = _require(raw, "images", where)
        if not images:
            raise DataFormatError(f"{where}: field 'images' is empty (WebShop shows the first image)")
        attrs = attributes.get(asin)
        synthetic = attrs or {}
        out.append(Product(
            asin=asin,
            title=_require(raw, "name", where),
            description=_require(raw, "full_description", where),
            bullet_points=list(small) if isinstance(small, list) else [small],
            pricing=pricing,
            price_tag=price_tag,
            options=options,
            option_to_image=option_to_image,
            attributes=list(attrs["attributes"]) if attrs is not None and "attributes" in attrs else [DUMMY_ATTRIBUTE],
            category=_require(raw, "category", where),
            query=str(_require(raw, "query", where)).lower().strip(),
            product_category=_require(raw, "product_category", where),
            main_image=images[0],
            human_instructions=list(human[asin]) if human is not None and asin in human else None,
            instruction_text=synthetic.get("instruction"),
            instruction_attributes=synthetic.get("instruction_attributes"),
        ))
    return out


def load_products(files: WebShopFiles, *, num_products: int | None = None, human: bool = True) -> list[Product]:
    """Read and process the catalogue of ``files`` (``human=False`` skips the human-instruction file)."""
    raw = read_json(files.products)
    if not isinstance(raw, list):
        raise DataFormatError(f"{files.products}: expected a JSON array of products, got {type(raw).__name__}")
    attributes = read_json(files.attributes)
    if not isinstance(attributes, dict):
        raise DataFormatError(f"{files.attributes}: expected a JSON object asin -> attributes")
    human_map = read_json(files.human) if human and files.human is not None else None
    if human_map is not None and not isinstance(human_map, dict):
        raise DataFormatError(f"{files.human}: expected a JSON object asin -> [instructions]")
    products = process_products(raw, attributes, human_map, num_products=num_products, source=files.products.name)
    logger.info("loaded %d WebShop products from %s", len(products), files.products)
    return products


def generate_prices(products: Sequence[Product], rng: random.Random) -> dict[str, float]:
    """One price per product: its single price, or a uniform draw from its ``[low, high]`` range (in order)."""
    prices: dict[str, float] = {}
    for p in products:
        prices[p.asin] = p.pricing[0] if len(p.pricing) == 1 else rng.uniform(*p.pricing[:2])
    return prices


def product_document(p: Product) -> dict[str, str]:
    """The search document WebShop's indexer writes for a product: ``{"id": asin, "contents": text}``.

    ``contents`` is the lower-cased title, description, first bullet point and ``"name: v1, v2, and name2: ..."``
    option text, joined by spaces (a product without bullet points contributes an empty one; WebShop's
    indexer would stop there).
    """
    option_text = ", and ".join(f"{name}: {', '.join(values)}" for name, values in p.options.items())
    first_bullet = p.bullet_points[0] if p.bullet_points else ""
    return {"id": p.asin, "contents": " ".join([p.title, p.description, first_bullet, option_text]).lower()}


def read_documents(path: str | Path) -> list[dict[str, str]]:
    """``{"id", "contents"}`` of each line of a WebShop search-document file (the ``product`` field is ignored)."""
    path = Path(path)
    docs = []
    with path.open(encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as e:
                raise DataFormatError(f"{path}:{n}: not valid JSON ({e})") from None
            for key in ("id", "contents"):
                if not isinstance(rec.get(key), str):
                    raise DataFormatError(f"{path}:{n}: field {key!r} must be a string")
            docs.append({"id": rec["id"], "contents": rec["contents"]})
    return docs
