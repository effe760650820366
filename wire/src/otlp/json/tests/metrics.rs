//! OTLP/JSON metrics: differential against the protobuf decoder on the same messages
//! (prost for protobuf, `opentelemetry-proto`'s `with-serde` for JSON), compared
//! column by column over every column of [`MetricsBatch`]; then the JSON spellings
//! prost's serde does not write (snake_case, strings for numbers, enum names, `NaN`,
//! `null`s, unknown keys, a kind replaced or repeated), and errors.

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::metrics::v1::{
    Exemplar, ExponentialHistogram, ExponentialHistogramDataPoint, Gauge, Histogram,
    HistogramDataPoint, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum, Summary,
    SummaryDataPoint, exemplar, exponential_histogram_data_point::Buckets, metric::Data,
    number_data_point, summary_data_point::ValueAtQuantile,
};

use super::traces::finite;
use super::*;
use crate::columns::metrics::{Exemplars, Lists, MetricsBatch, PointValues, Points};
use crate::otlp::metrics::{MetricsDecoded, decode_metrics};
use crate::otlp::testgen::metric_request;

// ---- column-by-column comparison ----

fn bits(v: &[f64]) -> Vec<u64> {
    v.iter().map(|d| d.to_bits()).collect()
}

/// A list column's rows (doubles compared by their bits, so NaN equals NaN).
fn rows<T: Copy, U>(l: &Lists<T>, item: impl Fn(T) -> U) -> Vec<Vec<U>> {
    (0..l.len())
        .map(|i| l.row(i).iter().map(|&v| item(v)).collect())
        .collect()
}

fn same_exemplars(table: &str, points: usize, a: &Exemplars, b: &Exemplars) {
    let ends = |e: &Exemplars| (0..points).map(|p| e.of(p)).collect::<Vec<_>>();
    assert_eq!(ends(a), ends(b), "{table}: exemplars per point");
    same_maps(
        &format!("{table}.Exemplars.FilteredAttributes"),
        &a.filtered_attributes,
        &b.filtered_attributes,
    );
    assert_eq!(a.time, b.time, "{table}.Exemplars.TimeUnix");
    assert_eq!(bits(&a.value), bits(&b.value), "{table}.Exemplars.Value");
    assert_eq!(a.span_id, b.span_id, "{table}.Exemplars.SpanId");
    assert_eq!(a.trace_id, b.trace_id, "{table}.Exemplars.TraceId");
}

/// The columns every point table has; `values` compares the kind's own.
fn same_points<K: PointValues>(table: &str, a: &Points<K>, b: &Points<K>, values: impl Fn(&K, &K)) {
    assert_eq!(a.metric, b.metric, "{table}: metric index");
    same_maps(&format!("{table}.Attributes"), &a.attributes, &b.attributes);
    assert_eq!(a.start_time, b.start_time, "{table}.StartTimeUnix");
    assert_eq!(a.time, b.time, "{table}.TimeUnix");
    assert_eq!(a.flags, b.flags, "{table}.Flags");
    same_exemplars(table, a.len(), &a.exemplars, &b.exemplars);
    values(&a.values, &b.values);
}

