"""The InterCode-SQL environment: one session per question, and the agent's tools over it.

    >>> backend = make_backend("sqlite", dump=dump)                 # once per run, shared
    >>> session = SqlSession(backend, question)                     # one per episode
    >>> session.reset()
    'We have 2 SQL tables: people, poker_player.'
    >>> tools = sql_tools(session)                                   # {"SHOW TABLES", "DESCRIBE", "SELECT"}
    >>> session.execute("SELECT Name FROM people ORDER BY Height DESC LIMIT 1").rows
    [('Aleksey Ostapenko',)]
    >>> session.answer, session.score()                              # 1 of the 5 gold rows: IoU 0.2
    ('SELECT Name FROM people ORDER BY Height DESC LIMIT 1', {'reward': 0.2, 'success': 0.0})
    >>> session.close()

The session is bound to its question's database (``USE other`` switches, as on InterCode's server). Every statement
it runs is recorded; ``answer`` is the last complete query (a statement the ``SELECT`` tool ran), and ``score()``
is InterCode's reward of that query's observation against the gold query, run afterwards on the same connection.
The environment never ends an episode by itself (``terminated`` stays False): the loop's caps do.

Tools (``cacheable = False``: they read the session): ``SHOW TABLES`` -> the table names; ``DESCRIBE`` -> the
columns as ``"Name (type: TEXT)"`` (the form of ``instruction_icode_sql``), the server's full rows in the result's
``extra``; ``SELECT`` -> InterCode's observation text (``"[('Teodor Salparov',), ...]"`` or ``"Error executing
query: ..."``, at most ``max_display_rows`` rows shown). A failing statement is an observation value; ``ToolError``
is raised only when the session is not open.

Exercise: ``pytest tests/envs/test_sql_env.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lumos.envs.sql.actions import DESCRIBE, SELECT, SHOW_TABLES, sql_operation, statement_text
from lumos.envs.sql.backend import QueryResult, SqlBackend, SqlConnection
from lumos.envs.sql.data import SqlQuestion
from lumos.envs.sql.reward import is_success
from lumos.envs.sql.score import gold_reward
from lumos.formats.prompts import sql_environment_description
from lumos.tools.base import ToolCall, ToolError, ToolOutput

DEFAULT_DISPLAY_ROWS = 50


@dataclass(frozen=True)
class Step:
    """One executed statement of a session."""

    sql: str
    operation: str
    rows: int | None
    error: str | None
    truncated: bool
    elapsed_s: float


@dataclass
class SqlSession:
    """An episode's environment (``reset`` / ``close`` / ``terminated`` / ``info``) over a shared backend."""

    backend: SqlBackend
    question: SqlQuestion
    history: list[Step] = field(default_factory=list)
    answer: str | None = None
    """The last complete query (run by the ``SELECT`` tool or ``execute(..., final=True)``)."""
    answer_result: QueryResult | None = None
    terminated: bool = False
    _conn: SqlConnection | None = field(default=None, repr=False)
    _tables: list[str] = field(default_factory=list, repr=False)

    def reset(self) -> str:
        """Open a connection to the question's database; the initial observation lists its tables."""
        self.close()
        self.history.clear()
        self.answer, self.answer_result = None, None
        self._conn = self.backend.connect(self.question.db)
        shown = self._conn.execute("SHOW TABLES")
        self._tables = [str(r[0]) for r in shown.rows or []]
        return sql_environment_description(self._tables)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    @property
    def is_open(self) -> bool:
        return self._conn is not None

    @property
    def tables(self) -> list[str]:
        return list(self._tables)

    @property
    def info(self) -> dict[str, Any]:
        return {"db": self.question.db, "statements": len(self.history), "answer": self.answer,
                "errors": sum(1 for s in self.history if s.error)}  # fmt: skip

    def execute(self, sql: str, *, final: bool | None = None) -> QueryResult:
        """Run one statement on the session's connection and record it.

        Args:
            sql: the statement.
            final: whether it is a complete query that becomes ``answer`` (default: when it is a SELECT/WITH).

        Raises:
            ToolError: the session is not open (``reset`` not called, or closed).
        """
        if self._conn is None:
            raise ToolError(f"the SQL session of question {self.question.index} is not open (reset() it first)")
        result = self._conn.execute(sql)
        operation = sql_operation(sql)
        self.history.append(Step(sql, operation, len(result.rows) if result.rows is not None else None, result.error,
                                 result.truncated, round(result.elapsed_s, 4)))  # fmt: skip
        is_final = operation == SELECT if final is None else final
        if is_final:
            self.answer, self.answer_result = sql, result
        return result

    def score(self) -> dict[str, float]:
        """InterCode's reward of the answer (0 without one) and success (reward == 1), as floats."""
        if self.answer_result is None:
            return {"reward": 0.0, "success": 0.0}
        conn = self._conn or self.backend.connect(self.question.db)
        try:
            gold = conn.execute(self.question.gold)
        finally:
            if conn is not self._conn:
                conn.close()
        reward = gold_reward(self.answer_result.observation, gold)
        return {"reward": reward, "success": float(is_success(reward))}


