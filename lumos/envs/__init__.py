"""Stateful environments the agent acts in (one package per benchmark: ``webshop``, ``mind2web``, ``sql``).

Each environment offers a per-episode session with ``reset() -> str``, ``close()``, ``terminated`` and
``info``, built over read-only resources (catalogue, index, database) that are loaded once per run.
"""