/// Asserts two batches hold the same rows, naming the first column that differs.
fn assert_same_metrics(a: &MetricsBatch, b: &MetricsBatch) {
    let (ra, rb) = (&a.resources, &b.resources);
    same_strings("ServiceName", &ra.service_name, &rb.service_name);
    same_strings("ResourceSchemaUrl", &ra.schema_url, &rb.schema_url);
    same_maps("ResourceAttributes", &ra.attributes, &rb.attributes);
    let (sa, sb) = (&a.scopes, &b.scopes);
    same_strings("ScopeName", &sa.name, &sb.name);
    same_strings("ScopeVersion", &sa.version, &sb.version);
    same_strings("ScopeSchemaUrl", &sa.schema_url, &sb.schema_url);
    same_maps("ScopeAttributes", &sa.attributes, &sb.attributes);
    assert_eq!(
        sa.dropped_attributes, sb.dropped_attributes,
        "ScopeDroppedAttrCount"
    );
    let (ma, mb) = (&a.metrics, &b.metrics);
    same_strings("MetricName", &ma.name, &mb.name);
    same_strings("MetricDescription", &ma.description, &mb.description);
    same_strings("MetricUnit", &ma.unit, &mb.unit);
    assert_eq!(ma.temporality, mb.temporality, "AggregationTemporality");
    assert_eq!(ma.monotonic, mb.monotonic, "IsMonotonic");
    assert_eq!(ma.resource, mb.resource, "metric resource index");
    assert_eq!(ma.scope, mb.scope, "metric scope index");
    for (table, pa, pb) in [
        ("otel_metrics_gauge", &a.gauge, &b.gauge),
        ("otel_metrics_sum", &a.sum, &b.sum),
    ] {
        same_points(table, pa, pb, |x, y| {
            assert_eq!(bits(&x.value), bits(&y.value), "{table}.Value");
        });
    }
    same_points(
        "otel_metrics_histogram",
        &a.histogram,
        &b.histogram,
        |x, y| {
            assert_eq!(x.count, y.count, "histogram.Count");
            assert_eq!(bits(&x.sum), bits(&y.sum), "histogram.Sum");
            assert_eq!(bits(&x.min), bits(&y.min), "histogram.Min");
            assert_eq!(bits(&x.max), bits(&y.max), "histogram.Max");
            assert_eq!(x.bucket_counts, y.bucket_counts, "histogram.BucketCounts");
            assert_eq!(
                rows(&x.explicit_bounds, f64::to_bits),
                rows(&y.explicit_bounds, f64::to_bits),
                "histogram.ExplicitBounds"
            );
        },
    );
    let (ea, eb) = (&a.exp_histogram, &b.exp_histogram);
    same_points("otel_metrics_exponential_histogram", ea, eb, |x, y| {
        assert_eq!(x.count, y.count, "exp.Count");
        assert_eq!(bits(&x.sum), bits(&y.sum), "exp.Sum");
        assert_eq!(bits(&x.min), bits(&y.min), "exp.Min");
        assert_eq!(bits(&x.max), bits(&y.max), "exp.Max");
        assert_eq!(x.scale, y.scale, "exp.Scale");
        assert_eq!(x.zero_count, y.zero_count, "exp.ZeroCount");
        assert_eq!(x.positive_offset, y.positive_offset, "exp.PositiveOffset");
        assert_eq!(
            x.positive_counts, y.positive_counts,
            "exp.PositiveBucketCounts"
        );
        assert_eq!(x.negative_offset, y.negative_offset, "exp.NegativeOffset");
        assert_eq!(
            x.negative_counts, y.negative_counts,
            "exp.NegativeBucketCounts"
        );
    });
    same_points("otel_metrics_summary", &a.summary, &b.summary, |x, y| {
        assert_eq!(x.count, y.count, "summary.Count");
        assert_eq!(bits(&x.sum), bits(&y.sum), "summary.Sum");
        let pair = |q: [f64; 2]| q.map(f64::to_bits);
        assert_eq!(
            rows(&x.quantiles, pair),
            rows(&y.quantiles, pair),
            "summary.ValueAtQuantiles"
        );
    });
}

fn metrics_pb(msg: &ExportMetricsServiceRequest) -> (MetricsBatch, MetricsDecoded) {
    let mut b = MetricsBatch::default();
    let n = decode_metrics(&msg.encode_to_vec(), &mut b).expect("protobuf decodes");
    (b, n)
}

fn metrics_json(text: &[u8]) -> Result<(MetricsBatch, MetricsDecoded), JsonError> {
    let mut b = MetricsBatch::default();
    decode_metrics_json(text, &mut b).map(|n| (b, n))
}

/// The message through both decoders: the same columns, the same counts.
fn assert_metrics_differential(msg: &ExportMetricsServiceRequest) {
    let text = serde_json::to_vec(msg).expect("serde serializes");
    let (from_json, n_json) =
        metrics_json(&text).unwrap_or_else(|e| panic!("{e}\n{}", String::from_utf8_lossy(&text)));
    let (from_pb, n_pb) = metrics_pb(msg);
    assert_eq!(n_json, n_pb, "{}", String::from_utf8_lossy(&text));
    assert_same_metrics(&from_json, &from_pb);
}

/// The same text and message: decoded alike (for hand-written JSON).
fn assert_means(text: &str, msg: &ExportMetricsServiceRequest) -> MetricsBatch {
    let (from_json, n_json) = metrics_json(text.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
    let (from_pb, n_pb) = metrics_pb(msg);
    assert_eq!(n_json, n_pb);
    assert_same_metrics(&from_json, &from_pb);
    from_json
}

// ---- builders ----

fn request(metrics: Vec<Metric>) -> ExportMetricsServiceRequest {
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(Resource {
                attributes: vec![kv("service.name", s("svc")), kv("host", s("h1"))],
                ..Default::default()
            }),
            scope_metrics: vec![ScopeMetrics {
                scope: Some(InstrumentationScope {
                    name: "meter".into(),
                    version: "2.1".into(),
                    attributes: vec![kv("scope.k", Value::IntValue(4))],
                    dropped_attributes_count: 3,
                }),
                metrics,
                schema_url: "scope-schema".into(),
            }],
            schema_url: "resource-schema".into(),
        }],
    }
}

