"""The HTTP interface itself: health checks, where the query comes from, formats, databases,
keep-alive, chunked bodies, response headers, readonly GET, query parameters, error answers."""

import json

from conftest import Client


def test_ping_and_root(ch: Client):
    for path in ("/ping", "/"):
        resp = ch.request("GET", path=path)
        assert (resp.status, resp.body) == (200, b"Ok.\n")
    assert ch.request("HEAD", path="/ping").status == 200
    resp = ch.request("GET", path="/nowhere")
    assert resp.status == 404 and "There is no handle /nowhere" in resp.text


def test_query_in_parameter_body_or_both(ch: Client):
    assert ch.request("GET", params={"query": "SELECT 1"}).body == b"1\n"
    assert ch.request("POST", b"SELECT 2").body == b"2\n"
    # ClickHouse: the query parameter, a line break, then the body.
    assert ch.request("POST", b"+ 40", params={"query": "SELECT 2"}).body == b"42\n"
    assert ch.request("POST", b"FROM numbers(3)", params={"query": "SELECT sum(number)"}).body == b"3\n"


def test_empty_query_is_an_error(ch: Client):
    resp = ch.request("POST", b"")
    assert resp.status == 400 and resp.header("X-ClickHouse-Exception-Code") == "62"
    assert "Empty query" in resp.text


def test_formats_and_default_format(ch: Client):
    resp = ch.request("POST", b"SELECT 1 AS a, 'x' AS b")
    assert resp.body == b"1\tx\n"
    assert resp.header("X-ClickHouse-Format") == "TabSeparated"
    assert resp.header("Content-Type") == "text/tab-separated-values; charset=UTF-8"

    resp = ch.request("POST", b"SELECT 1 AS a FORMAT JSONEachRow")
    assert resp.body == b'{"a":1}\n'
    assert resp.header("X-ClickHouse-Format") == "JSONEachRow"
    assert resp.header("Content-Type").startswith("application/json")

    resp = ch.request("POST", b"SELECT 1 AS a", params={"default_format": "CSVWithNames"})
    assert resp.body == b'"a"\n1\n'
    assert resp.header("Content-Type").startswith("text/csv")

    resp = ch.request("POST", b"SELECT 1 AS a", headers={"X-ClickHouse-Format": "JSONCompactEachRow"})
    assert resp.body == b"[1]\n"

    # The statement's own FORMAT wins over default_format.
    resp = ch.request("POST", b"SELECT 7 AS a FORMAT TSV", params={"default_format": "JSON"})
    assert resp.body == b"7\n"


def test_rowbinary_with_names_and_types_like_the_clickhouse_crate(ch: Client):
    # The `clickhouse` crate: POST, query in the body, FORMAT RowBinaryWithNamesAndTypes appended.
    resp = ch.request("POST", b"SELECT toUInt32(5) AS n, 'hi' AS s FORMAT RowBinaryWithNamesAndTypes",
                      headers={"X-ClickHouse-User": "default", "X-ClickHouse-Key": ""},
                      params={"max_result_rows": "10"})
    assert resp.status == 200
    assert resp.header("Content-Type") == "application/octet-stream"
    assert resp.body == b"\x02\x01n\x01s\x06UInt32\x06String" + (5).to_bytes(4, "little") + b"\x02hi"


def test_database_parameter_and_header(ch: Client):
    ch.query("CREATE DATABASE IF NOT EXISTS other")
    ch.query("CREATE TABLE IF NOT EXISTS other.marker (x UInt8) ENGINE = Memory")
    assert ch.text("SELECT currentDatabase()") == "default\n"
    assert ch.text("SELECT currentDatabase()", database="other") == "other\n"
    assert ch.request("POST", b"SELECT count() FROM marker", headers={"X-ClickHouse-Database": "other"}).body == b"0\n"
    # Only for that statement.
    assert ch.text("SELECT currentDatabase()") == "default\n"
    ch.query("INSERT INTO marker FORMAT TSV", b"1\n", database="other")
    assert ch.text("SELECT count() FROM other.marker") == "1\n"
    resp = ch.request("POST", b"SELECT 1", params={"database": "nosuchdb"})
    assert resp.status == 404 and resp.header("X-ClickHouse-Exception-Code") == "81"
    # A client's own USE does not stick either (each request is its own session).
    ch.query("USE other")
    assert ch.text("SELECT currentDatabase()") == "default\n"


