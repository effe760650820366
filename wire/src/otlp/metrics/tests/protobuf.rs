//! Protobuf semantics spelled out in bytes: fields in any order, the data `oneof`,
//! metrics that write no row, unknown fields; errors and their rollback.

use super::*;
use crate::proto::{ErrorKind, WireType};

#[test]
fn fields_come_in_any_order() {
    // The points before the name; the value before the times; the scope after its
    // metrics; the resource after its scopes; schema URLs last.
    let point = cat(&[
        &varint(8, 1),
        &double(4, 3.0),
        &fixed64(3, 9),
        &fixed64(2, 8),
    ]);
    let m = cat(&[
        &ld(GAUGE, &data(&[point], &[])),
        &ld(3, b"ms"),
        &ld(1, b"late"),
        &ld(2, b"d"),
    ]);
    let scope = cat(&[&ld(2, b"v2"), &ld(1, b"lib2"), &varint(4, 3)]);
    let scope_metrics = cat(&[&ld(2, &m), &ld(1, &scope), &ld(3, b"scope-url")]);
    let resource = ld(1, &kv_str("service.name", "svc2"));
    let rm = cat(&[
        &ld(2, &scope_metrics),
        &ld(1, &resource),
        &ld(3, b"res-url"),
    ]);
    let (b, n) = decode(&ld(1, &rm)).unwrap();
    assert_eq!(n, points(1, 0, 0, 0, 0));
    let g = &b.gauge;
    assert_eq!((g.start_time[0], g.time[0], g.flags[0]), (8, 9, 1));
    assert_eq!(g.values.value, [3.0]);
    let mr = &b.metrics;
    assert_eq!(
        (
            text(&mr.name, 0),
            text(&mr.description, 0),
            text(&mr.unit, 0)
        ),
        ("late", "d", "ms")
    );
    let (r, s) = (&b.resources, &b.scopes);
    assert_eq!(
        (text(&r.service_name, 0), text(&r.schema_url, 0)),
        ("svc2", "res-url")
    );
    assert_eq!(
        (
            text(&s.name, 0),
            text(&s.version, 0),
            text(&s.schema_url, 0)
        ),
        ("lib2", "v2", "scope-url")
    );
    assert_eq!(s.dropped_attributes, [3]);
}

#[test]
fn the_data_oneof_keeps_the_last_kind_and_merges_the_same_kind() {
    let num = |v: f64| double(4, v);
    let with_exemplar = cat(&[
        &num(7.0),
        &ld(7, &kv_str("k", "v")),
        &ld(5, &full_exemplar()),
    ]);
    let hist = cat(&[&fixed64(4, 1), &packed_fixed64(6, &[1])]);
    let metrics = [
        // A gauge, then a sum: only the sum's points remain.
        cat(&[
            &ld(GAUGE, &data(&[num(1.0)], &[])),
            &ld(
                SUM,
                &data(&[num(2.0), num(3.0)], &cat(&[&varint(2, 2), &varint(3, 1)])),
            ),
        ]),
        // A gauge twice: its points add up.
        cat(&[
            &ld(GAUGE, &data(&[num(4.0)], &[])),
            &ld(GAUGE, &data(&[num(5.0)], &[])),
        ]),
        // A sum, then a histogram: the sum's temporality and monotonicity go with it.
        cat(&[
            &ld(
                SUM,
                &data(&[num(6.0)], &cat(&[&varint(2, 2), &varint(3, 1)])),
            ),
            &ld(HISTOGRAM, &data(&[hist], &[])),
        ]),
        // Gauge, sum, gauge: the first gauge's points (attributes, exemplars) are gone.
        cat(&[
            &ld(GAUGE, &data(&[with_exemplar], &[])),
            &ld(SUM, &data(&[num(8.0)], &varint(2, 1))),
            &ld(GAUGE, &data(&[num(9.0)], &[])),
        ]),
        // A sum twice: the points add up, the temporality is the last one given.
        cat(&[
            &ld(SUM, &data(&[num(10.0)], &varint(2, 1))),
            &ld(SUM, &data(&[num(11.0)], &varint(3, 1))),
            &ld(SUM, &varint(2, 2)),
        ]),
    ];
    let (b, n) = decode(&request(&metrics)).unwrap();
    assert_eq!(n, points(3, 4, 1, 0, 0));
    assert_eq!(b.gauge.values.value, [4.0, 5.0, 9.0]);
    assert_eq!(b.gauge.metric, [1, 1, 3]);
    assert_eq!(b.sum.values.value, [2.0, 3.0, 10.0, 11.0]);
    assert_eq!(b.sum.metric, [0, 0, 4, 4]);
    assert_eq!(b.histogram.metric, [2]);
    assert_eq!(b.metrics.temporality, [2, 0, 0, 0, 2]);
    assert_eq!(b.metrics.monotonic, [true, false, false, false, true]);
    let g = &b.gauge;
    assert_eq!((g.exemplars.len(), g.exemplars.of(2)), (0, 0..0));
    assert!(attrs(&g.attributes, 2).is_empty());
    assert_eq!(g.exemplars.filtered_attributes.len(), 0);
}

