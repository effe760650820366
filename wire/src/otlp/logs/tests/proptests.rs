//! Property tests against prost: random valid requests, built with the
//! `opentelemetry-proto` types and encoded by prost, must decode to the rows that a
//! reference mapping of prost's own reading of the same bytes gives, column by column;
//! a second request must append to a batch without touching the first; and damaged
//! bytes must decode or fail without a trace, never panic.
//!
//! The reference mapping is [`reference::logs`](crate::otlp::reference::logs).
//! ClickStack processing is off ([`raw`]): these tests pin the raw field mapping.

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use prost::Message as _;

use crate::columns::logs::LogsBatch;
use crate::otlp::logs::decode_logs;
use crate::otlp::reference::logs::{Base, Expected, check, consistent, expected, raw};
use crate::otlp::reference::{divergence, stored};
use crate::otlp::testgen::{any_value, apply, attributes, damage, dropped, resource, scope, text};

// ---- strategies: random valid requests ----

fn record() -> impl Strategy<Value = LogRecord> {
    let time = || prop_oneof![Just(0), any::<u64>()];
    // Mostly the defined numbers, sometimes any i32 (negative, above 255).
    let severity = prop_oneof![0..=24, any::<i32>()];
    let id = |len| prop_oneof![Just(vec![]), vec(any::<u8>(), len)];
    (
        (time(), time(), severity, text()),
        (
            option::of(any_value()),
            attributes(8),
            dropped(),
            any::<u32>(),
        ),
        (id(16), id(8), text()),
    )
        .prop_map(
            |(
                (time_unix_nano, observed_time_unix_nano, severity_number, severity_text),
                (body, attributes, dropped_attributes_count, flags),
                (trace_id, span_id, event_name),
            )| LogRecord {
                time_unix_nano,
                observed_time_unix_nano,
                severity_number,
                severity_text,
                body,
                attributes,
                dropped_attributes_count,
                flags,
                trace_id,
                span_id,
                event_name,
            },
        )
}

fn request() -> impl Strategy<Value = ExportLogsServiceRequest> {
    let scope_logs =
        (scope(), vec(record(), 0..=6), text()).prop_map(|(scope, log_records, schema_url)| {
            ScopeLogs {
                scope,
                log_records,
                schema_url,
            }
        });
    let resource_logs = (resource(), vec(scope_logs, 0..=3), text()).prop_map(
        |(resource, scope_logs, schema_url)| ResourceLogs {
            resource,
            scope_logs,
            schema_url,
        },
    );
    vec(resource_logs, 0..=3).prop_map(|resource_logs| ExportLogsServiceRequest { resource_logs })
}

/// The records of a request.
fn records(req: &ExportLogsServiceRequest) -> usize {
    req.resource_logs
        .iter()
        .flat_map(|rl| &rl.scope_logs)
        .map(|sl| sl.log_records.len())
        .sum()
}

/// Decodes a request that must decode, and checks what it added.
fn decode_valid(bytes: &[u8], batch: &mut LogsBatch) -> Result<Expected, TestCaseError> {
    let reference = ExportLogsServiceRequest::decode(bytes).expect("prost reads its own encoding");
    let base = Base::of(batch);
    let want = expected(&reference, base);
    let decoded = decode_logs(bytes, batch, &raw());
    let fail = |why: String| TestCaseError::fail(format!("{why}\n  request: {bytes:02x?}"));
    let decoded = decoded.map_err(|e| fail(format!("a valid request is refused: {e:?}")))?;
    prop_assert_eq!(decoded.logs, records(&reference));
    prop_assert_eq!(decoded.sessions, 0);
    prop_assert_eq!(
        batch.resources.service_name.len(),
        base.resources + want.resources.len()
    );
    prop_assert_eq!(batch.scopes.name.len(), base.scopes + want.scopes.len());
    consistent(batch).map_err(fail)?;
    check(batch, &want).map_err(fail)?;
    stored::logs(batch, Some(&want)).map_err(fail)?;
    Ok(want)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn decoded_rows_agree_with_prost_field_by_field(sent in request()) {
        decode_valid(&sent.encode_to_vec(), &mut LogsBatch::default())?;
    }
}

proptest! {
    // Two requests a case: half the cases keep the time of the test above.
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn requests_append_and_damaged_ones_decode_or_leave_no_trace(
        first in request(),
        second in request(),
        damage in vec(damage(), 1..=3),
    ) {
        let (a, b) = (first.encode_to_vec(), second.encode_to_vec());
        let mut batch = LogsBatch::default();
        let want_a = decode_valid(&a, &mut batch)?;
        let want_b = decode_valid(&b, &mut batch)?;
        // The first request's rows are as they were.
        check(&batch, &want_a).map_err(TestCaseError::fail)?;

        let mut bad = if b.is_empty() { a } else { b };
        apply(&damage, &mut bad);
        let before = format!("{batch:?}");
        let (mark, rows, byte_len) = (batch.mark(), batch.rows(), batch.byte_len());
        let base = Base::of(&batch);
        match decode_logs(&bad, &mut batch, &raw()) {
            Ok(decoded) => {
                consistent(&batch).map_err(TestCaseError::fail)?;
                prop_assert_eq!(batch.rows(), rows + decoded.logs + decoded.sessions);
                check(&batch, &want_a).map_err(TestCaseError::fail)?;
                check(&batch, &want_b).map_err(TestCaseError::fail)?;
                // Where prost reads the damaged bytes too, it finds as many records,
                // and (but for the documented divergences) the same rows.
                if let Ok(reference) = ExportLogsServiceRequest::decode(bad.as_slice()) {
                    prop_assert_eq!(decoded.logs, records(&reference), "{:02x?}", bad);
                    if !divergence::in_logs(&bad) {
                        check(&batch, &expected(&reference, base)).map_err(TestCaseError::fail)?;
                    }
                }
            }
            Err(_) => {
                prop_assert_eq!(batch.mark(), mark);
                prop_assert_eq!(batch.rows(), rows);
                prop_assert_eq!(batch.byte_len(), byte_len);
                prop_assert!(format!("{batch:?}") == before, "a failed request left a trace");
            }
        }
    }
}
