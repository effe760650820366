//! Decoder tests: requests built with the `opentelemetry-proto` (prost) types, the
//! reference encoder, and checked column by column against values written out here.

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{
    AnyValue, InstrumentationScope, KeyValue, any_value::Value,
};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::resource::v1::Resource;
use prost::Message;

use super::*;
use crate::columns::logs::LogsBatch;
use crate::otlp::reference::logs::raw;
use crate::proto::ErrorKind;

fn kv(key: &str, value: Value) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue { value: Some(value) }),
        ..Default::default()
    }
}

fn s(v: &str) -> Value {
    Value::StringValue(v.into())
}

fn request(resources: Vec<ResourceLogs>) -> Vec<u8> {
    ExportLogsServiceRequest {
        resource_logs: resources,
    }
    .encode_to_vec()
}

fn resource_logs(attrs: Vec<KeyValue>, scopes: Vec<ScopeLogs>) -> ResourceLogs {
    ResourceLogs {
        resource: Some(Resource {
            attributes: attrs,
            ..Default::default()
        }),
        scope_logs: scopes,
        schema_url: "https://opentelemetry.io/schemas/1.26.0".into(),
    }
}

fn scope_logs(name: &str, records: Vec<LogRecord>) -> ScopeLogs {
    ScopeLogs {
        scope: Some(InstrumentationScope {
            name: name.into(),
            version: "1.2.3".into(),
            attributes: vec![kv("scope.attr", Value::IntValue(7))],
            dropped_attributes_count: 0,
        }),
        log_records: records,
        schema_url: "scope-schema".into(),
    }
}

fn decode(bytes: &[u8], opts: LogsOptions) -> Result<LogsBatch, DecodeError> {
    let mut batch = LogsBatch::default();
    decode_logs(bytes, &mut batch, &opts).map(|_| batch)
}

fn attrs(m: &crate::columns::Maps, row: usize) -> Vec<(String, String)> {
    m.row(row)
        .map(|(k, v)| {
            (
                String::from_utf8(k.to_vec()).unwrap(),
                String::from_utf8(v.to_vec()).unwrap(),
            )
        })
        .collect()
}

fn text(col: &crate::columns::Strings, row: usize) -> &str {
    core::str::from_utf8(col.get(row)).unwrap()
}

fn full_record() -> LogRecord {
    LogRecord {
        time_unix_nano: 1_700_000_000_123_456_789,
        observed_time_unix_nano: 1_700_000_001_000_000_000,
        severity_number: 17,
        severity_text: "ERROR".into(),
        body: Some(AnyValue {
            value: Some(s("disk full")),
        }),
        attributes: vec![
            kv("str", s("v")),
            kv("int", Value::IntValue(-42)),
            kv("double", Value::DoubleValue(1.0)),
            kv("bool", Value::BoolValue(true)),
            kv("bytes", Value::BytesValue(vec![0xde, 0xad, 0xbe, 0xef])),
        ],
        dropped_attributes_count: 3,
        flags: 0x0301,
        trace_id: (1..=16).collect(),
        span_id: vec![0xaa; 8],
        event_name: "device.full".into(),
    }
}