fn metric(name: &str, data: Option<Data>) -> Metric {
    Metric {
        name: name.into(),
        description: format!("about {name}"),
        unit: "ms".into(),
        metadata: vec![kv("meta", s("dropped"))],
        data,
    }
}

fn number(value: number_data_point::Value) -> NumberDataPoint {
    NumberDataPoint {
        attributes: vec![kv("route", s("/a")), kv("code", Value::IntValue(200))],
        start_time_unix_nano: 1_700_000_000_000_000_000,
        time_unix_nano: 1_700_000_010_500_000_000,
        value: Some(value),
        ..Default::default()
    }
}

fn exemplar(value: exemplar::Value, ids: bool) -> Exemplar {
    Exemplar {
        filtered_attributes: vec![kv("user", s("u1"))],
        time_unix_nano: 1_700_000_005_000_000_000,
        span_id: if ids { vec![0x5a; 8] } else { Vec::new() },
        trace_id: if ids { (1..=16).collect() } else { Vec::new() },
        value: Some(value),
    }
}

fn all_kinds() -> ExportMetricsServiceRequest {
    use exemplar::Value::{AsDouble as ExDouble, AsInt as ExInt};
    use number_data_point::Value::{AsDouble, AsInt};
    let mut gauge_point = number(AsDouble(-12.25));
    gauge_point.exemplars = vec![exemplar(ExDouble(3.5), true), exemplar(ExInt(-7), false)];
    gauge_point.flags = 1;
    let histogram_points = vec![
        HistogramDataPoint {
            attributes: vec![kv("le", s("x"))],
            start_time_unix_nano: 5,
            time_unix_nano: 9_000_000_000,
            count: 10,
            sum: Some(45.5),
            bucket_counts: vec![1, 0, 9, u64::MAX],
            explicit_bounds: vec![0.5, 1e3, 1e-300],
            exemplars: vec![exemplar(ExInt(i64::MIN), true)],
            flags: 0,
            min: Some(-1.0),
            max: Some(f64::MAX),
        },
        // No sum, min, max; no buckets.
        HistogramDataPoint {
            count: 3,
            ..Default::default()
        },
    ];
    let exp_point = ExponentialHistogramDataPoint {
        attributes: vec![kv("b", Value::BoolValue(true))],
        start_time_unix_nano: 1,
        time_unix_nano: 2,
        count: 20,
        sum: Some(0.125),
        scale: -3,
        zero_count: 4,
        positive: Some(Buckets {
            offset: -2,
            bucket_counts: vec![1, 2, 3],
        }),
        negative: Some(Buckets {
            offset: 7,
            bucket_counts: vec![0, 10],
        }),
        flags: 1,
        exemplars: vec![exemplar(ExDouble(0.001), false)],
        min: Some(-4.0),
        max: None,
        zero_threshold: 1e-9,
    };
    let summary_point = SummaryDataPoint {
        attributes: vec![kv("q", s("p"))],
        start_time_unix_nano: 100,
        time_unix_nano: 200,
        count: 99,
        sum: 1234.5,
        quantile_values: vec![
            ValueAtQuantile {
                quantile: 0.5,
                value: 10.0,
            },
            ValueAtQuantile {
                quantile: 0.99,
                value: 99.75,
            },
        ],
        flags: 0,
    };
    request(vec![
        metric(
            "temp",
            Some(Data::Gauge(Gauge {
                data_points: vec![gauge_point, number(AsInt(i64::MAX))],
            })),
        ),
        metric(
            "requests",
            Some(Data::Sum(Sum {
                data_points: vec![number(AsInt(-3)), number(AsDouble(0.0))],
                aggregation_temporality: 2,
                is_monotonic: true,
            })),
        ),
        metric(
            "delta",
            Some(Data::Sum(Sum {
                data_points: vec![number(AsInt(5))],
                aggregation_temporality: 1,
                is_monotonic: false,
            })),
        ),
        metric(
            "latency",
            Some(Data::Histogram(Histogram {
                data_points: histogram_points,
                aggregation_temporality: 1,
            })),
        ),
        // No data: skipped, as an empty kind is.
        metric("nothing", None),
        metric(
            "empty.sum",
            Some(Data::Sum(Sum {
                data_points: vec![],
                aggregation_temporality: 2,
                is_monotonic: true,
            })),
        ),
        metric(
            "sizes",
            Some(Data::ExponentialHistogram(ExponentialHistogram {
                data_points: vec![exp_point],
                aggregation_temporality: 2,
            })),
        ),
        metric(
            "rpc",
            Some(Data::Summary(Summary {
                data_points: vec![summary_point],
            })),
        ),
    ])
}

