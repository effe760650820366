"""The otel_metrics_* rows sluice must store for an OTLP metrics request, computed independently of sluice.

Written from the OTel ClickHouse exporter's metric row values and the ClickStack metrics schema
(see scripts/interop/README.md), not from sluice's code. Input: an ExportMetricsServiceRequest as
decoded from what an SDK (or send_metrics_manual.py) really put on the wire (capture.py).
Output: one (table, row) per data point, in the table of the metric's data kind
(otel_metrics_gauge / _sum / _histogram / _exponential_histogram / _summary), as
`SELECT … FORMAT JSONEachRow` gives it back with select_list(): the DateTime columns as
toUnixTimestamp (int seconds), Exemplars.TimeUnix as an array of them, 64-bit integers as int
(normalize_actual undoes ClickHouse's quoting), Float64 columns as float (nan and ±inf included:
the query asks for output_format_json_quote_denormals), maps as {str: str} stringified by
expected.as_string, the Exemplars.* / ValueAtQuantiles.* columns as lists.

The rules:
- one row per data point; a metric with no data points, or no data at all, gives no row;
- common columns: ResourceAttributes, ResourceSchemaUrl, ScopeName, ScopeVersion,
  ScopeAttributes, ScopeDroppedAttrCount (scope.dropped_attributes_count), ScopeSchemaUrl,
  ServiceName (resource service.name when it is a string, else ''), MetricName,
  MetricDescription, MetricUnit, Attributes (the data point's), StartTimeUnix and TimeUnix
  (whole seconds: ns // 10^9), Flags;
- gauge and sum: Value = as_double, or float(as_int), or 0 when the point has neither; sum adds
  AggregationTemporality (the enum's number) and IsMonotonic;
- Exemplars.* (all but summary): parallel arrays in wire order; FilteredAttributes stringified,
  TimeUnix in seconds, Value as for gauge/sum, SpanId / TraceId lowercase hex, 16 / 32 '0's when
  absent or empty;
- histogram: Count, Sum (0 when absent), BucketCounts, ExplicitBounds, Min, Max (0 when absent),
  AggregationTemporality;
- exponential histogram: Count, Sum (0 when absent), Scale, ZeroCount, PositiveOffset,
  PositiveBucketCounts, NegativeOffset, NegativeBucketCounts, Min, Max (0 when absent),
  AggregationTemporality;
- summary: Count, Sum, ValueAtQuantiles.Quantile / .Value (parallel arrays), Flags.

`compare()` is expected.compare with these tables' columns; floats are compared exactly (same
bits; any NaN matches any NaN).
"""

import math
import re

import expected as base

GAUGE = "otel_metrics_gauge"
SUM = "otel_metrics_sum"
HISTOGRAM = "otel_metrics_histogram"
EXP_HISTOGRAM = "otel_metrics_exponential_histogram"
SUMMARY = "otel_metrics_summary"
TABLES = (GAUGE, SUM, HISTOGRAM, EXP_HISTOGRAM, SUMMARY)

_COMMON = [
    "ResourceAttributes", "ResourceSchemaUrl", "ScopeName", "ScopeVersion", "ScopeAttributes",
    "ScopeDroppedAttrCount", "ScopeSchemaUrl", "ServiceName", "MetricName", "MetricDescription",
    "MetricUnit", "Attributes", "StartTimeUnix", "TimeUnix",
]
_EXEMPLARS = ["Exemplars.FilteredAttributes", "Exemplars.TimeUnix", "Exemplars.Value",
              "Exemplars.SpanId", "Exemplars.TraceId"]
