"""Data commands with the original's names: ``python -m data.prompt_convertion``, ``python -m data.process_for_train``,
``python -m data.download``. They are thin shims over ``lumos.conversion``; the data they write lives under
``data/train/`` (git-ignored) and ``data/eval/``, and the demo data the repository ships under ``data/demo/``."""