#[test]
fn every_field_reaches_its_column() {
    let bytes = request(vec![resource_logs(
        vec![kv("service.name", s("checkout")), kv("host.name", s("h1"))],
        vec![scope_logs("io.sluice.test", vec![full_record()])],
    )]);
    let b = decode(&bytes, raw()).unwrap();
    assert_eq!(b.logs.len(), 1);
    assert!(b.sessions.is_empty());
    let l = &b.logs;
    assert_eq!(l.timestamp[0], 1_700_000_000_123_456_789);
    assert_eq!(l.trace_id[0].to_vec(), (1..=16).collect::<Vec<u8>>());
    assert_eq!(l.span_id[0], [0xaa; 8]);
    assert_eq!(l.trace_flags[0], 0x01, "flags & 0xff");
    assert_eq!(
        text(&l.severity_text, 0),
        "ERROR",
        "kept as sent without processing"
    );
    assert_eq!(l.severity_number[0], 17);
    assert_eq!(text(&l.body, 0), "disk full");
    assert_eq!(text(&l.event_name, 0), "device.full");
    assert_eq!(
        attrs(&l.attributes, 0),
        [
            ("str".into(), "v".into()),
            ("int".into(), "-42".into()),
            ("double".into(), "1".into()),
            ("bool".into(), "true".into()),
            ("bytes".into(), "3q2+7w==".into()),
        ]
    );
    let (r, sc) = (l.resource[0], l.scope[0]);
    assert_eq!(text(&b.resources.service_name, r), "checkout");
    assert_eq!(
        text(&b.resources.schema_url, r),
        "https://opentelemetry.io/schemas/1.26.0"
    );
    assert_eq!(
        attrs(&b.resources.attributes, r),
        [
            ("service.name".into(), "checkout".into()),
            ("host.name".into(), "h1".into())
        ]
    );
    assert_eq!(text(&b.scopes.name, sc), "io.sluice.test");
    assert_eq!(text(&b.scopes.version, sc), "1.2.3");
    assert_eq!(text(&b.scopes.schema_url, sc), "scope-schema");
    assert_eq!(
        attrs(&b.scopes.attributes, sc),
        [("scope.attr".into(), "7".into())]
    );
}

#[test]
fn timestamp_falls_back_to_observed_and_absent_ids_are_zero() {
    let rec = LogRecord {
        observed_time_unix_nano: 99,
        ..Default::default()
    };
    let b = decode(
        &request(vec![resource_logs(
            vec![],
            vec![scope_logs("s", vec![rec])],
        )]),
        raw(),
    )
    .unwrap();
    assert_eq!(b.logs.timestamp[0], 99);
    assert_eq!(b.logs.trace_id[0], [0; 16]);
    assert_eq!(b.logs.span_id[0], [0; 8]);
    assert_eq!(text(&b.logs.body, 0), "", "absent body is an empty string");
    assert_eq!(text(&b.resources.service_name, 0), "");
}

#[test]
fn resources_and_scopes_are_stored_once_and_shared() {
    let recs = |n| {
        (0..n)
            .map(|i| LogRecord {
                time_unix_nano: i,
                ..Default::default()
            })
            .collect()
    };
    let bytes = request(vec![
        resource_logs(
            vec![kv("service.name", s("a"))],
            vec![scope_logs("s1", recs(3)), scope_logs("s2", recs(2))],
        ),
        resource_logs(
            vec![kv("service.name", Value::IntValue(5))],
            vec![scope_logs("s3", recs(1))],
        ),
    ]);
    let b = decode(&bytes, raw()).unwrap();
    assert_eq!(b.logs.len(), 6);
    assert_eq!(b.resources.service_name.len(), 2);
    assert_eq!(b.scopes.name.len(), 3);
    assert_eq!(b.logs.resource, [0, 0, 0, 0, 0, 1]);
    assert_eq!(b.logs.scope, [0, 0, 0, 1, 1, 2]);
    assert_eq!(
        text(&b.resources.service_name, 1),
        "",
        "a non-string service.name is not used"
    );
}

#[test]
fn fields_in_any_order_resource_after_its_scopes() {
    // ResourceLogs with scope_logs (field 2) first and resource (field 1) last.
    let rl = resource_logs(
        vec![kv("service.name", s("late"))],
        vec![scope_logs("s", vec![full_record()])],
    );
    let mut body = Vec::new();
    for sl in &rl.scope_logs {
        prost::encoding::message::encode(2, sl, &mut body);
    }
    prost::encoding::message::encode(1, rl.resource.as_ref().unwrap(), &mut body);
    let mut req = Vec::new();
    prost::encoding::bytes::encode(1, &body, &mut req);
    let b = decode(&req, raw()).unwrap();
    assert_eq!(text(&b.resources.service_name, b.logs.resource[0]), "late");
    assert_eq!(text(&b.logs.body, 0), "disk full");
}

