//! Property tests against prost: random valid `ExportMetricsServiceRequest`s of all
//! five data kinds, built with the `opentelemetry-proto` types and encoded by prost,
//! must decode to the rows that the reference mapping (`reference.rs`) of prost's own
//! reading of the same bytes gives, cell by cell, in every table; the batch's columns
//! must agree with each other and encode to RowBinary; a second request must append
//! without touching the first; damaged bytes must decode (to prost's points, when
//! prost reads them) or fail without a trace, never panic.

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use proptest::collection::vec;
use proptest::prelude::*;
use prost::Message as _;

use super::reference::{Base, Expected, expected};
use super::*;
use crate::columns::metrics::{Exemplars, PointValues, Points};
use crate::otlp::testgen::{Got, Row, apply, check_cell, damage, got_map, got_str, metric_request};
use crate::proto::ErrorKind;
use crate::rowbinary::metrics::{TABLES, columns_of, encode_table};

/// The tables, in the order of [`MetricsBatch::points`].
const NAMES: [&str; 5] = [
    "otel_metrics_gauge",
    "otel_metrics_sum",
    "otel_metrics_histogram",
    "otel_metrics_exponential_histogram",
    "otel_metrics_summary",
];

// ---- what the decoder wrote ----

/// The head and the columns every point has, of point `i` of `points`.
fn got_common<K: PointValues>(b: &MetricsBatch, points: &Points<K>, i: usize) -> Row<Got> {
    let m = points.metric[i] as usize;
    let mr = &b.metrics;
    let (r, s) = (&b.resources, &b.scopes);
    let (res, scope) = (mr.resource[m] as usize, mr.scope[m] as usize);
    vec![
        ("ResourceAttributes", got_map(&r.attributes, res)),
        ("ResourceSchemaUrl", got_str(&r.schema_url, res)),
        ("ServiceName", got_str(&r.service_name, res)),
        ("ScopeName", got_str(&s.name, scope)),
        ("ScopeVersion", got_str(&s.version, scope)),
        ("ScopeAttributes", got_map(&s.attributes, scope)),
        (
            "ScopeDroppedAttrCount",
            Got::Num(u64::from(s.dropped_attributes[scope])),
        ),
        ("ScopeSchemaUrl", got_str(&s.schema_url, scope)),
        ("(metric row)", Got::Num(m as u64)),
        ("MetricName", got_str(&mr.name, m)),
        ("MetricDescription", got_str(&mr.description, m)),
        ("MetricUnit", got_str(&mr.unit, m)),
        ("AggregationTemporality", Got::Num(mr.temporality[m] as u64)),
        ("IsMonotonic", Got::Num(u64::from(mr.monotonic[m]))),
        ("Attributes", got_map(&points.attributes, i)),
        ("StartTimeUnix", Got::Num(points.start_time[i])),
        ("TimeUnix", Got::Num(points.time[i])),
        ("Flags", Got::Num(u64::from(points.flags[i]))),
    ]
}

fn got_exemplars(ex: &Exemplars, i: usize) -> Row<Got> {
    let of = ex.of(i);
    let mut row = vec![("(exemplars)", Got::Num(of.len() as u64))];
    for e in of {
        row.push((
            "Exemplars.FilteredAttributes",
            got_map(&ex.filtered_attributes, e),
        ));
        row.push(("Exemplars.TimeUnix", Got::Num(ex.time[e])));
        row.push(("Exemplars.Value", Got::Float(ex.value[e])));
        row.push(("Exemplars.SpanId", Got::Bytes(ex.span_id[e].to_vec())));
        row.push(("Exemplars.TraceId", Got::Bytes(ex.trace_id[e].to_vec())));
    }
    row
}