#[test]
fn metrics_without_points_write_no_row_and_are_counted() {
    let metrics = [
        ld(1, b"no data"),
        metric("empty gauge", GAUGE, &[], &[]),
        metric("empty sum", SUM, &[], &cat(&[&varint(2, 2), &varint(3, 1)])),
        metric("empty summary", SUMMARY, &[], &[]),
        // A data kind of a newer OTLP (field 13): unknown, skipped.
        cat(&[&ld(1, b"future"), &ld(13, &ld(1, &double(4, 1.0)))]),
        // The kinds OTLP removed (int gauge 4, int sum 6, int histogram 8): unknown.
        cat(&[&ld(1, b"old"), &ld(4, b"x"), &ld(6, b"x"), &ld(8, b"x")]),
        // A kind whose points were replaced by an empty kind.
        cat(&[
            &ld(GAUGE, &data(&[double(4, 1.0)], &[])),
            &ld(HISTOGRAM, &[]),
        ]),
        metric("real", GAUGE, &[double(4, 2.0)], &[]),
    ];
    let (b, n) = decode(&request(&metrics)).unwrap();
    assert_eq!(
        n,
        MetricsDecoded {
            points: [1, 0, 0, 0, 0],
            skipped: 7
        }
    );
    assert_eq!(b.metrics.len(), 1);
    assert_eq!(text(&b.metrics.name, 0), "real");
    assert_eq!(b.gauge.metric, [0], "the one row written is row 0");
    assert_eq!(b.gauge.values.value, [2.0]);

    // Nothing but skipped metrics: no point, no metric row, not an error.
    let (b, n) = decode(&request(&metrics[..3])).unwrap();
    assert_eq!((n.total(), n.skipped, b.metrics.len()), (0, 3, 0));
}

/// Unknown fields of every wire type (a varint, a fixed32, a fixed64, a
/// length-delimited field and a group) with field numbers `first..first + 5`.
pub(super) fn unknown(first: u32) -> Vec<u8> {
    cat(&[
        &varint(first, 300),
        &tag(first + 1, 5),
        &[1, 2, 3, 4],
        &fixed64(first + 2, 5),
        &ld(first + 3, b"?"),
        &tag(first + 4, 3),
        &varint(1, 1),
        &tag(first + 4, 4),
    ])
}

