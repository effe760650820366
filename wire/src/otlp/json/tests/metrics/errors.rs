//! Refused OTLP/JSON metrics: the kind of error, the field path, and a batch left as
//! it was.

use super::*;

#[test]
fn bad_metrics_json_is_refused_with_its_path_and_leaves_no_trace() {
    let mut b = MetricsBatch::default();
    let good = r#"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"a",
        "histogram":{"dataPoints":[{"bucketCounts":[1],"explicitBounds":[],"exemplars":[{"asInt":1}]}]}}]}]}]}"#;
    decode_metrics_json(good.as_bytes(), &mut b).unwrap();
    let before = format!("{b:?}");
    let at = "resourceMetrics[0].scopeMetrics[0].metrics[1]";
    // Each case has a good metric first, so rows are written before the error.
    let first = r#"{"name":"ok","summary":{"dataPoints":[{"quantileValues":[{"quantile":0.5}]}]},
        "gauge":{"dataPoints":[{"asDouble":1,"attributes":[{"key":"k","value":{"stringValue":"v"}}]}]}}"#;
    let bad_int = |t| JsonErrorKind::BadInteger { type_name: t };
    let cases = [
        (r#"{"gauge":[]}"#, JsonErrorKind::WrongType, "gauge"),
        (r#"{"name":5}"#, JsonErrorKind::WrongType, "name"),
        (
            r#"{"sum":{"isMonotonic":"true"}}"#,
            JsonErrorKind::WrongType,
            "sum.isMonotonic",
        ),
        (
            r#"{"sum":{"aggregationTemporality":"DELTA"}}"#,
            JsonErrorKind::UnknownEnum {
                type_name: "AggregationTemporality",
            },
            "sum.aggregationTemporality",
        ),
        (
            r#"{"sum":{"aggregationTemporality":2147483648}}"#,
            bad_int("int32"),
            "sum.aggregationTemporality",
        ),
        (
            r#"{"gauge":{"dataPoints":[{},{"exemplars":[{"spanId":"0102"}]}]}}"#,
            JsonErrorKind::BadId { digits: 16 },
            "gauge.dataPoints[1].exemplars[0].spanId",
        ),
        (
            r#"{"gauge":{"dataPoints":[{"exemplars":[{},{"traceId":"0102030405060708090a0b0c0d0e0f1"}]}]}}"#,
            JsonErrorKind::BadId { digits: 32 },
            "gauge.dataPoints[0].exemplars[1].traceId",
        ),
        (
            r#"{"gauge":{"dataPoints":[{"exemplars":[{"filteredAttributes":[{"key":"k","value":{"intValue":"1.5"}}]}]}]}}"#,
            bad_int("int64"),
            "gauge.dataPoints[0].exemplars[0].filteredAttributes[0].value.intValue",
        ),
        (
            r#"{"sum":{"dataPoints":[{"asInt":1.5}]}}"#,
            bad_int("int64"),
            "sum.dataPoints[0].asInt",
        ),
        (
            r#"{"sum":{"dataPoints":[{"flags":-1}]}}"#,
            bad_int("uint32"),
            "sum.dataPoints[0].flags",
        ),
        (
            r#"{"sum":{"dataPoints":[{"timeUnixNano":"18446744073709551616"}]}}"#,
            bad_int("uint64"),
            "sum.dataPoints[0].timeUnixNano",
        ),
        (
            r#"{"histogram":{"dataPoints":[{"bucketCounts":["1",-2]}]}}"#,
            bad_int("uint64"),
            "histogram.dataPoints[0].bucketCounts[1]",
        ),
        (
            r#"{"histogram":{"dataPoints":[{"bucketCounts":[null]}]}}"#,
            JsonErrorKind::WrongType,
            "histogram.dataPoints[0].bucketCounts[0]",
        ),
        (
            r#"{"histogram":{"dataPoints":[{"bucketCounts":{}}]}}"#,
            JsonErrorKind::WrongType,
            "histogram.dataPoints[0].bucketCounts",
        ),
        (
            r#"{"histogram":{"dataPoints":[{"explicitBounds":[1,"one"]}]}}"#,
            JsonErrorKind::BadDouble,
            "histogram.dataPoints[0].explicitBounds[1]",
        ),
        (
            r#"{"exponentialHistogram":{"dataPoints":[{"scale":2147483648}]}}"#,
            bad_int("int32"),
            "exponentialHistogram.dataPoints[0].scale",
        ),
        (
            r#"{"exponentialHistogram":{"dataPoints":[{"negative":{"bucketCounts":[1],"offset":"1e3"}}]}}"#,
            bad_int("int32"),
            "exponentialHistogram.dataPoints[0].negative.offset",
        ),
        (
            r#"{"exponentialHistogram":{"dataPoints":[{"positive":{"bucketCounts":[true]}}]}}"#,
            JsonErrorKind::WrongType,
            "exponentialHistogram.dataPoints[0].positive.bucketCounts[0]",
        ),
        (
            r#"{"summary":{"dataPoints":[{"quantileValues":[{"quantile":"x"}]}]}}"#,
            JsonErrorKind::BadDouble,
            "summary.dataPoints[0].quantileValues[0].quantile",
        ),
        (
            r#"{"metadata":[{"key":"k","value":{"bytesValue":"!"}}]}"#,
            JsonErrorKind::BadBase64,
            "metadata[0].value.bytesValue",
        ),
    ];
    for (metric, kind, path) in cases {
        let text = format!(
            r#"{{"resourceMetrics":[{{"scopeMetrics":[{{"metrics":[{first},{metric}]}}]}}]}}"#
        );
        let e = decode_metrics_json(text.as_bytes(), &mut b).unwrap_err();
        let path = format!("{at}.{path}");
        assert_eq!(e.kind(), kind, "{e}");
        assert_eq!(e.path(), path, "{e}");
        assert!(e.to_string().contains(&path), "{e}");
        assert_eq!(format!("{b:?}"), before, "{e} left a trace");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Cut or damaged valid requests: no panic, and a refusal leaves the batch (holding
    /// a request already) as it was.
    #[test]
    fn damaged_metrics_fail_cleanly(
        mut msg in metric_request(),
        cut in any::<prop::sample::Index>(),
        byte in any::<u8>(),
    ) {
        finite_metrics(&mut msg);
        let mut text = serde_json::to_vec(&msg).expect("serde serializes");
        let at = cut.index(text.len());
        text[at] = byte;
        text.truncate(at + 1 + (byte as usize % 4) * text.len() / 4);
        let (before, _) = metrics_pb(&all_kinds());
        let mut batch = before.clone();
        if decode_metrics_json(&text, &mut batch).is_err() {
            assert_same_metrics(&batch, &before);
            prop_assert_eq!(batch.points(), before.points());
            prop_assert_eq!(batch.metrics.len(), before.metrics.len());
        }
    }
}
