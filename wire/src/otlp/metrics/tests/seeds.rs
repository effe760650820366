//! The seeds of the `metrics_protobuf` and `metrics_json` fuzz targets: requests with
//! every data kind, built with prost (and, for the wire forms prost never writes, by
//! hand). A test checks that they decode to what the reference mapping expects; an
//! ignored one writes them to `fuzz/corpus/` (run it after changing them:
//! `cargo test -p sluice-wire write_metric_fuzz_seeds -- --ignored`).

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{
    AnyValue, ArrayValue, InstrumentationScope, KeyValue, KeyValueList, any_value::Value as V,
};
use opentelemetry_proto::tonic::metrics::v1::{
    Exemplar as PbExemplar, ExponentialHistogram, ExponentialHistogramDataPoint, Gauge, Histogram,
    HistogramDataPoint, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum, Summary,
    SummaryDataPoint, exemplar, exponential_histogram_data_point::Buckets, metric::Data,
    number_data_point, summary_data_point::ValueAtQuantile,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use prost::Message as _;

use super::proptests::decode_valid;
use super::*;

const T0: u64 = 1_764_000_000_000_000_000;

fn kv(key: &str, value: V) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue { value: Some(value) }),
        ..Default::default()
    }
}

fn s(v: &str) -> V {
    V::StringValue(v.into())
}

fn number(value: number_data_point::Value, attrs: Vec<KeyValue>) -> NumberDataPoint {
    NumberDataPoint {
        attributes: attrs,
        start_time_unix_nano: T0,
        time_unix_nano: T0 + 1_000_000_000,
        value: Some(value),
        ..Default::default()
    }
}

fn exemplar(value: exemplar::Value, ids: bool) -> PbExemplar {
    PbExemplar {
        filtered_attributes: vec![kv("user", s("u1"))],
        time_unix_nano: T0 + 500_000_000,
        span_id: if ids { vec![0x21; 8] } else { vec![] },
        trace_id: if ids { vec![0xa1; 16] } else { vec![] },
        value: Some(value),
    }
}

fn pb_metric(name: &str, unit: &str, data: Option<Data>) -> Metric {
    Metric {
        name: name.into(),
        description: format!("{name}, for the fuzzer"),
        unit: unit.into(),
        metadata: vec![],
        data,
    }
}

/// One metric of each kind (and one with no data) under one resource and scope.
fn all_kinds() -> ExportMetricsServiceRequest {
    use number_data_point::Value::{AsDouble, AsInt};
    let mut gauge_point = number(AsDouble(0.75), vec![kv("cpu", V::IntValue(0))]);
    gauge_point.exemplars = vec![
        exemplar(exemplar::Value::AsDouble(0.9), true),
        exemplar(exemplar::Value::AsInt(3), false),
    ];
    let histogram_point = HistogramDataPoint {
        attributes: vec![kv("http.route", s("/cart"))],
        start_time_unix_nano: T0,
        time_unix_nano: T0 + 1_000_000_000,
        count: 6,
        sum: Some(12.5),
        bucket_counts: vec![1, 2, 3],
        explicit_bounds: vec![1.0, 5.0],
        exemplars: vec![exemplar(exemplar::Value::AsDouble(4.5), true)],
        flags: 0,
        min: Some(0.5),
        max: Some(7.0),
    };
    let exp_point = ExponentialHistogramDataPoint {
        start_time_unix_nano: T0,
        time_unix_nano: T0 + 1_000_000_000,
        count: 9,
        sum: Some(40.0),
        scale: -2,
        zero_count: 1,
        positive: Some(Buckets {
            offset: -1,
            bucket_counts: vec![2, 300, 4],
        }),
        negative: Some(Buckets {
            offset: 3,
            bucket_counts: vec![1],
        }),
        zero_threshold: 1e-9,
        ..Default::default()
    };
    let summary_point = SummaryDataPoint {
        start_time_unix_nano: T0,
        time_unix_nano: T0 + 1_000_000_000,
        count: 4,
        sum: 10.0,
        quantile_values: vec![
            ValueAtQuantile {
                quantile: 0.5,
                value: 2.0,
            },
            ValueAtQuantile {
                quantile: 0.99,
                value: 4.0,
            },
        ],
        flags: 1,
        ..Default::default()
    };
    let metrics = vec![
        pb_metric(
            "system.cpu.utilization",
            "1",
            Some(Data::Gauge(Gauge {
                data_points: vec![gauge_point, number(AsInt(-2), vec![])],
            })),
        ),
        pb_metric(
            "http.requests",
            "{request}",
            Some(Data::Sum(Sum {
                data_points: vec![number(AsInt(42), vec![kv("code", V::IntValue(200))])],
                aggregation_temporality: 2,
                is_monotonic: true,
            })),
        ),
        pb_metric(
            "http.duration",
            "ms",
            Some(Data::Histogram(Histogram {
                data_points: vec![histogram_point],
                aggregation_temporality: 1,
            })),
        ),
        pb_metric(
            "rpc.size",
            "By",
            Some(Data::ExponentialHistogram(ExponentialHistogram {
                data_points: vec![exp_point],
                aggregation_temporality: 2,
            })),
        ),
        pb_metric(
            "gc.pause",
            "s",
            Some(Data::Summary(Summary {
                data_points: vec![summary_point],
            })),
        ),
        pb_metric("no.data", "", None),
    ];
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(Resource {
                attributes: vec![kv("service.name", s("shop")), kv("host.name", s("h1"))],
                ..Default::default()
            }),
            scope_metrics: vec![ScopeMetrics {
                scope: Some(InstrumentationScope {
                    name: "meter".into(),
                    version: "1.0".into(),
                    attributes: vec![kv("lib", s("x"))],
                    dropped_attributes_count: 2,
                }),
                metrics,
                schema_url: "https://opentelemetry.io/schemas/1.26.0".into(),
            }],
            schema_url: String::new(),
        }],
    }
}

