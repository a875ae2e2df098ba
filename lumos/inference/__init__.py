"""Inference backends behind one interface (``Backend``): hf (default), vllm, openai, scripted (tests)."""
