//! Property tests against prost: random valid `ExportTraceServiceRequest`s, built with
//! the `opentelemetry-proto` types and encoded by prost, must decode to the rows that
//! a reference mapping of prost's own reading of the same bytes gives, column by
//! column; a second request must append without touching the first; damaged bytes
//! must decode or fail without a trace, never panic.
//!
//! The reference mapping is [`reference::traces`](crate::otlp::reference::traces).

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use proptest::collection::vec;
use proptest::prelude::*;
use prost::Message as _;

use super::*;
use crate::otlp::reference::traces::{check, consistent, expected};
use crate::otlp::reference::{Row, Want};
use crate::otlp::reference::{divergence, stored};
use crate::otlp::testgen::{apply, damage, trace_request};

/// Decodes a request that must decode, and checks what it added; returns where its
/// spans start and what they must be.
fn decode_valid(
    bytes: &[u8],
    batch: &mut TracesBatch,
) -> Result<(usize, Vec<Row<Want>>), TestCaseError> {
    let reference = ExportTraceServiceRequest::decode(bytes).expect("prost reads its own encoding");
    let want = expected(&reference);
    let first = batch.rows();
    let decoded = decode_traces(bytes, batch)
        .map_err(|e| TestCaseError::fail(format!("a valid request is refused: {e:?}")))?;
    prop_assert_eq!(decoded.spans, want.len());
    prop_assert_eq!(batch.rows(), first + want.len());
    consistent(batch).map_err(TestCaseError::fail)?;
    check(batch, first, &want).map_err(TestCaseError::fail)?;
    stored::traces(batch, Some((first, &want))).map_err(TestCaseError::fail)?;
    Ok((first, want))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn decoded_spans_agree_with_prost_field_by_field(sent in trace_request()) {
        decode_valid(&sent.encode_to_vec(), &mut TracesBatch::default())?;
    }

    #[test]
    fn requests_append_and_damaged_ones_decode_or_leave_no_trace(
        first in trace_request(),
        second in trace_request(),
        damage in vec(damage(), 1..=3),
    ) {
        let (a, b) = (first.encode_to_vec(), second.encode_to_vec());
        let mut batch = TracesBatch::default();
        let (at_a, want_a) = decode_valid(&a, &mut batch)?;
        let (at_b, want_b) = decode_valid(&b, &mut batch)?;
        check(&batch, at_a, &want_a).map_err(TestCaseError::fail)?;

        let mut bad = if b.is_empty() { a } else { b };
        apply(&damage, &mut bad);
        let before = format!("{batch:?}");
        let (mark, rows) = (batch.mark(), batch.rows());
        match decode_traces(&bad, &mut batch) {
            Ok(decoded) => {
                consistent(&batch).map_err(TestCaseError::fail)?;
                prop_assert_eq!(batch.rows(), rows + decoded.spans);
                check(&batch, at_a, &want_a).map_err(TestCaseError::fail)?;
                check(&batch, at_b, &want_b).map_err(TestCaseError::fail)?;
                if let Ok(reference) = ExportTraceServiceRequest::decode(bad.as_slice()) {
                    let want = expected(&reference);
                    prop_assert_eq!(decoded.spans, want.len(), "{:02x?}", bad);
                    if !divergence::in_traces(&bad) {
                        check(&batch, rows, &want).map_err(TestCaseError::fail)?;
                    }
                }
            }
            Err(_) => {
                prop_assert_eq!(batch.mark(), mark);
                prop_assert!(format!("{batch:?}") == before, "a failed request left a trace");
            }
        }
    }
}
