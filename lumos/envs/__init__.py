"""Stateful benchmark environments: one session per episode, shared read-only resources built once per run."""
