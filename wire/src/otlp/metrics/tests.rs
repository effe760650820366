//! Decoder tests: requests spelled out byte by byte (so each test shows the wire
//! format it pins), checked column by column. This file has the five data kinds and
//! exemplars; `tests/protobuf.rs` the protobuf semantics (field order, the data
//! `oneof`, skipped metrics, unknown fields) and the errors and their rollback;
//! `tests/proptests.rs` the property tests against prost, with their reference
//! mapping in `tests/reference.rs`; `tests/seeds.rs` the fuzz seeds.

use super::*;
use crate::columns::{Maps, Strings};
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

fn varint(field: u32, v: u64) -> Vec<u8> {
    let mut out = tag(field, 0);
    write_leb128(v, &mut out);
    out
}

fn fixed64(field: u32, v: u64) -> Vec<u8> {
    let mut out = tag(field, 1);
    out.extend_from_slice(&v.to_le_bytes());
    out
}

fn double(field: u32, v: f64) -> Vec<u8> {
    fixed64(field, v.to_bits())
}

/// An `sfixed64` (`as_int`).
fn sfixed64(field: u32, v: i64) -> Vec<u8> {
    fixed64(field, v as u64)
}

/// A `sint32` as its zigzag varint.
fn sint32(field: u32, v: i32) -> Vec<u8> {
    varint(field, u64::from(((v << 1) ^ (v >> 31)) as u32))
}

/// A packed run of `fixed64`s (`bucket_counts`) or doubles (as their bits).
fn packed_fixed64(field: u32, items: &[u64]) -> Vec<u8> {
    let body: Vec<u8> = items.iter().flat_map(|v| v.to_le_bytes()).collect();
    ld(field, &body)
}

fn packed_doubles(field: u32, items: &[f64]) -> Vec<u8> {
    let bits: Vec<u64> = items.iter().map(|d| d.to_bits()).collect();
    packed_fixed64(field, &bits)
}

/// A packed run of varints (exponential histogram `bucket_counts`).
fn packed_varints(field: u32, items: &[u64]) -> Vec<u8> {
    let mut body = Vec::new();
    for &v in items {
        write_leb128(v, &mut body);
    }
    ld(field, &body)
}

/// The body of `KeyValue { key, value: AnyValue { string_value } }`.
fn kv_str(key: &str, value: &str) -> Vec<u8> {
    cat(&[&ld(1, key.as_bytes()), &ld(2, &ld(1, value.as_bytes()))])
}

/// The body of `KeyValue { key, value: AnyValue { int_value } }`.
fn kv_int(key: &str, value: u64) -> Vec<u8> {
    cat(&[&ld(1, key.as_bytes()), &ld(2, &varint(3, value))])
}

/// `Metric` fields of the data kinds.
const GAUGE: u32 = 5;
const SUM: u32 = 7;
const HISTOGRAM: u32 = 9;
const EXP_HISTOGRAM: u32 = 10;
const SUMMARY: u32 = 11;

/// A `ResourceMetrics` with `service.name = svc`, one scope `lib` / `1.0`, and
/// `metrics` (`Metric` bodies).
fn request(metrics: &[Vec<u8>]) -> Vec<u8> {
    let resource = ld(1, &ld(1, &kv_str("service.name", "svc")));
    let scope = ld(1, &cat(&[&ld(1, b"lib"), &ld(2, b"1.0")]));
    let metrics: Vec<u8> = metrics.iter().flat_map(|m| ld(2, m)).collect();
    let scope_metrics = ld(2, &cat(&[&scope, &metrics]));
    ld(1, &cat(&[&resource, &scope_metrics]))
}

/// The body of a data message (`Gauge`, `Sum`, …): `points` as field 1, then `rest`.
fn data(points: &[Vec<u8>], rest: &[u8]) -> Vec<u8> {
    let mut out: Vec<u8> = points.iter().flat_map(|p| ld(1, p)).collect();
    out.extend_from_slice(rest);
    out
}

