"""Unit tests of the expected-row model and the comparator (no sluice, no ClickHouse, no SDK).

    .build/venv/bin/python -m pytest scripts/interop/test_expected.py
"""

import copy
import glob
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import capture  # noqa: E402
import expected as m  # noqa: E402


@pytest.mark.parametrize(
    "x, want",
    [
        (1.0, "1"),
        (0.0, "0"),
        (-0.001, "-0.001"),
        (2.5, "2.5"),
        (3.14159, "3.14159"),
        (0.1, "0.1"),
        (100.0, "100"),
        (1e20, "100000000000000000000"),
        (1.2345678901234568e20, "123456789012345680000"),
        (1e21, "1e+21"),
        (1.5e21, "1.5e+21"),
        (1e-6, "0.000001"),
        (1e-7, "1e-7"),
        (1.5e-7, "1.5e-7"),
        (2.5e-10, "2.5e-10"),
        (1.7976931348623157e308, "1.7976931348623157e+308"),
        (5e-324, "5e-324"),
        (123.456, "123.456"),
        (-1e21, "-1e+21"),
    ],
)
def test_format_double(x, want):
    assert m.format_double(x) == want


def test_go_json():
    v = {"b": 1, "a": [1, 2.0, "<&>", None, b"\x00\xff"], "c": {"é": True, "n": "l\ni\tq\"\\\x01"}}
    assert m.go_json(v) == '{"a":[1,2,"<&>",null,"AP8="],"b":1,"c":{"n":"l\\ni\\tq\\"\\\\\\u0001","é":true}}'
    assert m.go_json([]) == "[]" and m.go_json({}) == "{}"


def test_as_string():
    assert m.as_string("x <&>") == "x <&>"
    assert m.as_string(True) == "true"
    assert m.as_string(-9223372036854775808) == "-9223372036854775808"
    assert m.as_string(1e21) == "1e+21"
    assert m.as_string(b"\x01\x02\x03") == "AQID"
    assert m.as_string(None) == ""
    assert m.as_string([1, "a"]) == '[1,"a"]'


def test_json_body_is_merged_and_everything_flattened():
    attrs = {"ctx": {"a": "b", "list": [1, 2]}, "tags": ["x"], "em": {}, "ea": [], "n": 5}
    la, text, number = m.clickstack('started {"user":{"id":7},"ok":true,"n":1.5}', attrs, "", 0)
    assert la == {"ctx.a": "b", "ctx.list.0": "1", "ctx.list.1": "2", "tags.0": "x", "n": "1.5",
                  "user.id": "7", "ok": "true"}
    assert (text, number) == ("info", 9)


def test_braces_that_are_not_a_json_object():
    for body in ["debug: cache miss {key}", "[1] {", "} {", 'a ["x"] b', '{"a":1} {"b":2}']:
        la, _, _ = m.clickstack(body, {"m": {"k": 1}}, "", 0)
        assert la == {"m": '{"k":1}'}, body


def test_empty_json_object_still_flattens():
    # "{}" parses as a JSON object: nothing to merge, but the attributes are flattened.
    la, _, _ = m.clickstack("x {} y", {"m": {"k": 1}}, "", 0)
    assert la == {"m.k": "1"}


def test_map_body_is_merged_without_flattening():
    la, text, number = m.clickstack({"msg": "hi", "nested": {"a": True}}, {"x": 1}, "WARN", 13)
    assert la == {"x": "1", "msg": "hi", "nested": '{"a":true}'}
    assert (text, number) == ("warn", 13)


@pytest.mark.parametrize(
    "level, want",
    [
        ("Warning", ("warning", 13)),
        ("ERR", ("err", 17)),
        ("information", ("information", 9)),
        ("FATAL", ("fatal", 21)),
        ("debug/trace", ("debug/trace", 1)),
        ("whatever", ("whatever", 9)),
        ("Notice", ("notice", 13)),
    ],
)
def test_severity_from_level_attribute(level, want):
    assert m.clickstack(True, {"level": level}, "", 0)[1:] == want


def test_level_attribute_order_and_types():
    attrs = {"severity": "error", "Level": "", "log.level": "debug", "LEVEL": 5}
    assert m.clickstack("x", attrs, "", 0)[1:] == ("error", 17)
    # a record that has a severity keeps it (text lower-cased)
    assert m.clickstack("x", {"level": "error"}, "INFO", 0)[1:] == ("info", 0)
    assert m.clickstack("x", {"level": "error"}, "", 9)[1:] == ("", 9)


@pytest.mark.parametrize(
    "body, want",
    [
        ("WARN disk almost full", ("warn", 13)),
        ("Error: boom", ("error", 17)),
        ("an err happened", ("error", 17)),
        ("terror", ("info", 9)),
        ("notice me", ("warn", 13)),
        ("xdebug", ("info", 9)),
        ("CRITICAL failure", ("fatal", 21)),
        ("dbug x", ("debug", 5)),
        ("trace then error", ("trace", 1)),
        ("[emerg] x", ("fatal", 21)),
        ("x" * 256 + " error", ("info", 9)),
        ("", ("info", 9)),
    ],
)
def test_severity_from_body(body, want):
    assert m.clickstack(body, {}, "", 0)[1:] == want


