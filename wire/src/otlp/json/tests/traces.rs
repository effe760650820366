//! OTLP/JSON traces: differential against the protobuf decoder on the same messages
//! (prost for protobuf, `opentelemetry-proto`'s `with-serde` for JSON), compared
//! through every stored column's RowBinary plus the columns RowBinary does not carry;
//! then the JSON spellings prost's serde does not produce, and errors.

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;

use super::*;
use crate::columns::traces::TracesBatch;
use crate::otlp::testgen::trace_request;
use crate::otlp::traces::decode_traces;
use crate::rowbinary::traces::{TraceColumn, encode_traces};

/// Every stored column of every span, as RowBinary, and the resource and scope
/// columns `otel_traces` does not store.
fn columns(b: &TracesBatch) -> (Vec<u8>, Vec<Vec<u8>>) {
    let mut rb = Vec::new();
    encode_traces(b, &TraceColumn::ALL, 0..b.rows(), &mut rb);
    let mut rest: Vec<Vec<u8>> = b.resources.schema_url.iter().map(<[u8]>::to_vec).collect();
    rest.extend(b.scopes.schema_url.iter().map(<[u8]>::to_vec));
    for i in 0..b.scopes.len() {
        let mut m = Vec::new();
        crate::rowbinary::write_map(&b.scopes.attributes, i, &mut m);
        rest.push(m);
    }
    (rb, rest)
}

fn traces_json(text: &[u8]) -> Result<TracesBatch, JsonError> {
    let mut b = TracesBatch::default();
    decode_traces_json(text, &mut b).map(|_| b)
}

fn assert_traces_differential(msg: &ExportTraceServiceRequest) {
    let mut from_pb = TracesBatch::default();
    decode_traces(&msg.encode_to_vec(), &mut from_pb).expect("protobuf decodes");
    let text = serde_json::to_vec(msg).expect("serde serializes");
    let from_json =
        traces_json(&text).unwrap_or_else(|e| panic!("{e}\n{}", String::from_utf8_lossy(&text)));
    assert_eq!(from_pb.rows(), from_json.rows());
    assert_eq!(
        columns(&from_pb),
        columns(&from_json),
        "{}",
        String::from_utf8_lossy(&text)
    );
}

/// serde writes a non-finite double as `null` (an empty value in JSON); those are
/// tested by hand (`otlp::json::tests`). Here they become finite.
pub(super) fn finite(kvs: &mut [KeyValue]) {
    fn value(v: &mut AnyValue) {
        match &mut v.value {
            Some(Value::DoubleValue(d)) if !d.is_finite() => *d = 0.5,
            Some(Value::ArrayValue(a)) => a.values.iter_mut().for_each(value),
            Some(Value::KvlistValue(l)) => finite(&mut l.values),
            _ => {}
        }
    }
    kvs.iter_mut()
        .filter_map(|kv| kv.value.as_mut())
        .for_each(value);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn traces_json_and_protobuf_give_the_same_columns(mut msg in trace_request()) {
        for rs in &mut msg.resource_spans {
            rs.resource.iter_mut().for_each(|r| finite(&mut r.attributes));
            for ss in &mut rs.scope_spans {
                ss.scope.iter_mut().for_each(|s| finite(&mut s.attributes));
                for span in &mut ss.spans {
                    finite(&mut span.attributes);
                    span.events.iter_mut().for_each(|e| finite(&mut e.attributes));
                    span.links.iter_mut().for_each(|l| finite(&mut l.attributes));
                }
            }
        }
        assert_traces_differential(&msg);
    }
}