#[test]
fn unknown_fields_are_skipped_and_the_last_singular_field_wins() {
    let mut rec = full_record().encode_to_vec();
    // Unknown field 99 (varint) and a second severity_text (field 3).
    rec.extend_from_slice(&[0x98, 0x06, 0x01]);
    prost::encoding::string::encode(3, &"WARN".to_string(), &mut rec);
    let mut sl = Vec::new();
    prost::encoding::bytes::encode(2, &rec, &mut sl);
    let mut rl = Vec::new();
    prost::encoding::bytes::encode(2, &sl, &mut rl);
    let mut req = Vec::new();
    prost::encoding::bytes::encode(1, &rl, &mut req);
    let b = decode(&req, raw()).unwrap();
    assert_eq!(text(&b.logs.severity_text, 0), "WARN");
    // prost agrees.
    let reference = ExportLogsServiceRequest::decode(&req[..]).unwrap();
    assert_eq!(
        reference.resource_logs[0].scope_logs[0].log_records[0].severity_text,
        "WARN"
    );
}

#[test]
fn bad_input_is_refused_with_a_typed_error_and_leaves_the_batch_unchanged() {
    let good = request(vec![resource_logs(
        vec![],
        vec![scope_logs("s", vec![full_record()])],
    )]);
    let mut batch = LogsBatch::default();
    decode_logs(&good, &mut batch, &LogsOptions::default()).unwrap();
    let before = (batch.logs.len(), batch.byte_len());

    let truncated = &good[..good.len() - 3];
    let mut bad_varint = good.clone();
    bad_varint.splice(1..1, [0xff; 10]);
    let wrong_type = {
        // resource_logs (field 1) as a varint.
        vec![0x08, 0x01]
    };
    let bad_utf8 = {
        let mut rec = Vec::new();
        prost::encoding::bytes::encode(3, &vec![0xc3, 0x28], &mut rec);
        let mut sl = Vec::new();
        prost::encoding::bytes::encode(2, &rec, &mut sl);
        let mut rl = Vec::new();
        prost::encoding::bytes::encode(2, &sl, &mut rl);
        let mut req = Vec::new();
        prost::encoding::bytes::encode(1, &rl, &mut req);
        req
    };
    let short_trace_id = request(vec![resource_logs(
        vec![],
        vec![scope_logs(
            "s",
            vec![LogRecord {
                trace_id: vec![1; 15],
                ..Default::default()
            }],
        )],
    )]);
    type Case<'a> = (&'a str, &'a [u8], fn(ErrorKind) -> bool);
    let cases: [Case<'_>; 5] = [
        ("truncated", truncated, |k| k == ErrorKind::Truncated),
        ("bad varint", &bad_varint, |k| {
            k == ErrorKind::VarintOverflow
        }),
        ("wrong wire type", &wrong_type, |k| {
            matches!(k, ErrorKind::WrongWireType { field: 1, .. })
        }),
        ("invalid utf-8", &bad_utf8, |k| {
            k == ErrorKind::InvalidUtf8 { field: 3 }
        }),
        ("short trace id", &short_trace_id, |k| {
            k == ErrorKind::BadLength { field: 9, len: 15 }
        }),
    ];
    for (name, bytes, want) in cases {
        let err = decode_logs(bytes, &mut batch, &LogsOptions::default()).unwrap_err();
        assert!(want(err.kind), "{name}: {err:?}");
        assert_eq!(
            (batch.logs.len(), batch.byte_len()),
            before,
            "{name}: batch changed"
        );
    }
    // The batch still takes good requests after the bad ones.
    decode_logs(&good, &mut batch, &LogsOptions::default()).unwrap();
    assert_eq!(batch.logs.len(), 2);
}

