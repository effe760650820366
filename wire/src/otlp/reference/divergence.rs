//! Where sluice reads a valid request differently from prost, by design: found by
//! walking the request's bytes, so the field-by-field comparison skips exactly those
//! requests (their record counts are still compared).
//!
//! Both are documented in `otlp::value` (`PbValue::merge`):
//!
//! - **A repeated `AnyValue` array or kvlist replaces the first**, as the Go
//!   collector's gogoproto code does; prost (and the protobuf spec) merges the two
//!   lists. The same goes for a repeated `AnyValue` field (a `KeyValue`'s `value`, a
//!   log record's `body`): both read the second on top of the first, and an array or
//!   kvlist in each differs as above.
//! - **`string_value_strindex`** (field 8, profiles only) is an unknown field to
//!   sluice, so a value set before it stays; for prost it is the oneof's last word.

use crate::proto::{DecodeError, Reader, WireType};

/// The messages on the way from a request to its `AnyValue`s.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Msg {
    LogsRequest,
    ResourceLogs,
    ScopeLogs,
    LogRecord,
    TracesRequest,
    ResourceSpans,
    ScopeSpans,
    Span,
    SpanEvent,
    SpanLink,
    MetricsRequest,
    ResourceMetrics,
    ScopeMetrics,
    Metric,
    /// `Gauge`, `Sum`, `Histogram`, `ExponentialHistogram`, `Summary`: their points
    /// (field 1) are this kind.
    Points(PointKind),
    Point(PointKind),
    Exemplar,
    Resource,
    Scope,
    KeyValue,
    AnyValue,
    ArrayValue,
    KeyValueList,
}

/// The data point messages: where their attributes and exemplars are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PointKind {
    Number,
    Histogram,
    ExponentialHistogram,
    Summary,
}

/// The message a length-delimited `field` of `msg` holds, where it leads to values.
/// (`Metric.metadata` is left out: sluice skips it.)
fn child(msg: Msg, field: u32) -> Option<Msg> {
    use Msg::*;
    Some(match (msg, field) {
        (LogsRequest, 1) => ResourceLogs,
        (ResourceLogs, 1) | (ResourceSpans, 1) | (ResourceMetrics, 1) => Resource,
        (ResourceLogs, 2) => ScopeLogs,
        (ScopeLogs, 1) | (ScopeSpans, 1) | (ScopeMetrics, 1) => Scope,
        (ScopeLogs, 2) => LogRecord,
        (LogRecord, 5) => AnyValue,
        (LogRecord, 6) => KeyValue,
        (TracesRequest, 1) => ResourceSpans,
        (ResourceSpans, 2) => ScopeSpans,
        (ScopeSpans, 2) => Span,
        (Span, 9) | (SpanEvent, 3) | (SpanLink, 4) => KeyValue,
        (Span, 11) => SpanEvent,
        (Span, 13) => SpanLink,
        (MetricsRequest, 1) => ResourceMetrics,
        (ResourceMetrics, 2) => ScopeMetrics,
        (ScopeMetrics, 2) => Metric,
        (Metric, 5 | 7) => Points(PointKind::Number),
        (Metric, 9) => Points(PointKind::Histogram),
        (Metric, 10) => Points(PointKind::ExponentialHistogram),
        (Metric, 11) => Points(PointKind::Summary),
        (Points(p), 1) => Point(p),
        (Point(PointKind::Number), 7)
        | (Point(PointKind::Histogram), 9)
        | (Point(PointKind::ExponentialHistogram), 1)
        | (Point(PointKind::Summary), 7) => KeyValue,
        (Point(PointKind::Number), 5)
        | (Point(PointKind::Histogram), 8)
        | (Point(PointKind::ExponentialHistogram), 11) => Exemplar,
        (Exemplar, 7) | (Resource, 1) | (Scope, 3) | (KeyValueList, 1) => KeyValue,
        (KeyValue, 2) => AnyValue,
        (AnyValue, 5) => ArrayValue,
        (AnyValue, 6) => KeyValueList,
        (ArrayValue, 1) => AnyValue,
        _ => return None,
    })
}

/// Whether a logs request holds one of the divergences of the module doc.
pub(crate) fn in_logs(data: &[u8]) -> bool {
    walk(Reader::new(data), Msg::LogsRequest).unwrap_or(false)
}

/// Whether a traces request does.
pub(crate) fn in_traces(data: &[u8]) -> bool {
    walk(Reader::new(data), Msg::TracesRequest).unwrap_or(false)
}

/// Whether a metrics request does.
pub(crate) fn in_metrics(data: &[u8]) -> bool {
    walk(Reader::new(data), Msg::MetricsRequest).unwrap_or(false)
}

fn walk(mut r: Reader<'_>, msg: Msg) -> Result<bool, DecodeError> {
    // An AnyValue's oneof as each reader sees it: the last value field.
    let mut last_value_field = 0;
    let mut set_by_sluice = false;
    let mut value_fields_seen = 0;
    while let Some((field, wire)) = r.field()? {
        if msg == Msg::AnyValue && (1..=8).contains(&field) {
            // A list again right after a list of its kind: prost merges, sluice replaces.
            if matches!(field, 5 | 6) && last_value_field == field {
                return Ok(true);
            }
            last_value_field = field;
            set_by_sluice |= field != 8;
        }
        // A value field read twice merges its two messages (see the module doc).
        if matches!((msg, field), (Msg::KeyValue, 2) | (Msg::LogRecord, 5)) {
            value_fields_seen += 1;
            if value_fields_seen > 1 {
                return Ok(true);
            }
        }
        match (child(msg, field), wire) {
            (Some(inner), WireType::Len) => {
                if walk(r.message()?, inner)? {
                    return Ok(true);
                }
            }
            _ => r.skip(wire)?,
        }
    }
    Ok(msg == Msg::AnyValue && last_value_field == 8 && set_by_sluice)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_after_a_list_of_its_kind_and_a_late_strindex_are_found() {
        // LogsRequest { ResourceLogs { ScopeLogs { LogRecord { body: AnyValue } } } }
        let request = |value: &[u8]| {
            let mut body = vec![0x2a, value.len() as u8];
            body.extend_from_slice(value);
            let record = [&[0x12, body.len() as u8][..], &body].concat();
            let scope = [&[0x12, record.len() as u8][..], &record].concat();
            [&[0x0a, scope.len() as u8][..], &scope].concat()
        };
        // array {} then array {}: merged by prost, replaced by sluice.
        assert!(in_logs(&request(&[0x2a, 0, 0x2a, 0])));
        // array, kvlist, array: the last array for both.
        assert!(!in_logs(&request(&[0x2a, 0, 0x32, 0, 0x2a, 0])));
        // string then strindex: prost's value is the strindex, sluice's the string.
        assert!(in_logs(&request(&[0x0a, 1, b'x', 0x40, 3])));
        assert!(!in_logs(&request(&[0x40, 3, 0x0a, 1, b'x'])));
        assert!(!in_logs(&request(&[0x0a, 1, b'x'])));
    }
}
