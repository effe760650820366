"""INSERTs with data: every input format sluice and the clickhouse crate use, where the data
starts, hand-made RowBinary of sluice's column types, and settings that apply per statement."""

import json
import struct

import pytest

from conftest import Client


def rows(ch: Client, table: str, order: str = "x") -> list:
    return [json.loads(line) for line in ch.text(f"SELECT * FROM {table} ORDER BY {order} FORMAT JSONEachRow").splitlines()]


@pytest.fixture
def xs(ch: Client, table: str) -> str:
    ch.query(f"CREATE TABLE {table} (x UInt32, s String) ENGINE = MergeTree ORDER BY x")
    return table


def leb128(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def rowbinary_xs(*pairs) -> bytes:
    return b"".join(struct.pack("<I", x) + leb128(len(s.encode())) + s.encode() for x, s in pairs)


@pytest.mark.parametrize("fmt, data", [
    ("RowBinary", rowbinary_xs((1, "a"), (2, "b"))),
    ("RowBinaryWithNamesAndTypes", b"\x02\x01x\x01s\x06UInt32\x06String" + rowbinary_xs((1, "a"), (2, "b"))),
    ("JSONEachRow", b'{"x":1,"s":"a"}\n{"x":2,"s":"b"}\n'),
    ("TabSeparated", b"1\ta\n2\tb\n"),
    ("TSV", b"1\ta\n2\tb\n"),
    ("CSV", b'1,"a"\n2,"b"\n'),
    ("Values", b"(1, 'a'), (2, 'b')"),
])
def test_insert_formats_with_data_in_the_body(ch: Client, xs: str, fmt: str, data: bytes):
    resp = ch.request("POST", data, params={"query": f"INSERT INTO {xs} (x, s) FORMAT {fmt}"})
    assert resp.status == 200, resp.text
    assert rows(ch, xs) == [{"x": 1, "s": "a"}, {"x": 2, "s": "b"}]


def test_insert_native_made_by_the_server(ch: Client, xs: str):
    native = ch.query("SELECT toUInt32(number) AS x, toString(number) AS s FROM numbers(5) FORMAT Native")
    ch.query(f"INSERT INTO {xs} FORMAT Native", native)
    assert rows(ch, xs) == [{"x": i, "s": str(i)} for i in range(5)]


def test_insert_values_in_the_query_text(ch: Client, xs: str):
    ch.query(f"INSERT INTO {xs} VALUES (1, 'a'), (2, 'b')")
    ch.query(f"INSERT INTO {xs} (x, s) VALUES", b"(3, 'c')")  # the rest of VALUES in the body
    assert [r["x"] for r in rows(ch, xs)] == [1, 2, 3]


def test_insert_with_data_after_the_statement_in_the_body(ch: Client, xs: str):
    assert ch.request("POST", b"INSERT INTO " + xs.encode() + b" FORMAT TSV\n1\ta\n2\tb\n").status == 200
    # RowBinary: after "FORMAT RowBinary", spaces and then one newline are skipped; a second
    # newline is data (here the UInt32 10 = 0x0a starts the row).
    data = rowbinary_xs((10, "ten"), (32, " "))
    resp = ch.request("POST", b"INSERT INTO " + xs.encode() + b" FORMAT RowBinary  \n" + data)
    assert resp.status == 200, resp.text
    assert rows(ch, xs) == [{"x": 1, "s": "a"}, {"x": 2, "s": "b"}, {"x": 10, "s": "ten"}, {"x": 32, "s": " "}]


def test_rowbinary_starting_with_whitespace_bytes_keeps_them(ch: Client, xs: str):
    # With the statement in the URL the whole body is data, even when it starts with "\n" or " ".
    data = rowbinary_xs((0x0A, "nl"), (0x20, "sp"))
    ch.query(f"INSERT INTO {xs} (x, s) FORMAT RowBinary", data)
    assert rows(ch, xs) == [{"x": 10, "s": "nl"}, {"x": 32, "s": "sp"}]


def test_insert_with_settings_clause_and_empty_data(ch: Client, xs: str):
    ch.query(f"INSERT INTO {xs} SETTINGS max_insert_block_size = 1 FORMAT JSONEachRow", b'{"x":5,"s":"e"}')
    ch.query(f"INSERT INTO {xs} FORMAT RowBinary", b"")
    assert rows(ch, xs) == [{"x": 5, "s": "e"}]


def test_bad_data_is_a_clickhouse_error(ch: Client, xs: str):
    resp = ch.request("POST", b"not a number\ta\n", params={"query": f"INSERT INTO {xs} FORMAT TSV"})
    assert resp.status in (400, 500) and resp.header("X-ClickHouse-Exception-Code") is not None
    assert resp.text.startswith("Code: ")
    resp = ch.request("POST", b"x", params={"query": "INSERT INTO no_such_table FORMAT TSV"})
    assert (resp.status, resp.header("X-ClickHouse-Exception-Code")) == (404, "60")


# --- hand-made RowBinary of the column types sluice writes ----------------------------------

def rb_string(s: str) -> bytes:
    data = s.encode("utf-8")
    return leb128(len(data)) + data


def rb_map(m: dict) -> bytes:
    return leb128(len(m)) + b"".join(rb_string(k) + rb_string(v) for k, v in m.items())


def rb_row(attrs: dict, ts_ns: int, events: list, service: str, flag: int, value: float) -> bytes:
    return (rb_map(attrs)  # Map(LowCardinality(String), String)
            + struct.pack("<q", ts_ns)  # DateTime64(9): Int64 nanoseconds
            + leb128(len(events)) + b"".join(rb_map(e) for e in events)  # Array(Map(...))
            + rb_string(service)  # LowCardinality(String) is a plain String in RowBinary
            + struct.pack("<B", flag)  # UInt8
            + struct.pack("<d", value))  # Float64


SENT = [
    ({"http.method": "GET", "k": ""}, 1_700_000_000_123_456_789, [{"a": "1"}, {}], "checkout", 1, 0.25),
    ({}, 0, [], "", 0, -1.5e300),
    ({"ключ": "значение", "x" * 200: "y" * 300}, 1_000_000_000, [{"e": "f", "g": "h"}], "svc\twith\nctrl", 255, 3.141592653589793),
]


def test_hand_made_rowbinary_round_trips(ch: Client, table: str):
    ch.query(f"""CREATE TABLE {table} (
        attrs Map(LowCardinality(String), String),
        ts DateTime64(9),
        events Array(Map(LowCardinality(String), String)),
        service LowCardinality(String),
        flag UInt8,
        value Float64
    ) ENGINE = MergeTree ORDER BY (service, ts)""")
    body = b"".join(rb_row(*row) for row in SENT)
    resp = ch.request("POST", body, params={"query": f"INSERT INTO {table} (attrs, ts, events, service, flag, value) "
                                                     "FORMAT RowBinary"},
                      headers={"X-ClickHouse-User": "default", "X-ClickHouse-Key": ""})
    assert resp.status == 200, resp.text
    assert json.loads(resp.header("X-ClickHouse-Summary"))["written_rows"] == "3"

    got = ch.text(f"SELECT attrs, toUnixTimestamp64Nano(ts) AS ns, events, service, flag, value FROM {table} "
                  "ORDER BY flag FORMAT JSONEachRow SETTINGS output_format_json_quote_64bit_integers = 0")
    got = [json.loads(line) for line in got.splitlines()]
    want = sorted(SENT, key=lambda row: row[4])
    assert len(got) == len(want)
    for row, (attrs, ts_ns, events, service, flag, value) in zip(got, want):
        assert row["attrs"] == attrs
        assert row["ns"] == ts_ns
        assert row["events"] == events
        assert row["service"] == service
        assert row["flag"] == flag
        assert row["value"] == value

    # And the bytes the server gives back in RowBinary are the bytes that were sent.
    back = ch.query(f"SELECT attrs, ts, events, service, flag, value FROM {table} ORDER BY flag FORMAT RowBinary")
    assert back == b"".join(rb_row(*row) for row in want)


# --- settings as URL parameters, for one statement only --------------------------------------

def test_insert_deduplication_token_applies_per_statement(ch: Client, table: str):
    ch.query(f"CREATE TABLE {table} (x UInt32) ENGINE = MergeTree ORDER BY x "
             "SETTINGS non_replicated_deduplication_window = 100")
    block = struct.pack("<III", 1, 2, 3)
    for _ in range(2):
        ch.query(f"INSERT INTO {table} FORMAT RowBinary", block, insert_deduplication_token="batch-1")
    assert ch.text(f"SELECT count() FROM {table}") == "3\n"
    # Without the token the next insert is not taken for a repeat of batch-1.
    ch.query(f"INSERT INTO {table} FORMAT RowBinary", struct.pack("<II", 7, 8))
    assert ch.text(f"SELECT count() FROM {table}") == "5\n"
    assert ch.text("SELECT getSetting('insert_deduplication_token')") == "\n"


def test_settings_do_not_leak_to_the_next_statement(ch: Client):
    default_block = ch.text("SELECT getSetting('max_insert_block_size')")
    assert ch.text("SELECT getSetting('max_insert_block_size')", max_insert_block_size="1234") == "1234\n"
    assert ch.text("SELECT getSetting('max_insert_block_size')") == default_block
    ch.query("SET max_insert_block_size = 99")  # a client's SET lasts one request, as over HTTP
    assert ch.text("SELECT getSetting('max_insert_block_size')") == default_block


def test_date_time_input_format_setting(ch: Client, table: str):
    ch.query(f"CREATE TABLE {table} (t DateTime('UTC')) ENGINE = MergeTree ORDER BY t")
    data = b'{"t":"2024-01-02T03:04:05Z"}\n'
    resp = ch.request("POST", data, params={"query": f"INSERT INTO {table} FORMAT JSONEachRow",
                                            "date_time_input_format": "basic"})
    assert resp.status != 200  # 'basic' does not read ISO 8601 with a T and Z
    ch.query(f"INSERT INTO {table} FORMAT JSONEachRow", data, date_time_input_format="best_effort")
    assert ch.text(f"SELECT toUnixTimestamp(t) FROM {table}") == "1704164645\n"


def test_async_insert_settings(ch: Client, xs: str):
    ch.query(f"INSERT INTO {xs} FORMAT TSV", b"1\ta\n", async_insert="1", wait_for_async_insert="1")
    ch.query(f"INSERT INTO {xs} FORMAT TSV", b"2\tb\n", async_insert="0")
    assert [r["x"] for r in rows(ch, xs)] == [1, 2]


def test_unknown_setting_is_the_engines_error(ch: Client):
    resp = ch.request("POST", b"SELECT 1", params={"no_such_setting": "1"})
    assert resp.header("X-ClickHouse-Exception-Code") == "115"
    assert resp.status == 404
    assert "no_such_setting" in resp.text and "(UNKNOWN_SETTING)" in resp.text
    assert ch.request("POST", b"SELECT 1").body == b"1\n"  # and nothing stuck
