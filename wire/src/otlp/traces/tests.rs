//! Decoder tests: requests spelled out byte by byte (so each test shows the wire
//! format it pins), checked column by column; errors and their rollback. The
//! property test against prost is in `tests/proptests.rs`.

use super::*;
use crate::columns::{Maps, Strings};
use crate::proto::{ErrorKind, WireType};
use crate::rowbinary::write_leb128;

// ---- spelling protobuf out ----

/// A tag: `field << 3 | wire type`, as a varint.
fn tag(field: u32, wire: u32) -> Vec<u8> {
    let mut out = Vec::new();
    write_leb128(u64::from(field << 3 | wire), &mut out);
    out
}

/// A length-delimited field.
fn ld(field: u32, body: &[u8]) -> Vec<u8> {
    let mut out = tag(field, 2);
    write_leb128(body.len() as u64, &mut out);
    out.extend_from_slice(body);
    out
}

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// The body of `KeyValue { key, value: AnyValue { string_value } }`.
fn kv_str(key: &str, value: &str) -> Vec<u8> {
    cat(&[&ld(1, key.as_bytes()), &ld(2, &ld(1, value.as_bytes()))])
}

/// The body of `KeyValue { key, value: AnyValue { int_value } }` (a small
/// non-negative int: a one-byte varint).
fn kv_int(key: &str, value: u8) -> Vec<u8> {
    assert!(value < 128);
    cat(&[&ld(1, key.as_bytes()), &ld(2, &[0x18, value])])
}

/// A `ResourceSpans` with `service.name = svc`, one scope `lib` / `1.0`, and `spans`.
fn request(spans: &[Vec<u8>]) -> Vec<u8> {
    let resource = ld(1, &ld(1, &kv_str("service.name", "svc")));
    let scope = ld(1, &cat(&[&ld(1, b"lib"), &ld(2, b"1.0")]));
    let spans: Vec<u8> = spans.iter().flat_map(|s| ld(2, s)).collect();
    let scope_spans = ld(2, &cat(&[&scope, &spans]));
    ld(1, &cat(&[&resource, &scope_spans]))
}

fn fixed64(field: u32, v: u64) -> Vec<u8> {
    let mut out = tag(field, 1);
    out.extend_from_slice(&v.to_le_bytes());
    out
}

fn fixed32(field: u32, v: u32) -> Vec<u8> {
    let mut out = tag(field, 5);
    out.extend_from_slice(&v.to_le_bytes());
    out
}

const TRACE: [u8; 16] = [
    0x5b, 0x8e, 0xff, 0xf7, 0x98, 0x03, 0x81, 0x03, 0xd2, 0x69, 0xb6, 0x33, 0x81, 0x3f, 0xc6, 0x0c,
];
const SPAN: [u8; 8] = [0xee, 0xe1, 0x9b, 0x7e, 0xc3, 0xc1, 0xb1, 0x74];
const PARENT: [u8; 8] = [0xee, 0xe1, 0x9b, 0x7e, 0xc3, 0xc1, 0xb1, 0x73];

/// A span with every field set, in field order.
fn full_span() -> Vec<u8> {
    let event = cat(&[
        &fixed64(1, 1_500),
        &ld(2, b"retry"),
        &ld(3, &kv_int("n", 2)),
        &[0x20, 0x01],
    ]);
    let link = cat(&[
        &ld(1, &[0x11; 16]),
        &ld(2, &[0x22; 8]),
        &ld(3, b"k=v"),
        &ld(4, &kv_str("l", "x")),
        &[0x28, 0x00],
        &fixed32(6, 0x100),
    ]);
    let status = cat(&[&ld(2, b"boom"), &[0x18, 0x02]]);
    cat(&[
        &ld(1, &TRACE),
        &ld(2, &SPAN),
        &ld(3, b"congo=t61"),
        &ld(4, &PARENT),
        &ld(5, b"GET /"),
        &[0x30, 0x02], // kind = SERVER
        &fixed64(7, 1_000),
        &fixed64(8, 3_500),
        &ld(9, &kv_str("http.method", "GET")),
        &ld(9, &kv_int("http.status_code", 100)),
        &[0x50, 0x01], // dropped_attributes_count
        &ld(11, &event),
        &[0x60, 0x00], // dropped_events_count
        &ld(13, &link),
        &[0x70, 0x00], // dropped_links_count
        &ld(15, &status),
        &fixed32(16, 0x301),
    ])
}