/// Two resources, a scope without a scope message, nested attribute values, a
/// repeated attribute key, a metric with metadata and an empty kind.
fn two_resources() -> ExportMetricsServiceRequest {
    let nested = V::KvlistValue(KeyValueList {
        values: vec![
            kv(
                "a",
                V::ArrayValue(ArrayValue {
                    values: vec![AnyValue {
                        value: Some(V::BoolValue(true)),
                    }],
                }),
            ),
            kv("b", V::DoubleValue(1.5)),
        ],
    });
    let point = number(
        number_data_point::Value::AsDouble(3.25),
        vec![kv("k", s("first")), kv("n", nested), kv("k", s("last"))],
    );
    let mut with_metadata = pb_metric(
        "queue.depth",
        "{item}",
        Some(Data::Gauge(Gauge {
            data_points: vec![point.clone(), point],
        })),
    );
    with_metadata.metadata = vec![kv("origin", s("prometheus"))];
    let empty = pb_metric("empty.sum", "", Some(Data::Sum(Sum::default())));
    let resource = |name: &str, metrics: Vec<Metric>| ResourceMetrics {
        resource: Some(Resource {
            attributes: vec![kv("service.name", s(name))],
            ..Default::default()
        }),
        scope_metrics: vec![ScopeMetrics {
            scope: None,
            metrics,
            schema_url: String::new(),
        }],
        schema_url: String::new(),
    };
    ExportMetricsServiceRequest {
        resource_metrics: vec![
            resource("a", vec![with_metadata.clone(), empty]),
            resource("b", vec![with_metadata]),
        ],
    }
}

/// The seeds prost writes: (name, request).
fn prost_seeds() -> [(&'static str, ExportMetricsServiceRequest); 2] {
    [
        ("all-kinds", all_kinds()),
        ("two-resources", two_resources()),
    ]
}

/// The seeds in wire forms prost never writes: unpacked and mixed repeated numbers,
/// a data `oneof` that changes kind, a message twice, unknown fields and groups.
fn hand_seeds() -> [(&'static str, Vec<u8>); 2] {
    let mixed = cat(&[
        &packed_fixed64(6, &[1]),
        &fixed64(6, 2),
        &double(7, 1.0),
        &packed_doubles(7, &[2.0]),
        &fixed64(4, 3),
    ]);
    let metrics = [
        cat(&[
            &ld(GAUGE, &data(&[double(4, 1.0)], &[])),
            &ld(SUM, &data(&[sfixed64(6, 2)], &varint(2, 2))),
            &ld(SUM, &data(&[double(4, 3.0)], &varint(3, 1))),
            &ld(1, b"changes.kind"),
        ]),
        metric("mixed.buckets", HISTOGRAM, &[mixed], &varint(2, 1)),
        metric(
            "buckets.twice",
            EXP_HISTOGRAM,
            &[cat(&[
                &ld(8, &cat(&[&sint32(1, -3), &varint(2, 5)])),
                &ld(8, &packed_varints(2, &[6, 7])),
                &sint32(6, -4),
            ])],
            &[],
        ),
    ];
    [
        ("hand-wire-forms", request(&metrics)),
        (
            "hand-unknown-fields",
            super::protobuf::every_message(super::protobuf::unknown),
        ),
    ]
}

#[test]
fn the_fuzz_seeds_decode_as_prost_reads_them() {
    let mut batch = MetricsBatch::default();
    for (name, req) in prost_seeds() {
        decode_valid(&req.encode_to_vec(), &mut batch).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    for (name, bytes) in hand_seeds() {
        decode_valid(&bytes, &mut batch).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    assert!(
        batch.points().iter().all(|&n| n > 0),
        "every table has points"
    );
}

#[test]
#[ignore = "writes fuzz/corpus/metrics_*/; run by hand after changing the seeds"]
fn write_metric_fuzz_seeds() {
    let corpus = concat!(env!("CARGO_MANIFEST_DIR"), "/../fuzz/corpus");
    let (pb, json) = (
        format!("{corpus}/metrics_protobuf"),
        format!("{corpus}/metrics_json"),
    );
    std::fs::create_dir_all(&pb).unwrap();
    std::fs::create_dir_all(&json).unwrap();
    for (name, req) in prost_seeds() {
        std::fs::write(format!("{pb}/{name}.binpb"), req.encode_to_vec()).unwrap();
        let text = serde_json::to_vec(&req).expect("serde serializes");
        std::fs::write(format!("{json}/{name}.json"), text).unwrap();
    }
    for (name, bytes) in hand_seeds() {
        std::fs::write(format!("{pb}/{name}.binpb"), bytes).unwrap();
    }
}
