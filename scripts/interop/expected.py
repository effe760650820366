"""The rows sluice must store for an OTLP logs request, computed independently of sluice.

Written from the OTel ClickHouse exporter's row values and ClickStack's log processing (see
scripts/interop/README.md), not from sluice's code. Input: an ExportLogsServiceRequest as
decoded from what an SDK really put on the wire (capture.py). Output: one (table, row) per log
record, a row being {column: value} with ints for numbers, str for strings and {str: str} for
maps, as `SELECT … FORMAT JSONEachRow` gives them back (Timestamp as integer ns).

`compare()` checks rows from ClickHouse against these, column by column.
"""

import base64
import json
import math
import re
from decimal import Decimal

LOGS = "otel_logs"
SESSIONS = "hyperdx_sessions"
SESSION_MARKER = "rr-web.event"

# The stored columns of each table, in schema order (../../../shared/schema/clickstack-columns.tsv).
COLUMNS = {
    LOGS: [
        "Timestamp", "TraceId", "SpanId", "TraceFlags", "SeverityText", "SeverityNumber",
        "ServiceName", "Body", "ResourceSchemaUrl", "ResourceAttributes", "ScopeSchemaUrl",
        "ScopeName", "ScopeVersion", "ScopeAttributes", "LogAttributes", "EventName",
    ],
    SESSIONS: [
        "Timestamp", "TraceId", "SpanId", "TraceFlags", "SeverityText", "SeverityNumber",
        "ServiceName", "Body", "ResourceSchemaUrl", "ResourceAttributes", "ScopeSchemaUrl",
        "ScopeName", "ScopeVersion", "ScopeAttributes", "LogAttributes",
    ],
}
MAP_COLUMNS = {"ResourceAttributes", "ScopeAttributes", "LogAttributes"}
INT_COLUMNS = {"Timestamp", "TraceFlags", "SeverityNumber"}


# ---------------------------------------------------------------------------------------------
# Values: protobuf AnyValue -> Python (str, bool, int, float, bytes, list, dict, None)


def py_value(any_value):
    kind = any_value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "string_value":
        return any_value.string_value
    if kind == "bool_value":
        return any_value.bool_value
    if kind == "int_value":
        return any_value.int_value
    if kind == "double_value":
        return any_value.double_value
    if kind == "bytes_value":
        return bytes(any_value.bytes_value)
    if kind == "array_value":
        return [py_value(v) for v in any_value.array_value.values]
    if kind == "kvlist_value":
        return py_attributes(any_value.kvlist_value.values)
    raise ValueError(f"unknown AnyValue kind {kind}")


def py_attributes(key_values):
    out = {}
    for kv in key_values:
        out[kv.key] = py_value(kv.value)
    return out


# ---------------------------------------------------------------------------------------------
# Stringification, like pdata's Value.AsString


def format_double(x):
    """Shortest round-trip form, ECMAScript Number::toString style (what Go's encoding/json and
    pdata's AsString write): 1.0 -> "1", 1e21 -> "1e+21", 1.5e-7 -> "1.5e-7", 0.001 -> "0.001"."""
    if math.isnan(x) or math.isinf(x):
        raise ValueError(f"{x} has no JSON form")
    if x == 0:
        return "0"
    sign = "-" if x < 0 else ""
    # repr() is the shortest round-trip decimal; take its digits and exponent.
    t = Decimal(repr(abs(x))).normalize().as_tuple()
    digits = "".join(map(str, t.digits))
    k = len(digits)
    n = t.exponent + k  # value = 0.d1d2…dk × 10^n
    if k <= n <= 21:
        s = digits + "0" * (n - k)
    elif 0 < n <= 21:
        s = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        s = "0." + "0" * (-n) + digits
    else:
        e = n - 1
        s = digits[0] + ("." + digits[1:] if k > 1 else "") + "e" + ("+" if e >= 0 else "-") + str(abs(e))
    return sign + s


_JSON_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}


