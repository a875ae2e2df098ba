"""Evaluate on InterCode-SQL with the original eval flags plus --sql_backend, --sql_url, --module_domain, ...

Run: ``python -m eval.intercode_sql.run_eval --help``. The logic is in ``lumos.evaluate`` and
``lumos.benchmarks.intercode_sql``.
"""

import sys

from lumos.evaluate import main
from lumos.utils.cli import run_cli

if __name__ == "__main__":
    sys.exit(run_cli(main, prog="python -m eval.intercode_sql.run_eval", benchmark="intercode_sql"))