# The stored columns of each table, in schema order (../../../shared/schema/clickstack-columns.tsv).
COLUMNS = {
    GAUGE: _COMMON + ["Value", "Flags"] + _EXEMPLARS,
    SUM: _COMMON + ["Value", "Flags"] + _EXEMPLARS + ["AggregationTemporality", "IsMonotonic"],
    HISTOGRAM: _COMMON + ["Count", "Sum", "BucketCounts", "ExplicitBounds"] + _EXEMPLARS
    + ["Flags", "Min", "Max", "AggregationTemporality"],
    EXP_HISTOGRAM: _COMMON + ["Count", "Sum", "Scale", "ZeroCount", "PositiveOffset", "PositiveBucketCounts",
                              "NegativeOffset", "NegativeBucketCounts"] + _EXEMPLARS
    + ["Flags", "Min", "Max", "AggregationTemporality"],
    SUMMARY: _COMMON + ["Count", "Sum", "ValueAtQuantiles.Quantile", "ValueAtQuantiles.Value", "Flags"],
}
MAP_COLUMNS = {"ResourceAttributes", "ScopeAttributes", "Attributes"}
MAP_ARRAY_COLUMNS = {"Exemplars.FilteredAttributes"}
# UInt64 columns come back quoted: read as int. (The other integer columns are plain JSON numbers.)
INT_COLUMNS = {"Count", "ZeroCount"}
INT_ARRAY_COLUMNS = {"BucketCounts", "PositiveBucketCounts", "NegativeBucketCounts"}
FLOAT_COLUMNS = {"Value", "Sum", "Min", "Max"}
FLOAT_ARRAY_COLUMNS = {"Exemplars.Value", "ExplicitBounds", "ValueAtQuantiles.Quantile", "ValueAtQuantiles.Value"}
# How a column is read back (SELECT expression); DateTime as seconds since the epoch.
SELECT = {
    "StartTimeUnix": "toUnixTimestamp(StartTimeUnix)",
    "TimeUnix": "toUnixTimestamp(TimeUnix)",
    "Exemplars.TimeUnix": "arrayMap(x -> toUnixTimestamp(x), `Exemplars.TimeUnix`)",
}
# nan and ±inf as strings instead of null (they are stored as sent).
QUERY_SETTINGS = "output_format_json_quote_denormals = 1"
TIME_COLUMNS = ("StartTimeUnix", "TimeUnix")

NS = 10**9


def select_list(table):
    return ", ".join(f"{SELECT[c]} AS `{c}`" if c in SELECT else f"`{c}`" for c in COLUMNS[table])


def number_value(p):
    """as_double, or float(as_int), or 0.0 when the point (or exemplar) has neither."""
    kind = p.WhichOneof("value")
    if kind == "as_double":
        return p.as_double
    if kind == "as_int":
        return float(p.as_int)
    return 0.0


def _id(b, width):
    """Lowercase hex; width '0's when the id is absent or empty."""
    return bytes(b).hex() if len(b) else "0" * width


