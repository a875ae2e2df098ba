"""Fixtures of the InterCode-SQL tests: the small dump in tests/fixtures/intercode_sql, the real data (skipped when
absent) and a private MariaDB server started by scripts/start_mariadb.sh (skipped only where it cannot be installed)."""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

import pytest

from lumos.envs.sql.backend import make_backend

REPO = Path(__file__).resolve().parents[2]
MINI = REPO / "tests" / "fixtures" / "intercode_sql"


@pytest.fixture(scope="session")
def mini_dump() -> Path:
    return MINI / "mini_dbs.sql"


@pytest.fixture(scope="session")
def mini_backend(tmp_path_factory, mini_dump):
    return make_backend("sqlite", dump=mini_dump, cache_dir=tmp_path_factory.mktemp("sqlcache"))


@pytest.fixture(scope="session")
def sql_data() -> Path:
    """``$LUMOS_DATA_DIR/intercode_sql`` (or ../shared/data/intercode_sql); skips when absent."""
    root = Path(os.environ.get("LUMOS_DATA_DIR", REPO.parent / "shared" / "data"))
    folder = root / "intercode_sql"
    if not (folder / "spider__ic_spider_dev.json").is_file():
        pytest.skip(f"InterCode-SQL data not found in {folder} (set LUMOS_DATA_DIR)")
    return folder


@pytest.fixture(scope="session")
def sqlite_backend(tmp_path_factory, sql_data):
    return make_backend("sqlite", dump=sql_data / "spider__ic_spider_dbs.sql", cache_dir=tmp_path_factory.mktemp("sqlcache"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def mariadb_url(sql_data):
    """A private MariaDB server holding the real dump (started here, stopped at the end if we started it)."""
    script = REPO / "scripts" / "start_mariadb.sh"
    env = {**os.environ, "MARIADB_DIR": str(REPO / ".cache" / "mariadb-tests"),
           "SQL_DUMP": str(sql_data / "spider__ic_spider_dbs.sql")}  # fmt: skip
    status = subprocess.run([str(script), "status"], env=env, capture_output=True, text=True, check=False)
    started = status.returncode != 0
    if started:
        env["MARIADB_PORT"] = str(_free_port())
        run = subprocess.run([str(script), "start"], env=env, capture_output=True, text=True, timeout=900, check=False)
        if run.returncode == 2:
            pytest.skip(f"MariaDB cannot be installed here: {run.stderr.strip().splitlines()[-1:]}")
        assert run.returncode == 0, run.stderr
        url = run.stdout.strip().splitlines()[-1]
    else:
        url = status.stdout.strip().split()[-1]
    yield url
    if started:
        subprocess.run([str(script), "stop"], env=env, capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture(scope="session")
def mariadb_backend(mariadb_url):
    return make_backend("mysql", url=mariadb_url)
