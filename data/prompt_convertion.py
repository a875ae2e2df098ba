"""``python -m data.prompt_convertion``: convert raw benchmark data into subgoal/action annotations.

The original's command and flags (the misspelling is kept), plus ``--backend openai|rule``, ``--model``,
``--base_url``, ``--concurrency``, ``--max_retries``, ``--output``. Logic: ``lumos.conversion.convert``.

    python -m data.prompt_convertion --domain maths --data_fn ../shared/data/gsm8k/train.jsonl --convert_all --backend rule
"""

import sys

from lumos.conversion.convert import main

if __name__ == "__main__":
    sys.exit(main())