/// A request with a metric of each kind, `u(first)` added to every message (`first`:
/// past the message's known fields).
pub(super) fn every_message(u: impl Fn(u32) -> Vec<u8>) -> Vec<u8> {
    // `labels` of a point, `filtered_labels` of an exemplar (field 1 of OTLP < 0.9),
    // gone from the schema: skipped too.
    let labels = if u(20).is_empty() {
        vec![]
    } else {
        ld(1, &kv_str("old", "label"))
    };
    let exemplar = cat(&[&full_exemplar(), &labels, &u(20)]);
    let kv = |k: &str| cat(&[&kv_str(k, "v"), &u(20)]);
    let number = cat(&[
        &double(4, 1.0),
        &ld(7, &kv("a")),
        &ld(5, &exemplar),
        &labels,
        &u(20),
    ]);
    let hist = cat(&[
        &fixed64(4, 1),
        &packed_fixed64(6, &[1]),
        &ld(8, &exemplar),
        &u(20),
    ]);
    let buckets = cat(&[&sint32(1, 2), &packed_varints(2, &[1]), &u(3)]);
    let exp = cat(&[
        &ld(8, &buckets),
        &ld(9, &buckets),
        &ld(11, &exemplar),
        &u(20),
    ]);
    let quantile = cat(&[&double(1, 0.5), &double(2, 1.0), &u(3)]);
    let summary = cat(&[&ld(6, &quantile), &u(20)]);
    let metrics = [
        cat(&[
            &metric("g", GAUGE, core::slice::from_ref(&number), &u(20)),
            &u(20),
        ]),
        cat(&[&metric("s", SUM, &[number], &u(20)), &u(20)]),
        cat(&[&metric("h", HISTOGRAM, &[hist], &u(20)), &u(20)]),
        cat(&[&metric("e", EXP_HISTOGRAM, &[exp], &u(20)), &u(20)]),
        cat(&[&metric("q", SUMMARY, &[summary], &u(20)), &u(20)]),
    ];
    let resource = cat(&[&ld(1, &kv("service.name")), &u(20)]);
    let scope = cat(&[&ld(1, b"lib"), &ld(3, &kv("s")), &u(20)]);
    let mut scope_metrics = cat(&[&ld(1, &scope), &u(20)]);
    for m in &metrics {
        scope_metrics.extend(ld(2, m));
    }
    let rm = cat(&[&ld(1, &resource), &ld(2, &scope_metrics), &u(20)]);
    cat(&[&ld(1, &rm), &u(20)])
}

#[test]
fn unknown_fields_of_every_wire_type_are_skipped_in_every_message() {
    let (plain, n) = decode(&every_message(|_| vec![])).unwrap();
    assert_eq!(n, points(1, 1, 1, 1, 1));
    let (with, m) = decode(&every_message(unknown)).unwrap();
    assert_eq!(m, n);
    assert_eq!(format!("{with:?}"), format!("{plain:?}"));
}

#[test]
fn metadata_is_read_but_not_stored() {
    let m = cat(&[
        &ld(12, &kv_str("m", "x")),
        &metric("g", GAUGE, &[double(4, 1.0)], &[]),
        &ld(12, &kv_int("n", 1)),
    ]);
    let (with, _) = decode(&request(&[m])).unwrap();
    let (plain, _) = decode(&request(&[metric("g", GAUGE, &[double(4, 1.0)], &[])])).unwrap();
    assert_eq!(format!("{with:?}"), format!("{plain:?}"));
}

#[test]
fn scope_dropped_attributes_count_is_stored_per_scope() {
    let scope = |dropped: &[u8]| ld(1, &cat(&[&ld(1, b"lib"), dropped]));
    let m = ld(2, &metric("g", GAUGE, &[vec![]], &[]));
    // A `uint32`: the low 32 bits of the varint.
    let scopes = [
        cat(&[&scope(&varint(4, 7)), &m]),
        cat(&[&scope(&varint(4, (1 << 32) + 5)), &m]),
        m.clone(),
    ];
    let rm: Vec<u8> = scopes.iter().flat_map(|s| ld(2, s)).collect();
    let (b, _) = decode(&ld(1, &rm)).unwrap();
    assert_eq!(b.scopes.dropped_attributes, [7, 5, 0]);
    assert_eq!(b.metrics.scope, [0, 1, 2]);
}

fn wrong(field: u32, got: WireType) -> ErrorKind {
    ErrorKind::WrongWireType { field, got }
}

