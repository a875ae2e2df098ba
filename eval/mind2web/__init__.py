"""Mind2Web: ``python -m eval.mind2web.score`` (logic in ``lumos.envs.mind2web``)."""
