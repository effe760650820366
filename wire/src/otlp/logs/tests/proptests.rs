//! Property tests against prost: random valid requests, built with the
//! `opentelemetry-proto` types and encoded by prost, must decode to the rows that a
//! reference mapping of prost's own reading of the same bytes gives, column by column;
//! a second request must append to a batch without touching the first; and damaged
//! bytes must decode or fail without a trace, never panic.
//!
//! The reference mapping ([`expected`]) is written from the column table of the `logs`
//! module doc and the Go collector's behaviour, not from the decoder's code;
//! `AnyValue`s go through the Go model of [`testgen`](crate::otlp::testgen).
//! ClickStack processing is off ([`raw`]): these tests pin the raw field mapping.

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{InstrumentationScope, any_value::Value};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use prost::Message as _;

use super::raw;
use crate::columns::logs::LogsBatch;
use crate::otlp::logs::{SERVICE_NAME, decode_logs};
use crate::otlp::testgen::{
    Got, Row, Want, any_value, apply, attributes, check_cell, damage, dropped, go_as_string,
    go_map, got_map, got_str, resource, scope, text, text_cell,
};

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

// ---- the reference mapping ----

/// Where a request's rows start in a batch: the batch's table sizes before it.
#[derive(Clone, Copy, Debug)]
struct Base {
    resources: usize,
    scopes: usize,
    logs: usize,
}

impl Base {
    fn of(b: &LogsBatch) -> Base {
        Base {
            resources: b.resources.service_name.len(),
            scopes: b.scopes.name.len(),
            logs: b.logs.len(),
        }
    }
}

/// The rows one request must add to a batch at `base`.
struct Expected {
    base: Base,
    resources: Vec<Row<Want>>,
    scopes: Vec<Row<Want>>,
    logs: Vec<Row<Want>>,
}

fn expected(req: &ExportLogsServiceRequest, base: Base) -> Expected {
    let mut e = Expected {
        base,
        resources: Vec::new(),
        scopes: Vec::new(),
        logs: Vec::new(),
    };
    for rl in &req.resource_logs {
        let resource = want_resource(rl);
        let resource_row = base.resources + e.resources.len();
        for sl in &rl.scope_logs {
            let scope = want_scope(sl);
            let scope_row = base.scopes + e.scopes.len();
            for r in &sl.log_records {
                let mut row = want_record(r);
                row.push(("(resource row)", Want::Num(resource_row as u64)));
                row.push(("(scope row)", Want::Num(scope_row as u64)));
                row.extend(want_resource(rl));
                row.extend(want_scope(sl));
                e.logs.push(row);
            }
            e.scopes.push(scope);
        }
        e.resources.push(resource);
    }
    e
}

/// The `otel_logs` columns of one record, before the resource and scope ones.
fn want_record(r: &LogRecord) -> Row<Want> {
    let id = |id: &[u8], len: usize| {
        Want::Bytes(if id.is_empty() {
            vec![0; len]
        } else {
            id.to_vec()
        })
    };
    let timestamp = if r.time_unix_nano != 0 {
        r.time_unix_nano
    } else {
        r.observed_time_unix_nano
    };
    vec![
        ("Timestamp", Want::Num(timestamp)),
        ("TraceId", id(&r.trace_id, 16)),
        ("SpanId", id(&r.span_id, 8)),
        ("TraceFlags", Want::Num(u64::from(r.flags & 0xff))),
        ("SeverityText", text_cell(&r.severity_text)),
        // Go's `uint8(SeverityNumber)` keeps the low byte.
        (
            "SeverityNumber",
            Want::Num(u64::from(r.severity_number as u8)),
        ),
        ("Body", Want::Str(go_as_string(r.body.as_ref()))),
        ("LogAttributes", go_map(&r.attributes)),
        ("EventName", text_cell(&r.event_name)),
    ]
}

fn want_resource(rl: &ResourceLogs) -> Row<Want> {
    let attrs = rl.resource.as_ref().map_or(&[][..], |r| &r.attributes);
    // The exporter reads `Get("service.name").Str()`: pdata's `Get` finds the first
    // entry with the key, and `Str()` is empty unless that value is a string.
    let service = attrs
        .iter()
        .find(|kv| kv.key == SERVICE_NAME)
        .and_then(|kv| match kv.value.as_ref()?.value.as_ref()? {
            Value::StringValue(s) => Some(s.as_str()),
            _ => None,
        })
        .unwrap_or("");
    vec![
        ("ServiceName", text_cell(service)),
        ("ResourceSchemaUrl", text_cell(&rl.schema_url)),
        ("ResourceAttributes", go_map(attrs)),
    ]
}

fn want_scope(sl: &ScopeLogs) -> Row<Want> {
    let default = InstrumentationScope::default();
    let scope = sl.scope.as_ref().unwrap_or(&default);
    vec![
        ("ScopeName", text_cell(&scope.name)),
        ("ScopeVersion", text_cell(&scope.version)),
        ("ScopeSchemaUrl", text_cell(&sl.schema_url)),
        ("ScopeAttributes", go_map(&scope.attributes)),
    ]
}

// ---- what the decoder wrote ----

fn got_resource(b: &LogsBatch, i: usize) -> Row<Got> {
    let r = &b.resources;
    vec![
        ("ServiceName", got_str(&r.service_name, i)),
        ("ResourceSchemaUrl", got_str(&r.schema_url, i)),
        ("ResourceAttributes", got_map(&r.attributes, i)),
    ]
}