/// A `Metric` named `name` whose data field `kind` holds `points` and `rest`.
fn metric(name: &str, kind: u32, points: &[Vec<u8>], rest: &[u8]) -> Vec<u8> {
    cat(&[&ld(1, name.as_bytes()), &ld(kind, &data(points, rest))])
}

const TRACE: [u8; 16] = [
    0x5b, 0x8e, 0xff, 0xf7, 0x98, 0x03, 0x81, 0x03, 0xd2, 0x69, 0xb6, 0x33, 0x81, 0x3f, 0xc6, 0x0c,
];
const SPAN: [u8; 8] = [0xee, 0xe1, 0x9b, 0x7e, 0xc3, 0xc1, 0xb1, 0x74];

/// An `Exemplar` with every field: a double, both ids, one filtered attribute.
fn full_exemplar() -> Vec<u8> {
    cat(&[
        &ld(7, &kv_str("f", "x")),
        &fixed64(2, 1_999_999_999),
        &double(3, 0.5),
        &ld(4, &SPAN),
        &ld(5, &TRACE),
    ])
}

fn decode(bytes: &[u8]) -> Result<(MetricsBatch, MetricsDecoded), DecodeError> {
    let mut batch = MetricsBatch::default();
    decode_metrics(bytes, &mut batch).map(|n| (batch, n))
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

fn points(gauge: usize, sum: usize, hist: usize, exp: usize, summary: usize) -> MetricsDecoded {
    MetricsDecoded {
        points: [gauge, sum, hist, exp, summary],
        skipped: 0,
    }
}

// ---- the five kinds ----

#[test]
fn a_gauge_point_and_its_metric_reach_every_column() {
    let point = cat(&[
        &ld(7, &kv_str("host", "a")),
        &ld(7, &kv_int("core", 3)),
        &fixed64(2, 1_500_000_000),
        &fixed64(3, 2_000_000_001),
        &double(4, 0.25),
        &ld(5, &full_exemplar()),
        &varint(8, 1),
    ]);
    let m = cat(&[
        &ld(1, b"cpu"),
        &ld(2, b"CPU use"),
        &ld(3, b"1"),
        &ld(GAUGE, &data(&[point], &[])),
    ]);
    let (b, n) = decode(&request(&[m])).unwrap();
    assert_eq!(n, points(1, 0, 0, 0, 0));
    assert_eq!(n.total(), 1);
    assert_eq!(b.rows(), 1);
    let g = &b.gauge;
    assert_eq!(g.metric, [0]);
    assert_eq!(attrs(&g.attributes, 0), [("host", "a"), ("core", "3")]);
    assert_eq!(
        (g.start_time[0], g.time[0], g.flags[0]),
        (1_500_000_000, 2_000_000_001, 1)
    );
    assert_eq!(g.values.value, [0.25]);
    let ex = &g.exemplars;
    assert_eq!(ex.of(0), 0..1);
    assert_eq!(attrs(&ex.filtered_attributes, 0), [("f", "x")]);
    assert_eq!((ex.time[0], ex.value[0]), (1_999_999_999, 0.5));
    assert_eq!((ex.span_id[0], ex.trace_id[0]), (SPAN, TRACE));

    let mr = &b.metrics;
    assert_eq!(mr.len(), 1);
    assert_eq!(
        (
            text(&mr.name, 0),
            text(&mr.description, 0),
            text(&mr.unit, 0)
        ),
        ("cpu", "CPU use", "1")
    );
    assert_eq!((mr.temporality[0], mr.monotonic[0]), (0, false));
    assert_eq!((mr.resource[0], mr.scope[0]), (0, 0));
    assert_eq!(text(&b.resources.service_name, 0), "svc");
    assert_eq!(
        (text(&b.scopes.name, 0), text(&b.scopes.version, 0)),
        ("lib", "1.0")
    );
    assert_eq!(b.scopes.dropped_attributes, [0]);
    assert_eq!(b.points(), [1, 0, 0, 0, 0], "the other tables stay empty");
}

#[test]
fn a_number_is_a_double_or_an_int_as_a_double_or_zero_and_the_last_one_wins() {
    let pts = [
        sfixed64(6, -3),
        double(4, 2.5),
        vec![],
        cat(&[&sfixed64(6, 7), &double(4, 1.5)]),
        cat(&[&double(4, 1.5), &sfixed64(6, 7)]),
        sfixed64(6, i64::MAX),
        double(4, -0.0),
    ];
    let (b, n) = decode(&request(&[metric("g", GAUGE, &pts, &[])])).unwrap();
    assert_eq!(n, points(7, 0, 0, 0, 0));
    let want = [-3.0, 2.5, 0.0, 1.5, 7.0, i64::MAX as f64, -0.0];
    let bits = |v: &[f64]| v.iter().map(|d| d.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&b.gauge.values.value), bits(&want));
    assert_eq!(b.gauge.metric, [0; 7], "one metric row for all its points");
}