/// Point `i` of table `t`.
fn got_point(b: &MetricsBatch, t: usize, i: usize) -> Row<Got> {
    let num = |n: i32| Got::Num(n as u64);
    match t {
        0 | 1 => {
            let p = if t == 0 { &b.gauge } else { &b.sum };
            let mut row = got_common(b, p, i);
            row.push(("Value", Got::Float(p.values.value[i])));
            row.extend(got_exemplars(&p.exemplars, i));
            row
        }
        2 => {
            let p = &b.histogram;
            let v = &p.values;
            let mut row = got_common(b, p, i);
            row.extend([
                ("Count", Got::Num(v.count[i])),
                ("Sum", Got::Float(v.sum[i])),
                ("Min", Got::Float(v.min[i])),
                ("Max", Got::Float(v.max[i])),
                ("BucketCounts", Got::Nums(v.bucket_counts.row(i).to_vec())),
                (
                    "ExplicitBounds",
                    Got::Floats(v.explicit_bounds.row(i).to_vec()),
                ),
            ]);
            row.extend(got_exemplars(&p.exemplars, i));
            row
        }
        3 => {
            let p = &b.exp_histogram;
            let v = &p.values;
            let mut row = got_common(b, p, i);
            row.extend([
                ("Count", Got::Num(v.count[i])),
                ("Sum", Got::Float(v.sum[i])),
                ("Min", Got::Float(v.min[i])),
                ("Max", Got::Float(v.max[i])),
                ("Scale", num(v.scale[i])),
                ("ZeroCount", Got::Num(v.zero_count[i])),
                ("PositiveOffset", num(v.positive_offset[i])),
                (
                    "PositiveBucketCounts",
                    Got::Nums(v.positive_counts.row(i).to_vec()),
                ),
                ("NegativeOffset", num(v.negative_offset[i])),
                (
                    "NegativeBucketCounts",
                    Got::Nums(v.negative_counts.row(i).to_vec()),
                ),
            ]);
            row.extend(got_exemplars(&p.exemplars, i));
            row
        }
        _ => {
            let p = &b.summary;
            let v = &p.values;
            let q = v.quantiles.row(i);
            let mut row = got_common(b, p, i);
            row.extend([
                ("Count", Got::Num(v.count[i])),
                ("Sum", Got::Float(v.sum[i])),
                (
                    "ValueAtQuantiles.Quantile",
                    Got::Floats(q.iter().map(|q| q[0]).collect()),
                ),
                (
                    "ValueAtQuantiles.Value",
                    Got::Floats(q.iter().map(|q| q[1]).collect()),
                ),
            ]);
            row
        }
    }
}

// ---- comparing ----

/// Every cell of the points `want` expects, against the batch.
fn check(b: &MetricsBatch, want: &Expected) -> Result<(), TestCaseError> {
    let now = b.points();
    for (t, rows) in want.tables.iter().enumerate() {
        let first = want.base.points[t];
        prop_assert!(first + rows.len() <= now[t], "{}: too few rows", NAMES[t]);
        for (n, want) in rows.iter().enumerate() {
            let row = first + n;
            let got = got_point(b, t, row);
            let want_columns: Vec<&str> = want.iter().map(|(c, _)| *c).collect();
            let got_columns: Vec<&str> = got.iter().map(|(c, _)| *c).collect();
            prop_assert_eq!(want_columns, got_columns, "{} row {}", NAMES[t], row);
            for ((column, w), (_, g)) in want.iter().zip(&got) {
                if let Err(why) = check_cell(w, g) {
                    return Err(TestCaseError::fail(format!(
                        "{} row {row}, column {column}: {why}\n  expected: {w:?}\n  actual:   {g:?}",
                        NAMES[t]
                    )));
                }
            }
        }
    }
    Ok(())
}

fn same_len(what: &str, n: usize, lens: &[usize]) -> Result<(), TestCaseError> {
    prop_assert!(
        lens.iter().all(|&l| l == n),
        "{}: {:?} vs {}",
        what,
        lens,
        n
    );
    Ok(())
}

/// The columns of a point table agree with each other and point at metric rows.
fn consistent_points<K: PointValues>(
    b: &MetricsBatch,
    t: usize,
    p: &Points<K>,
    values: &[usize],
) -> Result<(), TestCaseError> {
    let n = p.len();
    let lens = [
        p.attributes.len(),
        p.start_time.len(),
        p.time.len(),
        p.flags.len(),
    ];
    same_len(NAMES[t], n, &lens)?;
    same_len(NAMES[t], n, values)?;
    prop_assert_eq!(p.attributes.pending(), 0);
    let ex = &p.exemplars;
    let lens = [
        ex.filtered_attributes.len(),
        ex.value.len(),
        ex.span_id.len(),
        ex.trace_id.len(),
    ];
    same_len("exemplars", ex.len(), &lens)?;
    prop_assert_eq!(ex.filtered_attributes.pending(), 0);
    prop_assert_eq!(if n == 0 { 0 } else { ex.of(n - 1).end }, ex.len());
    prop_assert!(p.metric.iter().all(|&m| (m as usize) < b.metrics.len()));
    Ok(())
}

