"""Command lines of the shop: play it, run the scripted policy, score purchases with WebShop's reward.

    python -m lumos.envs.webshop play --data_dir ../shared/data/webshop --goal_index 3
    python -m lumos.envs.webshop scripted --data_dir ../shared/data/webshop --split test --save_dir results/webshop/scripted
    python -m eval.webshop.reward --data_dir ../shared/data/webshop --pairs pairs.jsonl

A line of ``--pairs``: ``{"goal": {<WebShop goal dict>}, "asin": "B09QQP3356", "options": {"color": "black"}}``
(optional ``"price"``: else the catalogue's price); the reward command prints one line per input:
``{"reward": 0.75, "r_type": 1.0, "r_att": 0.5, "r_option": 1.0, "r_price": 1.0}``.

The scripted policy searches the goal's ``query`` (``--query_from instruction``: the instruction), opens the
first result and buys it without choosing options. It writes ``episodes.jsonl`` (one line per goal, appended
as it goes; a rerun skips goals already there) and ``metrics.json`` (mean reward x100 and success rate over
all goals of the split).
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from lumos.envs.webshop.catalog import WebShopFiles, generate_prices, load_products
from lumos.envs.webshop.env import DEFAULT_SEED, EpisodeOver, WebShop, WebShopSession
from lumos.envs.webshop.goals import SPLITS, Goal
from lumos.envs.webshop.metrics import aggregate
from lumos.envs.webshop.reward import RewardScorer
from lumos.envs.webshop.search import SEARCH_ENGINES
from lumos.utils.io import DataFormatError, append_jsonl, cut_torn_tail, git_commit, iter_jsonl, read_jsonl, write_json

logger = logging.getLogger(__name__)


def _shop_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data_dir", required=True, help="folder with WebShop's files (or its webshop/ sub-folder)")
    p.add_argument("--goals", default="auto", choices=("auto", "human", "synthetic"),
                   help="auto: human goals when the full items_human_ins.json is present, else synthetic")
    p.add_argument("--search_engine", default="bm25s", choices=SEARCH_ENGINES)
    p.add_argument("--index_dir", default=None, help="pyserini index folder (built there when empty)")
    p.add_argument("--num_products", type=int, default=None, help="use only the first N products")
    p.add_argument("--spacy_model", default=None, help="spaCy pipeline of the reward (default: first installed)")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, help="seed of the price draws")


def _load_shop(args: argparse.Namespace) -> WebShop:
    return WebShop.load(args.data_dir, goals=args.goals, search_engine=args.search_engine, index_dir=args.index_dir,
                        num_products=args.num_products, spacy_model=args.spacy_model, seed=args.seed)


# --------------------------------------------------------------------------------------------
# play
# --------------------------------------------------------------------------------------------
def play(session: WebShopSession, inp: TextIO = sys.stdin, out: TextIO = sys.stdout) -> float | None:
    """Interactive loop: show the observation and clickables, read an action; returns the reward (None: quit)."""
    obs = session.reset()
    while True:
        out.write(f"\n{obs}\nclickables: {session.clickables}\naction (search[...] / click[...] / quit)> ")
        out.flush()
        line = inp.readline()
        if not line or line.strip() in ("quit", "exit"):
            return None
        obs, reward, terminated, info = session.step(line.strip())
        if not info["valid"]:
            out.write("(not a valid action here; nothing changed)\n")
        if terminated:
            out.write(f"\n{obs}\n\nreward {reward:.4f}: {json.dumps({k: info[k] for k in ('r_type', 'r_att', 'r_option', 'r_price')})}\n")
            return reward


def play_main(argv: Sequence[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m lumos.envs.webshop play", description="Play the text shop.")
    _shop_args(p)
    p.add_argument("--goal_index", type=int, default=None, help="goal to shop for (default: a random one)")
    args = p.parse_args(argv)
    shop = _load_shop(args)
    k = args.goal_index if args.goal_index is not None else random.randrange(len(shop.goals))
    print(f"goal {k} of {len(shop.goals)} ({shop.goal_kind})")
    play(shop.session(k))
    return 0


# --------------------------------------------------------------------------------------------
# scripted policy
# --------------------------------------------------------------------------------------------
def scripted_episode(session: WebShopSession, *, query_from: str = "query") -> dict[str, Any]:
    """Search, open the first result, buy it; returns the episode record (reward 0 when nothing was found)."""
    goal = session.goal
    obs = session.reset()
    query = goal.query if query_from == "query" else session.instruction
    observations, actions = [obs], []
    products = [c for c, t in session.page.clickables.items() if t.kind == "product"]
    for action in (f"search[{query}]", "first result", "click[buy now]"):
        if action == "first result":
            products = [c for c, t in session.page.clickables.items() if t.kind == "product"]
            if not products:
                break
            action = f"click[{products[0]}]"
        actions.append(action)
        obs, _, terminated, _ = session.step(action)
        observations.append(obs)
        if terminated:
            break
    info = session.info
    return {"goal_index": session.goal_index, "instruction": session.instruction, "goal": goal.to_dict(),
            "actions": actions, "observations": observations, "terminated": session.terminated,
            "purchased": info.get("asin"), "purchased_options": info.get("options"),
            "reward": info.get("reward", 0.0) if session.terminated else 0.0,
            "reward_info": {k: info[k] for k in ("r_type", "r_att", "r_option", "r_price", "w_att", "w_option",
                                                 "w_price", "query_match", "category_match", "title_score")
                            if k in info}}


def run_scripted(shop: WebShop, indices: Sequence[int], save_dir: Path, *, query_from: str = "query") -> dict[str, Any]:
    """Run the scripted policy over ``indices``, appending to ``save_dir/episodes.jsonl`` (resumable)."""
    from tqdm import tqdm

    path = save_dir / "episodes.jsonl"
    cut_torn_tail(path)
    done = {r["goal_index"] for r in read_jsonl(path, skip_invalid_tail=True)} if path.exists() else set()
    todo = [k for k in indices if k not in done]
    logger.info("%d of %d goals already done in %s", len(indices) - len(todo), len(indices), path)
    t0 = time.perf_counter()
    for k in tqdm(todo, desc="scripted WebShop"):
        session = shop.session(k)
        try:
            record = scripted_episode(session, query_from=query_from)
        finally:
            session.close()
        append_jsonl(path, [record])
    elapsed = time.perf_counter() - t0
    by_goal = {r["goal_index"]: r for r in read_jsonl(path, skip_invalid_tail=True)}
    rewards = [by_goal[k]["reward"] if k in by_goal else None for k in indices]
    return {"episodes_run": len(todo), "seconds": elapsed, **aggregate(rewards)}


def scripted_main(argv: Sequence[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m lumos.envs.webshop scripted",
                                description="Scripted policy: search, open the first result, buy.")
    _shop_args(p)
    p.add_argument("--split", default="test", choices=SPLITS)
    p.add_argument("--max_num_examples", type=int, default=None, help="first N goals of the split")
    p.add_argument("--query_from", default="query", choices=("query", "instruction"))
    p.add_argument("--save_dir", default="results/webshop/scripted")
    args = p.parse_args(argv)
    t0 = time.perf_counter()
    shop = _load_shop(args)
    load_seconds = time.perf_counter() - t0
    indices = list(shop.split(args.split))[: args.max_num_examples]
    save_dir = Path(args.save_dir)
    result = run_scripted(shop, indices, save_dir, query_from=args.query_from)
    metrics = {**result, "load_seconds": load_seconds, "split": args.split, "query_from": args.query_from,
               "goal_indices": [indices[0], indices[-1]] if indices else [], "shop": shop.describe(),
               "git_commit": git_commit()}
    write_json(save_dir / "metrics.json", metrics)
    print(json.dumps({k: metrics[k] for k in ("n", "reward_x100", "success_rate_x100", "n_purchased")}))
    return 0


# --------------------------------------------------------------------------------------------
# reward
# --------------------------------------------------------------------------------------------
def reward_main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m eval.webshop.reward",
                                description="WebShop's reward for goal / product / options triples (JSON lines).")
    p.add_argument("--data_dir", required=True, help="folder with WebShop's product and attribute files")
    p.add_argument("--pairs", required=True, help='JSONL: {"goal": {...}, "asin": "...", "options": {...}}')
    p.add_argument("--spacy_model", default=None)
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, help="seed of the price draws (as the shop)")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    files = WebShopFiles.discover(args.data_dir)
    products = load_products(files, human=False)
    by_asin = {x.asin: x for x in products}
    prices = generate_prices(products, random.Random(args.seed))
    scorer = RewardScorer(spacy_model=args.spacy_model)
    logger.info("spaCy pipeline: %s", scorer.model_name)
    for n, rec in iter_jsonl(args.pairs):
        where = f"{args.pairs}:{n}"
        for key, kind in (("goal", dict), ("asin", str), ("options", dict)):
            if not isinstance(rec.get(key), kind):
                raise DataFormatError(f"{where}: field {key!r} must be a JSON {'object' if kind is dict else 'string'}")
        if rec["asin"] not in by_asin:
            raise DataFormatError(f"{where}: field 'asin': {rec['asin']} is not in {files.products.name}")
        try:
            goal = Goal.from_dict(rec["goal"], where=f"{where}: field 'goal'")
            price = float(rec.get("price", prices[rec["asin"]]))
            result = scorer.score(by_asin[rec["asin"]], goal, price, rec["options"])
        except ValueError as e:
            raise DataFormatError(str(e) if str(e).startswith(where) else f"{where}: {e}") from None
        print(json.dumps(result.summary()), flush=True)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    commands = {"play": play_main, "scripted": scripted_main, "reward": reward_main}
    if not argv or argv[0] not in commands:
        print(f"usage: python -m lumos.envs.webshop {{{','.join(commands)}}} --data_dir D ...", file=sys.stderr)
        return 2
    if argv[0] != "reward":
        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        return commands[argv[0]](argv[1:])
    except (FileNotFoundError, DataFormatError, RuntimeError) as e:
        if isinstance(e, EpisodeOver):
            raise
        print(f"error: {e}", file=sys.stderr)
        return 1
