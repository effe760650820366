"""Unit tests of the otel_metrics_* expected-row model and its comparator (no sluice, no ClickHouse,
no SDK).

    .build/venv/bin/python -m pytest scripts/interop/test_expected_metrics.py
"""

import copy
import glob
import json
import math
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "python"))

import capture  # noqa: E402
import expected_metrics as m  # noqa: E402
import send_metrics_manual as manual  # noqa: E402
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2  # noqa: E402

SCHEMA_TSV = os.path.join(HERE, "..", "..", "..", "shared", "schema", "clickstack-columns.tsv")
T0 = 1700000000  # seconds


def kv(key, **value):
    return {"key": key, "value": value}


def seq(n):
    return kv("test.seq", intValue=str(n))


REQUEST_JSON = {
    "resourceMetrics": [{
        "resource": {"attributes": [kv("service.name", stringValue="svc"), kv("n", doubleValue=1.0),
                                    kv("arr", arrayValue={"values": [{"intValue": "1"}, {"boolValue": True}]})]},
        "schemaUrl": "https://r",
        "scopeMetrics": [{
            "scope": {"name": "sc", "version": "9", "attributes": [kv("s", stringValue="<&>")],
                      "droppedAttributesCount": 2},
            "schemaUrl": "https://s",
            "metrics": [
                {"name": "g", "description": "d", "unit": "1", "gauge": {"dataPoints": [
                    {"attributes": [seq(1), kv("k", stringValue="v")],
                     "startTimeUnixNano": "1700000000999999999", "timeUnixNano": "1700000001000000000",
                     "asInt": "-5", "flags": 1,
                     "exemplars": [
                         {"filteredAttributes": [kv("u", intValue="3")], "timeUnixNano": "1699999999500000000",
                          "asDouble": 0.5, "traceId": "5b8efff798038103d269b633813fc60c",
                          "spanId": "eee19b7ec3c1b174"},
                         {"timeUnixNano": "1700000000000000000", "asInt": "7"},
                         {"timeUnixNano": "1700000000000000000", "traceId": "", "spanId": ""},
                     ]},
                    {"attributes": [seq(2)], "timeUnixNano": "1700000002000000000"},
                ]}},
                {"name": "s", "sum": {"aggregationTemporality": 1, "isMonotonic": False, "dataPoints": [
                    {"attributes": [seq(3)], "timeUnixNano": "1700000003000000000", "asDouble": -0.25}]}},
                {"name": "empty", "gauge": {}},
                {"name": "nodata"},
                {"name": "h", "unit": "ms", "histogram": {"aggregationTemporality": 2, "dataPoints": [
                    {"attributes": [seq(4)], "timeUnixNano": "1700000004000000000", "count": "3",
                     "bucketCounts": ["1", "2"], "explicitBounds": [1.5]},
                    {"attributes": [seq(5)], "timeUnixNano": "1700000004000000000", "count": "18446744073709551615",
                     "sum": 2.5, "min": -1, "max": 3, "bucketCounts": ["0"],
                     "exemplars": [{"timeUnixNano": "1700000004000000000", "asDouble": 2.0,
                                    "spanId": "00f067aa0ba902b7"}]},
                ]}},
                {"name": "e", "exponentialHistogram": {"aggregationTemporality": 1, "dataPoints": [
                    {"attributes": [seq(6)], "timeUnixNano": "1700000005000000000", "count": "10", "sum": -1.5,
                     "scale": -3, "zeroCount": "2", "positive": {"offset": -2, "bucketCounts": ["1", "0", "3"]},
                     "negative": {"offset": 5, "bucketCounts": ["4"]}, "flags": 1, "min": -40, "max": 9,
                     "zeroThreshold": 0.01},
                    {"attributes": [seq(7)], "timeUnixNano": "1700000005000000000", "scale": 20},
                ]}},
                {"name": "q", "summary": {"dataPoints": [
                    {"attributes": [seq(8)], "startTimeUnixNano": "1", "timeUnixNano": "1700000006000000000",
                     "count": "4", "sum": 10.5,
                     "quantileValues": [{"quantile": 0.5, "value": 2}, {"quantile": 1, "value": 9.5}]},
                ]}},
            ],
        }],
    }, {
        "resource": {"attributes": [kv("service.name", intValue="5")]},
        "scopeMetrics": [{"metrics": [{"name": "x", "sum": {"dataPoints": [
            {"attributes": [seq(9)], "timeUnixNano": "1700000007000000000", "asInt": "9223372036854775807"}]}}]}],
    }],
}


