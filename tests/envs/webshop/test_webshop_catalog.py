"""Product processing as WebShop's loader does it: prices, options, attributes, skipped rows, documents."""

from __future__ import annotations

import random

import pytest

from lumos.envs.webshop.catalog import (
    WebShopFiles,
    generate_prices,
    load_products,
    parse_options,
    parse_pricing,
    process_products,
    product_document,
    read_documents,
)
from lumos.utils.io import DataFormatError


def test_parse_pricing():
    assert parse_pricing("$19.99$27.99", "p") == ([19.99, 27.99], "$19.99 to $27.99")
    assert parse_pricing("$877.8", "p") == ([877.8], "$877.8")
    assert parse_pricing("$1,299.00", "p") == ([1299.0], "$1299.0")
    assert parse_pricing("$1$2$3", "p") == ([1.0, 2.0], "$1.0 to $2.0")
    assert parse_pricing("", "p") == ([100.0], "$100.0")
    assert parse_pricing(None, "p") == ([100.0], "$100.0")
    with pytest.raises(DataFormatError, match=r"items\[3\].*pricing"):
        parse_pricing("$", "items[3]")
    with pytest.raises(DataFormatError, match="no '\\$' price"):
        parse_pricing("12.5", "p")


def test_parse_options():
    opts, images = parse_options({"Color": [{"value": " Navy/White ", "image": "u1"}, {"value": "RED"}], "Size": None}, "p")
    assert opts == {"color": ["navy | white", "red"]}
    assert images == {"navy | white": "u1", "red": None}
    assert parse_options("", "p") == ({}, {})
    with pytest.raises(DataFormatError, match="without 'value'"):
        parse_options({"size": [{"image": "x"}]}, "p")


def _raw(asin, **kw):
    base = {"asin": asin, "name": f"Title {asin}", "full_description": "desc", "small_description": "one bullet",
            "pricing": "$5", "customization_options": "", "images": ["img"], "category": "c", "query": " Big Query ",
            "product_category": "A › B"}
    return {**base, **kw}


def test_process_products_skips_and_defaults():
    raw = [_raw("B1"), _raw("nan"), _raw("B12345678901"), _raw("B1", name="dup"), _raw("B2")]
    attrs = {"B1": {"attributes": ["soft"], "instruction": "Find me x", "instruction_attributes": ["soft"]}}
    products = process_products(raw, attrs, {"B2": [{"instruction": "i want"}]})
    assert [p.asin for p in products] == ["B1", "B2"]
    b1, b2 = products
    assert b1.title == "Title B1" and b1.bullet_points == ["one bullet"] and b1.query == "big query"
    assert b1.attributes == ["soft"] and b1.instruction_text == "Find me x" and b1.human_instructions is None
    assert b2.attributes == ["DUMMY_ATTR"] and b2.instruction_text is None and b2.human_instructions == [{"instruction": "i want"}]
    assert b1.rating == "N.A." and b1.reviews == []
    assert process_products(raw, attrs, num_products=1)[0].asin == "B1"
    with pytest.raises(DataFormatError, match=r"products\[0\] \(asin B9\): missing field 'images'"):
        process_products([{k: v for k, v in _raw("B9").items() if k != "images"}], {})


def test_generate_prices_draws_in_order():
    products = process_products([_raw("B1"), _raw("B2", pricing="$10$20"), _raw("B3", pricing="$30$40")], {})
    prices = generate_prices(products, random.Random(5))
    rng = random.Random(5)
    assert prices == {"B1": 5.0, "B2": rng.uniform(10, 20), "B3": rng.uniform(30, 40)}


def test_document_text():
    p = process_products([_raw("B1", customization_options={"Size": [{"value": "S"}, {"value": "M"}], "Color": [{"value": "Red"}]})], {})[0]
    assert product_document(p) == {"id": "B1", "contents": "title b1 desc one bullet size: s, m, and color: red"}


def test_offline_catalogue_hand_checked(webshop_data):
    files = WebShopFiles.discover(webshop_data.parent)
    assert files.products.name == "items_shuffle_1000.reconstructed.json"
    assert files.attributes.name == "items_ins_v2_1000.json" and files.human.name == "items_human_ins.partial13.json"
    products = load_products(files)
    by = {p.asin: p for p in products}
    assert len(products) == 1000 and products[0].asin == "B06Y3VLDFB"
    table = by["B06Y3VLDFB"]
    assert table.pricing == [877.8] and table.price_tag == "$877.8" and table.options == {}
    assert table.attributes == ["console table", "solid wood"] and table.query == "console tables"
    assert table.bullet_points[1] == "Material:SOLID WOOD " and len(table.bullet_points) == 4
    dress = by["B08ZRR3DZT"]
    assert dress.pricing == [19.99, 27.99] and dress.price_tag == "$19.99 to $27.99" and dress.description == ""
    assert dress.options == {"size": ["x-small", "small", "medium", "large", "x-large"],
                             "color": ["black", "light blue", "pink", "plain black", "red", "white", "chocolate brown", "khaki"]}
    assert dress.instruction_text == "Find me women's dresses with polyester spandex for daily wear"
    assert sum(p.human_instructions is not None for p in products) == 13
    assert sum(len(p.pricing) == 2 for p in products) == 93


def test_offline_documents_equal_built_ones(webshop_data):
    files = WebShopFiles.discover(webshop_data)
    assert read_documents(files.documents) == [product_document(p) for p in load_products(files)]


def test_discover_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no WebShop product file"):
        WebShopFiles.discover(tmp_path)
    (tmp_path / "items_shuffle_1000.json").write_text("[]")
    with pytest.raises(FileNotFoundError, match="items_ins_v2_1000.json"):
        WebShopFiles.discover(tmp_path)


def test_download_layout_is_discovered(tmp_path):
    from lumos.conversion.download import select_targets
    from lumos.envs.webshop.env import resolve_goal_kind

    targets = select_targets(["webshop"])
    assert {t.kind for t in targets} == {"gdrive"} and len(targets) == 5
    for t in targets:
        (tmp_path / t.dest).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / t.dest).write_text("[]")
    files = WebShopFiles.discover(tmp_path / "data" / "eval" / "webshop")
    assert (files.products.name, files.attributes.name, files.human.name) == (
        "items_shuffle.json", "items_ins_v2.json", "items_human_ins.json")
    assert resolve_goal_kind("auto", files) == "human"
