"""InterCode-SQL's reward, exactly as InterCode's ``SqlEnv.get_reward`` computes it.

Both results are lists of row tuples; every row is compared as its Python ``str``
(``"('Teodor Salparov',)"``). With ``A`` the agent's rows and ``G`` the gold rows as multisets:

* both empty: reward 1;
* otherwise reward = |A ∩ G| / |A ∪ G| (multiset intersection: smaller count; union: larger count);
* if the intersection is not empty, the reward is multiplied by Kendall's tau-b (``scipy.stats.kendalltau``,
  ``nan_policy='omit'``) between the common rows as they appear in the agent's list and in the gold list —
  paired position by position, each ranked by its string — and rounded to 2 decimals; when tau is NaN
  (one common row, or all common rows equal) the reward is left unscaled.

So row order counts even when the gold query has no ``ORDER BY``: two rows in swapped order give tau = -1 and
reward -1.0. An agent observation that is not a list (an error message, or ``None`` for a statement without
a result set) gets 0. A gold query that fails counts as an empty result (InterCode reads the cursor's
description after the error, which is then empty), so an empty agent result scores 1 against it.
Success = reward == 1.

    >>> intercode_reward([(1,), (2,)], [(1,), (2,)])
    1.0
    >>> intercode_reward([(2,), (1,)], [(1,), (2,)])
    -1.0

Exercise: ``pytest tests/envs/test_sql_reward.py``.
"""

from __future__ import annotations

import math
import warnings
from collections import Counter
from collections.abc import Sequence
from typing import Any


def _common_in_order(items: Sequence[str], common: Counter[str]) -> list[str]:
    """The items of ``items`` that are in the multiset ``common``, in order, each used at most its count."""
    left = Counter(common)
    out = []
    for item in items:
        if left[item] > 0:
            left[item] -= 1
            out.append(item)
    return out


def intercode_reward(agent_obs: Any, gold_obs: Any) -> float:
    """InterCode's SQL reward of the agent's observation against the gold query's observation.

    Args:
        agent_obs: the agent's last observation: a list of row tuples, or an error string / None.
        gold_obs: the gold query's rows (a list; pass ``[]`` when the gold query failed, as InterCode does).

    Returns:
        A float in [-1, 1]; 1.0 means success.
    """
    if not isinstance(agent_obs, list) or not isinstance(gold_obs, list):
        return 0.0
    agent = [str(x) for x in agent_obs]
    gold = [str(x) for x in gold_obs]
    dist_agent, dist_gold = Counter(agent), Counter(gold)
    intersection = dist_agent & dist_gold
    union = dist_agent | dist_gold
    if not union:
        return 1.0
    reward = sum(intersection.values()) * 1.0 / sum(union.values())
    if intersection:
        from scipy.stats import kendalltau

        agent_common = _common_in_order(agent, intersection)
        gold_common = _common_in_order(gold, intersection)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # scipy warns on a single common row; tau is NaN then
            tau = kendalltau(agent_common, gold_common, nan_policy="omit").statistic
        if isinstance(tau, float) and not math.isnan(tau):
            reward = round(tau * reward, 2)
    return float(reward)


def is_success(reward: float) -> bool:
    """InterCode's success: reward exactly 1."""
    return reward == 1
