"""``python -m eval.svamp.run_eval``: the original entry point for svamp."""
