//! OTLP/JSON metrics in the spellings prost's serde does not write: snake_case,
//! strings for numbers, enum names, `NaN`, `null`s, unknown keys; a kind replaced or
//! repeated; metrics that write no row.

use super::*;

/// snake_case names, numbers as strings, enum names, `NaN` / `Infinity`, `null`s and
/// unknown keys at every level mean what the canonical spellings mean.
#[test]
fn lenient_metrics_mean_what_the_message_means() {
    use number_data_point::Value::{AsDouble, AsInt};
    let mut nan_point = number(AsDouble(f64::NAN));
    nan_point.attributes.clear();
    nan_point.exemplars = vec![Exemplar {
        time_unix_nano: 3,
        span_id: vec![0xab; 8],
        value: Some(exemplar::Value::AsInt(-9)),
        ..Default::default()
    }];
    let msg = request(vec![
        metric(
            "g",
            Some(Data::Gauge(Gauge {
                data_points: vec![nan_point, NumberDataPoint::default()],
            })),
        ),
        metric(
            "s",
            Some(Data::Sum(Sum {
                data_points: vec![NumberDataPoint {
                    value: Some(AsInt(-42)),
                    flags: 1,
                    ..Default::default()
                }],
                aggregation_temporality: 1,
                is_monotonic: true,
            })),
        ),
        metric(
            "h",
            Some(Data::Histogram(Histogram {
                data_points: vec![HistogramDataPoint {
                    count: 18_446_744_073_709_551_615,
                    sum: Some(f64::INFINITY),
                    bucket_counts: vec![1, 2],
                    explicit_bounds: vec![1.5],
                    min: Some(f64::NEG_INFINITY),
                    ..Default::default()
                }],
                aggregation_temporality: 2,
            })),
        ),
        metric(
            "e",
            Some(Data::ExponentialHistogram(ExponentialHistogram {
                data_points: vec![ExponentialHistogramDataPoint {
                    scale: -5,
                    zero_count: 2,
                    positive: Some(Buckets {
                        offset: -1,
                        bucket_counts: vec![4, 5],
                    }),
                    ..Default::default()
                }],
                aggregation_temporality: 0,
            })),
        ),
        metric(
            "q",
            Some(Data::Summary(Summary {
                data_points: vec![SummaryDataPoint {
                    count: 7,
                    quantile_values: vec![ValueAtQuantile {
                        quantile: 1.0,
                        value: f64::NAN,
                    }],
                    ..Default::default()
                }],
            })),
        ),
    ]);
    let resource = r#""resource":{"attributes":[{"key":"service.name","value":{"string_value":"svc"}},
        {"key":"host","value":{"stringValue":"h1"}}]},"schema_url":"resource-schema""#;
    let scope = r#""scope":{"name":"meter","version":"2.1","dropped_attributes_count":"3",
        "attributes":[{"key":"scope.k","value":{"int_value":"4"}}]},"schema_url":"scope-schema""#;
    let meta = r#""description":"about NAME","unit":"ms","metadata":[{"key":"meta","value":{"stringValue":"dropped"}}]"#;
    let m = |name: &str, rest: &str| {
        format!(
            r#"{{"name":"{name}",{},{rest}}}"#,
            meta.replace("NAME", name)
        )
    };
    let metrics = [
        m(
            "g",
            r#""gauge":{"isMonotonic":"not a bool, not a gauge field","data_points":[
            {"start_time_unix_nano":"1700000000000000000","timeUnixNano":1700000010500000000,
             "as_double":"NaN","sum":"not a number point field","unknown":{"x":[1]},
             "exemplars":[{"time_unix_nano":"3","span_id":"ABABABABABABABAB","traceId":"",
                           "asDouble":1.0,"as_int":"-9","filtered_attributes":null}]},
            null]}"#,
        ),
        m(
            "s",
            r#""sum":{"aggregation_temporality":"AGGREGATION_TEMPORALITY_DELTA","is_monotonic":true,
            "dataPoints":[{"asInt":"-42","flags":"1","attributes":null,"exemplars":null}]}"#,
        ),
        m(
            "h",
            r#""histogram":{"aggregationTemporality":2,"dataPoints":[{"count":"18446744073709551615",
            "sum":"Infinity","min":"-Infinity","max":null,"bucket_counts":["1",2],"explicit_bounds":["1.5"],
            "asInt":"not a histogram field"}]}"#,
        ),
        m(
            "e",
            r#""exponential_histogram":{"aggregationTemporality":"AGGREGATION_TEMPORALITY_UNSPECIFIED",
            "data_points":[{"scale":"-5","zero_count":"2","zero_threshold":"NaN","negative":null,
            "positive":{"offset":"-1","bucket_counts":["4",5]}}]}"#,
        ),
        m(
            "q",
            r#""summary":{"data_points":[{"count":"7","exemplars":"not a summary field",
            "quantile_values":[{"quantile":"1","value":"NaN","extra":true}]}]}"#,
        ),
    ];
    let text = format!(
        r#"{{"resource_metrics":[{{{resource},"scope_metrics":[{{{scope},"metrics":[{}]}}],"unknown":null}}]}} trailing"#,
        metrics.join(",")
    );
    let b = assert_means(&text, &msg);
    assert!(b.gauge.values.value[0].is_nan());
    assert_eq!(b.metrics.temporality, [0, 1, 2, 0, 0]);
}