#[test]
fn a_sum_keeps_its_temporality_and_monotonicity() {
    let p = || vec![double(4, 1.0)];
    let metrics = [
        metric("a", SUM, &p(), &cat(&[&varint(2, 2), &varint(3, 1)])),
        // An enum is an int32: a negative one is a 10-byte varint. A bool is any
        // non-zero varint.
        metric("b", SUM, &p(), &cat(&[&varint(2, u64::MAX), &varint(3, 2)])),
        // Scalars before the points, each twice: the last wins.
        cat(&[
            &ld(1, b"c"),
            &ld(
                SUM,
                &cat(&[
                    &varint(2, 1),
                    &varint(3, 1),
                    &varint(2, 2),
                    &varint(3, 0),
                    &ld(1, &p()[0]),
                ]),
            ),
        ]),
        metric("d", SUM, &p(), &varint(2, 7)),
    ];
    let (b, n) = decode(&request(&metrics)).unwrap();
    assert_eq!(n, points(0, 4, 0, 0, 0));
    assert_eq!(b.sum.metric, [0, 1, 2, 3]);
    assert_eq!(b.metrics.temporality, [2, -1, 2, 7]);
    assert_eq!(b.metrics.monotonic, [true, true, false, false]);
    assert_eq!(b.sum.values.value, [1.0; 4]);
}