def rows_of(doc):
    return m.expected_rows(capture.decode(json.dumps(doc).encode(), True, signal="metrics"))


def by_seq(rows):
    return {int(r["Attributes"]["test.seq"]): (t, r) for t, r in rows}


def test_rows_from_otlp_json():
    rows = rows_of(REQUEST_JSON)
    assert len(rows) == 9  # the metrics without data points give no row
    r = by_seq(rows)
    t, g = r[1]
    assert t == m.GAUGE
    assert g == {
        "ResourceAttributes": {"service.name": "svc", "n": "1", "arr": "[1,true]"},
        "ResourceSchemaUrl": "https://r",
        "ScopeName": "sc",
        "ScopeVersion": "9",
        "ScopeAttributes": {"s": "<&>"},
        "ScopeDroppedAttrCount": 2,
        "ScopeSchemaUrl": "https://s",
        "ServiceName": "svc",
        "MetricName": "g",
        "MetricDescription": "d",
        "MetricUnit": "1",
        "Attributes": {"test.seq": "1", "k": "v"},
        "StartTimeUnix": T0,  # truncated, not rounded
        "TimeUnix": T0 + 1,
        "Value": -5.0,
        "Flags": 1,
        "Exemplars.FilteredAttributes": [{"u": "3"}, {}, {}],
        "Exemplars.TimeUnix": [T0 - 1, T0, T0],
        "Exemplars.Value": [0.5, 7.0, 0.0],
        "Exemplars.SpanId": ["eee19b7ec3c1b174", "0" * 16, "0" * 16],
        "Exemplars.TraceId": ["5b8efff798038103d269b633813fc60c", "0" * 32, "0" * 32],
    }
    assert list(g) == m.COLUMNS[m.GAUGE]
    assert (r[2][1]["Value"], r[2][1]["StartTimeUnix"], r[2][1]["Flags"]) == (0.0, 0, 0)
    t, s = r[3]
    assert t == m.SUM and list(s) == m.COLUMNS[m.SUM]
    assert (s["Value"], s["AggregationTemporality"], s["IsMonotonic"]) == (-0.25, 1, False)
    t, h = r[4]
    assert t == m.HISTOGRAM and list(h) == m.COLUMNS[m.HISTOGRAM]
    assert (h["Count"], h["Sum"], h["Min"], h["Max"], h["BucketCounts"], h["ExplicitBounds"],
            h["AggregationTemporality"]) == (3, 0.0, 0.0, 0.0, [1, 2], [1.5], 2)
    h5 = r[5][1]
    assert (h5["Count"], h5["Sum"], h5["Min"], h5["Max"]) == (2**64 - 1, 2.5, -1.0, 3.0)
    assert (h5["Exemplars.SpanId"], h5["Exemplars.TraceId"]) == (["00f067aa0ba902b7"], ["0" * 32])
    t, e = r[6]
    assert t == m.EXP_HISTOGRAM and list(e) == m.COLUMNS[m.EXP_HISTOGRAM]
    assert {k: e[k] for k in ("Count", "Sum", "Scale", "ZeroCount", "PositiveOffset", "PositiveBucketCounts",
                              "NegativeOffset", "NegativeBucketCounts", "Flags", "Min", "Max",
                              "AggregationTemporality")} == {
        "Count": 10, "Sum": -1.5, "Scale": -3, "ZeroCount": 2, "PositiveOffset": -2, "PositiveBucketCounts": [1, 0, 3],
        "NegativeOffset": 5, "NegativeBucketCounts": [4], "Flags": 1, "Min": -40.0, "Max": 9.0,
        "AggregationTemporality": 1}
    e7 = r[7][1]
    assert (e7["Count"], e7["Sum"], e7["Scale"], e7["PositiveBucketCounts"], e7["Min"]) == (0, 0.0, 20, [], 0.0)
    t, q = r[8]
    assert t == m.SUMMARY and list(q) == m.COLUMNS[m.SUMMARY]
    assert (q["Count"], q["Sum"], q["ValueAtQuantiles.Quantile"], q["ValueAtQuantiles.Value"], q["StartTimeUnix"]) == (
        4, 10.5, [0.5, 1.0], [2.0, 9.5], 0)
    t, x = r[9]
    assert (t, x["ServiceName"], x["ScopeName"], x["ResourceAttributes"], x["Value"]) == (
        m.SUM, "", "", {"service.name": "5"}, 9.223372036854776e18)
    assert (x["AggregationTemporality"], x["IsMonotonic"], x["ResourceSchemaUrl"]) == (0, False, "")


