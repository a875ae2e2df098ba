"""Evaluate on InterCode-SQL with the original eval flags plus --sql_backend, --sql_url, --module_domain, ...

Run: ``python -m eval.intercode_sql.run_eval --help``. The logic is in ``lumos.evaluate`` and
``lumos.benchmarks.intercode_sql``.
"""

from lumos.evaluate import main

if __name__ == "__main__":
    main(benchmark="intercode_sql")
