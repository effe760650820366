"""The otel_traces rows sluice must store for an OTLP traces request, computed independently of sluice.

Written from the OTel ClickHouse exporter's span row values (see scripts/interop/README.md), not
from sluice's code. Input: an ExportTraceServiceRequest as decoded from what an SDK really put
on the wire (capture.py). Output: one (table, row) per span, as `SELECT … FORMAT JSONEachRow`
gives it back with toUnixTimestamp64Nano(Timestamp) and arrayMap(toUnixTimestamp64Nano,
`Events.Timestamp`): ints for the times and Duration, str for strings, {str: str} for maps,
lists for the Events.* / Links.* columns. The MATERIALIZED SampleRate and
`__hdx_materialized_rum.sessionId` are included. Values are stringified by expected.as_string.

`compare()` is expected.compare with this table's columns.
"""

import re

import expected as base

TRACES = "otel_traces"

# The columns compared, in schema order (engine/src/schema/sql/otel_traces.sql), then the
# MATERIALIZED ones (the ALIAS columns are left out: ClickHouse computes them on read).
COLUMNS = [
    "Timestamp", "TraceId", "SpanId", "ParentSpanId", "TraceState", "SpanName", "SpanKind",
    "ServiceName", "ResourceAttributes", "ScopeName", "ScopeVersion", "SpanAttributes", "Duration",
    "StatusCode", "StatusMessage", "Events.Timestamp", "Events.Name", "Events.Attributes",
    "Links.TraceId", "Links.SpanId", "Links.TraceState", "Links.Attributes",
    "__hdx_materialized_rum.sessionId", "SampleRate",
]
MAP_COLUMNS = {"ResourceAttributes", "SpanAttributes"}
INT_COLUMNS = {"Timestamp", "Duration", "SampleRate"}
INT_ARRAY_COLUMNS = {"Events.Timestamp"}
# How a column is read back (SELECT expression).
SELECT = {
    "Timestamp": "toUnixTimestamp64Nano(Timestamp)",
    "Events.Timestamp": "arrayMap(t -> toUnixTimestamp64Nano(t), `Events.Timestamp`)",
}

SPAN_KINDS = {0: "Unspecified", 1: "Internal", 2: "Server", 3: "Client", 4: "Producer", 5: "Consumer"}
STATUS_CODES = {0: "Unset", 1: "Ok", 2: "Error"}
UINT64 = 2**64


def select_list():
    return ", ".join(f"{SELECT[c]} AS `{c}`" if c in SELECT else f"`{c}`" for c in COLUMNS)


def _enum(names, n):
    return names.get(int(n), "Unspecified" if names is SPAN_KINDS else "Unset")


def sample_rate(span_attributes):
    """greatest(toUInt64OrZero(SpanAttributes['SampleRate']), 1): a string of decimal digits
    that fits a UInt64, else 0; at least 1."""
    v = span_attributes.get("SampleRate", "")
    n = int(v) if re.fullmatch(r"[0-9]+", v) and int(v) < UINT64 else 0
    return max(n, 1)


def expected_rows(request):
    """[(TRACES, row)] for an ExportTraceServiceRequest, in request order."""
    rows = []
    for rs in request.resource_spans:
        res_attrs = base.py_attributes(rs.resource.attributes)
        service = res_attrs.get("service.name")
        service = service if isinstance(service, str) else ""
        res_strings = base.stringify(res_attrs)
        for ss in rs.scope_spans:
            for span in ss.spans:
                span_attrs = base.stringify(base.py_attributes(span.attributes))
                rows.append((TRACES, {
                    "Timestamp": span.start_time_unix_nano,
                    "TraceId": base.hex_id(span.trace_id),
                    "SpanId": base.hex_id(span.span_id),
                    "ParentSpanId": base.hex_id(span.parent_span_id),
                    "TraceState": span.trace_state,
                    "SpanName": span.name,
                    "SpanKind": _enum(SPAN_KINDS, span.kind),
                    "ServiceName": service,
                    "ResourceAttributes": dict(res_strings),
                    "ScopeName": ss.scope.name,
                    "ScopeVersion": ss.scope.version,
                    "SpanAttributes": span_attrs,
                    "Duration": (span.end_time_unix_nano - span.start_time_unix_nano) % UINT64,
                    "StatusCode": _enum(STATUS_CODES, span.status.code),
                    "StatusMessage": span.status.message,
                    "Events.Timestamp": [e.time_unix_nano for e in span.events],
                    "Events.Name": [e.name for e in span.events],
                    "Events.Attributes": [base.stringify(base.py_attributes(e.attributes)) for e in span.events],
                    "Links.TraceId": [base.hex_id(l.trace_id) for l in span.links],
                    "Links.SpanId": [base.hex_id(l.span_id) for l in span.links],
                    "Links.TraceState": [l.trace_state for l in span.links],
                    "Links.Attributes": [base.stringify(base.py_attributes(l.attributes)) for l in span.links],
                    "__hdx_materialized_rum.sessionId": res_strings.get("rum.sessionId", ""),
                    "SampleRate": sample_rate(span_attrs),
                }))
    return rows


def _int(v):
    return int(v) if isinstance(v, str) and re.fullmatch(r"-?\d+", v) else v


def normalize_actual(raw):
    """A JSONEachRow row as compare() wants it: 64-bit ints (quoted by ClickHouse) as int."""
    row = dict(raw)
    for col in INT_COLUMNS:
        if col in row:
            row[col] = _int(row[col])
    for col in INT_ARRAY_COLUMNS:
        if isinstance(row.get(col), list):
            row[col] = [_int(v) for v in row[col]]
    return row


def _show(v):
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
        elif not base._matches(exp[key], got[key]):
            problems.append(f"{label}[{key!r}]: expected {_show(exp[key])} got {_show(got[key])}")
    return problems


def compare_row(_table, expected, actual):
    """Mismatch descriptions ('column X: expected … got …'), empty when the rows agree."""
    problems = []
    for col in COLUMNS:
        if col not in actual:
            problems.append(f"column {col}: missing from the stored row")
            continue
        exp, got = expected[col], actual[col]
        if col in MAP_COLUMNS:
            problems += _compare_map(f"column {col}", exp, got)
        elif col.endswith(".Attributes"):
            if not isinstance(got, list) or len(got) != len(exp):
                problems.append(f"column {col}: expected {_show(exp)} got {_show(got)}")
                continue
            for i, (e, g) in enumerate(zip(exp, got)):
                problems += _compare_map(f"column {col}[{i}]", e, g)
        elif isinstance(exp, list):
            if not (isinstance(got, list) and len(got) == len(exp)
                    and all(base._matches(e, g) for e, g in zip(exp, got))):
                problems.append(f"column {col}: expected {_show(exp)} got {_show(got)}")
        elif not base._matches(exp, got):
            problems.append(f"column {col}: expected {_show(exp)} got {_show(got)}")
    for col in sorted(set(actual) - set(COLUMNS)):
        problems.append(f"column {col}: not expected in the query result")
    return problems


def compare(expected, actual, key):
    """expected, actual: [(table, row)], paired by key(row); see expected.compare."""
    return base.compare(expected, actual, key, compare_row=compare_row)