/// The batch's columns agree with each other.
fn consistent(b: &MetricsBatch) -> Result<(), TestCaseError> {
    let m = &b.metrics;
    let lens = [
        m.description.len(),
        m.unit.len(),
        m.temporality.len(),
        m.monotonic.len(),
        m.resource.len(),
        m.scope.len(),
    ];
    same_len("metrics", m.len(), &lens)?;
    prop_assert!(m.resource.iter().all(|&r| (r as usize) < b.resources.len()));
    prop_assert!(m.scope.iter().all(|&s| (s as usize) < b.scopes.len()));
    prop_assert_eq!(b.scopes.dropped_attributes.len(), b.scopes.len());
    let (g, s) = (&b.gauge, &b.sum);
    consistent_points(b, 0, g, &[g.values.value.len()])?;
    consistent_points(b, 1, s, &[s.values.value.len()])?;
    let h = &b.histogram.values;
    prop_assert_eq!(h.bucket_counts.pending() + h.explicit_bounds.pending(), 0);
    let lens = [
        h.count.len(),
        h.sum.len(),
        h.min.len(),
        h.max.len(),
        h.bucket_counts.len(),
        h.explicit_bounds.len(),
    ];
    consistent_points(b, 2, &b.histogram, &lens)?;
    let e = &b.exp_histogram.values;
    prop_assert_eq!(e.positive_counts.pending() + e.negative_counts.pending(), 0);
    let lens = [
        e.count.len(),
        e.sum.len(),
        e.min.len(),
        e.max.len(),
        e.scale.len(),
        e.zero_count.len(),
        e.positive_offset.len(),
        e.positive_counts.len(),
        e.negative_offset.len(),
        e.negative_counts.len(),
    ];
    consistent_points(b, 3, &b.exp_histogram, &lens)?;
    let q = &b.summary.values;
    prop_assert_eq!(q.quantiles.pending(), 0);
    let lens = [q.count.len(), q.sum.len(), q.quantiles.len()];
    consistent_points(b, 4, &b.summary, &lens)?;
    prop_assert_eq!(b.summary.exemplars.len(), 0);
    Ok(())
}

/// Every table encodes to RowBinary (an index out of step would panic).
fn encodes(b: &MetricsBatch) {
    let mut out = Vec::new();
    for table in TABLES {
        encode_table(b, table, columns_of(table), &mut out);
    }
    assert_eq!(out.is_empty(), b.rows() == 0);
}

/// Decodes a request that must decode, and checks what it added; returns what it
/// must have added.
pub(super) fn decode_valid(
    bytes: &[u8],
    batch: &mut MetricsBatch,
) -> Result<Expected, TestCaseError> {
    let reference =
        ExportMetricsServiceRequest::decode(bytes).expect("prost reads its own encoding");
    let want = expected(&reference, Base::of(batch));
    let decoded = decode_metrics(bytes, batch)
        .map_err(|e| TestCaseError::fail(format!("a valid request is refused: {e:?}")))?;
    prop_assert_eq!(decoded.points, want.points());
    prop_assert_eq!(decoded.skipped, want.skipped);
    prop_assert_eq!(batch.metrics.len(), want.base.metrics + want.metrics);
    consistent(batch)?;
    check(batch, &want)?;
    encodes(batch);
    Ok(want)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn decoded_points_agree_with_prost_cell_by_cell(sent in metric_request()) {
        decode_valid(&sent.encode_to_vec(), &mut MetricsBatch::default())?;
    }

    #[test]
    fn requests_append_and_damaged_ones_decode_or_leave_no_trace(
        first in metric_request(),
        second in metric_request(),
        damage in vec(damage(), 1..=3),
    ) {
        let (a, b) = (first.encode_to_vec(), second.encode_to_vec());
        let mut batch = MetricsBatch::default();
        let want_a = decode_valid(&a, &mut batch)?;
        let want_b = decode_valid(&b, &mut batch)?;
        check(&batch, &want_a)?;

        let mut bad = if b.is_empty() { a } else { b };
        apply(&damage, &mut bad);
        let before = format!("{batch:?}");
        let (mark, byte_len, base) = (batch.mark(), batch.byte_len(), Base::of(&batch));
        let reference = ExportMetricsServiceRequest::decode(bad.as_slice());
        match decode_metrics(&bad, &mut batch) {
            Ok(decoded) => {
                consistent(&batch)?;
                encodes(&batch);
                prop_assert_eq!(batch.rows(), mark.points.iter().sum::<usize>() + decoded.total());
                check(&batch, &want_a)?;
                check(&batch, &want_b)?;
                if let Ok(reference) = reference {
                    let want = expected(&reference, base);
                    prop_assert_eq!(decoded.points, want.points(), "{:02x?}", bad);
                    prop_assert_eq!(decoded.skipped, want.skipped, "{:02x?}", bad);
                }
            }
            Err(e) => {
                prop_assert_eq!((batch.mark(), batch.byte_len()), (mark, byte_len));
                prop_assert!(format!("{batch:?}") == before, "a failed request left a trace");
                let limit = matches!(e.kind, ErrorKind::BadLength { .. } | ErrorKind::TooDeep);
                prop_assert!(
                    reference.is_err() || limit,
                    "prost accepts what sluice refuses: {:?} {:02x?}", e, bad
                );
            }
        }
    }
}
