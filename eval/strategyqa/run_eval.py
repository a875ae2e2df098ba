"""Evaluate on strategyqa with the original flags (--data_dir, --max_num_examples, --save_dir, --model_name_or_path,
--eval_batch_size, --formulation) plus --backend, --prompt_style, --knowledge, --corpus, --qa_model, ...

Run: ``python -m eval.strategyqa.run_eval --help``. The logic is in ``lumos.evaluate``.
"""

import sys

from lumos.evaluate import main
from lumos.utils.cli import run_cli

if __name__ == "__main__":
    sys.exit(run_cli(main, prog="python -m eval.strategyqa.run_eval", benchmark="strategyqa"))
