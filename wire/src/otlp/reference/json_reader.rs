//! Where opentelemetry-proto's serde reader (`with-serde`), the fuzz targets' reference
//! for OTLP/JSON, reads a request as OTLP/JSON means it, and where its reading says
//! nothing: each case here was found by the fuzzer as a "difference" that was the
//! reference's, not sluice's (the regression tests below keep them found).

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::metrics::v1::{Exemplar, NumberDataPoint, metric::Data};

/// The JSON arrays of OTLP/JSON: the values of these fields (and nowhere else).
const LIST_FIELDS: &[&str] = &[
    "resourceLogs",
    "resourceSpans",
    "resourceMetrics",
    "scopeLogs",
    "scopeSpans",
    "scopeMetrics",
    "logRecords",
    "spans",
    "metrics",
    "attributes",
    "filteredAttributes",
    "values",
    "events",
    "links",
    "dataPoints",
    "exemplars",
    "bucketCounts",
    "explicitBounds",
    "quantileValues",
    "metadata",
    "entityRefs",
    "idKeys",
    "descriptionKeys",
];

/// Whether serde's derived reader reads `data` as OTLP/JSON means it. Where it does
/// not, it reads more than sluice does or less, and its reading is no reference:
///
/// - a snake_case key (OTLP/JSON's names are lowerCamelCase) is a protobuf field
///   name that serde skips as unknown and sluice reads;
/// - an array where an object belongs is a message to serde (derived structs take
///   their fields in order from a sequence), an error to sluice;
/// - text `serde_json::Value` cannot read (invalid UTF-8 in a skipped field) is
///   something serde skipped without looking;
/// - a 64-bit integer written as a string with a `+` sign is a number to serde
///   (Rust's `str::parse` takes the sign), not to sluice or the Go collector
///   (`strconv.ParseUint` and protojson refuse it); so any string with a leading `+`
///   is left out.
pub(crate) fn reads_as_otlp(data: &[u8]) -> bool {
    fn walk(v: &serde_json::Value, list_allowed: bool) -> bool {
        match v {
            serde_json::Value::Object(m) => m
                .iter()
                .all(|(k, v)| !k.contains('_') && walk(v, LIST_FIELDS.contains(&k.as_str()))),
            serde_json::Value::Array(a) => list_allowed && a.iter().all(|v| walk(v, false)),
            serde_json::Value::String(s) => !s.starts_with('+'),
            _ => true,
        }
    }
    serde_json::from_slice::<serde_json::Value>(data).is_ok_and(|v| walk(&v, false))
}

/// A metric's data kind, and a number point's and an exemplar's value, are
/// flattened `Option`s in opentelemetry-proto's serde code, and serde reads a
/// flattened `Option` that fails to parse as `None`: a metric whose data is
/// malformed (or holds a double serde wrote as `null`) comes back without data
/// instead of failing the request. A reading with any of them `None` says nothing.
pub(crate) fn metrics_read_whole(r: &ExportMetricsServiceRequest) -> bool {
    let whole_points = |points: &[NumberDataPoint]| {
        points
            .iter()
            .all(|p| p.value.is_some() && p.exemplars.iter().all(|e| e.value.is_some()))
    };
    let whole_exemplars = |e: &[Exemplar]| e.iter().all(|e| e.value.is_some());
    r.resource_metrics
        .iter()
        .flat_map(|rm| &rm.scope_metrics)
        .flat_map(|sm| &sm.metrics)
        .all(|m| match &m.data {
            None => false,
            Some(Data::Gauge(g)) => whole_points(&g.data_points),
            Some(Data::Sum(s)) => whole_points(&s.data_points),
            Some(Data::Histogram(h)) => h.data_points.iter().all(|p| whole_exemplars(&p.exemplars)),
            Some(Data::ExponentialHistogram(h)) => {
                h.data_points.iter().all(|p| whole_exemplars(&p.exemplars))
            }
            Some(Data::Summary(_)) => true,
        })
}

#[cfg(test)]
mod tests {
    use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;

    use super::*;
    use crate::columns::logs::LogsBatch;
    use crate::columns::metrics::MetricsBatch;
    use crate::otlp::json::{decode_logs_json, decode_metrics_json};
    use crate::otlp::reference::logs::raw;

    /// serde's reading of `text` as a logs request, and sluice's verdict.
    fn logs(text: &[u8]) -> (Option<ExportLogsServiceRequest>, bool) {
        let serde = serde_json::from_slice(text).ok();
        let sluice = decode_logs_json(text, &mut LogsBatch::default(), &raw()).is_ok();
        (serde, sluice)
    }

    #[test]
    fn regression_serde_takes_an_array_for_a_request() {
        // Found by metrics_json: `[]`.
        let serde = serde_json::from_slice::<ExportMetricsServiceRequest>(b"[]");
        assert!(serde.is_ok(), "serde reads a sequence as a struct");
        assert!(decode_metrics_json(b"[]", &mut MetricsBatch::default()).is_err());
        assert!(!reads_as_otlp(b"[]"));
        assert!(!reads_as_otlp(br#"{"resourceLogs":[{"resource":[]}]}"#));
        assert!(reads_as_otlp(br#"{"resourceLogs":[{"resource":{}}]}"#));
    }

    #[test]
    fn regression_serde_skips_a_snake_case_field_that_sluice_reads() {
        // Found by logs_json: a body `{"bool_value":"AQID"}`.
        let text = br#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"bool_value":"AQID"}}]}]}]}"#;
        let (serde, sluice) = logs(text);
        assert!(serde.is_some() && !sluice);
        assert!(!reads_as_otlp(text));
    }

    #[test]
    fn regression_serde_skips_unknown_text_that_is_not_utf8() {
        // Found by logs_json: invalid UTF-8 in a field serde skipped unread.
        let mut text = br#"{"resourceLogs":[],"unknownField":"x"}"#.to_vec();
        let at = text.iter().position(|&b| b == b'x').unwrap();
        text[at] = 0xff;
        assert!(serde_json::from_slice::<ExportLogsServiceRequest>(&text).is_ok());
        assert!(!reads_as_otlp(&text));
    }

    #[test]
    fn regression_serde_takes_a_plus_sign_in_an_integer_string() {
        // Found by logs_json: `"observedTimeUnixNano": "+1795614686339000000"`.
        let text = br#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"observedTimeUnixNano":"+17"}]}]}]}"#;
        let (serde, sluice) = logs(text);
        assert!(serde.is_some() && !sluice);
        assert!(!reads_as_otlp(text));
    }

    #[test]
    fn regression_serde_reads_malformed_metric_data_as_absent() {
        // Found by metrics_json: a timestamp that is not a number, in a histogram.
        let text = br#"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"m","histogram":{"dataPoints":[{"startTimeUnixNano":"12Z3"}]}}]}]}]}"#;
        let serde: ExportMetricsServiceRequest = serde_json::from_slice(text).unwrap();
        assert!(!metrics_read_whole(&serde), "{serde:?}");
        assert!(decode_metrics_json(text, &mut MetricsBatch::default()).is_err());
        let good = br#"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"m","gauge":{"dataPoints":[{"asDouble":1.5}]}}]}]}]}"#;
        let serde: ExportMetricsServiceRequest = serde_json::from_slice(good).unwrap();
        assert!(metrics_read_whole(&serde) && reads_as_otlp(good));
    }
}