#[test]
fn histogram_buckets_packed_unpacked_or_mixed_and_absent_scalars_are_zero() {
    let pts = [
        // Packed runs, no sum / min / max.
        cat(&[
            &fixed64(4, 6),
            &packed_fixed64(6, &[1, 2, 3]),
            &packed_doubles(7, &[0.5, 1.5]),
        ]),
        // One item per field, every scalar.
        cat(&[
            &fixed64(6, 4),
            &fixed64(6, 5),
            &double(7, 2.0),
            &fixed64(4, 9),
            &double(5, 9.5),
            &double(11, -1.0),
            &double(12, 8.0),
            &ld(9, &kv_str("k", "v")),
            &fixed64(2, 10),
            &fixed64(3, 20),
        ]),
        // Mixed, in any order; an exemplar; flags.
        cat(&[
            &packed_fixed64(6, &[1]),
            &double(7, 1.0),
            &fixed64(6, 2),
            &packed_doubles(7, &[2.0, 3.0]),
            &packed_fixed64(6, &[3, 4]),
            &ld(8, &full_exemplar()),
            &varint(10, 1),
        ]),
        // Empty packed runs.
        cat(&[&packed_fixed64(6, &[]), &packed_doubles(7, &[])]),
    ];
    let m = metric("h", HISTOGRAM, &pts, &varint(2, 1));
    let (b, n) = decode(&request(&[m])).unwrap();
    assert_eq!(n, points(0, 0, 4, 0, 0));
    let h = &b.histogram;
    let v = &h.values;
    assert_eq!(v.count, [6, 9, 0, 0]);
    assert_eq!(v.sum, [0.0, 9.5, 0.0, 0.0]);
    assert_eq!(v.min, [0.0, -1.0, 0.0, 0.0]);
    assert_eq!(v.max, [0.0, 8.0, 0.0, 0.0]);
    let counts: Vec<&[u64]> = (0..4).map(|i| v.bucket_counts.row(i)).collect();
    assert_eq!(counts, [&[1, 2, 3][..], &[4, 5], &[1, 2, 3, 4], &[]]);
    let bounds: Vec<&[f64]> = (0..4).map(|i| v.explicit_bounds.row(i)).collect();
    assert_eq!(bounds, [&[0.5, 1.5][..], &[2.0], &[1.0, 2.0, 3.0], &[]]);
    assert_eq!(attrs(&h.attributes, 1), [("k", "v")]);
    assert_eq!((h.start_time[1], h.time[1]), (10, 20));
    assert_eq!(h.flags, [0, 0, 1, 0]);
    assert_eq!(
        (h.exemplars.of(1), h.exemplars.of(2), h.exemplars.of(3)),
        (0..0, 0..1, 1..1)
    );
    assert_eq!(h.exemplars.trace_id, [TRACE]);
    assert_eq!(b.metrics.temporality, [1]);
}

#[test]
fn exponential_histogram_scale_offsets_and_bucket_counts() {
    let pts = [
        cat(&[
            &ld(1, &kv_str("k", "v")),
            &sint32(6, -3),
            &fixed64(7, 4),
            &ld(
                8,
                &cat(&[&sint32(1, -2), &packed_varints(2, &[1, 300, u64::MAX])]),
            ),
            &ld(9, &cat(&[&sint32(1, 5), &varint(2, 7), &varint(2, 8)])),
            &double(14, 0.001), // zero_threshold: read, not stored
            &fixed64(4, 10),
            &double(5, 2.5),
            &double(12, 0.1),
            &double(13, 9.0),
            &varint(10, 1),
            &ld(11, &full_exemplar()),
            &fixed64(2, 1),
            &fixed64(3, 2),
        ]),
        // `Buckets` twice: merged (the last offset, the counts appended; packed and
        // unpacked alike). A `sint32` is the low 32 bits of its varint: the
        // all-ones varint is i32::MIN.
        cat(&[
            &ld(8, &cat(&[&sint32(1, 1), &packed_varints(2, &[1])])),
            &ld(
                8,
                &cat(&[&sint32(1, -1), &varint(2, 2), &packed_varints(2, &[3])]),
            ),
            &varint(6, u64::MAX),
        ]),
        // Nothing: every column zero or empty.
        vec![],
        // An offset with no counts.
        ld(9, &sint32(1, i32::MAX)),
    ];
    let m = metric("e", EXP_HISTOGRAM, &pts, &varint(2, 2));
    let (b, n) = decode(&request(&[m])).unwrap();
    assert_eq!(n, points(0, 0, 0, 4, 0));
    let e = &b.exp_histogram;
    let v = &e.values;
    assert_eq!(v.scale, [-3, i32::MIN, 0, 0]);
    assert_eq!(v.zero_count, [4, 0, 0, 0]);
    assert_eq!(v.count, [10, 0, 0, 0]);
    assert_eq!(v.sum, [2.5, 0.0, 0.0, 0.0]);
    assert_eq!((v.min[0], v.max[0]), (0.1, 9.0));
    assert_eq!(v.positive_offset, [-2, -1, 0, 0]);
    assert_eq!(v.negative_offset, [5, 0, 0, i32::MAX]);
    let positive: Vec<&[u64]> = (0..4).map(|i| v.positive_counts.row(i)).collect();
    assert_eq!(positive, [&[1, 300, u64::MAX][..], &[1, 2, 3], &[], &[]]);
    let negative: Vec<&[u64]> = (0..4).map(|i| v.negative_counts.row(i)).collect();
    assert_eq!(negative, [&[7, 8][..], &[], &[], &[]]);
    assert_eq!(attrs(&e.attributes, 0), [("k", "v")]);
    assert_eq!((e.start_time[0], e.time[0], e.flags[0]), (1, 2, 1));
    assert_eq!((e.exemplars.of(0), e.exemplars.of(1)), (0..1, 1..1));
    assert_eq!(e.exemplars.span_id, [SPAN]);
    assert_eq!(b.metrics.temporality, [2]);
}

