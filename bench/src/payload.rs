//! Realistic OTLP payloads for benches and load generation.

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{
    AnyValue, InstrumentationScope, KeyValue, any_value::Value,
};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::resource::v1::Resource;

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

/// A logs request: `records` records of about 300 bytes on the wire, each with five
/// attributes, trace context and severity, under one Kubernetes-style resource.
pub fn logs_request(records: usize) -> ExportLogsServiceRequest {
    let resource = Resource {
        attributes: vec![
            kv("service.name", s("checkout")),
            kv("service.version", s("1.42.0")),
            kv("k8s.namespace.name", s("shop")),
            kv("k8s.pod.name", s("checkout-7d9f8b6c5d-x2x4q")),
            kv("k8s.node.name", s("ip-10-0-12-34.ec2.internal")),
            kv("deployment.environment.name", s("production")),
        ],
        ..Default::default()
    };
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
            trace_id: (0..16)
                .map(|b| (b as u8).wrapping_mul(31).wrapping_add(i as u8))
                .collect(),
            span_id: (0..8)
                .map(|b| (b as u8).wrapping_mul(17).wrapping_add(i as u8))
                .collect(),
            ..Default::default()
        })
        .collect();
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: Some(resource),
            scope_logs: vec![ScopeLogs {
                scope: Some(InstrumentationScope {
                    name: "io.opentelemetry.http".into(),
                    version: "2.10.0".into(),
                    ..Default::default()
                }),
                log_records,
                schema_url: String::new(),
            }],
            schema_url: "https://opentelemetry.io/schemas/1.26.0".into(),
        }],
    }
}
