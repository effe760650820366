//! Patching: a patched pool request still decodes (prost for protobuf, serde and
//! sluice's own JSON reader for OTLP/JSON), and carries exactly the stamps written.

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{KeyValue, any_value::Value};
use opentelemetry_proto::tonic::metrics::v1::metric::Data;

use super::*;
use crate::generate::{REQUEST_KEY, RUN_ID_KEY, SEQ_KEY};

fn shape() -> Shape {
    Shape {
        records: 37,
        resources: 3,
        scopes: 2,
        ..Shape::default()
    }
}

fn stamps() -> Stamps {
    Stamps {
        request: true,
        seq: true,
        run_id: Some("run-1".into()),
        sums_only: true,
    }
}

fn attr<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a str> {
    attrs.iter().find(|kv| kv.key == key).and_then(|kv| {
        match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
            Some(Value::StringValue(s)) => Some(s.as_str()),
            _ => None,
        }
    })
}

fn stamp(v: u64) -> String {
    format!("{v:016}")
}

fn patched(t: &Template, request: u64, seq_base: u64) -> Vec<u8> {
    let mut b = t.bytes.clone();
    t.patch(&mut b, request, seq_base);
    b
}

/// Checks resources and records against the stamps of request `request`.
fn check(resources: Vec<&[KeyValue]>, records: Vec<&[KeyValue]>, request: u64, seq_base: u64) {
    assert_eq!(resources.len(), 3);
    for r in resources {
        assert_eq!(attr(r, REQUEST_KEY), Some(stamp(request).as_str()));
        assert_eq!(attr(r, RUN_ID_KEY), Some("run-1"));
        assert_eq!(attr(r, "service.name").map(str::is_empty), Some(false));
    }
    assert_eq!(records.len(), 37);
    for (i, r) in records.into_iter().enumerate() {
        assert_eq!(attr(r, SEQ_KEY), Some(stamp(seq_base + i as u64).as_str()));
    }
}

fn check_logs(m: &ExportLogsServiceRequest, request: u64, seq_base: u64) {
    check(
        m.resource_logs
            .iter()
            .map(|r| r.resource.as_ref().map_or(&[][..], |r| &r.attributes))
            .collect(),
        m.resource_logs
            .iter()
            .flat_map(|r| &r.scope_logs)
            .flat_map(|s| &s.log_records)
            .map(|l| &l.attributes[..])
            .collect(),
        request,
        seq_base,
    );
}

fn check_traces(m: &ExportTraceServiceRequest, request: u64, seq_base: u64) {
    check(
        m.resource_spans
            .iter()
            .map(|r| r.resource.as_ref().map_or(&[][..], |r| &r.attributes))
            .collect(),
        m.resource_spans
            .iter()
            .flat_map(|r| &r.scope_spans)
            .flat_map(|s| &s.spans)
            .map(|s| &s.attributes[..])
            .collect(),
        request,
        seq_base,
    );
}

fn check_metrics(m: &ExportMetricsServiceRequest, request: u64, seq_base: u64) {
    let points = m
        .resource_metrics
        .iter()
        .flat_map(|r| &r.scope_metrics)
        .flat_map(|s| &s.metrics)
        .flat_map(|m| match &m.data {
            Some(Data::Sum(s)) => s
                .data_points
                .iter()
                .map(|p| &p.attributes[..])
                .collect::<Vec<_>>(),
            other => panic!("sums only, got {other:?}"),
        })
        .collect::<Vec<_>>();
    check(
        m.resource_metrics
            .iter()
            .map(|r| r.resource.as_ref().map_or(&[][..], |r| &r.attributes))
            .collect(),
        points,
        request,
        seq_base,
    );
}

#[test]
fn patched_protobuf_decodes_with_the_patched_stamps() {
    let pool = Pool::build(&Signal::ALL, &shape(), &stamps(), Encoding::Protobuf, 6).unwrap();
    for (i, t) in pool.templates.iter().enumerate() {
        assert_eq!(t.signal, Signal::ALL[i % 3]);
        for (request, seq_base) in [
            (0, 0),
            (i as u64 + 7, 37 * (i as u64 + 7)),
            (STAMP_MAX, 1 << 40),
        ] {
            let b = patched(t, request, seq_base);
            match t.signal {
                Signal::Logs => check_logs(&Message::decode(&b[..]).unwrap(), request, seq_base),
                Signal::Traces => {
                    check_traces(&Message::decode(&b[..]).unwrap(), request, seq_base)
                }
                Signal::Metrics => {
                    check_metrics(&Message::decode(&b[..]).unwrap(), request, seq_base)
                }
            }
        }
    }
}

#[test]
fn patched_json_decodes_with_the_patched_stamps() {
    let pool = Pool::build(&Signal::ALL, &shape(), &stamps(), Encoding::Json, 3).unwrap();
    for t in &pool.templates {
        let b = patched(t, 99, 12_345);
        match t.signal {
            Signal::Logs => check_logs(&serde_json::from_slice(&b).unwrap(), 99, 12_345),
            Signal::Traces => check_traces(&serde_json::from_slice(&b).unwrap(), 99, 12_345),
            Signal::Metrics => check_metrics(&serde_json::from_slice(&b).unwrap(), 99, 12_345),
        }
    }
}

