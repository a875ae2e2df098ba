"""InterCode-SQL over Spider dev: backends, InterCode's reward, the scorer and the episode's session and tools.

* ``backend`` — ``make_backend("sqlite" | "mysql", ...)``, ``QueryResult``; ``sqlite`` / ``mysql`` — the two backends
* ``dump``    — the MySQL dump parser; ``data`` — questions (``load_questions``, ``find_data``, ``find_dump``)
* ``reward``  — ``intercode_reward`` (InterCode's definition), ``is_success``
* ``score``   — ``score_query``, ``score_predictions``, the ``python -m eval.intercode_sql.score`` CLI
* ``compare`` — how often the backends disagree, by class (``python -m lumos.envs.sql.compare``)
* ``actions`` — ``parse_sql_actions`` (``R1 = SHOW TABLES; R2 = DESCRIBE t; ...``); ``env`` — ``SqlSession``, ``sql_tools``

Design notes, measured numbers and the differences from InterCode: docs/intercode_sql.md.
"""

from lumos.envs.sql.actions import SQL_ACTIONS, SqlAction, parse_sql_actions, render_sql_actions
from lumos.envs.sql.backend import QueryResult, SqlBackend, SqlBackendError, make_backend
from lumos.envs.sql.data import SqlQuestion, find_data, find_dump, load_questions
from lumos.envs.sql.env import SqlSession, sql_tools
from lumos.envs.sql.reward import intercode_reward, is_success
from lumos.envs.sql.score import score_predictions, score_query

__all__ = [
    "SQL_ACTIONS",
    "QueryResult",
    "SqlAction",
    "SqlBackend",
    "SqlBackendError",
    "SqlQuestion",
    "SqlSession",
    "find_data",
    "find_dump",
    "intercode_reward",
    "is_success",
    "load_questions",
    "make_backend",
    "parse_sql_actions",
    "render_sql_actions",
    "score_predictions",
    "score_query",
    "sql_tools",
]
