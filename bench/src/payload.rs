//! Realistic OTLP payloads for benches and load generation.

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{
    AnyValue, InstrumentationScope, KeyValue, any_value::Value,
};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::metrics::v1::{
    Exemplar, ExponentialHistogram, ExponentialHistogramDataPoint, Gauge, Histogram,
    HistogramDataPoint, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum, Summary,
    SummaryDataPoint, exemplar, exponential_histogram_data_point::Buckets, metric::Data,
    number_data_point, summary_data_point::ValueAtQuantile,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status, span};

fn kv(key: &str, v: Value) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue { value: Some(v) }),
        ..Default::default()
    }
}

fn s(v: &str) -> Value {
    Value::StringValue(v.into())
}

/// A Kubernetes-style resource of six attributes.
fn resource() -> Resource {
    Resource {
        attributes: vec![
            kv("service.name", s("checkout")),
            kv("service.version", s("1.42.0")),
            kv("k8s.namespace.name", s("shop")),
            kv("k8s.pod.name", s("checkout-7d9f8b6c5d-x2x4q")),
            kv("k8s.node.name", s("ip-10-0-12-34.ec2.internal")),
            kv("deployment.environment.name", s("production")),
        ],
        ..Default::default()
    }
}

fn scope() -> InstrumentationScope {
    InstrumentationScope {
        name: "io.opentelemetry.http".into(),
        version: "2.10.0".into(),
        ..Default::default()
    }
}

/// Id bytes that differ from record to record.
fn id(len: u8, mul: u8, i: usize) -> Vec<u8> {
    (0..len)
        .map(|b| b.wrapping_mul(mul).wrapping_add(i as u8))
        .collect()
}

/// A logs request: `records` records of about 300 bytes on the wire, each with five
/// attributes, trace context and severity, under one Kubernetes-style resource.
pub fn logs_request(records: usize) -> ExportLogsServiceRequest {
    let resource = resource();
    let base = 1_764_000_000_000_000_000u64;
    let log_records = (0..records)
        .map(|i| LogRecord {
            time_unix_nano: base + i as u64 * 1_000,
            observed_time_unix_nano: base + i as u64 * 1_000 + 500,
            severity_number: 9,
            severity_text: "INFO".into(),
            body: Some(AnyValue {
                value: Some(s(&format!(
                    "GET /api/v1/cart/{i:08} completed with status 200 in 12.5ms for user u-{:06}",
                    i * 7 % 1_000_000
                ))),
            }),
            attributes: vec![
                kv("http.request.method", s("GET")),
                kv("http.response.status_code", Value::IntValue(200)),
                kv("url.path", s(&format!("/api/v1/cart/{i:08}"))),
                kv("user.id", s(&format!("u-{:06}", i * 7 % 1_000_000))),
                kv("duration_ms", Value::DoubleValue(12.5)),
            ],
            flags: 1,
            trace_id: id(16, 31, i),
            span_id: id(8, 17, i),
            ..Default::default()
        })
        .collect();
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: Some(resource),
            scope_logs: vec![ScopeLogs {
                scope: Some(scope()),
                log_records,
                schema_url: String::new(),
            }],
            schema_url: "https://opentelemetry.io/schemas/1.26.0".into(),
        }],
    }
}

/// A traces request: `spans` HTTP server spans of about 400 bytes on the wire, each
/// with eight attributes, a parent, a status and one event, under the same resource
/// as [`logs_request`].
pub fn traces_request(spans: usize) -> ExportTraceServiceRequest {
    let base = 1_764_000_000_000_000_000u64;
    let spans = (0..spans)
        .map(|i| {
            let start = base + i as u64 * 1_000;
            Span {
                trace_id: id(16, 31, i),
                span_id: id(8, 17, i),
                parent_span_id: id(8, 13, i),
                name: "GET /api/v1/cart/{id}".into(),
                kind: 2,
                start_time_unix_nano: start,
                end_time_unix_nano: start + 12_500_000,
                attributes: vec![
                    kv("http.request.method", s("GET")),
                    kv("http.response.status_code", Value::IntValue(200)),
                    kv("http.route", s("/api/v1/cart/{id}")),
                    kv("url.path", s(&format!("/api/v1/cart/{i:08}"))),
                    kv("url.scheme", s("https")),
                    kv("server.address", s("checkout.shop.svc.cluster.local")),
                    kv("user.id", s(&format!("u-{:06}", i * 7 % 1_000_000))),
                    kv("network.protocol.version", s("1.1")),
                ],
                events: vec![span::Event {
                    time_unix_nano: start + 2_000_000,
                    name: "cache.miss".into(),
                    attributes: vec![kv("cache.key", s(&format!("cart:{i:08}")))],
                    dropped_attributes_count: 0,
                }],
                status: Some(Status {
                    message: String::new(),
                    code: 1,
                }),
                flags: 0x101,
                ..Default::default()
            }
        })
        .collect();
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(resource()),
            scope_spans: vec![ScopeSpans {
                scope: Some(scope()),
                spans,
                schema_url: String::new(),
            }],
            schema_url: "https://opentelemetry.io/schemas/1.26.0".into(),
        }],
    }
}

