"""Unit tests of the otel_traces expected-row model and its comparator (no sluice, no ClickHouse,
no SDK).

    .build/venv/bin/python -m pytest scripts/interop/test_expected_traces.py
"""

import copy
import glob
import json
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import capture  # noqa: E402
import expected as base  # noqa: E402
import expected_traces as m  # noqa: E402
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2  # noqa: E402

REQUEST_JSON = {
    "resourceSpans": [{
        "resource": {"attributes": [
            {"key": "service.name", "value": {"stringValue": "svc"}},
            {"key": "rum.sessionId", "value": {"stringValue": "sess-1"}},
            {"key": "n", "value": {"doubleValue": 1.0}},
        ]},
        "scopeSpans": [{
            "scope": {"name": "sc", "version": "9"},
            "spans": [{
                "traceId": "5b8efff798038103d269b633813fc60c",
                "spanId": "eee19b7ec3c1b174",
                "parentSpanId": "00f067aa0ba902b7",
                "traceState": "a=b",
                "name": "op",
                "kind": 3,
                "startTimeUnixNano": "1700000000000000001",
                "endTimeUnixNano": "1700000001000000002",
                "attributes": [
                    {"key": "test.seq", "value": {"intValue": "1"}},
                    {"key": "SampleRate", "value": {"intValue": "20"}},
                    {"key": "arr", "value": {"arrayValue": {"values": [{"boolValue": True}, {"doubleValue": 0.5}]}}},
                ],
                "events": [
                    {"timeUnixNano": "1700000000500000000", "name": "e1",
                     "attributes": [{"key": "k", "value": {"intValue": "-3"}}]},
                    {"timeUnixNano": "1700000000600000000", "name": "e2"},
                ],
                "links": [
                    {"traceId": "0af7651916cd43dd8448eb211c80319c", "spanId": "b7ad6b7169203331",
                     "traceState": "x=y", "attributes": [{"key": "l", "value": {"stringValue": "<&>"}}]},
                    {"traceId": "4bf92f3577b34da6a3ce929d0e0e4736", "spanId": "00f067aa0ba902b7"},
                ],
                "status": {"code": 2, "message": "boom"},
            }, {
                "traceId": "5b8efff798038103d269b633813fc60c",
                "spanId": "eee19b7ec3c1b175",
                "parentSpanId": "",
                "name": "root",
                "startTimeUnixNano": "1700000002000000000",
                "endTimeUnixNano": "1700000001000000000",
                "attributes": [{"key": "test.seq", "value": {"intValue": "2"}},
                               {"key": "SampleRate", "value": {"stringValue": "abc"}}],
            }],
        }],
    }, {
        "resource": {"attributes": [{"key": "service.name", "value": {"intValue": "5"}}]},
        "scopeSpans": [{"scope": {"name": "other"}, "spans": [{
            "traceId": "5b8efff798038103d269b633813fc60c", "spanId": "eee19b7ec3c1b176", "name": "x", "kind": 5,
            "startTimeUnixNano": "5", "endTimeUnixNano": "7", "status": {"code": 1},
            "attributes": [{"key": "test.seq", "value": {"intValue": "3"}},
                           {"key": "SampleRate", "value": {"stringValue": "18446744073709551616"}}],
        }]}],
    }],
}


def rows_of(doc):
    return m.expected_rows(capture.decode(json.dumps(doc).encode(), True, signal="traces"))


def by_seq(rows):
    return {r["SpanAttributes"]["test.seq"]: r for _, r in rows}