fn got_scope(b: &LogsBatch, i: usize) -> Row<Got> {
    let s = &b.scopes;
    vec![
        ("ScopeName", got_str(&s.name, i)),
        ("ScopeVersion", got_str(&s.version, i)),
        ("ScopeSchemaUrl", got_str(&s.schema_url, i)),
        ("ScopeAttributes", got_map(&s.attributes, i)),
    ]
}

/// An `otel_logs` row, its resource and scope columns looked up through
/// `LogRows::resource` / `LogRows::scope`.
fn got_log(b: &LogsBatch, i: usize) -> Row<Got> {
    let l = &b.logs;
    let mut row = vec![
        ("Timestamp", Got::Num(l.timestamp[i])),
        ("TraceId", Got::Bytes(l.trace_id[i].to_vec())),
        ("SpanId", Got::Bytes(l.span_id[i].to_vec())),
        ("TraceFlags", Got::Num(u64::from(l.trace_flags[i]))),
        ("SeverityText", got_str(&l.severity_text, i)),
        ("SeverityNumber", Got::Num(u64::from(l.severity_number[i]))),
        ("Body", got_str(&l.body, i)),
        ("LogAttributes", got_map(&l.attributes, i)),
        ("EventName", got_str(&l.event_name, i)),
        ("(resource row)", Got::Num(l.resource[i] as u64)),
        ("(scope row)", Got::Num(l.scope[i] as u64)),
    ];
    row.extend(got_resource(b, l.resource[i]));
    row.extend(got_scope(b, l.scope[i]));
    row
}

// ---- comparing ----

/// Reads one row of a table of the batch.
type GotRow = fn(&LogsBatch, usize) -> Row<Got>;

/// Every column of every row `want` expects, against the batch.
fn check(b: &LogsBatch, want: &Expected) -> Result<(), TestCaseError> {
    let (from, now) = (want.base, Base::of(b));
    let tables = [
        (
            "resources",
            &want.resources,
            from.resources,
            now.resources,
            got_resource as GotRow,
        ),
        ("scopes", &want.scopes, from.scopes, now.scopes, got_scope),
        ("otel_logs", &want.logs, from.logs, now.logs, got_log),
    ];
    for (table, rows, first, len, got) in tables {
        prop_assert!(
            first + rows.len() <= len,
            "{table}: {len} rows, expected at least {}",
            first + rows.len()
        );
        for (n, want) in rows.iter().enumerate() {
            let row = first + n;
            let got = got(b, row);
            for ((column, w), (name, g)) in want.iter().zip(&got) {
                assert_eq!(
                    column, name,
                    "the reference and the reader list the columns alike"
                );
                if let Err(why) = check_cell(w, g) {
                    return Err(TestCaseError::fail(format!(
                        "{table} row {row}, column {column}: {why}\n  expected: {w:?}\n  actual:   {g:?}"
                    )));
                }
            }
        }
    }
    Ok(())
}

/// The batch's columns agree with each other: every table's columns have the same
/// length, no map row is half built, and every row's resource and scope exist.
fn consistent(b: &LogsBatch) -> Result<(), TestCaseError> {
    let r = &b.resources;
    let resources = r.service_name.len();
    prop_assert!(r.schema_url.len() == resources && r.attributes.len() == resources);
    prop_assert_eq!(r.attributes.pending(), 0);
    let s = &b.scopes;
    let scopes = s.name.len();
    prop_assert!(
        s.version.len() == scopes && s.schema_url.len() == scopes && s.attributes.len() == scopes
    );
    prop_assert_eq!(s.attributes.pending(), 0);
    for rows in [&b.logs, &b.sessions] {
        let lens = [
            rows.trace_id.len(),
            rows.span_id.len(),
            rows.trace_flags.len(),
            rows.severity_text.len(),
            rows.severity_number.len(),
            rows.body.len(),
            rows.attributes.len(),
            rows.event_name.len(),
            rows.resource.len(),
            rows.scope.len(),
        ];
        prop_assert!(
            lens.iter().all(|&n| n == rows.len()),
            "{:?} vs {}",
            lens,
            rows.len()
        );
        prop_assert_eq!(rows.attributes.pending(), 0);
        prop_assert!(rows.resource.iter().all(|&i| i < resources));
        prop_assert!(rows.scope.iter().all(|&i| i < scopes));
    }
    Ok(())
}

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
    consistent(batch)?;
    check(batch, &want).map_err(|e| fail(e.to_string()))?;
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
        check(&batch, &want_a)?;

        let mut bad = if b.is_empty() { a } else { b };
        apply(&damage, &mut bad);
        let before = format!("{batch:?}");
        let (mark, rows, byte_len) = (batch.mark(), batch.rows(), batch.byte_len());
        match decode_logs(&bad, &mut batch, &raw()) {
            Ok(decoded) => {
                consistent(&batch)?;
                prop_assert_eq!(batch.rows(), rows + decoded.logs + decoded.sessions);
                check(&batch, &want_a)?;
                check(&batch, &want_b)?;
                // Where prost reads the damaged bytes too, it finds as many records.
                if let Ok(reference) = ExportLogsServiceRequest::decode(bad.as_slice()) {
                    prop_assert_eq!(decoded.logs, records(&reference), "{:02x?}", bad);
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