/// A metrics request: `metrics` metrics of `points` data points each, the kinds mixed
/// in turn (gauge, sum, histogram with 10 buckets, exponential histogram with 16
/// buckets, summary with 3 quantiles), each point with three attributes and every
/// tenth with an exemplar, under one Kubernetes-style resource, as an SDK's periodic
/// export of a busy service looks.
pub fn metrics_request(metrics: usize, points: usize) -> ExportMetricsServiceRequest {
    let t0 = 1_700_000_000_000_000_000u64;
    let attrs = |p: usize| {
        vec![
            kv("http.request.method", s(["GET", "POST", "PUT"][p % 3])),
            kv(
                "http.route",
                s(["/api/cart", "/api/checkout", "/api/items/{id}"][p % 3]),
            ),
            kv(
                "http.response.status_code",
                Value::IntValue(200 + (p % 4) as i64),
            ),
        ]
    };
    let exemplars = |p: usize| {
        if p.is_multiple_of(10) {
            vec![Exemplar {
                time_unix_nano: t0 + p as u64,
                value: Some(exemplar::Value::AsDouble(0.5 * p as f64)),
                span_id: id(8, 3, p),
                trace_id: id(16, 5, p),
                ..Default::default()
            }]
        } else {
            Vec::new()
        }
    };
    let metric_list = (0..metrics)
        .map(|m| {
            let (start, time) = (t0, t0 + 60_000_000_000 + m as u64);
            let data = match m % 5 {
                0 => Data::Gauge(Gauge {
                    data_points: (0..points)
                        .map(|p| NumberDataPoint {
                            attributes: attrs(p),
                            start_time_unix_nano: start,
                            time_unix_nano: time,
                            value: Some(number_data_point::Value::AsDouble(p as f64 * 1.25)),
                            exemplars: exemplars(p),
                            ..Default::default()
                        })
                        .collect(),
                }),
                1 => Data::Sum(Sum {
                    data_points: (0..points)
                        .map(|p| NumberDataPoint {
                            attributes: attrs(p),
                            start_time_unix_nano: start,
                            time_unix_nano: time,
                            value: Some(number_data_point::Value::AsInt((m * p) as i64)),
                            exemplars: exemplars(p),
                            ..Default::default()
                        })
                        .collect(),
                    aggregation_temporality: 2,
                    is_monotonic: true,
                }),
                2 => Data::Histogram(Histogram {
                    data_points: (0..points)
                        .map(|p| HistogramDataPoint {
                            attributes: attrs(p),
                            start_time_unix_nano: start,
                            time_unix_nano: time,
                            count: 100 + p as u64,
                            sum: Some(1234.5),
                            bucket_counts: (0..11).map(|b| (b * p) as u64).collect(),
                            explicit_bounds: vec![
                                5.0, 10.0, 25.0, 50.0, 75.0, 100.0, 250.0, 500.0, 750.0, 1000.0,
                            ],
                            exemplars: exemplars(p),
                            min: Some(0.5),
                            max: Some(999.0),
                            ..Default::default()
                        })
                        .collect(),
                    aggregation_temporality: 2,
                }),
                3 => Data::ExponentialHistogram(ExponentialHistogram {
                    data_points: (0..points)
                        .map(|p| ExponentialHistogramDataPoint {
                            attributes: attrs(p),
                            start_time_unix_nano: start,
                            time_unix_nano: time,
                            count: 100 + p as u64,
                            sum: Some(1234.5),
                            scale: 3,
                            zero_count: 1,
                            positive: Some(Buckets {
                                offset: 10,
                                bucket_counts: (0..16).map(|b| (b + p) as u64).collect(),
                            }),
                            exemplars: exemplars(p),
                            min: Some(0.5),
                            max: Some(999.0),
                            ..Default::default()
                        })
                        .collect(),
                    aggregation_temporality: 1,
                }),
                _ => Data::Summary(Summary {
                    data_points: (0..points)
                        .map(|p| SummaryDataPoint {
                            attributes: attrs(p),
                            start_time_unix_nano: start,
                            time_unix_nano: time,
                            count: 100 + p as u64,
                            sum: 1234.5,
                            quantile_values: [0.5, 0.9, 0.99]
                                .iter()
                                .map(|&q| ValueAtQuantile {
                                    quantile: q,
                                    value: q * 100.0,
                                })
                                .collect(),
                            ..Default::default()
                        })
                        .collect(),
                }),
            };
            Metric {
                name: format!("http.server.metric_{m}"),
                description: "Duration of HTTP server requests.".into(),
                unit: "ms".into(),
                data: Some(data),
                ..Default::default()
            }
        })
        .collect();
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(resource()),
            scope_metrics: vec![ScopeMetrics {
                scope: Some(scope()),
                metrics: metric_list,
                schema_url: String::new(),
            }],
            schema_url: String::new(),
        }],
    }
}