def _exemplars(point):
    ex = list(point.exemplars)
    return {
        "Exemplars.FilteredAttributes": [base.stringify(base.py_attributes(e.filtered_attributes)) for e in ex],
        "Exemplars.TimeUnix": [e.time_unix_nano // NS for e in ex],
        "Exemplars.Value": [number_value(e) for e in ex],
        "Exemplars.SpanId": [_id(e.span_id, 16) for e in ex],
        "Exemplars.TraceId": [_id(e.trace_id, 32) for e in ex],
    }


def _opt(p, field):
    return getattr(p, field) if p.HasField(field) else 0.0


def expected_rows(request):
    """[(table, row)] for an ExportMetricsServiceRequest, in request order."""
    rows = []
    for rm in request.resource_metrics:
        res_attrs = base.py_attributes(rm.resource.attributes)
        service = res_attrs.get("service.name")
        service = service if isinstance(service, str) else ""
        res_strings = base.stringify(res_attrs)
        for sm in rm.scope_metrics:
            scope_attrs = base.stringify(base.py_attributes(sm.scope.attributes))
            for metric in sm.metrics:
                kind = metric.WhichOneof("data")
                if kind is None:
                    continue
                data = getattr(metric, kind)
                for p in data.data_points:
                    row = {
                        "ResourceAttributes": dict(res_strings),
                        "ResourceSchemaUrl": rm.schema_url,
                        "ScopeName": sm.scope.name,
                        "ScopeVersion": sm.scope.version,
                        "ScopeAttributes": dict(scope_attrs),
                        "ScopeDroppedAttrCount": sm.scope.dropped_attributes_count,
                        "ScopeSchemaUrl": sm.schema_url,
                        "ServiceName": service,
                        "MetricName": metric.name,
                        "MetricDescription": metric.description,
                        "MetricUnit": metric.unit,
                        "Attributes": base.stringify(base.py_attributes(p.attributes)),
                        "StartTimeUnix": p.start_time_unix_nano // NS,
                        "TimeUnix": p.time_unix_nano // NS,
                    }
                    if kind == "gauge":
                        table = GAUGE
                        row.update(Value=number_value(p), Flags=p.flags, **_exemplars(p))
                    elif kind == "sum":
                        table = SUM
                        row.update(Value=number_value(p), Flags=p.flags, **_exemplars(p))
                        row.update(AggregationTemporality=int(data.aggregation_temporality),
                                   IsMonotonic=bool(data.is_monotonic))
                    elif kind == "histogram":
                        table = HISTOGRAM
                        row.update(Count=p.count, Sum=_opt(p, "sum"), BucketCounts=list(p.bucket_counts),
                                   ExplicitBounds=list(p.explicit_bounds), **_exemplars(p))
                        row.update(Flags=p.flags, Min=_opt(p, "min"), Max=_opt(p, "max"),
                                   AggregationTemporality=int(data.aggregation_temporality))
                    elif kind == "exponential_histogram":
                        table = EXP_HISTOGRAM
                        row.update(Count=p.count, Sum=_opt(p, "sum"), Scale=p.scale, ZeroCount=p.zero_count,
                                   PositiveOffset=p.positive.offset,
                                   PositiveBucketCounts=list(p.positive.bucket_counts),
                                   NegativeOffset=p.negative.offset,
                                   NegativeBucketCounts=list(p.negative.bucket_counts), **_exemplars(p))
                        row.update(Flags=p.flags, Min=_opt(p, "min"), Max=_opt(p, "max"),
                                   AggregationTemporality=int(data.aggregation_temporality))
                    elif kind == "summary":
                        table = SUMMARY
                        row.update(Count=p.count, Sum=p.sum,
                                   **{"ValueAtQuantiles.Quantile": [q.quantile for q in p.quantile_values],
                                      "ValueAtQuantiles.Value": [q.value for q in p.quantile_values]},
                                   Flags=p.flags)
                    else:
                        raise ValueError(f"unknown metric data kind {kind}")
                    rows.append((table, row))
    return rows


# ---------------------------------------------------------------------------------------------
# Times the SDK chose


class NearSeconds(base.Near):
    """An expected DateTime (seconds) the SDK chose itself: the capture run and the sluice run differ."""

    def __repr__(self):
        return f"within {self.tolerance} s of {self.center} ({self.why})"


def loosen_sdk_times(rows, tolerance_s, why="set by the SDK"):
    """For SDK clients: every non-zero time (StartTimeUnix, TimeUnix, Exemplars.TimeUnix) becomes a
    NearSeconds; a zero (absent) time must stay zero."""
    for _table, row in rows:
        for col in TIME_COLUMNS:
            if row[col]:
                row[col] = NearSeconds(row[col], tolerance_s, why)
        if "Exemplars.TimeUnix" in row:
            row["Exemplars.TimeUnix"] = [NearSeconds(t, tolerance_s, why) if t else 0
                                         for t in row["Exemplars.TimeUnix"]]
    return rows


# ---------------------------------------------------------------------------------------------
# Reading ClickHouse's answer


_SPECIAL_FLOATS = {"nan": math.nan, "+nan": math.nan, "-nan": math.nan,
                   "inf": math.inf, "+inf": math.inf, "-inf": -math.inf}


def parse_json_int(s):
    """json.loads' parse_int for ClickHouse's answer: ClickHouse writes the Float64 -0.0 as `-0`,
    which would otherwise become the int 0 and lose its sign."""
    return -0.0 if s == "-0" else int(s)


def _float(v):
    if isinstance(v, bool):
        return v
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, str) and v.lower() in _SPECIAL_FLOATS:
        return _SPECIAL_FLOATS[v.lower()]
    return v  # null or anything else: left as it is, to show up as a mismatch


