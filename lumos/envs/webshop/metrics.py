"""WebShop's scores over episodes: mean reward (reported x100, as the paper does) and success rate (reward = 1).

Every goal counts: an episode that never bought anything, or failed, scores 0. One episode record
(as the scripted policy and the evaluation write them) carries ``"reward"``; e.g. ``{"goal_index": 3,
"reward": 0.5, ...}``.

    >>> aggregate([1.0, 0.5, 0.0, 0.0])["reward_x100"]
    37.5

Exercise: ``pytest tests/envs/webshop/test_metrics.py``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

SUCCESS_REWARD = 1.0


def is_success(reward: float) -> bool:
    """A purchase that earned the full reward."""
    return reward == SUCCESS_REWARD


def _mean_ci(values: Sequence[float]) -> tuple[float, float]:
    """Mean and the half-width of its normal-approximation 95% interval (0 for fewer than two values)."""
    n = len(values)
    mean = sum(values) / n
    if n < 2:
        return mean, 0.0
    var = sum((v - mean) ** 2 for v in values) / (n - 1)
    return mean, 1.96 * math.sqrt(var / n)


def aggregate(rewards: Sequence[float | None]) -> dict[str, Any]:
    """Mean reward and success rate over all episodes (``None`` = no purchase = 0), with 95% intervals.

    Raises:
        ValueError: no episodes.
    """
    if not rewards:
        raise ValueError("no WebShop episodes to score")
    values = [float(r) if r is not None else 0.0 for r in rewards]
    mean, mean_ci = _mean_ci(values)
    wins = [1.0 if is_success(v) else 0.0 for v in values]
    sr, sr_ci = _mean_ci(wins)
    return {
        "n": len(values),
        "n_purchased": sum(1 for r in rewards if r is not None),
        "mean_reward": mean,
        "reward_x100": 100 * mean,
        "reward_x100_ci95": 100 * mean_ci,
        "success_rate": sr,
        "success_rate_x100": 100 * sr,
        "success_rate_x100_ci95": 100 * sr_ci,
    }