def render_observation(result: QueryResult, max_rows: int = DEFAULT_DISPLAY_ROWS) -> str:
    """InterCode's observation as text, with at most ``max_rows`` rows shown (``... (n rows in total)``)."""
    obs = result.observation
    if not isinstance(obs, list):
        return "None" if obs is None else str(obs)
    if len(obs) <= max_rows and not result.truncated:
        return str(obs)
    total = f"more than {result.max_rows}" if result.truncated else str(len(obs))
    return f"{str(obs[:max_rows])[:-1]}, ... ({total} rows in total)]"


class _SqlTool:
    """A tool that runs its action's statement in the session."""

    name = ""
    cacheable = False

    def __init__(self, session: SqlSession, max_display_rows: int = DEFAULT_DISPLAY_ROWS) -> None:
        self.session = session
        self.max_display_rows = max_display_rows

    def _run(self, call: ToolCall) -> tuple[str, QueryResult]:
        sql = statement_text(call.action, call.variables)
        return sql, self.session.execute(sql, final=self.name == SELECT)

    def _extra(self, sql: str, result: QueryResult) -> dict[str, Any]:
        return {"sql": sql, "rows": len(result.rows) if result.rows is not None else None, "sql_error": result.error,
                "truncated": result.truncated, "elapsed_s": round(result.elapsed_s, 4)}  # fmt: skip


class ShowTables(_SqlTool):
    """``SHOW TABLES``: the database's table names (the error text if the statement fails)."""

    name = SHOW_TABLES

    def __call__(self, call: ToolCall) -> ToolOutput:
        sql, result = self._run(call)
        value: Any = [str(r[0]) for r in result.rows] if result.ok and result.rows is not None else render_observation(result)
        return ToolOutput(value, extra=self._extra(sql, result))


class Describe(_SqlTool):
    """``DESCRIBE t``: ``["uid (type: INT)", ...]``; the server's rows go to ``extra["describe"]``."""

    name = DESCRIBE

    def __call__(self, call: ToolCall) -> ToolOutput:
        sql, result = self._run(call)
        extra = self._extra(sql, result)
        if not result.ok or result.rows is None:
            return ToolOutput(render_observation(result), extra=extra)
        extra["describe"] = [[None if v is None else str(v) for v in r] for r in result.rows]
        return ToolOutput([f"{r[0]} (type: {str(r[1]).upper()})" for r in result.rows], extra=extra)


class Select(_SqlTool):
    """``SELECT ...``: runs the query (it becomes the episode's answer); InterCode's observation as text."""

    name = SELECT

    def __call__(self, call: ToolCall) -> ToolOutput:
        sql, result = self._run(call)
        return ToolOutput(render_observation(result, self.max_display_rows), extra=self._extra(sql, result))


def sql_tools(session: SqlSession, *, max_display_rows: int = DEFAULT_DISPLAY_ROWS) -> dict[str, _SqlTool]:
    """The episode's tools, keyed by the action names of ``instruction_icode_sql`` (``GROUND_ACTIONS_SQL``)."""
    return {cls.name: cls(session, max_display_rows) for cls in (ShowTables, Describe, Select)}