fn decode(bytes: &[u8]) -> Result<TracesBatch, DecodeError> {
    let mut batch = TracesBatch::default();
    decode_traces(bytes, &mut batch).map(|_| batch)
}

fn text(col: &Strings, row: usize) -> &str {
    core::str::from_utf8(col.get(row)).unwrap()
}

fn attrs(m: &Maps, row: usize) -> Vec<(&str, &str)> {
    m.row(row)
        .map(|(k, v)| {
            (
                core::str::from_utf8(k).unwrap(),
                core::str::from_utf8(v).unwrap(),
            )
        })
        .collect()
}

#[test]
fn every_span_field_reaches_its_column() {
    let b = decode(&request(&[full_span()])).unwrap();
    assert_eq!(b.rows(), 1);
    let s = &b.spans;
    assert_eq!(s.timestamp, [1_000]);
    assert_eq!(s.duration, [2_500]);
    assert_eq!(s.trace_id, [TRACE]);
    assert_eq!(s.span_id, [SPAN]);
    assert_eq!(s.parent_span_id, [PARENT]);
    assert_eq!(text(&s.trace_state, 0), "congo=t61");
    assert_eq!(text(&s.name, 0), "GET /");
    assert_eq!(s.kind, [2]);
    assert_eq!(s.status_code, [2]);
    assert_eq!(text(&s.status_message, 0), "boom");
    assert_eq!(
        attrs(&s.attributes, 0),
        [("http.method", "GET"), ("http.status_code", "100")]
    );
    assert_eq!(s.events.of(0), 0..1);
    assert_eq!(s.events.timestamp, [1_500]);
    assert_eq!(text(&s.events.name, 0), "retry");
    assert_eq!(attrs(&s.events.attributes, 0), [("n", "2")]);
    assert_eq!(s.links.of(0), 0..1);
    assert_eq!(s.links.trace_id, [[0x11; 16]]);
    assert_eq!(s.links.span_id, [[0x22; 8]]);
    assert_eq!(text(&s.links.trace_state, 0), "k=v");
    assert_eq!(attrs(&s.links.attributes, 0), [("l", "x")]);
    assert_eq!((s.resource[0], s.scope[0]), (0, 0));
    assert_eq!(text(&b.resources.service_name, 0), "svc");
    assert_eq!(text(&b.scopes.name, 0), "lib");
    assert_eq!(text(&b.scopes.version, 0), "1.0");
}

#[test]
fn an_empty_span_is_a_root_span_with_defaults() {
    let b = decode(&request(&[vec![], vec![]])).unwrap();
    let s = &b.spans;
    assert_eq!(b.rows(), 2);
    assert_eq!(s.trace_id, [[0; 16]; 2]);
    assert_eq!(s.parent_span_id, [[0; 8]; 2]);
    assert_eq!((s.kind[0], s.status_code[0], s.duration[0]), (0, 0, 0));
    assert_eq!((s.events.of(1), s.links.of(1)), (0..0, 0..0));
    assert!(s.attributes.row(1).next().is_none());
}

#[test]
fn fields_come_in_any_order_and_the_last_scalar_wins() {
    // Status after events, twice (merged); the end before the start (wraps, as the
    // exporter's `uint64` subtraction does); name twice.
    let span = cat(&[
        &ld(15, &[0x18, 0x01]),
        &fixed64(8, 5),
        &ld(5, b"first"),
        &ld(11, &ld(2, b"e1")),
        &ld(9, &kv_str("k", "1")),
        &ld(11, &ld(2, b"e2")),
        &ld(9, &kv_str("k", "2")),
        &ld(5, b"second"),
        &fixed64(7, 10),
        &ld(15, &ld(2, b"msg")),
        &[0x30, 0x07],       // an unknown kind is kept as its number
        &[0xa8, 0x06, 0x01], // field 101, varint: unknown, skipped
    ]);
    let b = decode(&request(&[span, vec![]])).unwrap();
    let s = &b.spans;
    assert_eq!(text(&s.name, 0), "second");
    assert_eq!(s.duration[0], 5u64.wrapping_sub(10));
    assert_eq!((s.status_code[0], text(&s.status_message, 0)), (1, "msg"));
    assert_eq!(s.kind[0], 7);
    assert_eq!(
        attrs(&s.attributes, 0),
        [("k", "2")],
        "the last repeated key wins"
    );
    assert_eq!((s.events.of(0), s.events.of(1)), (0..2, 2..2));
    assert_eq!(text(&s.events.name, 1), "e2");
}

