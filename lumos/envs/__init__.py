"""Stateful task environments (one session per episode over a resource shared by the run): ``sql`` (InterCode-SQL)."""
