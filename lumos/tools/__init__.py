"""Execution tools: the functions behind the action names the grounding module writes."""
