"""``python -m eval.strategyqa.run_eval``: the original entry point for strategyqa."""
