"""InterCode-SQL (Spider dev, 1,034 questions over 20 databases): an unseen task for the unified model.

Element of ``ic_spider_dev.json`` (the id of a question is its index)::

    {"db": "concert_singer", "query": "How many singers do we have?", "gold": "SELECT count(*) FROM singer",
     "hardness": "easy", "db_tables": {...}}

Each episode opens a session on its question's database (``lumos.envs.sql``: SQLite files converted once from
the MySQL dump by default, or a MySQL/MariaDB server with ``--sql_backend mysql --sql_url ...``). The Initial
Environment Description lists the database's tables; the grounding module writes ``instruction_icode_sql``'s
actions (``R1 = SHOW TABLES; R2 = DESCRIBE singer; R3 = Name FROM singer; R4 = SELECT ...``), clause actions are
carried as values, and later grounding requests list earlier results (the columns ``DESCRIBE`` returned). The
answer is the episode's last complete query; metrics are InterCode's reward and success (reward = 1) over all
questions (failures 0) and by Spider hardness. Lumos-I cap: 10 subgoals (InterCode's default turn budget).
Default modules: ``lumos_unified_*``; ``--module_domain maths|complex_qa|web_agent`` compares the others.

Run: ``python -m eval.intercode_sql.run_eval --data_dir $LUMOS_DATA_DIR --model_name_or_path models --max_num_examples 5``.
Score other systems' queries: ``python -m eval.intercode_sql.score``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from lumos.agent.episode import Episode, StandardDialogue
from lumos.benchmarks.base import Benchmark, Dataset, Example, MetricSpec, register_benchmark
from lumos.envs.sql import SqlSession, find_data, find_dump, load_questions, make_backend, parse_sql_actions, sql_tools
from lumos.envs.sql.data import SqlQuestion

if TYPE_CHECKING:
    from lumos.runtime import RunContext


@dataclass
class SqlOptions:
    """InterCode-SQL options."""

    sql_backend: Literal["sqlite", "mysql"] = field(default="sqlite", metadata={"help": (
        "sqlite (embedded, the dump converted once per database) or mysql (a MySQL/MariaDB server, InterCode's "
        "setting; scripts/start_mariadb.sh starts one)")})
    sql_url: str | None = field(default=None, metadata={"help": "mysql://USER:PASS@HOST:PORT for --sql_backend mysql"})
    sql_dump: str | None = field(default=None, metadata={"help": "the MySQL dump (default: beside the data file)"})
    sql_timeout_s: float = field(default=10.0, metadata={"help": "time limit of one statement"})
    sql_max_rows: int = field(default=100_000, metadata={"help": "rows kept of one result (more: an error)"})


def load(data_dir: Path | None, options: object = None) -> Dataset:
    path = find_data(data_dir)
    questions = load_questions(path)
    return Dataset(tuple(q.to_example() for q in questions), path,
                   info={"databases": len({q.db for q in questions})})


def _listed(value: Any) -> str | None:
    """A listed earlier result: table or column lists joined, query results as InterCode's text."""
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return None if value is None else str(value).strip() or None


def sql_episode(bench: Benchmark, example: Example, ctx: RunContext) -> Episode:
    opts: SqlOptions = ctx.options or SqlOptions()

    def build_backend() -> Any:
        data_file = find_data(ctx.config.data_dir)
        dump = find_dump(data_file, opts.sql_dump) if opts.sql_backend == "sqlite" else None
        backend = make_backend(opts.sql_backend, dump=dump, url=opts.sql_url, timeout_s=opts.sql_timeout_s,
                               max_rows=opts.sql_max_rows)
        ctx.record("sql_backend", backend.describe())
        return backend

    backend = ctx.shared("sql_backend", build_backend)
    question = SqlQuestion(index=int(example.id), db=example.metadata["db"], question=example.question,
                           gold=example.answer, hardness=str(example.metadata.get("hardness", "")))
    session = SqlSession(backend, question)
    return Episode(example=example, task=example.question, tools=sql_tools(session), scorer=lambda ep: session.score(),
                   dialogue=StandardDialogue("intercode_sql", list_earlier_results=True, result_text=_listed,
                                             action_parser=parse_sql_actions),
                   observation=None, env=session, max_subgoals=bench.max_subgoals,
                   extract=lambda ep: session.answer)


INTERCODE_SQL = register_benchmark(Benchmark(
    name="intercode_sql", domain="unified", load=load, make_episode=sql_episode,
    metrics=(MetricSpec("success"), MetricSpec("reward")), primary="success", max_subgoals=10,
    formulations=("lumos_iterative", "lumos_onetime"), options=SqlOptions, rescore=False, groups=("hardness",)))
