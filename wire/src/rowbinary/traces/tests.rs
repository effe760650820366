//! `otel_traces` RowBinary: one small span spelled out byte by byte, and a read-back
//! of many spans that checks every array and map count and that rows end where the
//! next begins.

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{
    AnyValue, InstrumentationScope, KeyValue, any_value::Value,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status, span};
use prost::Message;

use super::*;
use crate::otlp::traces::decode_traces;

fn kv(key: &str, value: Value) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue { value: Some(value) }),
        ..Default::default()
    }
}

fn batch(spans: Vec<Span>) -> TracesBatch {
    let req = ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![kv("service.name", Value::StringValue("s".into()))],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                scope: Some(InstrumentationScope {
                    name: "n".into(),
                    version: "v".into(),
                    ..Default::default()
                }),
                spans,
                schema_url: String::new(),
            }],
            schema_url: String::new(),
        }],
    };
    let mut b = TracesBatch::default();
    decode_traces(&req.encode_to_vec(), &mut b).unwrap();
    b
}

fn small_span() -> Span {
    Span {
        trace_id: (1..=16).collect(),
        span_id: vec![0xaa; 8],
        name: "op".into(),
        kind: 2,
        start_time_unix_nano: 1,
        end_time_unix_nano: 3,
        attributes: vec![kv("k", Value::StringValue("v".into()))],
        events: vec![span::Event {
            time_unix_nano: 5,
            name: "e".into(),
            attributes: vec![kv("a", Value::IntValue(1))],
            dropped_attributes_count: 0,
        }],
        links: vec![span::Link {
            trace_id: vec![0x11; 16],
            trace_state: "t".into(),
            ..Default::default()
        }],
        status: Some(Status {
            message: "m".into(),
            code: 2,
        }),
        ..Default::default()
    }
}

#[test]
fn one_span_in_every_column_spelled_out() {
    let b = batch(vec![small_span()]);
    let mut out = Vec::new();
    encode_traces(&b, &TraceColumn::ALL, 0..1, &mut out);
    let mut want: Vec<u8> = Vec::new();
    let mut put = |bytes: &[u8]| want.extend_from_slice(bytes);
    put(&[1, 0, 0, 0, 0, 0, 0, 0]); // Timestamp: DateTime64(9), Int64 LE
    put(&[32]); // TraceId: 32 hex digits
    put(b"0102030405060708090a0b0c0d0e0f10");
    put(&[16]); // SpanId
    put(b"aaaaaaaaaaaaaaaa");
    put(&[0]); // ParentSpanId: empty for a root span
    put(&[0]); // TraceState
    put(&[2, b'o', b'p']); // SpanName
    put(&[6]); // SpanKind
    put(b"Server");
    put(&[1, b's']); // ServiceName
    put(&[1, 12]); // ResourceAttributes: 1 entry, key of 12 bytes
    put(b"service.name");
    put(&[1, b's']);
    put(&[1, b'n']); // ScopeName
    put(&[1, b'v']); // ScopeVersion
    put(&[1, 1, b'k', 1, b'v']); // SpanAttributes
    put(&[2, 0, 0, 0, 0, 0, 0, 0]); // Duration: UInt64 LE, 3 - 1
    put(&[5]); // StatusCode
    put(b"Error");
    put(&[1, b'm']); // StatusMessage
    put(&[1, 5, 0, 0, 0, 0, 0, 0, 0]); // Events.Timestamp: 1 item
    put(&[1, 1, b'e']); // Events.Name
    put(&[1, 1, 1, b'a', 1, b'1']); // Events.Attributes: 1 map of 1 entry
    put(&[1, 32]); // Links.TraceId: 1 item
    put(b"11111111111111111111111111111111");
    put(&[1, 0]); // Links.SpanId: 1 empty id
    put(&[1, 1, b't']); // Links.TraceState
    put(&[1, 0]); // Links.Attributes: 1 empty map
    assert_eq!(out, want);

    // Any subset, in the order given.
    out.clear();
    let cols = [
        TraceColumn::StatusCode,
        TraceColumn::LinksSpanId,
        TraceColumn::SpanName,
    ];
    encode_traces(&b, &cols, 0..1, &mut out);
    assert_eq!(out, b"\x05Error\x01\x00\x02op");
}