def _int(v):
    return int(v) if isinstance(v, str) and re.fullmatch(r"-?\d+", v) else v


def normalize_actual(table, raw):
    """A JSONEachRow row as compare() wants it: quoted 64-bit ints as int, Float64 as float."""
    row = dict(raw)
    for col in INT_COLUMNS & set(row):
        row[col] = _int(row[col])
    for col in INT_ARRAY_COLUMNS & set(row):
        if isinstance(row[col], list):
            row[col] = [_int(v) for v in row[col]]
    for col in FLOAT_COLUMNS & set(row):
        row[col] = _float(row[col])
    for col in FLOAT_ARRAY_COLUMNS & set(row):
        if isinstance(row[col], list):
            row[col] = [_float(v) for v in row[col]]
    return row


# ---------------------------------------------------------------------------------------------
# Comparison


def same_float(a, b):
    """The same double: equal with the same sign (0.0 vs -0.0 differ), or both NaN."""
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)


def _matches(exp, got):
    if isinstance(exp, float):
        return isinstance(got, float) and same_float(exp, got)
    return base._matches(exp, got)


def _show(v):
    if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
        return repr(v)
    if isinstance(v, list):
        return "[" + ", ".join(_show(x) for x in v) + "]"
    return base._show(v)


def _compare_map(label, exp, got):
    if not isinstance(got, dict):
        return [f"{label}: expected a map, got {_show(got)}"]
    problems = []
    for key in sorted(set(exp) | set(got)):
        if key not in got:
            problems.append(f"{label}[{key!r}]: expected {_show(exp[key])}, missing")
        elif key not in exp:
            problems.append(f"{label}[{key!r}]: not expected, got {_show(got[key])}")
        elif not _matches(exp[key], got[key]):
            problems.append(f"{label}[{key!r}]: expected {_show(exp[key])} got {_show(got[key])}")
    return problems


def compare_row(table, expected, actual):
    """Mismatch descriptions ('column X: expected … got …'), empty when the rows agree."""
    problems = []
    for col in COLUMNS[table]:
        if col not in actual:
            problems.append(f"column {col}: missing from the stored row")
            continue
        exp, got = expected[col], actual[col]
        if col in MAP_COLUMNS:
            problems += _compare_map(f"column {col}", exp, got)
        elif col in MAP_ARRAY_COLUMNS:
            if not isinstance(got, list) or len(got) != len(exp):
                problems.append(f"column {col}: expected {_show(exp)} got {_show(got)}")
                continue
            for i, (e, g) in enumerate(zip(exp, got)):
                problems += _compare_map(f"column {col}[{i}]", e, g)
        elif isinstance(exp, list):
            if not (isinstance(got, list) and len(got) == len(exp) and all(_matches(e, g) for e, g in zip(exp, got))):
                problems.append(f"column {col}: expected {_show(exp)} got {_show(got)}")
        elif not _matches(exp, got):
            problems.append(f"column {col}: expected {_show(exp)} got {_show(got)}")
    for col in sorted(set(actual) - set(COLUMNS[table])):
        problems.append(f"column {col}: not expected in the query result")
    return problems


def seq_of(row):
    return row["Attributes"].get("test.seq")


def compare(expected, actual, key=seq_of):
    """expected, actual: [(table, row)], paired by (table, key(row)); see expected.compare."""
    return base.compare(expected, actual, key, compare_row=compare_row)
