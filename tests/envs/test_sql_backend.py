"""The SQLite backend on the small dump: cached conversion, MySQL-shaped SHOW/DESCRIBE, collation, read-only,
time and row limits, errors as observations."""

from __future__ import annotations

from lumos.envs.sql.backend import make_backend
from lumos.envs.sql.sqlite import ensure_converted, general_ci_key


def test_conversion_is_cached_by_dump_hash(tmp_path, mini_dump):
    first = ensure_converted(mini_dump, tmp_path)
    stamp = (first / "shop_1.sqlite").stat().st_mtime_ns
    assert ensure_converted(mini_dump, tmp_path) == first and (first / "shop_1.sqlite").stat().st_mtime_ns == stamp
    other = tmp_path / "other.sql"
    other.write_bytes(mini_dump.read_bytes() + b"\n-- changed\n")
    assert ensure_converted(other, tmp_path) != first


def test_show_tables_and_describe_in_mysql_shape(mini_backend):
    conn = mini_backend.connect("shop_1")
    assert conn.execute("SHOW TABLES").rows == [("sale",), ("shop",)]
    assert conn.execute("show tables like 'sh%';").rows == [("shop",)]
    desc = conn.execute("DESCRIBE Shop")
    assert desc.columns == ("Field", "Type", "Null", "Key", "Default", "Extra")
    assert desc.rows[3] == ("Rating", "float(3,1)", "YES", "", None, "")
    assert conn.execute("DESC `sale` Code").rows == [("Code", "char(3)", "NO", "UNI", None, "")]
    assert conn.execute("SHOW COLUMNS FROM sale LIKE 'S%'").rows[0][0] == "Sale_ID"
    assert conn.execute("DESCRIBE shops").observation == "Error executing query: Table 'shop_1.shops' doesn't exist"
    assert conn.execute("USE zoo_1").observation is None and conn.database == "zoo_1"
    assert conn.execute("SHOW TABLES").rows == [("animal",)]
    assert conn.execute("USE nowhere").observation == "Error executing query: Unknown database 'nowhere'"


def test_declared_types_give_mysql_like_values(mini_backend):
    conn = mini_backend.connect("shop_1")
    rows = conn.execute("SELECT Shop_ID, Name, Rating, Opened FROM shop ORDER BY Shop_ID").rows
    assert rows[1] == (2, "O'Neil's; Bar", 3.0, None) and rows[0][3] == "2019-01-02 10:00:00"
    assert conn.execute("SELECT Amount FROM sale WHERE Sale_ID = 3").rows == [(100.25,)]


def test_case_and_accent_insensitive_collation_like_utf8mb4_general_ci(mini_backend):
    assert general_ci_key("Corner Café ") == general_ci_key("CORNER CAFE")
    conn = mini_backend.connect("shop_1")
    assert conn.execute("SELECT count(*) FROM shop WHERE City = 'PARIS'").rows == [(2,)]
    assert conn.execute("SELECT count(DISTINCT Name) FROM shop").rows == [(3,)]
    zoo = mini_backend.connect("zoo_1")
    assert zoo.execute("SELECT kind, count(*) FROM animal WHERE kind = 'CAT' GROUP BY kind").rows[0][1] == 2


def test_read_only_errors_are_observations(mini_backend):
    conn = mini_backend.connect("zoo_1")
    for sql in ("DROP TABLE animal", "INSERT INTO animal VALUES (9, 'ant', 6)", "ATTACH DATABASE 'x.db' AS x",
                "PRAGMA query_only = 0", "DELETE FROM animal"):
        assert conn.execute(sql).observation == "Error executing query: not authorized", sql
    assert conn.execute("SELEC 1").observation == 'Error executing query: near "SELEC": syntax error'
    assert conn.execute("SELECT 1; SELECT 2").error.startswith("You can only execute one statement")
    assert conn.execute("SELECT count(*) FROM animal").rows == [(5,)]


def test_time_and_row_limits(mini_dump, tmp_path):
    backend = make_backend("sqlite", dump=mini_dump, cache_dir=tmp_path, timeout_s=0.2, max_rows=3)
    conn = backend.connect("zoo_1")
    slow = conn.execute("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c")
    assert slow.error == "Query execution was interrupted (time limit of 0.2 s exceeded)" and slow.elapsed_s < 2
    big = conn.execute("SELECT id FROM animal ORDER BY id")
    assert big.truncated and big.rows == [(1,), (2,), (3,)]
    assert big.observation == "Error executing query: the result has more than 3 rows (row limit)"
    assert conn.execute("SELECT id FROM animal WHERE id < 4").truncated is False
