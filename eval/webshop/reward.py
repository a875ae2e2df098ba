"""``python -m eval.webshop.reward --data_dir D --pairs FILE``: WebShop's reward for goal / product / options lines.

    {"goal": {"asin": "B09QQP3356", "query": "hair extensions", ..., "goal_options": ["black"]}, "asin": "B09QQP3356", "options": {"color": "black"}}
    -> {"reward": 1.0, "r_type": 1.0, "r_att": 1.0, "r_option": 1.0, "r_price": 1.0}

Logic: ``lumos.envs.webshop.reward`` (``RewardScorer``) and ``lumos.envs.webshop.commands.reward_main``.
"""

import sys

from lumos.envs.webshop.commands import main

if __name__ == "__main__":
    sys.exit(main(["reward", *sys.argv[1:]]))
