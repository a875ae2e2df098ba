"""Score SQL queries on InterCode-SQL with InterCode's reward (success = reward 1), overall and by Spider hardness.

Run: ``python -m eval.intercode_sql.score --data_dir ../shared/data --predictions preds.jsonl [--sql_backend mysql
--sql_url mysql://lumos_ro:lumos_ro@127.0.0.1:3399]``; a line of ``preds.jsonl``: ``{"id": 0, "query": "SELECT ..."}``.
The logic is in ``lumos.envs.sql.score``.
"""

import sys

from lumos.envs.sql.score import main

if __name__ == "__main__":
    sys.exit(main())