/// A kind after another replaces it, points and all, as protobuf's `oneof`; the same
/// kind twice merges: its points add up, its temporality is the last one.
#[test]
fn a_later_kind_replaces_and_the_same_kind_merges() {
    use number_data_point::Value::AsInt;
    let point = |v| NumberDataPoint {
        value: Some(AsInt(v)),
        exemplars: vec![Exemplar::default()],
        ..Default::default()
    };
    let msg = request(vec![
        metric(
            "replaced",
            Some(Data::Sum(Sum {
                data_points: vec![point(2)],
                aggregation_temporality: 1,
                is_monotonic: false,
            })),
        ),
        metric(
            "merged",
            Some(Data::Sum(Sum {
                data_points: vec![point(1), point(2), point(3)],
                aggregation_temporality: 2,
                is_monotonic: true,
            })),
        ),
        metric(
            "back",
            Some(Data::Gauge(Gauge {
                data_points: vec![point(9)],
            })),
        ),
    ]);
    let meta = r#""description":"about NAME","unit":"ms","metadata":[{"key":"meta","value":{"stringValue":"dropped"}}]"#;
    let text = format!(
        r#"{{"resourceMetrics":[{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"svc"}}}},
        {{"key":"host","value":{{"stringValue":"h1"}}}}]}},"schemaUrl":"resource-schema",
        "scopeMetrics":[{{"scope":{{"name":"meter","version":"2.1","droppedAttributesCount":3,
        "attributes":[{{"key":"scope.k","value":{{"intValue":"4"}}}}]}},"schemaUrl":"scope-schema","metrics":[
        {{"name":"replaced",{m1},
          "gauge":{{"dataPoints":[{{"asInt":"1","exemplars":[{{}}]}}]}},
          "sum":{{"aggregationTemporality":2,"isMonotonic":true,"dataPoints":[{{"asInt":"7","exemplars":[{{}}]}}]}},
          "histogram":{{"dataPoints":[{{"count":"1","bucketCounts":[1],"exemplars":[{{}}]}}]}},
          "sum":{{"aggregationTemporality":1,"dataPoints":[{{"asInt":"2","exemplars":[{{}}]}}]}}}},
        {{"name":"merged",{m2},
          "sum":{{"aggregationTemporality":1,"dataPoints":[{{"asInt":"1","exemplars":[{{}}]}}]}},
          "sum":{{"isMonotonic":true,"dataPoints":[{{"asInt":"2","exemplars":[{{}}]}},{{"asInt":"3","exemplars":[{{}}]}}],
                 "aggregationTemporality":"AGGREGATION_TEMPORALITY_CUMULATIVE"}}}},
        {{"name":"back",{m3},"gauge":{{"dataPoints":[{{"asInt":"8"}}]}},"summary":null,
          "gauge":{{"dataPoints":[{{"asInt":"9","exemplars":[{{}}]}}]}}}}
        ]}}]}}]}}"#,
        m1 = meta.replace("NAME", "replaced"),
        m2 = meta.replace("NAME", "merged"),
        m3 = meta.replace("NAME", "back"),
    );
    let b = assert_means(&text, &msg);
    assert_eq!(b.sum.values.value, [2.0, 1.0, 2.0, 3.0]);
    assert_eq!(b.gauge.values.value, [9.0]);
    assert!(b.histogram.is_empty() && b.summary.is_empty());
    assert_eq!(
        b.sum.exemplars.len(),
        4,
        "a replaced kind's exemplars go too"
    );
    assert_eq!(b.metrics.temporality, [1, 2, 0]);
    assert_eq!(b.metrics.monotonic, [false, true, false]);
}

#[test]
fn metrics_without_points_are_skipped() {
    let text = r#"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[
        {"name":"no kind"},
        {"name":"unknown kind","newKind":{"dataPoints":[{"asInt":1}]}},
        {"name":"null kind","sum":null},
        {"name":"null points","histogram":{"dataPoints":null}},
        {"description":"d\u00e9","gauge":{"dataPoints":[{"attributes":[
            {"key":"k\n","value":{"stringValue":"v\t"}}]}]},"name":"o\u006ee","unit":"\"s\""},
        null
    ]}]}]}"#;
    let (b, n) = metrics_json(text.as_bytes()).unwrap();
    assert_eq!(n.points, [1, 0, 0, 0, 0]);
    assert_eq!(n.skipped, 5);
    assert_eq!(b.metrics.len(), 1);
    assert_eq!(b.gauge.metric, [0]);
    // Escaped strings wait on the tape, before and after the points, until the
    // metric closes.
    assert_eq!(b.metrics.name.get(0), b"one");
    assert_eq!(b.metrics.description.get(0), "dé".as_bytes());
    assert_eq!(b.metrics.unit.get(0), b"\"s\"");
    let attrs: Vec<_> = b.gauge.attributes.row(0).collect();
    assert_eq!(attrs, [(&b"k\n"[..], &b"v\t"[..])]);
}
