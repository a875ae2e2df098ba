"""The mysqldump parser on a small dump written in InterCode's format."""

from __future__ import annotations

import pytest

from lumos.envs.sql.dump import parse_dump
from lumos.utils.io import DataFormatError


def test_databases_tables_and_declared_types(mini_dump):
    dbs = parse_dump(mini_dump)
    assert list(dbs) == ["shop_1", "zoo_1"]
    shop = dbs["shop_1"].tables["Shop"]
    assert [(c.name, c.type) for c in shop.columns] == [
        ("Shop_ID", "int"), ("Name", "text"), ("City", "varchar(20)"), ("Rating", "float(3,1)"), ("Opened", "datetime")]
    assert dbs["shop_1"].table("SHOP") is shop


def test_rows_keep_escapes_numbers_and_nulls(mini_dump):
    rows = parse_dump(mini_dump)["shop_1"].tables["Shop"].rows
    assert rows[1] == (2, "O'Neil's; Bar", "paris", 3.0, None)
    assert rows[2][1] == "Big\nStore" and rows[2][3] == -1.5
    assert rows[0][1] == "Corner Café"


def test_describe_rows_are_mysql_8s(mini_dump):
    dbs = parse_dump(mini_dump)
    assert dbs["shop_1"].tables["Shop"].describe()[:3] == [
        ("Shop_ID", "int", "NO", "PRI", None, "auto_increment"),
        ("Name", "text", "YES", "", None, ""),
        ("City", "varchar(20)", "NO", "", "", ""),
    ]
    assert dbs["shop_1"].tables["sale"].describe() == [
        ("Sale_ID", "int", "NO", "PRI", None, ""),
        ("Shop_ID", "int", "YES", "MUL", None, ""),
        ("Amount", "decimal(19,4)", "YES", "", None, ""),
        ("Code", "char(3)", "NO", "UNI", None, ""),
        ("created", "timestamp", "NO", "", "CURRENT_TIMESTAMP", "DEFAULT_GENERATED"),
    ]
    assert dbs["zoo_1"].tables["animal"].describe()[2] == ("legs", "int", "NO", "", "0", "")


def test_real_dump_poker_player_matches_intercodes_logged_describe(sql_data):
    # InterCode's published GPT-4 trajectory shows this DESCRIBE (with Type as bytes, a mysql.connector detail).
    table = parse_dump(sql_data / "spider__ic_spider_dbs.sql")["poker_player"].tables["poker_player"]
    assert table.describe()[:2] == [("Poker_Player_ID", "int", "NO", "PRI", None, "auto_increment"),
                                    ("People_ID", "int", "YES", "MUL", None, "")]


def test_bad_statement_names_file_and_line(tmp_path):
    bad = tmp_path / "bad.sql"
    bad.write_text("CREATE DATABASE `a`;\nUSE `a`;\n\nCREATE TABLE `t` (\n  `x` int WEIRD OPTION\n);\n")
    with pytest.raises(DataFormatError, match=r"bad\.sql:4: unknown option 'WEIRD OPTION'"):
        parse_dump(bad)
    bad.write_text("CREATE DATABASE `a`;\nUSE `a`;\nINSERT INTO `nope` VALUES (1);\n")
    with pytest.raises(DataFormatError, match=r"bad\.sql:3: INSERT into an unknown table"):
        parse_dump(bad)
