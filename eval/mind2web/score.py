"""``python -m eval.mind2web.score --data_dir D --predictions steps.jsonl [--split test_task]``.

Recomputes every Mind2Web metric from a ``steps.jsonl`` file; the logic is in ``lumos.envs.mind2web.score``.
"""

import sys

from lumos.envs.mind2web.score import main

if __name__ == "__main__":
    sys.exit(main())
