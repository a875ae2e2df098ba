"""Evaluate on gsm with the original flags (--data_dir, --max_num_examples, --save_dir, --model_name_or_path,
--eval_batch_size, --formulation) plus --backend, --prompt_style, --knowledge, --corpus, --qa_model, ...

Run: ``python -m eval.gsm.run_eval --help``. The logic is in ``lumos.evaluate``.
"""

from lumos.evaluate import main

if __name__ == "__main__":
    main(benchmark="gsm")