def json_string(s):
    """A JSON string like Go's encoding/json without HTML escaping: <, > and & stay as they are,
    non-ASCII stays UTF-8, control characters and U+2028/U+2029 are escaped."""
    out = ['"']
    for ch in s:
        if ch in _JSON_ESCAPES:
            out.append(_JSON_ESCAPES[ch])
        elif ord(ch) < 0x20 or ch in "\u2028\u2029":
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def go_json(v):
    """Compact JSON of a value as Go's encoding/json writes pdata's AsRaw(): map keys sorted,
    no spaces, bytes as base64 strings."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return format_double(v)
    if isinstance(v, str):
        return json_string(v)
    if isinstance(v, bytes):
        return json_string(base64.b64encode(v).decode())
    if isinstance(v, list):
        return "[" + ",".join(go_json(e) for e in v) + "]"
    if isinstance(v, dict):
        keys = sorted(v, key=lambda k: k.encode("utf-8"))
        return "{" + ",".join(json_string(k) + ":" + go_json(v[k]) for k in keys) + "}"
    raise TypeError(f"no JSON form for {type(v)}")


def as_string(v):
    """pdata Value.AsString."""
    if v is None:
        return ""
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return format_double(v)
    if isinstance(v, bytes):
        return base64.b64encode(v).decode()
    return go_json(v)


def stringify(attrs):
    return {k: as_string(v) for k, v in attrs.items()}


# ---------------------------------------------------------------------------------------------
# ClickStack's log processing (otel_logs only)


def _reject_constant(name):
    raise ValueError(f"{name} is not JSON")


def json_in_body(body):
    """The JSON object between the first '{' and the last '}' of a string body, or None.
    JSON numbers come out as doubles."""
    start, end = body.find("{"), body.rfind("}")
    if start < 0 or end <= start:
        return None
    try:
        doc = json.loads(body[start:end + 1], parse_int=float, parse_constant=_reject_constant)
    except ValueError:
        return None
    return doc if isinstance(doc, dict) else None


def flatten(attrs):
    """Nested maps become `a.b` keys, arrays `list.0`; empty maps and arrays disappear."""
    out = {}

    def walk(key, v):
        if isinstance(v, dict):
            for k, x in v.items():
                walk(f"{key}.{k}", x)
        elif isinstance(v, list):
            for i, x in enumerate(v):
                walk(f"{key}.{i}", x)
        else:
            out[key] = as_string(v)

    for k, v in attrs.items():
        walk(k, v)
    return out


LEVEL_ATTRIBUTES = ["level", "Level", "LEVEL", "severity", "Severity", "SEVERITY", "log.level"]
# Substring checks in this order; the last one that matches wins.
LEVEL_SUBSTRINGS = [
    (("alert", "crit", "emerg", "fatal"), 21),
    (("error", "err"), 17),
    (("warn", "notice"), 13),
    (("info",), 9),
    (("debug", "dbug"), 5),
    (("trace",), 1),
]
BODY_KEYWORDS = {
    "alert": ("fatal", 21), "crit": ("fatal", 21), "emerg": ("fatal", 21), "fatal": ("fatal", 21),
    "error": ("error", 17), "err": ("error", 17),
    "warn": ("warn", 13), "notice": ("warn", 13),
    "debug": ("debug", 5), "dbug": ("debug", 5),
    "trace": ("trace", 1),
}
BODY_KEYWORD_WINDOW = 256


def severity_from_level(text):
    low = text.lower()
    number = 9
    for words, n in LEVEL_SUBSTRINGS:
        if any(w in low for w in words):
            number = n
    return low, number


def severity_from_body(body):
    head = body[:BODY_KEYWORD_WINDOW].lower()
    best = None
    for word, sev in BODY_KEYWORDS.items():
        for m in re.finditer(re.escape(word), head):
            i = m.start()
            if i > 0 and (head[i - 1].isalnum() or head[i - 1] == "_"):
                continue  # not the start of a word
            if best is None or i < best[0]:
                best = (i, sev)
            break
    return best[1] if best else ("info", 9)


def clickstack(body, attrs, severity_text, severity_number):
    """(LogAttributes, SeverityText, SeverityNumber) after ClickStack's processing."""
    merged = dict(attrs)
    flattened = False
    if isinstance(body, str):
        doc = json_in_body(body)
        if doc is not None:
            merged.update(doc)
            flattened = True
    elif isinstance(body, dict):
        merged.update(body)
    if severity_text == "" and severity_number == 0:
        for key in LEVEL_ATTRIBUTES:
            v = merged.get(key)
            if isinstance(v, str) and v != "":
                severity_text, severity_number = severity_from_level(v)
                break
        else:
            if isinstance(body, str):
                severity_text, severity_number = severity_from_body(body)
    log_attributes = flatten(merged) if flattened else stringify(merged)
    return log_attributes, severity_text.lower(), severity_number


# ---------------------------------------------------------------------------------------------
# Rows


def hex_id(b):
    return "" if not any(b) else bytes(b).hex()