#[test]
fn session_replay_records_go_to_hyperdx_sessions_untouched() {
    let replay = LogRecord {
        body: Some(AnyValue {
            value: Some(s(r#"{"type":3,"level":"error"}"#)),
        }),
        attributes: vec![
            kv("rr-web.event", s("full-snapshot")),
            kv("level", s("DEBUG")),
        ],
        ..Default::default()
    };
    let plain = LogRecord {
        body: Some(AnyValue {
            value: Some(s("hello")),
        }),
        ..Default::default()
    };
    let bytes = request(vec![resource_logs(
        vec![],
        vec![scope_logs("s", vec![replay, plain])],
    )]);
    let b = decode(&bytes, LogsOptions::default()).unwrap();
    assert_eq!((b.logs.len(), b.sessions.len()), (1, 1));
    assert_eq!(text(&b.sessions.body, 0), r#"{"type":3,"level":"error"}"#);
    assert_eq!(
        attrs(&b.sessions.attributes, 0),
        [
            ("rr-web.event".into(), "full-snapshot".into()),
            ("level".into(), "DEBUG".into())
        ],
        "no JSON merge"
    );
    assert_eq!(
        (
            text(&b.sessions.severity_text, 0),
            b.sessions.severity_number[0]
        ),
        ("", 0),
        "no severity"
    );
    assert_eq!(text(&b.logs.body, 0), "hello");
    assert_eq!(
        (text(&b.logs.severity_text, 0), b.logs.severity_number[0]),
        ("info", 9)
    );
}

#[test]
fn clickstack_processing_of_otel_logs_records() {
    struct Case {
        name: &'static str,
        record: LogRecord,
        text: &'static str,
        number: u8,
        attrs: &'static [(&'static str, &'static str)],
    }
    let body = |v: Value| Some(AnyValue { value: Some(v) });
    let cases = [
        Case {
            name: "JSON in a string body is merged and everything flattened; the body wins",
            record: LogRecord {
                body: body(s(
                    r#"request done {"status":200,"http":{"method":"GET"},"k":"from body"}"#,
                )),
                attributes: vec![
                    kv("k", s("from attrs")),
                    kv(
                        "nested",
                        Value::KvlistValue(opentelemetry_proto::tonic::common::v1::KeyValueList {
                            values: vec![kv("a", Value::IntValue(1))],
                        }),
                    ),
                ],
                ..Default::default()
            },
            text: "info",
            number: 9,
            attrs: &[
                ("nested.a", "1"),
                ("status", "200"),
                ("http.method", "GET"),
                ("k", "from body"),
            ],
        },
        Case {
            name: "producer severity is kept, only lower-cased",
            record: LogRecord {
                severity_number: 13,
                severity_text: "WARN".into(),
                body: body(s("error in the body does not matter")),
                attributes: vec![kv("level", s("debug"))],
                ..Default::default()
            },
            text: "warn",
            number: 13,
            attrs: &[("level", "debug")],
        },
        Case {
            name: "severity promoted from a level attribute",
            record: LogRecord {
                body: body(s("plain text")),
                attributes: vec![kv("Level", s("Warning"))],
                ..Default::default()
            },
            text: "warning",
            number: 13,
            attrs: &[("Level", "Warning")],
        },
        Case {
            name: "severity inferred from a keyword in the body",
            record: LogRecord {
                body: body(s("[ERROR] connection refused")),
                ..Default::default()
            },
            text: "error",
            number: 17,
            attrs: &[],
        },
        Case {
            name: "a map body is merged without flattening",
            record: LogRecord {
                body: body(Value::KvlistValue(
                    opentelemetry_proto::tonic::common::v1::KeyValueList {
                        values: vec![kv(
                            "m",
                            Value::KvlistValue(
                                opentelemetry_proto::tonic::common::v1::KeyValueList {
                                    values: vec![kv("x", s("y"))],
                                },
                            ),
                        )],
                    },
                )),
                ..Default::default()
            },
            text: "info",
            number: 9,
            attrs: &[("m", r#"{"x":"y"}"#)],
        },
    ];
    for case in cases {
        let bytes = request(vec![resource_logs(
            vec![],
            vec![scope_logs("s", vec![case.record])],
        )]);
        let b = decode(&bytes, LogsOptions::default()).unwrap();
        assert_eq!(text(&b.logs.severity_text, 0), case.text, "{}", case.name);
        assert_eq!(b.logs.severity_number[0], case.number, "{}", case.name);
        let mut got = attrs(&b.logs.attributes, 0);
        let mut want: Vec<(String, String)> = case
            .attrs
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect();
        got.sort();
        want.sort();
        assert_eq!(got, want, "{}", case.name);
    }
}

mod proptests;

#[test]
fn session_rows_keep_their_severity_text_as_sent() {
    // Regression: the interop suite found session rows lower-cased ("Info" → "info").
    let replay = LogRecord {
        severity_text: "Info".into(),
        severity_number: 9,
        attributes: vec![kv("rr-web.event", s("x"))],
        ..Default::default()
    };
    let bytes = request(vec![resource_logs(
        vec![],
        vec![scope_logs("s", vec![replay])],
    )]);
    let b = decode(&bytes, LogsOptions::default()).unwrap();
    assert_eq!(text(&b.sessions.severity_text, 0), "Info");
}

#[test]
fn a_body_that_occurs_twice_is_merged_like_protobuf_does() {
    // Regression (found reading the code against prost): one record with
    // body { string_value: "x" } followed by an empty body {}; prost keeps "x".
    let bytes = [
        0x0a, 0x0b, 0x12, 0x09, 0x12, 0x07, 0x2a, 0x03, 0x0a, 0x01, 0x78, 0x2a, 0x00,
    ];
    let b = decode(&bytes, raw()).unwrap();
    assert_eq!(text(&b.logs.body, 0), "x");
    let reference = ExportLogsServiceRequest::decode(&bytes[..]).unwrap();
    let body = reference.resource_logs[0].scope_logs[0].log_records[0]
        .body
        .clone();
    assert_eq!(body.unwrap().value, Some(Value::StringValue("x".into())));
}

#[test]
fn severity_is_promoted_from_each_level_attribute_name_in_priority_order() {
    let with = |attrs: Vec<KeyValue>| {
        let rec = LogRecord {
            body: Some(AnyValue {
                value: Some(s("no keyword here")),
            }),
            attributes: attrs,
            ..Default::default()
        };
        let b = decode(
            &request(vec![resource_logs(
                vec![],
                vec![scope_logs("s", vec![rec])],
            )]),
            LogsOptions::default(),
        )
        .unwrap();
        (
            text(&b.logs.severity_text, 0).to_owned(),
            b.logs.severity_number[0],
        )
    };
    for key in crate::otlp::clickstack::LEVEL_KEYS {
        assert_eq!(
            with(vec![kv(key, s("ERROR"))]),
            ("error".to_owned(), 17),
            "{key}"
        );
    }
    // The first name in the list wins, whatever the attribute order.
    assert_eq!(
        with(vec![kv("log.level", s("debug")), kv("level", s("WARN"))]),
        ("warn".to_owned(), 13)
    );
    // An empty value is passed over for the next name.
    assert_eq!(
        with(vec![kv("level", s("")), kv("severity", s("fatal"))]),
        ("fatal".to_owned(), 21)
    );
    // A name not in the list is not looked at: the body decides (no keyword: info).
    assert_eq!(with(vec![kv("lvl", s("error"))]), ("info".to_owned(), 9));
}

#[test]
fn an_unknown_group_field_is_skipped_like_prost_does() {
    // Regression (fuzz, logs_protobuf): a LogRecord holding an unknown field 14
    // encoded as a group; prost skips it, sluice refused the request.
    let mut rec = full_record().encode_to_vec();
    rec.extend_from_slice(&[0x73, 0x08, 0x01, 0x74]);
    let mut sl = Vec::new();
    prost::encoding::bytes::encode(2, &rec, &mut sl);
    let mut rl = Vec::new();
    prost::encoding::bytes::encode(2, &sl, &mut rl);
    let mut req = Vec::new();
    prost::encoding::bytes::encode(1, &rl, &mut req);
    assert!(
        ExportLogsServiceRequest::decode(&req[..]).is_ok(),
        "prost accepts it"
    );
    let b = decode(&req, raw()).unwrap();
    assert_eq!(text(&b.logs.body, 0), "disk full");
}