#[test]
fn bad_requests_are_typed_errors_and_leave_the_batch_as_it_was() {
    let good = || {
        metric(
            "ok",
            GAUGE,
            &[cat(&[&double(4, 1.0), &ld(5, &full_exemplar())])],
            &[],
        )
    };
    let mut batch = MetricsBatch::default();
    decode_metrics(&request(&[good(), good()]), &mut batch).unwrap();
    let before = format!("{batch:?}");
    let (mark, byte_len) = (batch.mark(), batch.byte_len());
    // Each bad metric comes after a good one, whose rows must go too.
    let point_in = |kind: u32, point: &[u8]| metric("bad", kind, &[point.to_vec()], &[]);
    let exemplar_in_gauge = |e: &[u8]| point_in(GAUGE, &ld(5, e));
    let cases: Vec<(Vec<u8>, ErrorKind)> = vec![
        (varint(1, 1), wrong(1, WireType::Varint)),
        (ld(1, &[b'a', 0xff]), ErrorKind::InvalidUtf8 { field: 1 }),
        (ld(2, &[0xc0]), ErrorKind::InvalidUtf8 { field: 2 }),
        (
            ld(3, &[0xed, 0xa0, 0x80]),
            ErrorKind::InvalidUtf8 { field: 3 },
        ),
        (varint(GAUGE, 1), wrong(5, WireType::Varint)),
        (fixed64(SUMMARY, 1), wrong(11, WireType::Fixed64)),
        (varint(12, 1), wrong(12, WireType::Varint)),
        (ld(12, &ld(1, &[0xff])), ErrorKind::InvalidUtf8 { field: 1 }),
        (ld(SUM, &ld(2, &[])), wrong(2, WireType::Len)),
        (ld(SUM, &fixed64(3, 1)), wrong(3, WireType::Fixed64)),
        (ld(GAUGE, &varint(1, 1)), wrong(1, WireType::Varint)),
        (ld(HISTOGRAM, &ld(2, &[])), wrong(2, WireType::Len)),
        (point_in(GAUGE, &varint(3, 1)), wrong(3, WireType::Varint)),
        (point_in(SUM, &fixed64(8, 1)), wrong(8, WireType::Fixed64)),
        (point_in(GAUGE, &varint(7, 1)), wrong(7, WireType::Varint)),
        (
            point_in(GAUGE, &ld(7, &[0x0a, 0x05, b'k'])),
            ErrorKind::Truncated,
        ),
        (
            point_in(HISTOGRAM, &cat(&[&tag(6, 5), &[0; 4]])),
            wrong(6, WireType::Fixed32),
        ),
        (
            point_in(HISTOGRAM, &varint(4, 1)),
            wrong(4, WireType::Varint),
        ),
        // A packed run whose length is not a multiple of 8.
        (point_in(HISTOGRAM, &ld(6, &[0; 12])), ErrorKind::Truncated),
        (point_in(HISTOGRAM, &ld(7, &[0; 7])), ErrorKind::Truncated),
        (
            point_in(EXP_HISTOGRAM, &fixed64(6, 1)),
            wrong(6, WireType::Fixed64),
        ),
        (
            point_in(EXP_HISTOGRAM, &varint(7, 1)),
            wrong(7, WireType::Varint),
        ),
        (
            point_in(EXP_HISTOGRAM, &ld(8, &ld(1, &[]))),
            wrong(1, WireType::Len),
        ),
        (
            point_in(EXP_HISTOGRAM, &ld(9, &fixed64(2, 1))),
            wrong(2, WireType::Fixed64),
        ),
        // A packed varint run that ends inside a varint.
        (
            point_in(EXP_HISTOGRAM, &ld(8, &ld(2, &[0x01, 0x80]))),
            ErrorKind::Truncated,
        ),
        (
            point_in(EXP_HISTOGRAM, &varint(14, 1)),
            wrong(14, WireType::Varint),
        ),
        (
            point_in(SUMMARY, &ld(6, &varint(1, 1))),
            wrong(1, WireType::Varint),
        ),
        (point_in(SUMMARY, &ld(4, &[])), wrong(4, WireType::Len)),
        (
            exemplar_in_gauge(&ld(4, &[1; 7])),
            ErrorKind::BadLength { field: 4, len: 7 },
        ),
        (
            exemplar_in_gauge(&ld(5, &[1; 8])),
            ErrorKind::BadLength { field: 5, len: 8 },
        ),
        (exemplar_in_gauge(&varint(3, 1)), wrong(3, WireType::Varint)),
        (
            exemplar_in_gauge(&ld(7, &ld(1, &[0xff]))),
            ErrorKind::InvalidUtf8 { field: 1 },
        ),
        // After a change of kind dropped points: they are not brought back either.
        (
            cat(&[
                &ld(GAUGE, &data(&[double(4, 1.0)], &[])),
                &ld(SUM, &data(&[double(4, 2.0), varint(3, 0)], &[])),
            ]),
            wrong(3, WireType::Varint),
        ),
        // Cut short inside a point.
        (
            cat(&[&tag(GAUGE, 2), &[10], &ld(1, &[])]),
            ErrorKind::Truncated,
        ),
    ];
    for (bad, kind) in cases {
        let bytes = request(&[good(), bad]);
        let err = decode_metrics(&bytes, &mut batch).unwrap_err();
        assert_eq!(err.kind, kind, "{bytes:02x?}");
        assert!((err.offset as usize) < bytes.len());
        assert_eq!((batch.mark(), batch.byte_len()), (mark, byte_len));
        assert_eq!(format!("{batch:?}"), before, "{kind:?} left a trace");
    }
    // The batch takes the next request as if nothing had happened.
    let n = decode_metrics(&request(&[good()]), &mut batch).unwrap();
    assert_eq!(n, points(1, 0, 0, 0, 0));
    assert_eq!((batch.rows(), batch.metrics.len()), (3, 3));
    assert_eq!(batch.gauge.metric, [0, 1, 2]);
    assert_eq!(batch.gauge.exemplars.of(2), 2..3);
}

