"""InterCode-SQL (Spider dev) evaluation entry points; the logic is in ``lumos.envs.sql``."""