def test_keep_alive_two_requests_on_one_connection(ch: Client):
    conn = ch.connection()
    try:
        first = ch.request("POST", b"SELECT 1", conn=conn)
        sock = conn.sock
        second = ch.request("POST", b"SELECT 2", conn=conn)
        assert conn.sock is sock, "the connection was not kept alive"
        error = ch.request("POST", b"SELECT * FROM no_such_table", conn=conn)
        third = ch.request("GET", params={"query": "SELECT 3"}, conn=conn)
        assert conn.sock is sock
    finally:
        conn.close()
    assert (first.body, second.body, error.status, third.body) == (b"1\n", b"2\n", 404, b"3\n")
    assert first.header("Content-Length") == "2"


def test_chunked_request_body(ch: Client):
    conn = ch.connection()
    try:
        conn.putrequest("POST", "/?default_format=TSV")
        conn.putheader("Transfer-Encoding", "chunked")
        conn.endheaders()
        for piece in (b"SELECT ", b"number * 2 ", b"FROM numbers(3) ", b"FORMAT CSV"):
            conn.send(b"%x\r\n%s\r\n" % (len(piece), piece))
        conn.send(b"0\r\n\r\n")
        resp = conn.getresponse()
        body = resp.read()
        # The same connection goes on working after a chunked request.
        conn.request("POST", "/", body=b"SELECT 'after'")
        after = conn.getresponse().read()
    finally:
        conn.close()
    assert (resp.status, body) == (200, b"0\n2\n4\n")
    assert after == b"after\n"


def test_summary_and_other_headers(ch: Client, table: str):
    ch.query(f"CREATE TABLE {table} (x UInt32) ENGINE = MergeTree ORDER BY x")
    resp = ch.request("POST", b"1\n2\n3\n", params={"query": f"INSERT INTO {table} FORMAT TSV", "query_id": "my-id"})
    assert resp.status == 200 and resp.body == b""
    summary = json.loads(resp.header("X-ClickHouse-Summary"))
    assert summary["written_rows"] == "3"
    assert set(summary) >= {"read_rows", "read_bytes", "written_rows", "written_bytes", "total_rows_to_read",
                            "result_rows", "result_bytes", "elapsed_ns", "memory_usage"}
    assert resp.header("X-ClickHouse-Query-Id") == "my-id"
    assert resp.header("X-ClickHouse-Timezone")
    assert resp.header("X-ClickHouse-Server-Display-Name")


def test_get_is_readonly(ch: Client, table: str):
    resp = ch.request("GET", params={"query": f"CREATE TABLE {table} (x UInt8) ENGINE = Memory"})
    assert resp.header("X-ClickHouse-Exception-Code") == "164"
    assert "readonly" in resp.text
    assert ch.request("POST", params={"query": f"CREATE TABLE {table} (x UInt8) ENGINE = Memory"}).status == 200
    # A client's SET readonly lasts for its own request only, as over HTTP without a session.
    assert ch.request("POST", b"SET readonly = 1").status == 200
    assert ch.request("POST", f"INSERT INTO {table} VALUES (7)".encode()).status == 200
    # readonly=1 as a URL setting also forbids writes over POST.
    resp = ch.request("POST", params={"query": f"INSERT INTO {table} VALUES (1)", "readonly": "1"})
    assert resp.header("X-ClickHouse-Exception-Code") == "164"


def test_multi_statements_are_not_allowed(ch: Client):
    resp = ch.request("POST", b"SELECT 1; SELECT 2")
    assert resp.status == 400 and "Multi-statements are not allowed" in resp.text
    assert ch.request("POST", b"SELECT 1;").body == b"1\n"


def test_query_parameters(ch: Client):
    resp = ch.request("POST", b"SELECT {a:UInt32} + 1, {s:String}", params={"param_a": "41", "param_s": "it's"})
    assert resp.body == b"42\tit\\'s\n"


def test_errors_like_clickhouse(ch: Client):
    resp = ch.request("POST", b"SELECT * FROM no_such_table")
    assert resp.status == 404
    assert resp.header("X-ClickHouse-Exception-Code") == "60"
    assert resp.text.startswith("Code: 60. DB::Exception:")
    assert "(UNKNOWN_TABLE) (version 26.9" in resp.text and resp.text.endswith(")\n")

    resp = ch.request("POST", b"SELEC 1")
    assert resp.status == 400 and resp.header("X-ClickHouse-Exception-Code") == "62"
    assert resp.text.startswith("Code: 62. DB::Exception: Syntax error")

    resp = ch.request("POST", b"SELECT 1 FORMAT NoSuchFormat")
    assert resp.status == 404 and resp.header("X-ClickHouse-Exception-Code") == "73"
    assert resp.text.count("Code: 73") == 1

    resp = ch.request("POST", b"SELECT throwIf(1)")
    assert resp.status == 500 and resp.header("X-ClickHouse-Exception-Code") == "395"