def test_rows_from_otlp_json():
    rows = by_seq(rows_of(REQUEST_JSON))
    r = rows["1"]
    assert r == {
        "Timestamp": 1700000000000000001,
        "TraceId": "5b8efff798038103d269b633813fc60c",
        "SpanId": "eee19b7ec3c1b174",
        "ParentSpanId": "00f067aa0ba902b7",
        "TraceState": "a=b",
        "SpanName": "op",
        "SpanKind": "Client",
        "ServiceName": "svc",
        "ResourceAttributes": {"service.name": "svc", "rum.sessionId": "sess-1", "n": "1"},
        "ScopeName": "sc",
        "ScopeVersion": "9",
        "SpanAttributes": {"test.seq": "1", "SampleRate": "20", "arr": "[true,0.5]"},
        "Duration": 1000000001,
        "StatusCode": "Error",
        "StatusMessage": "boom",
        "Events.Timestamp": [1700000000500000000, 1700000000600000000],
        "Events.Name": ["e1", "e2"],
        "Events.Attributes": [{"k": "-3"}, {}],
        "Links.TraceId": ["0af7651916cd43dd8448eb211c80319c", "4bf92f3577b34da6a3ce929d0e0e4736"],
        "Links.SpanId": ["b7ad6b7169203331", "00f067aa0ba902b7"],
        "Links.TraceState": ["x=y", ""],
        "Links.Attributes": [{"l": "<&>"}, {}],
        "__hdx_materialized_rum.sessionId": "sess-1",
        "SampleRate": 20,
    }
    r2 = rows["2"]
    assert (r2["ParentSpanId"], r2["SpanKind"], r2["StatusCode"], r2["SampleRate"]) == ("", "Unspecified", "Unset", 1)
    assert r2["Duration"] == 2**64 - 10**9  # end before start: UInt64 wraps
    r3 = rows["3"]
    assert (r3["ServiceName"], r3["SpanKind"], r3["StatusCode"], r3["ScopeVersion"]) == ("", "Consumer", "Ok", "")
    assert r3["SampleRate"] == 1  # beyond UInt64: toUInt64OrZero gives 0
    assert r3["__hdx_materialized_rum.sessionId"] == ""
    assert list(r) == m.COLUMNS


def test_protobuf_and_json_agree():
    msg = capture.decode(json.dumps(REQUEST_JSON).encode(), True, signal="traces")
    again = capture.decode(msg.SerializeToString(), False, signal="traces")
    assert isinstance(again, trace_service_pb2.ExportTraceServiceRequest)
    assert m.expected_rows(again) == m.expected_rows(msg)


@pytest.mark.parametrize("v, want", [("", 1), ("0", 1), ("1", 1), ("25", 25), (" 25", 1), ("2.5", 1),
                                     ("-3", 1), ("18446744073709551615", 2**64 - 1), ("abc", 1)])
def test_sample_rate(v, want):
    assert m.sample_rate({"SampleRate": v}) == want


def test_select_list_reads_times_as_ns():
    sql = m.select_list()
    assert "toUnixTimestamp64Nano(Timestamp) AS `Timestamp`" in sql
    assert "arrayMap(t -> toUnixTimestamp64Nano(t), `Events.Timestamp`) AS `Events.Timestamp`" in sql
    assert "`__hdx_materialized_rum.sessionId`" in sql and "`SampleRate`" in sql


def seq(row):
    return row["SpanAttributes"].get("test.seq")


def test_compare_equal_rows_and_normalize():
    exp = rows_of(REQUEST_JSON)
    got = [(t, copy.deepcopy(r)) for t, r in exp]
    assert m.compare(exp, got, seq) == []
    raw = dict(got[0][1], Timestamp=str(got[0][1]["Timestamp"]), Duration=str(got[0][1]["Duration"]),
               SampleRate=str(got[0][1]["SampleRate"]))
    raw["Events.Timestamp"] = [str(t) for t in raw["Events.Timestamp"]]
    assert m.compare(exp[:1], [(m.TRACES, m.normalize_actual(raw))], seq) == []


