"""``python -m eval.gsm.run_eval``: the original entry point for gsm."""