#[test]
fn patching_again_overwrites_every_stamp() {
    let pool = Pool::build(&[Signal::Logs], &shape(), &stamps(), Encoding::Protobuf, 1).unwrap();
    let t = &pool.templates[0];
    let mut b = t.bytes.clone();
    t.patch(&mut b, 5, 500);
    t.patch(&mut b, 6, 600);
    assert_eq!(b, patched(t, 6, 600));
    // Only the stamps differ from the template.
    let differing = b.iter().zip(&t.bytes).filter(|(a, b)| a != b).count();
    assert!(differing <= (3 + 37) * STAMP_WIDTH, "{differing}");
}

/// The JSON path against a reference: serde reads back the very message prost
/// encodes, ids are lowercase hex (not base64), 64-bit integers are strings.
#[test]
fn json_round_trips_to_the_same_message() {
    let s = shape();
    let st = Stamps::default();
    let logs = generate::logs(&s, &st, 4);
    let json = serde_json::to_vec(&logs).unwrap();
    let back: ExportLogsServiceRequest = serde_json::from_slice(&json).unwrap();
    assert_eq!(back, logs);
    let traces = generate::traces(&s, &st, 4);
    let back: ExportTraceServiceRequest =
        serde_json::from_slice(&serde_json::to_vec(&traces).unwrap()).unwrap();
    assert_eq!(back, traces);
    let metrics = generate::metrics(&s, &st, 4);
    let back: ExportMetricsServiceRequest =
        serde_json::from_slice(&serde_json::to_vec(&metrics).unwrap()).unwrap();
    assert_eq!(back, metrics);

    let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
    let rec = &v["resourceLogs"][0]["scopeLogs"][0]["logRecords"];
    let first = rec
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["traceId"].as_str().is_some_and(|t| !t.is_empty()))
        .expect("a record with trace context");
    let orig = logs.resource_logs[0].scope_logs[0]
        .log_records
        .iter()
        .find(|r| !r.trace_id.is_empty())
        .unwrap();
    let hex: String = orig.trace_id.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(first["traceId"], serde_json::Value::String(hex));
    assert_eq!(
        first["timeUnixNano"],
        serde_json::Value::String(orig.time_unix_nano.to_string())
    );
    assert!(first["attributes"].to_string().contains(r#"{"intValue":""#));
}

/// sluice's own OTLP/JSON reader (an independent implementation) reads every record.
#[test]
fn sluice_reads_the_json_pool() {
    let pool = Pool::build(&Signal::ALL, &shape(), &stamps(), Encoding::Json, 3).unwrap();
    for t in &pool.templates {
        let b = patched(t, 1, 2);
        let n = match t.signal {
            Signal::Logs => {
                let mut batch = wire::columns::logs::LogsBatch::default();
                let opts = wire::otlp::logs::LogsOptions::default();
                wire::otlp::json::decode_logs_json(&b, &mut batch, &opts)
                    .unwrap()
                    .logs
            }
            Signal::Traces => {
                let mut batch = wire::columns::traces::TracesBatch::default();
                wire::otlp::json::decode_traces_json(&b, &mut batch)
                    .unwrap()
                    .spans
            }
            Signal::Metrics => {
                let mut batch = wire::columns::metrics::MetricsBatch::default();
                wire::otlp::json::decode_metrics_json(&b, &mut batch)
                    .unwrap()
                    .total()
            }
        };
        assert_eq!(n, 37, "{:?}", t.signal);
    }
}

#[test]
fn missing_or_extra_placeholders_are_refused() {
    let s = shape();
    let bytes = generate::logs(&s, &stamps(), 0).encode_to_vec();
    assert!(Template::new(Signal::Logs, bytes.clone(), 37, 3, 37, 0).is_ok());
    assert!(matches!(
        Template::new(Signal::Logs, bytes.clone(), 37, 3, 38, 0),
        Err(PoolError::Placeholders {
            kind: StampKind::Seq,
            found: 37,
            expected: 38,
            ..
        })
    ));
    assert!(matches!(
        Template::new(Signal::Logs, bytes, 37, 4, 37, 0),
        Err(PoolError::Placeholders {
            kind: StampKind::Request,
            found: 3,
            ..
        })
    ));
    // Without stamps there is nothing to find, and nothing is patched.
    let plain = generate::logs(&s, &Stamps::default(), 0).encode_to_vec();
    let t = Template::new(Signal::Logs, plain.clone(), 37, 0, 0, 0).unwrap();
    assert_eq!(patched(&t, 9, 9), plain);
    assert!(!t.has_seqs());
}

#[test]
fn stamp_digits() {
    let mut b = [b'x'; STAMP_WIDTH];
    write_stamp(&mut b, 1234);
    assert_eq!(&b, b"0000000000001234");
    write_stamp(&mut b, STAMP_MAX);
    assert_eq!(&b, b"9999999999999999");
    assert_eq!(parse_digits(b"0000000000001234"), Some(1234));
    assert_eq!(parse_digits(b"12a"), None);
    assert_eq!(parse_digits(b""), None);
}