// ---- differential ----

#[test]
fn metrics_json_and_protobuf_give_the_same_columns() {
    let msg = all_kinds();
    assert_metrics_differential(&msg);
    let (b, n) = metrics_pb(&msg);
    // The message covers what it claims to.
    assert_eq!(n.points, [2, 3, 2, 1, 1]);
    assert_eq!(n.skipped, 2);
    assert_eq!(b.metrics.len(), 6);
    assert_eq!(b.gauge.exemplars.len(), 2);
    assert_eq!(b.exp_histogram.values.negative_counts.row(0), [0, 10]);
}

#[test]
fn several_resources_and_scopes_and_an_empty_request() {
    let mut msg = all_kinds();
    let mut second = msg.resource_metrics[0].clone();
    second.resource = None;
    second.scope_metrics.push(ScopeMetrics::default());
    second.scope_metrics[0].metrics.truncate(3);
    msg.resource_metrics.push(second);
    msg.resource_metrics.push(ResourceMetrics::default());
    assert_metrics_differential(&msg);
    assert_metrics_differential(&ExportMetricsServiceRequest::default());
}

/// Makes the doubles prost's serde would write as `null` finite (serde_json has no
/// NaN); `NaN` and `Infinity` are tested by hand below. And a `-0.0` in a plain
/// (not `optional`, not `oneof`) proto3 double becomes `0.0`: prost takes it for the
/// default and does not encode it, where serde writes `-0.0`.
fn finite_metrics(msg: &mut ExportMetricsServiceRequest) {
    fn d(v: &mut f64) {
        if !v.is_finite() {
            *v = 0.5;
        }
    }
    fn plain(v: &mut f64) {
        if *v == 0.0 {
            *v = 0.0;
        }
    }
    fn exemplars(es: &mut [Exemplar]) {
        for e in es {
            finite(&mut e.filtered_attributes);
            if let Some(exemplar::Value::AsDouble(v)) = &mut e.value {
                d(v);
            }
        }
    }
    for rm in &mut msg.resource_metrics {
        rm.resource
            .iter_mut()
            .for_each(|r| finite(&mut r.attributes));
        for sm in &mut rm.scope_metrics {
            sm.scope.iter_mut().for_each(|s| finite(&mut s.attributes));
            for m in &mut sm.metrics {
                finite(&mut m.metadata);
                match &mut m.data {
                    Some(Data::Gauge(Gauge { data_points: ps }))
                    | Some(Data::Sum(Sum {
                        data_points: ps, ..
                    })) => {
                        for p in ps {
                            finite(&mut p.attributes);
                            exemplars(&mut p.exemplars);
                            if let Some(number_data_point::Value::AsDouble(v)) = &mut p.value {
                                d(v);
                            }
                        }
                    }
                    Some(Data::Histogram(h)) => {
                        for p in &mut h.data_points {
                            finite(&mut p.attributes);
                            exemplars(&mut p.exemplars);
                            [&mut p.sum, &mut p.min, &mut p.max]
                                .into_iter()
                                .flatten()
                                .for_each(d);
                            p.explicit_bounds.iter_mut().for_each(d);
                        }
                    }
                    Some(Data::ExponentialHistogram(h)) => {
                        for p in &mut h.data_points {
                            finite(&mut p.attributes);
                            exemplars(&mut p.exemplars);
                            [&mut p.sum, &mut p.min, &mut p.max]
                                .into_iter()
                                .flatten()
                                .for_each(d);
                        }
                    }
                    // `quantileValues` are written as "NaN" / "Infinity"; `sum` is not.
                    Some(Data::Summary(s)) => {
                        for p in &mut s.data_points {
                            finite(&mut p.attributes);
                            d(&mut p.sum);
                            plain(&mut p.sum);
                            for q in &mut p.quantile_values {
                                plain(&mut q.quantile);
                                plain(&mut q.value);
                            }
                        }
                    }
                    None => {}
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn random_metrics_decode_alike(mut msg in metric_request()) {
        finite_metrics(&mut msg);
        assert_metrics_differential(&msg);
    }
}

mod errors;
mod lenient;
