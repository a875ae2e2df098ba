"""lumos: unified, modular training and evaluation of open-source language agents (Agent Lumos)."""

__version__ = "0.1.0"