def _row(**over):
    row = {
        "Timestamp": 1700000000123456789, "TraceId": "5b8efff798038103d269b633813fc60c",
        "SpanId": "eee19b7ec3c1b174", "TraceFlags": 1, "SeverityText": "info", "SeverityNumber": 9,
        "ServiceName": "svc", "Body": "hello", "ResourceSchemaUrl": "", "ResourceAttributes": {"service.name": "svc"},
        "ScopeSchemaUrl": "", "ScopeName": "s", "ScopeVersion": "1", "ScopeAttributes": {},
        "LogAttributes": {"test.seq": "1", "a": "1"}, "EventName": "",
    }
    row.update(over)
    return row


def seq(row):
    return row["LogAttributes"].get("test.seq")


def test_compare_equal_rows():
    exp = [(m.LOGS, _row())]
    assert m.compare(exp, copy.deepcopy(exp), seq) == []


def test_compare_reports_every_planted_mismatch():
    exp = [
        (m.LOGS, _row(Timestamp=m.Near(1700000000000000000, 10**9, "sdk"))),
        (m.LOGS, _row(LogAttributes={"test.seq": "2"},
                      ResourceAttributes={"service.name": "svc", "service.instance.id": m.AnyNonEmpty()})),
        (m.LOGS, _row(LogAttributes={"test.seq": "3"})),
        (m.SESSIONS, {k: v for k, v in _row(LogAttributes={"test.seq": "4"}).items() if k != "EventName"}),
    ]
    got = copy.deepcopy([(t, r) for t, r in exp[:2]])
    got[0][1].update(Timestamp=1700000005000000000, SeverityNumber=13, TraceId="")
    got[0][1]["LogAttributes"]["a"] = "2"
    got[0][1]["LogAttributes"]["extra"] = "x"
    got[1][1]["ResourceAttributes"] = {"service.name": "svc", "service.instance.id": ""}
    del got[1][1]["EventName"]
    got.append((m.LOGS, _row(LogAttributes={"test.seq": "4"})))  # a session row in otel_logs
    got.append((m.LOGS, _row(LogAttributes={"test.seq": "5"})))  # not expected at all
    got.append((m.LOGS, _row(LogAttributes={"test.seq": "5"})))
    problems = m.compare(exp, got, seq)
    text = "\n".join(problems)
    print(text)
    assert "otel_logs row 1: column Timestamp: expected within 1 s of 1700000000000000000 (sdk) got 1700000005000000000" in text
    assert 'otel_logs row 1: column TraceId: expected "5b8efff798038103d269b633813fc60c" got ""' in text
    assert "otel_logs row 1: column SeverityNumber: expected 9 got 13" in text
    assert "otel_logs row 1: column LogAttributes['a']: expected \"1\" got \"2\"" in text
    assert "otel_logs row 1: column LogAttributes['extra']: not expected, got \"x\"" in text
    assert "otel_logs row 2: column ResourceAttributes['service.instance.id']: expected any non-empty string got \"\"" in text
    assert "otel_logs row 2: column EventName: missing from the stored row" in text
    assert "otel_logs row 3: missing" in text
    assert "hyperdx_sessions row 4: missing (found in otel_logs)" in text
    assert "otel_logs row 4: not expected (1 stored)" in text
    assert "otel_logs row 5: not expected (2 stored)" in text
    assert len(problems) == 11


def test_compare_duplicates_and_types():
    exp = [(m.LOGS, _row())]
    got = [(m.LOGS, _row()), (m.LOGS, _row(TraceFlags="1"))]
    problems = m.compare(exp, got, seq)
    assert "otel_logs row 1: stored 2 times, expected 1" in problems
    assert m.compare(exp, [(m.LOGS, _row(TraceFlags="1"))], seq) == [
        'otel_logs row 1: column TraceFlags: expected 1 got "1"']
    assert m.normalize_actual(m.LOGS, {"Timestamp": "1700000000123456789"})["Timestamp"] == 1700000000123456789


CAPTURED = sorted(p for p in glob.glob(os.path.join(HERE, "captured", "*"))
                  if not os.path.basename(p).startswith(("traces-", "metrics-")))  # test_expected_{traces,metrics}.py


@pytest.mark.skipif(not CAPTURED, reason="no captured payloads yet (run --capture-only --update-captured)")
def test_captured_payloads_give_the_expected_rows():
    by_client = {}
    for path in CAPTURED:
        name = os.path.basename(path).rsplit("-", 1)[0]
        with open(path, "rb") as f:
            request = capture.decode(f.read(), path.endswith(".json"))
        by_client.setdefault(name, []).extend(m.expected_rows(request))
    assert set(by_client) == {f"{c}-{p}" for c in ("python", "node", "rust") for p in ("grpc", "http")}
    for name, rows in by_client.items():
        tables = sorted(t for t, _ in rows)
        assert tables == [m.SESSIONS] + [m.LOGS] * 12, name
        by_seq = {r["LogAttributes"]["test.seq"]: r for _, r in rows}
        assert sorted(by_seq, key=int) == [str(i) for i in range(1, 14)], name
        assert (by_seq["9"]["SeverityText"], by_seq["9"]["SeverityNumber"]) == ("warn", 13), name
        assert by_seq["8"]["LogAttributes"]["user.id"] == "7", name
        assert by_seq["10"]["SeverityText"] == "Info", name
        assert by_seq["1"]["TraceId"] == "5b8efff798038103d269b633813fc60c", name
        assert by_seq["1"]["ServiceName"] == "interop-svc", name
        assert by_seq["9"]["ServiceName"] == "", name
