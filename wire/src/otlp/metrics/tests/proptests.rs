//! Property tests against prost: random valid `ExportMetricsServiceRequest`s of all
//! five data kinds, built with the `opentelemetry-proto` types and encoded by prost,
//! must decode to the rows that the reference mapping
//! ([`reference::metrics`](crate::otlp::reference::metrics)) of prost's own
//! reading of the same bytes gives, cell by cell, in every table; the batch's columns
//! must agree with each other and encode to RowBinary; a second request must append
//! without touching the first; damaged bytes must decode (to prost's points, when
//! prost reads them) or fail without a trace, never panic.

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use proptest::collection::vec;
use proptest::prelude::*;
use prost::Message as _;

use super::*;
use crate::otlp::reference::metrics::{Base, Expected, check, consistent, expected};
use crate::otlp::reference::{divergence, stored};
use crate::otlp::testgen::{apply, damage, metric_request};
use crate::proto::ErrorKind;
use crate::rowbinary::metrics::{TABLES, columns_of, encode_table};

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
    consistent(batch).map_err(TestCaseError::fail)?;
    check(batch, &want).map_err(TestCaseError::fail)?;
    encodes(batch);
    stored::metric_tables(batch, Some(&want)).map_err(TestCaseError::fail)?;
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
        check(&batch, &want_a).map_err(TestCaseError::fail)?;

        let mut bad = if b.is_empty() { a } else { b };
        apply(&damage, &mut bad);
        let before = format!("{batch:?}");
        let (mark, byte_len, base) = (batch.mark(), batch.byte_len(), Base::of(&batch));
        let reference = ExportMetricsServiceRequest::decode(bad.as_slice());
        match decode_metrics(&bad, &mut batch) {
            Ok(decoded) => {
                consistent(&batch).map_err(TestCaseError::fail)?;
                encodes(&batch);
                prop_assert_eq!(batch.rows(), mark.points.iter().sum::<usize>() + decoded.total());
                check(&batch, &want_a).map_err(TestCaseError::fail)?;
                check(&batch, &want_b).map_err(TestCaseError::fail)?;
                if let Ok(reference) = reference {
                    let want = expected(&reference, base);
                    prop_assert_eq!(decoded.points, want.points(), "{:02x?}", bad);
                    prop_assert_eq!(decoded.skipped, want.skipped, "{:02x?}", bad);
                    if !divergence::in_metrics(&bad) {
                        check(&batch, &want).map_err(TestCaseError::fail)?;
                    }
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