def test_protobuf_and_json_agree():
    msg = capture.decode(json.dumps(REQUEST_JSON).encode(), True, signal="metrics")
    again = capture.decode(msg.SerializeToString(), False, signal="metrics")
    assert isinstance(again, metrics_service_pb2.ExportMetricsServiceRequest)
    assert m.expected_rows(again) == m.expected_rows(msg)


@pytest.mark.skipif(not os.path.exists(SCHEMA_TSV), reason="no shared/schema/clickstack-columns.tsv")
def test_columns_are_the_schema_columns_in_order():
    schema = {}
    with open(SCHEMA_TSV, encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            table, column, _type, kind = line.rstrip("\n").split("\t")[:4]
            if table in m.TABLES and kind == "stored":
                schema.setdefault(table, []).append(column)
    assert schema == m.COLUMNS


def test_select_list_reads_datetimes_as_seconds():
    sql = m.select_list(m.HISTOGRAM)
    assert "toUnixTimestamp(StartTimeUnix) AS `StartTimeUnix`" in sql
    assert "toUnixTimestamp(TimeUnix) AS `TimeUnix`" in sql
    assert "arrayMap(x -> toUnixTimestamp(x), `Exemplars.TimeUnix`) AS `Exemplars.TimeUnix`" in sql
    assert "`Exemplars.FilteredAttributes`" in sql and "`AggregationTemporality`" in sql
    assert "`ValueAtQuantiles.Quantile`" in m.select_list(m.SUMMARY)


def test_normalize_actual():
    raw = {"Count": "18446744073709551615", "ZeroCount": "0", "Sum": 1, "Min": "nan", "Max": "-inf",
           "PositiveBucketCounts": ["1", "2"], "ExplicitBounds": [0, 2.5, "inf"], "Scale": -3,
           "Exemplars.Value": ["-nan", 3], "Value": None}
    row = m.normalize_actual(m.EXP_HISTOGRAM, raw)
    assert row["Count"] == 2**64 - 1 and row["ZeroCount"] == 0
    assert isinstance(row["Sum"], float) and row["Sum"] == 1.0
    assert math.isnan(row["Min"]) and row["Max"] == -math.inf
    assert row["PositiveBucketCounts"] == [1, 2]
    assert row["ExplicitBounds"] == [0.0, 2.5, math.inf] and isinstance(row["ExplicitBounds"][0], float)
    assert math.isnan(row["Exemplars.Value"][0]) and row["Exemplars.Value"][1] == 3.0
    assert row["Scale"] == -3 and row["Value"] is None


def test_negative_zero_survives_json():
    row = json.loads('{"Value": -0, "Flags": 0, "Exemplars.Value": [1, -0]}', parse_int=m.parse_json_int)
    row = m.normalize_actual(m.GAUGE, row)
    assert math.copysign(1, row["Value"]) == -1 and row["Flags"] == 0 and isinstance(row["Flags"], int)
    assert row["Exemplars.Value"] == [1.0, 0.0] and math.copysign(1, row["Exemplars.Value"][1]) == -1


def test_same_float():
    assert m.same_float(math.nan, -math.nan)
    assert not m.same_float(0.0, -0.0)
    assert m.same_float(-0.0, -0.0)
    assert not m.same_float(math.nan, 0.0)
    assert m.same_float(math.inf, math.inf) and not m.same_float(math.inf, -math.inf)


def test_manual_request_rows():
    base_ns = 1700000000 * 10**9
    msg = manual.request("run-1", base_ns)
    rows = m.expected_rows(msg)
    r = by_seq(rows)
    assert sorted(r) == [101, 102, 103, 104, 105, 106, 107, 110, 111, 112, 113, 120, 121, 122, 123,
                         130, 131, 132, 140, 141, 142, 150, 151]
    assert len(rows) == len(r)
    assert not any(row["MetricName"].startswith("manual.no_") for _, row in rows)
    tables = {s: t for s, (t, _) in r.items()}
    assert [tables[s] for s in (101, 110, 120, 130, 140)] == [m.GAUGE, m.SUM, m.HISTOGRAM, m.EXP_HISTOGRAM, m.SUMMARY]
    g = r[101][1]
    assert (g["StartTimeUnix"], g["TimeUnix"]) == (T0 - 61, T0)  # base - 60.5 s; base + 0.999999999 s
    assert g["Exemplars.SpanId"][1] == "0" * 16 and g["Exemplars.Value"] == [0.25, -7.0]
    assert g["Attributes"]["kv"] == '{"a":1,"b":[true]}'
    assert r[102][1]["Value"] == float(2**63 - 1) and r[102][1]["Flags"] == 1
    assert r[103][1]["Value"] == 0.0
    assert math.isnan(r[104][1]["Value"]) and r[105][1]["Value"] == -math.inf
    assert math.copysign(1, r[106][1]["Value"]) == -1
    s = r[110][1]
    assert (s["AggregationTemporality"], s["IsMonotonic"], s["Value"]) == (1, False, -42.0)
    assert s["Exemplars.FilteredAttributes"][0] == {"bytes": "AP8=", "d": "1e+21"}
    assert r[113][1]["ScopeName"] == "" and r[113][1]["AggregationTemporality"] == 0
    h = r[120][1]
    assert (h["Sum"], h["Min"], h["Max"], h["Count"]) == (0.0, 0.0, 0.0, 5)
    assert r[123][1]["Count"] == 2**64 - 1 and r[123][1]["Sum"] == math.inf
    e = r[130][1]
    assert (e["NegativeOffset"], e["NegativeBucketCounts"], e["ZeroCount"], e["Scale"]) == (2, [5, 9], 3, -2)
    assert e["Exemplars.TraceId"] == ["0" * 32, "4bf92f3577b34da6a3ce929d0e0e4736"]
    assert r[132][1]["NegativeOffset"] == -(2**31) and math.isnan(r[132][1]["Sum"])
    q = r[140][1]
    assert q["ValueAtQuantiles.Quantile"] == [0.0, 0.5, 0.99, 1.0] and q["ValueAtQuantiles.Value"][1] == 12.25
    assert r[142][1]["Count"] == 2**63
    assert (r[150][1]["ServiceName"], r[151][1]["ServiceName"]) == ("", "")
    assert r[101][1]["ServiceName"] == "interop-metric-manual"
    assert r[101][1]["ScopeDroppedAttrCount"] == 4
    assert r[101][1]["ResourceAttributes"]["res.bytes"] == "AQL+"
    assert all(row["ResourceAttributes"]["test.run_id"] == "run-1" for _, row in rows)


def test_loosen_sdk_times():
    rows = rows_of(REQUEST_JSON)
    loose = m.loosen_sdk_times(copy.deepcopy(rows), 600)
    r = by_seq(loose)
    assert isinstance(r[1][1]["TimeUnix"], m.NearSeconds) and r[2][1]["StartTimeUnix"] == 0
    assert all(isinstance(t, m.NearSeconds) for t in r[1][1]["Exemplars.TimeUnix"])
    shifted = copy.deepcopy(rows)
    for _, row in shifted:
        if row["TimeUnix"]:
            row["TimeUnix"] += 599
    assert m.compare(loose, shifted) == []
    for _, row in shifted:
        if row["TimeUnix"]:
            row["TimeUnix"] += 2
    problems = m.compare(loose, shifted)
    assert len(problems) == 9 and "column TimeUnix: expected within 600 s of" in problems[0]


def test_compare_equal_rows_including_nan():
    msg = manual.request("run-1", 1700000000 * 10**9)
    exp = m.expected_rows(msg)
    got = [(t, copy.deepcopy(r)) for t, r in exp]
    assert m.compare(exp, got) == []
    # as ClickHouse returns them (quoted UInt64, whole doubles as JSON ints, denormals quoted)
    raw = copy.deepcopy(by_seq(got)[123][1])
    raw.update(Count=str(raw["Count"]), Sum="inf", Min=0.5, Max=0.5,
               BucketCounts=[str(c) for c in raw["BucketCounts"]])
    assert m.compare([(m.HISTOGRAM, by_seq(exp)[123][1])], [(m.HISTOGRAM, m.normalize_actual(m.HISTOGRAM, raw))]) == []
    raw = copy.deepcopy(by_seq(got)[104][1])
    raw["Value"] = "nan"
    assert m.compare([(m.GAUGE, by_seq(exp)[104][1])], [(m.GAUGE, m.normalize_actual(m.GAUGE, raw))]) == []


def test_compare_reports_every_planted_mismatch():
    exp = rows_of(REQUEST_JSON)
    got = [(t, copy.deepcopy(r)) for t, r in exp]
    r = {s: row for s, (_, row) in by_seq(got).items()}
    r[1]["Value"] = -4.0
    r[1]["Exemplars.TraceId"][0] = "0" * 32
    r[1]["Exemplars.FilteredAttributes"][0]["u"] = "4"
    r[1]["Exemplars.TimeUnix"] = [T0 - 1, T0]
    r[1]["Flags"] = 0
    r[3]["Value"] = 0.25
    r[3]["IsMonotonic"] = 0  # a number, not a bool
    r[4]["BucketCounts"] = [2, 1]
    r[4]["Sum"] = -0.0
    r[5]["Count"] = 2**64 - 2
    r[6]["NegativeOffset"] = -5
    r[6]["Max"] = math.nan
    r[8]["ValueAtQuantiles.Value"] = [2.0]
    r[8]["Attributes"]["extra"] = "x"
    del r[8]["ScopeDroppedAttrCount"]
    r[8]["Unknown"] = 1
    got = [g for g in got if m.seq_of(g[1]) not in ("2", "7")]
    got.append((m.SUM, copy.deepcopy(by_seq(exp)[2][1])))  # seq 2 in the wrong table
    got.append((m.SUM, copy.deepcopy(by_seq(exp)[9][1])))  # seq 9 twice
    problems = m.compare(exp, got)
    text = "\n".join(problems)
    print(text)
    g, s, h, e, q = m.GAUGE, m.SUM, m.HISTOGRAM, m.EXP_HISTOGRAM, m.SUMMARY
    want = [
        f"{g} row 1: column Value: expected -5.0 got -4.0",
        f"{g} row 1: column Flags: expected 1 got 0",
        f"{g} row 1: column Exemplars.FilteredAttributes[0]['u']: expected \"3\" got \"4\"",
        f"{g} row 1: column Exemplars.TimeUnix: expected [{T0 - 1}, {T0}, {T0}] got [{T0 - 1}, {T0}]",
        f"{g} row 1: column Exemplars.TraceId: expected [\"5b8efff798038103d269b633813fc60c\", ",
        f"{g} row 2: missing (found in {s})",
        f"{s} row 2: not expected (1 stored)",
        f"{s} row 3: column Value: expected -0.25 got 0.25",
        f"{s} row 3: column IsMonotonic: expected false got 0",
        f"{h} row 4: column Sum: expected 0.0 got -0.0",
        f"{h} row 4: column BucketCounts: expected [1, 2] got [2, 1]",
        f"{h} row 5: column Count: expected 18446744073709551615 got 18446744073709551614",
        f"{e} row 6: column NegativeOffset: expected 5 got -5",
        f"{e} row 6: column Max: expected 9.0 got nan",
        f"{e} row 7: missing",
        f"{q} row 8: column Attributes['extra']: not expected, got \"x\"",
        f"{q} row 8: column ScopeDroppedAttrCount: missing from the stored row",
        f"{q} row 8: column ValueAtQuantiles.Value: expected [2.0, 9.5] got [2.0]",
        f"{q} row 8: column Unknown: not expected in the query result",
        f"{s} row 9: stored 2 times, expected 1",
    ]
    for w in want:
        assert w in text, w
    assert len(problems) == len(want)


CAPTURED = sorted(glob.glob(os.path.join(HERE, "captured", "metrics-*")))
SDK_SEQS = list(range(1, 16))


@pytest.mark.skipif(not CAPTURED, reason="no captured metrics payloads (run --capture-only --signals metrics --update-captured)")
def test_captured_payloads_give_the_expected_rows():
    by_client = {}
    for path in CAPTURED:
        name = os.path.basename(path).rsplit("-", 1)[0]
        with open(path, "rb") as f:
            request = capture.decode(f.read(), path.endswith(".json"), signal="metrics")
        by_client.setdefault(name, []).extend(m.expected_rows(request))
    assert set(by_client) == {f"metrics-{c}-{p}" for c in ("python", "node", "rust", "manual")
                              for p in ("grpc", "http")}
    for name, rows in by_client.items():
        r = {s: row for s, (_, row) in by_seq(rows).items()}
        assert len(r) == len(rows), name
        if "manual" in name:
            assert len(rows) == 23 and r[140]["ValueAtQuantiles.Quantile"] == [0.0, 0.5, 0.99, 1.0], name
            continue
        tables = {s: t for s, (t, _) in by_seq(rows).items()}
        assert sorted(r) == SDK_SEQS, name
        assert [tables[s] for s in (1, 4, 7, 10, 11, 13, 14)] == [
            m.SUM, m.SUM, m.GAUGE, m.GAUGE, m.HISTOGRAM, m.HISTOGRAM, m.EXP_HISTOGRAM], name
        assert [r[s]["Value"] for s in range(1, 11)] == [
            16.0, 0.0, 1024.876, -1.0, -3.0, -2.125, 21.5, -3.25, 0.0, 12.0], name
        assert [r[s]["IsMonotonic"] for s in range(1, 7)] == [True] * 3 + [False] * 3, name
        assert all(r[s]["AggregationTemporality"] == 2 for s in (1, 4, 11, 13, 14)), name
        assert (r[11]["Count"], r[11]["Sum"], r[11]["Min"], r[11]["Max"]) == (8, 242.751, 0.0, 120.25), name
        assert r[11]["ExplicitBounds"] == [0.0, 5.0, 10.0, 25.0, 50.0, 100.0], name
        assert r[11]["BucketCounts"] == [1, 3, 2, 0, 0, 1, 1], name
        assert (r[13]["Count"], r[13]["Sum"], len(r[13]["ExplicitBounds"])) == (5, 25101.0, 15), name
        # Python and JS drop negative values recorded on a histogram; Rust keeps them.
        count, total, low = (9, 1026.75, -3.0) if "rust" in name else (7, 1030.25, 0.0)
        assert (r[14]["Count"], r[14]["Sum"], r[14]["Min"], r[14]["Max"], r[14]["ZeroCount"], r[14]["Scale"]) == (
            count, total, low, 1024.0, 2, 1), name
        assert r[15]["Scale"] == 20, name
        assert r[1]["MetricDescription"] == "Requests handled <&> ü" and r[1]["MetricUnit"] == "{request}", name
        assert (r[1]["ScopeName"], r[1]["ScopeVersion"], r[1]["ScopeSchemaUrl"]) == (
            "interop.meter.a", "1.2.3", "https://opentelemetry.io/schemas/1.24.0"), name
        assert r[1]["ServiceName"] == "interop-metric-svc", name
        assert r[1]["ResourceSchemaUrl"] == "https://opentelemetry.io/schemas/1.26.0", name
        assert r[8]["Attributes"] == {"room": "b <&>", "test.seq": "8"}, name
        # Only the Python SDK records exemplars (trace-based filter, measurement in a sampled span).
        if "python" in name:
            assert r[1]["Exemplars.TraceId"] == ["5b8efff798038103d269b633813fc60c"], name
            assert (r[1]["Exemplars.Value"], r[1]["Exemplars.SpanId"]) == ([10.0], ["eee19b7ec3c1b174"]), name
            assert r[11]["Exemplars.Value"] == [7.0], name
        else:
            assert r[1]["Exemplars.TraceId"] == [] and r[11]["Exemplars.TraceId"] == [], name