#[test]
fn requests_append_and_clear_empties_the_batch() {
    let m = |name: &str| metric(name, SUM, &[double(4, 1.0), double(4, 2.0)], &varint(2, 2));
    let mut batch = MetricsBatch::default();
    decode_metrics(&request(&[m("a")]), &mut batch).unwrap();
    let n = decode_metrics(&request(&[m("b"), m("c")]), &mut batch).unwrap();
    assert_eq!(n, points(0, 4, 0, 0, 0));
    assert_eq!(batch.sum.metric, [0, 0, 1, 1, 2, 2]);
    assert_eq!(batch.metrics.resource, [0, 1, 1]);
    assert_eq!(batch.metrics.scope, [0, 1, 1]);
    assert_eq!(text(&batch.metrics.name, 2), "c");
    assert!(batch.byte_len() > 0);
    batch.clear();
    assert_eq!((batch.rows(), batch.byte_len()), (0, 0));
    assert_eq!(
        format!("{batch:?}"),
        format!("{:?}", MetricsBatch::default())
    );
}

/// Found by comparing with prost what sluice accepts and prost refuses: the
/// `attributes` of an `ExponentialHistogramDataPoint` (field 1, unlike the other
/// points' 7 or 9) with another wire type than length-delimited were skipped as if
/// unknown, where prost refuses a known field of the wrong type (the wrong-type arm
/// of `exp_histogram_point` began at field 2).
#[test]
fn regression_exp_histogram_point_attributes_of_a_wrong_wire_type_are_refused() {
    for (attribute, got) in [
        (varint(1, 1), WireType::Varint),
        (fixed64(1, 1), WireType::Fixed64),
        (cat(&[&tag(1, 5), &[0; 4]]), WireType::Fixed32),
    ] {
        let bytes = request(&[metric("bad", EXP_HISTOGRAM, &[attribute], &[])]);
        let err = decode(&bytes).map(|(_, n)| n).unwrap_err();
        assert_eq!(err.kind, wrong(1, got), "{bytes:02x?}");
    }
}
