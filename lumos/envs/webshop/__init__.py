"""WebShop as a text environment for Lumos: catalogue, goals, search, pages, reward, sessions and shop tools.

    >>> from lumos.envs.webshop import WebShop
    >>> shop = WebShop.load("../shared/data/webshop")           # built once per run
    >>> session = shop.session(0); session.reset()                # one per episode

Commands: ``python -m lumos.envs.webshop play|scripted --data_dir D``; ``python -m eval.webshop.reward``.
"""

from lumos.envs.webshop.catalog import Product, WebShopFiles, load_products
from lumos.envs.webshop.env import EpisodeOver, ShopTask, StepResult, WebShop, WebShopSession, parse_action
from lumos.envs.webshop.goals import Goal, build_goals, split_range
from lumos.envs.webshop.reward import Reward, RewardScorer, load_spacy, token_set_ratio
from lumos.envs.webshop.search import BM25sEngine, PyseriniEngine, make_search_engine

__all__ = [
    "BM25sEngine", "EpisodeOver", "Goal", "Product", "PyseriniEngine", "Reward", "RewardScorer", "ShopTask", "StepResult",
    "WebShop", "WebShopFiles", "WebShopSession", "build_goals", "load_products", "load_spacy",
    "make_search_engine", "parse_action", "split_range", "token_set_ratio",
]