#[test]
fn summary_quantiles_are_kept_in_order_as_pairs() {
    let pts = [
        cat(&[
            &fixed64(4, 3),
            &double(5, 6.5),
            &ld(6, &cat(&[&double(1, 0.5), &double(2, 2.0)])),
            // Value before quantile.
            &ld(6, &cat(&[&double(2, 4.0), &double(1, 0.99)])),
            // Neither: zeros.
            &ld(6, &[]),
            &ld(7, &kv_str("k", "v")),
            &varint(8, 1),
            &fixed64(3, 5),
        ]),
        vec![],
    ];
    let (b, n) = decode(&request(&[metric("s", SUMMARY, &pts, &[])])).unwrap();
    assert_eq!(n, points(0, 0, 0, 0, 2));
    let s = &b.summary;
    assert_eq!(s.values.count, [3, 0]);
    assert_eq!(s.values.sum, [6.5, 0.0]);
    assert_eq!(
        s.values.quantiles.row(0),
        [[0.5, 2.0], [0.99, 4.0], [0.0, 0.0]]
    );
    assert!(s.values.quantiles.row(1).is_empty());
    assert_eq!(attrs(&s.attributes, 0), [("k", "v")]);
    assert_eq!((s.time[0], s.flags[0]), (5, 1));
    assert_eq!(
        (b.metrics.temporality[0], b.metrics.monotonic[0]),
        (0, false)
    );
}

#[test]
fn exemplars_hold_a_double_an_int_or_zero_and_absent_ids_are_zeros() {
    let exemplars = [
        full_exemplar(),
        // An int, no ids; a repeated filtered attribute: the last wins.
        cat(&[
            &sfixed64(6, -5),
            &ld(7, &kv_str("a", "1")),
            &ld(7, &kv_str("b", "2")),
            &ld(7, &kv_str("a", "3")),
        ]),
        // No value at all.
        fixed64(2, 7),
        // Both values: the last wins.
        cat(&[&sfixed64(6, 9), &double(3, 0.125)]),
        // Ids present but empty: absent.
        cat(&[&ld(4, &[]), &ld(5, &[])]),
    ];
    let with: Vec<u8> = exemplars.iter().flat_map(|e| ld(5, e)).collect();
    let pts = [with, double(4, 1.0)];
    let (b, _) = decode(&request(&[metric("g", GAUGE, &pts, &[])])).unwrap();
    let ex = &b.gauge.exemplars;
    assert_eq!((ex.len(), ex.of(0), ex.of(1)), (5, 0..5, 5..5));
    assert_eq!(ex.value, [0.5, -5.0, 0.0, 0.125, 0.0]);
    assert_eq!(ex.time, [1_999_999_999, 0, 7, 0, 0]);
    assert_eq!(ex.span_id, [SPAN, [0; 8], [0; 8], [0; 8], [0; 8]]);
    assert_eq!(ex.trace_id[1..], [[0; 16]; 4]);
    assert_eq!(attrs(&ex.filtered_attributes, 1), [("b", "2"), ("a", "3")]);
    assert!(attrs(&ex.filtered_attributes, 2).is_empty());
}

mod proptests;
mod protobuf;
mod seeds;