#[test]
fn a_resource_after_its_scopes_still_names_them() {
    let scope_spans = ld(2, &ld(2, &[]));
    let resource = ld(1, &ld(1, &kv_str("service.name", "late")));
    let b = decode(&ld(1, &cat(&[&scope_spans, &resource]))).unwrap();
    assert_eq!(text(&b.resources.service_name, b.spans.resource[0]), "late");
}

#[test]
fn bad_requests_are_typed_errors_and_leave_the_batch_as_it_was() {
    let mut batch = TracesBatch::default();
    decode_traces(&request(&[full_span()]), &mut batch).unwrap();
    let before = format!("{batch:?}");
    let mark = batch.mark();
    let with = |extra: &[u8]| request(&[full_span(), cat(&[&ld(5, b"x"), extra])]);
    let cases: Vec<(Vec<u8>, ErrorKind)> = vec![
        (
            with(&ld(1, &[1; 15])),
            ErrorKind::BadLength { field: 1, len: 15 },
        ),
        (
            with(&ld(4, &[1; 16])),
            ErrorKind::BadLength { field: 4, len: 16 },
        ),
        (
            with(&ld(13, &ld(2, &[1; 4]))),
            ErrorKind::BadLength { field: 2, len: 4 },
        ),
        (
            with(&[0x31, 0, 0, 0, 0, 0, 0, 0, 0]),
            ErrorKind::WrongWireType {
                field: 6,
                got: WireType::Fixed64,
            },
        ),
        (
            with(&[0x38, 0x01]),
            ErrorKind::WrongWireType {
                field: 7,
                got: WireType::Varint,
            },
        ),
        (
            with(&ld(16, b"")),
            ErrorKind::WrongWireType {
                field: 16,
                got: WireType::Len,
            },
        ),
        (
            with(&ld(15, &[0x12, 0x01, 0xff])),
            ErrorKind::InvalidUtf8 { field: 2 },
        ),
        (
            with(&ld(11, &ld(2, &[0xc0]))),
            ErrorKind::InvalidUtf8 { field: 2 },
        ),
        (
            with(&ld(11, &[0x08, 0x01])),
            ErrorKind::WrongWireType {
                field: 1,
                got: WireType::Varint,
            },
        ),
        (with(&ld(9, &[0x0a, 0x05, b'k'])), ErrorKind::Truncated),
    ];
    for (bytes, kind) in cases {
        let err = decode_traces(&bytes, &mut batch).unwrap_err();
        assert_eq!(err.kind, kind, "{bytes:02x?}");
        assert_eq!(batch.mark(), mark);
        assert_eq!(format!("{batch:?}"), before, "{kind:?} left a trace");
    }
    // The batch takes the next request as if nothing had happened.
    assert_eq!(
        decode_traces(&request(&[vec![]]), &mut batch)
            .unwrap()
            .spans,
        1
    );
    assert_eq!(batch.rows(), 2);
    assert_eq!(batch.spans.events.of(1), 1..1);
}

#[test]
fn clear_keeps_nothing_and_rows_count_spans() {
    let mut batch = TracesBatch::default();
    let got = decode_traces(&request(&[full_span(), full_span()]), &mut batch).unwrap();
    assert_eq!(got, TracesDecoded { spans: 2 });
    assert!(batch.byte_len() > 0);
    batch.clear();
    assert_eq!((batch.rows(), batch.byte_len()), (0, 0));
    assert_eq!(
        format!("{batch:?}"),
        format!("{:?}", TracesBatch::default())
    );
}

mod proptests;