/// The same span in protobuf and in hand-written JSON with the spellings pdata
/// accepts and prost's serde does not write: enum names, snake_case, integers as
/// strings, unknown keys, `null`s.
#[test]
fn spellings_prost_does_not_write() {
    use opentelemetry_proto::tonic::common::v1::InstrumentationScope;
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status, span};
    let msg = ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![kv("service.name", s("api"))],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                scope: Some(InstrumentationScope {
                    name: "lib".into(),
                    ..Default::default()
                }),
                spans: vec![Span {
                    trace_id: vec![0xab; 16],
                    span_id: vec![0xcd; 8],
                    parent_span_id: vec![0xef; 8],
                    name: "GET".into(),
                    kind: 3,
                    start_time_unix_nano: 10,
                    end_time_unix_nano: 25,
                    attributes: vec![kv("n", Value::IntValue(-3))],
                    events: vec![span::Event {
                        time_unix_nano: 12,
                        name: "ev".into(),
                        ..Default::default()
                    }],
                    links: vec![span::Link {
                        span_id: vec![0x01; 8],
                        trace_state: "a=b".into(),
                        ..Default::default()
                    }],
                    status: Some(Status {
                        message: "bad".into(),
                        code: 2,
                    }),
                    ..Default::default()
                }],
                schema_url: String::new(),
            }],
            schema_url: String::new(),
        }],
    };
    let text = r#"{"resource_spans":[{"scope_spans":[{"scope":{"name":"lib"},"spans":[{
        "trace_id":"ABABABABABABABABABABABABABABABAB","spanId":"cdcdcdcdcdcdcdcd",
        "parentSpanId":"efefefefefefefef","name":"GET","kind":"SPAN_KIND_CLIENT",
        "start_time_unix_nano":"10","endTimeUnixNano":25,"flags":null,"unknown":{"x":[1]},
        "attributes":[{"key":"n","value":{"intValue":"-3"}}],
        "events":[{"timeUnixNano":"12","name":"ev","attributes":null}],
        "links":[{"spanId":"0101010101010101","traceState":"a=b","traceId":""}],
        "status":{"code":"STATUS_CODE_ERROR"},"droppedLinksCount":"0",
        "status":{"message":"bad"}}]}],
        "resource":{"attributes":[{"key":"service.name","value":{"stringValue":"api"}}]}}]}"#;
    let mut from_pb = TracesBatch::default();
    decode_traces(&msg.encode_to_vec(), &mut from_pb).unwrap();
    let from_json = traces_json(text.as_bytes()).unwrap();
    assert_eq!(columns(&from_pb), columns(&from_json));
    assert_eq!(from_json.spans.kind, [3]);
    assert_eq!(from_json.spans.status_code, [2], "two statuses merge");
}

#[test]
fn bad_traces_json_is_refused_with_its_path_and_leaves_no_trace() {
    let mut b = TracesBatch::default();
    let good =
        r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"name":"a","events":[{"name":"e"}]}]}]}]}"#;
    decode_traces_json(good.as_bytes(), &mut b).unwrap();
    let before = format!("{b:?}");
    let cases = [
        (
            r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"name":"b","events":[{"name":"e"}],"kind":"SERVER"}]}]}]}"#,
            JsonErrorKind::UnknownEnum {
                type_name: "SpanKind",
            },
            "resourceSpans[0].scopeSpans[0].spans[0].kind",
        ),
        (
            r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"status":{"code":"ERROR"}}]}]}]}"#,
            JsonErrorKind::UnknownEnum {
                type_name: "StatusCode",
            },
            "resourceSpans[0].scopeSpans[0].spans[0].status.code",
        ),
        (
            r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"links":[{"attributes":[{"key":"k"}],"spanId":"01"}]}]}]}]}"#,
            JsonErrorKind::BadId { digits: 16 },
            "resourceSpans[0].scopeSpans[0].spans[0].links[0].spanId",
        ),
        (
            r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"events":[{"name":"x","timeUnixNano":-1}]}]}]}]}"#,
            JsonErrorKind::BadInteger {
                type_name: "uint64",
            },
            "resourceSpans[0].scopeSpans[0].spans[0].events[0].timeUnixNano",
        ),
        (
            r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"name":"c"},{"name":"d","attributes":{}}]}]}]}"#,
            JsonErrorKind::WrongType,
            "resourceSpans[0].scopeSpans[0].spans[1].attributes",
        ),
    ];
    for (text, kind, path) in cases {
        let e = decode_traces_json(text.as_bytes(), &mut b).unwrap_err();
        assert_eq!(e.kind(), kind, "{e}");
        assert_eq!(e.path(), path, "{e}");
        assert_eq!(format!("{b:?}"), before, "{e} left a trace");
    }
}
