"""``python -m eval.hotpotqa.run_eval``: the original entry point for hotpotqa."""