def test_compare_reports_every_planted_mismatch():
    exp = rows_of(REQUEST_JSON)
    got = [(t, copy.deepcopy(r)) for t, r in exp]
    r1 = by_seq(got)["1"]
    r1.update(SpanKind="Server", Duration=1, TraceState="")
    r1["SpanAttributes"]["arr"] = "[1]"
    r1["Events.Timestamp"] = [1700000000500000000]
    r1["Events.Attributes"][0]["k"] = "3"
    r1["Links.Attributes"][1]["extra"] = "x"
    r1["Links.TraceState"] = ["x=y", "z"]
    del r1["SampleRate"]
    r1["Unknown"] = 1
    got = [g for g in got if seq(g[1]) != "3"]
    got.append((m.TRACES, copy.deepcopy(by_seq(got)["2"])))
    problems = m.compare(exp, got, seq)
    text = "\n".join(problems)
    print(text)
    assert 'otel_traces row 1: column SpanKind: expected "Client" got "Server"' in text
    assert "otel_traces row 1: column Duration: expected 1000000001 got 1" in text
    assert 'otel_traces row 1: column TraceState: expected "a=b" got ""' in text
    assert "otel_traces row 1: column SpanAttributes['arr']: expected \"[true,0.5]\" got \"[1]\"" in text
    assert ("otel_traces row 1: column Events.Timestamp: expected [1700000000500000000, 1700000000600000000] "
            "got [1700000000500000000]") in text
    assert "otel_traces row 1: column Events.Attributes[0]['k']: expected \"-3\" got \"3\"" in text
    assert "otel_traces row 1: column Links.Attributes[1]['extra']: not expected, got \"x\"" in text
    assert 'otel_traces row 1: column Links.TraceState: expected ["x=y", ""] got ["x=y", "z"]' in text
    assert "otel_traces row 1: column SampleRate: missing from the stored row" in text
    assert "otel_traces row 1: column Unknown: not expected in the query result" in text
    assert "otel_traces row 2: stored 2 times, expected 1" in text
    assert "otel_traces row 3: missing" in text
    assert len(problems) == 12


CAPTURED = sorted(glob.glob(os.path.join(HERE, "captured", "traces-*")))


@pytest.mark.skipif(not CAPTURED, reason="no captured traces payloads (run --capture-only --signals traces --update-captured)")
def test_captured_payloads_give_the_expected_rows():
    by_client = {}
    for path in CAPTURED:
        name = os.path.basename(path).rsplit("-", 1)[0]
        with open(path, "rb") as f:
            request = capture.decode(f.read(), path.endswith(".json"), signal="traces")
        by_client.setdefault(name, []).extend(m.expected_rows(request))
    assert set(by_client) == {f"traces-{c}-{p}" for c in ("python", "node", "rust") for p in ("grpc", "http")}
    for name, rows in by_client.items():
        r = by_seq(rows)
        assert sorted(r, key=int) == [str(i) for i in range(1, 8)], name
        assert [r[s]["SpanKind"] for s in "1234567"] == [
            "Server", "Internal", "Client", "Producer", "Consumer", "Server", "Internal"], name
        assert r["1"]["ParentSpanId"] == "" and r["2"]["ParentSpanId"] == r["1"]["SpanId"], name
        assert r["3"]["ParentSpanId"] == r["2"]["SpanId"], name
        assert r["6"]["ParentSpanId"] == "b7ad6b7169203331", name
        assert r["6"]["TraceState"] == "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7", name
        assert r["1"]["Duration"] == 10876543210 and r["7"]["Duration"] == 0, name
        assert (r["1"]["StatusCode"], r["2"]["StatusCode"], r["2"]["StatusMessage"]) == (
            "Ok", "Error", "validation failed: <&> ü"), name
        assert [r[s]["SampleRate"] for s in "1234"] == [1, 25, 10, 1], name
        assert r["4"]["Links.TraceId"] == ["4bf92f3577b34da6a3ce929d0e0e4736", "0af7651916cd43dd8448eb211c80319c"], name
        assert r["4"]["Links.Attributes"][0]["link.str"] == "l <&>", name
        assert r["1"]["Events.Name"] == ["request.received", "no attributes"], name
        assert (r["1"]["ServiceName"], r["6"]["ServiceName"]) == ("interop-trace-svc", ""), name
        assert r["6"]["__hdx_materialized_rum.sessionId"] == "sess-42", name