#[test]
fn names_round_trip_in_the_tsv_order() {
    let names: Vec<&str> = TraceColumn::ALL.iter().map(|c| c.name()).collect();
    assert_eq!(names[0], "Timestamp");
    assert_eq!(
        names[15..18],
        ["Events.Timestamp", "Events.Name", "Events.Attributes"]
    );
    for c in TraceColumn::ALL {
        assert_eq!(TraceColumn::from_name(c.name()), Some(c));
    }
    assert_eq!(
        TraceColumn::from_name("SampleRate"),
        None,
        "MATERIALIZED: not written"
    );
    assert_eq!(span_kind_name(6), "");
    assert_eq!(status_code_name(-1), "");
}

// ---- reading RowBinary back ----

struct Rd<'a>(&'a [u8]);

impl Rd<'_> {
    fn leb(&mut self) -> usize {
        let (mut v, mut shift) = (0usize, 0);
        loop {
            let b = self.0[0];
            self.0 = &self.0[1..];
            v |= usize::from(b & 0x7f) << shift;
            if b < 0x80 {
                return v;
            }
            shift += 7;
        }
    }

    fn fixed(&mut self) {
        self.0 = &self.0[8..];
    }

    fn str(&mut self) {
        let n = self.leb();
        self.0 = &self.0[n..];
    }

    /// A map: its entry count.
    fn map(&mut self) -> usize {
        let n = self.leb();
        for _ in 0..2 * n {
            self.str();
        }
        n
    }
}

#[test]
fn many_spans_read_back_with_their_counts() {
    let spans: Vec<Span> = (0..7usize)
        .map(|i| {
            let mut s = small_span();
            s.events = (0..i % 3)
                .map(|j| span::Event {
                    name: format!("e{j}"),
                    attributes: (0..j)
                        .map(|k| kv(&format!("k{k}"), Value::IntValue(1)))
                        .collect(),
                    ..Default::default()
                })
                .collect();
            s.links.truncate(i % 2);
            s.attributes.truncate(i % 2);
            s
        })
        .collect();
    let b = batch(spans);
    let mut out = Vec::new();
    encode_traces(&b, &TraceColumn::ALL, 2..b.rows(), &mut out);
    let mut rd = Rd(&out);
    for i in 2..b.rows() {
        let (events, links) = (b.spans.events.of(i), b.spans.links.of(i));
        for col in TraceColumn::ALL {
            use TraceColumn as C;
            match col {
                C::Timestamp | C::Duration => rd.fixed(),
                C::ResourceAttributes => assert_eq!(rd.map(), 1),
                C::SpanAttributes => assert_eq!(rd.map(), i % 2),
                C::EventsTimestamp => {
                    assert_eq!(rd.leb(), events.len());
                    events.clone().for_each(|_| rd.fixed());
                }
                C::EventsName => {
                    assert_eq!(rd.leb(), events.len());
                    events.clone().for_each(|_| rd.str());
                }
                C::EventsAttributes => {
                    assert_eq!(rd.leb(), events.len());
                    for (j, _) in events.clone().enumerate() {
                        assert_eq!(rd.map(), j, "span {i} event {j}");
                    }
                }
                C::LinksTraceId | C::LinksSpanId | C::LinksTraceState => {
                    assert_eq!(rd.leb(), links.len());
                    links.clone().for_each(|_| rd.str());
                }
                C::LinksAttributes => {
                    assert_eq!(rd.leb(), links.len());
                    links.clone().for_each(|_| assert_eq!(rd.map(), 0));
                }
                _ => rd.str(),
            }
        }
    }
    assert!(rd.0.is_empty(), "the rows end where the output ends");
}