def expected_rows(request):
    """[(table, row)] for an ExportLogsServiceRequest, in request order."""
    rows = []
    for rl in request.resource_logs:
        res_attrs = py_attributes(rl.resource.attributes)
        service = res_attrs.get("service.name")
        service = service if isinstance(service, str) else ""
        for sl in rl.scope_logs:
            scope_attrs = stringify(py_attributes(sl.scope.attributes))
            for rec in sl.log_records:
                attrs = py_attributes(rec.attributes)
                body = py_value(rec.body) if rec.HasField("body") else None
                row = {
                    "Timestamp": rec.time_unix_nano or rec.observed_time_unix_nano,
                    "TraceId": hex_id(rec.trace_id),
                    "SpanId": hex_id(rec.span_id),
                    "TraceFlags": rec.flags & 0xFF,
                    "SeverityText": rec.severity_text,
                    "SeverityNumber": int(rec.severity_number),
                    "ServiceName": service,
                    "Body": as_string(body),
                    "ResourceSchemaUrl": rl.schema_url,
                    "ResourceAttributes": stringify(res_attrs),
                    "ScopeSchemaUrl": sl.schema_url,
                    "ScopeName": sl.scope.name,
                    "ScopeVersion": sl.scope.version,
                    "ScopeAttributes": scope_attrs,
                }
                if SESSION_MARKER in attrs:
                    row["LogAttributes"] = stringify(attrs)
                    rows.append((SESSIONS, row))
                    continue
                la, text, number = clickstack(body, attrs, rec.severity_text, int(rec.severity_number))
                row.update(LogAttributes=la, SeverityText=text, SeverityNumber=number, EventName=rec.event_name)
                rows.append((LOGS, row))
    return rows


# ---------------------------------------------------------------------------------------------
# Comparison


class Near:
    """An expected integer known only roughly (a timestamp the SDK set itself)."""

    def __init__(self, center, tolerance, why):
        self.center, self.tolerance, self.why = center, tolerance, why

    def matches(self, v):
        return isinstance(v, int) and abs(v - self.center) <= self.tolerance

    def __repr__(self):
        return f"within {self.tolerance / 1e9:.0f} s of {self.center} ({self.why})"


class AnyNonEmpty:
    """An expected string the SDK generates anew in every process (e.g. service.instance.id)."""

    def matches(self, v):
        return isinstance(v, str) and v != ""

    def __repr__(self):
        return "any non-empty string"


def _matches(expected, actual):
    if isinstance(expected, (Near, AnyNonEmpty)):
        return expected.matches(actual)
    return type(expected) is type(actual) and expected == actual


def _show(v):
    return json.dumps(v, ensure_ascii=False) if not isinstance(v, (Near, AnyNonEmpty)) else repr(v)


def normalize_actual(table, raw):
    """A JSONEachRow row as compare() wants it: 64-bit ints (quoted by ClickHouse) as int."""
    row = dict(raw)
    for col in INT_COLUMNS:
        if col in row and isinstance(row[col], str) and re.fullmatch(r"-?\d+", row[col]):
            row[col] = int(row[col])
    return row


def compare_row(table, expected, actual):
    """Mismatch descriptions ('column X: expected … got …'), empty when the rows agree."""
    problems = []
    for col in COLUMNS[table]:
        if col not in actual:
            problems.append(f"column {col}: missing from the stored row")
            continue
        exp, got = expected[col], actual[col]
        if col in MAP_COLUMNS:
            if not isinstance(got, dict):
                problems.append(f"column {col}: expected a map, got {_show(got)}")
                continue
            for key in sorted(set(exp) | set(got)):
                if key not in got:
                    problems.append(f"column {col}[{key!r}]: expected {_show(exp[key])}, missing")
                elif key not in exp:
                    problems.append(f"column {col}[{key!r}]: not expected, got {_show(got[key])}")
                elif not _matches(exp[key], got[key]):
                    problems.append(f"column {col}[{key!r}]: expected {_show(exp[key])} got {_show(got[key])}")
        elif not _matches(exp, got):
            problems.append(f"column {col}: expected {_show(exp)} got {_show(got)}")
    for col in sorted(set(actual) - set(COLUMNS[table])):
        problems.append(f"column {col}: not expected in the query result")
    return problems


def compare(expected, actual, key, compare_row=compare_row):
    """expected, actual: [(table, row)]. Rows are paired by (table, key(row)); every expected row
    must be stored exactly once and nothing else; compare_row(table, expected, actual) checks a
    pair. Returns a list of mismatch descriptions."""
    problems = []
    exp_by, got_by = {}, {}
    for table, row in expected:
        exp_by.setdefault((table, key(row)), []).append(row)
    for table, row in actual:
        got_by.setdefault((table, key(row)), []).append(row)
    for k in sorted(set(exp_by) | set(got_by), key=str):
        table, ident = k
        exps, gots = exp_by.get(k, []), got_by.get(k, [])
        label = f"{table} row {ident}"
        if not gots:
            tables = sorted(t for (t, i) in got_by if i == ident)
            hint = f" (found in {', '.join(tables)})" if tables else ""
            problems.append(f"{label}: missing{hint}")
            continue
        if not exps:
            problems.append(f"{label}: not expected ({len(gots)} stored)")
            continue
        if len(gots) != len(exps):
            problems.append(f"{label}: stored {len(gots)} times, expected {len(exps)}")
        for e, g in zip(exps, gots):
            problems.extend(f"{label}: {p}" for p in compare_row(table, e, g))
    return problems
