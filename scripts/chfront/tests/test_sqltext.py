"""Unit tests of the statement/data split (no server needed)."""

import pytest

from errors import ClickHouseError
from sqltext import inspect_statement, split_insert


def split(text: bytes):
    parts = split_insert(text)
    return None if parts is None else (parts.target, parts.settings, parts.format, text[parts.data_start:])


@pytest.mark.parametrize("text, expected", [
    (b"INSERT INTO t FORMAT RowBinary\n\x01\x02", ("INSERT INTO t", "", "RowBinary", b"\x01\x02")),
    (b"INSERT INTO t FORMAT RowBinary \t\r\n\n\x01", ("INSERT INTO t", "", "RowBinary", b"\n\x01")),
    (b"INSERT INTO t FORMAT RowBinary \x20\x01", ("INSERT INTO t", "", "RowBinary", b"\x01")),
    (b"insert into db.t (a, `b c`) format JSONEachRow {}", ("insert into db.t (a, `b c`)", "", "JSONEachRow", b"{}")),
    (b"INSERT INTO TABLE `values`(x) VALUES (1)", ("INSERT INTO TABLE `values`(x)", "", "Values", b"(1)")),
    (b"INSERT INTO db.values VALUES(1)", ("INSERT INTO db.values", "", "Values", b"(1)")),
    (b"INSERT INTO t VALUES", ("INSERT INTO t", "", "Values", b"")),
    (b"INSERT INTO t SETTINGS a = 'FORMAT x', b = 2 FORMAT TSV\n1\n",
     ("INSERT INTO t", "SETTINGS a = 'FORMAT x', b = 2", "TSV", b"1\n")),
    (b"/* c */ INSERT INTO t -- c\n FORMAT Native\n", ("INSERT INTO t -- c", "", "Native", b"")),
    (b"INSERT INTO FUNCTION file('x', 'TSV') FORMAT TSV\n1", ("INSERT INTO FUNCTION file('x', 'TSV')", "", "TSV", b"1")),
    (b"INSERT INTO t SELECT 1", None),
    (b"INSERT INTO t FROM INFILE 'f' FORMAT TSV", None),
    (b"INSERT INTO t (a) SELECT * FROM s", None),
    (b"SELECT 1 FORMAT TSV", None),
])
def test_split_insert(text, expected):
    assert split(text) == expected


def test_semicolon_after_format_is_a_syntax_error():
    with pytest.raises(ClickHouseError) as err:
        split_insert(b"INSERT INTO t FORMAT TSV;1\n")
    assert err.value.code == 62


def test_infile_statement_puts_settings_after_infile():
    parts = split_insert(b"INSERT INTO t (a) SETTINGS x = 1 FORMAT RowBinary\n")
    assert parts.infile_statement("/dev/shm/f'1") == \
        "INSERT INTO t (a)\nFROM INFILE '/dev/shm/f\\'1' COMPRESSION 'none'\nSETTINGS x = 1\nFORMAT RowBinary"


@pytest.mark.parametrize("text, keyword, fmt", [
    (b"SELECT 1", "SELECT", None),
    (b"select 1 format JSON", "SELECT", "JSON"),
    (b"SELECT 1 FORMAT JSON SETTINGS max_threads = 1;", "SELECT", "JSON"),
    (b"SELECT format('{}', 1) AS format", "SELECT", None),
    (b"SELECT * FROM (SELECT 1) FORMAT RowBinaryWithNamesAndTypes\n", "SELECT", "RowBinaryWithNamesAndTypes"),
    (b"-- hi\nSHOW TABLES FORMAT TSV", "SHOW", "TSV"),
    (b"(SELECT 1)", "(", None),
    (b"SELECT ';' AS `a;b` -- ; x\n", "SELECT", None),
])
def test_inspect_statement(text, keyword, fmt):
    info = inspect_statement(text)
    assert (info.keyword, info.output_format) == (keyword, fmt)


@pytest.mark.parametrize("text", [b"SELECT 1; SELECT 2", b"CREATE TABLE t (x UInt8) ENGINE = Memory; DROP TABLE t"])
def test_multi_statements(text):
    with pytest.raises(ClickHouseError) as err:
        inspect_statement(text)
    assert err.value.code == 62 and "Multi-statements" in err.value.text


def test_empty():
    with pytest.raises(ClickHouseError) as err:
        inspect_statement(b" \n-- nothing\n")
    assert "Empty query" in err.value.text
