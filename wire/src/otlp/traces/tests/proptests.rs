//! Property tests against prost: random valid `ExportTraceServiceRequest`s, built with
//! the `opentelemetry-proto` types and encoded by prost, must decode to the rows that
//! a reference mapping of prost's own reading of the same bytes gives, column by
//! column; a second request must append without touching the first; damaged bytes
//! must decode or fail without a trace, never panic.
//!
//! The reference mapping ([`want_span`]) is written from the column table of the
//! `traces` module doc and the exporter's behaviour, not from the decoder's code;
//! `AnyValue`s go through the Go model of [`testgen`](crate::otlp::testgen).

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{InstrumentationScope, any_value::Value};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use proptest::collection::vec;
use proptest::prelude::*;
use prost::Message as _;

use super::*;
use crate::columns::{Resources, Scopes};
use crate::otlp::common::SERVICE_NAME;
use crate::otlp::testgen::{
    Got, Row, Want, apply, check_cell, damage, go_map, got_map, got_str, text_cell, trace_request,
};
use crate::rowbinary::traces::{span_kind_name, status_code_name};

// ---- the reference mapping ----

fn id(id: &[u8], len: usize) -> Want {
    Want::Bytes(if id.is_empty() {
        vec![0; len]
    } else {
        id.to_vec()
    })
}

/// pdata's `SpanKind.String()`.
fn kind_name(kind: i32) -> &'static str {
    [
        "Unspecified",
        "Internal",
        "Server",
        "Client",
        "Producer",
        "Consumer",
    ]
    .get(kind as usize)
    .copied()
    .filter(|_| kind >= 0)
    .unwrap_or("")
}

/// pdata's `StatusCode.String()`.
fn code_name(code: i32) -> &'static str {
    match code {
        0 => "Unset",
        1 => "Ok",
        2 => "Error",
        _ => "",
    }
}

/// The `otel_traces` columns of one span, its resource's and scope's included.
fn want_span(rs: &ResourceSpans, ss: &ScopeSpans, s: &Span) -> Row<Want> {
    let default_resource = Resource::default();
    let r = rs.resource.as_ref().unwrap_or(&default_resource);
    // The exporter reads `Get("service.name").Str()`: the first entry with the key,
    // empty unless its value is a string.
    let service = r
        .attributes
        .iter()
        .find(|kv| kv.key == SERVICE_NAME)
        .and_then(|kv| match kv.value.as_ref()?.value.as_ref()? {
            Value::StringValue(s) => Some(s.as_str()),
            _ => None,
        })
        .unwrap_or("");
    let default_scope = InstrumentationScope::default();
    let scope = ss.scope.as_ref().unwrap_or(&default_scope);
    let status = s.status.clone().unwrap_or_default();
    let mut row = vec![
        ("Timestamp", Want::Num(s.start_time_unix_nano)),
        ("TraceId", id(&s.trace_id, 16)),
        ("SpanId", id(&s.span_id, 8)),
        ("ParentSpanId", id(&s.parent_span_id, 8)),
        ("TraceState", text_cell(&s.trace_state)),
        ("SpanName", text_cell(&s.name)),
        ("SpanKind", text_cell(kind_name(s.kind))),
        ("ServiceName", text_cell(service)),
        ("ResourceAttributes", go_map(&r.attributes)),
        ("ScopeName", text_cell(&scope.name)),
        ("ScopeVersion", text_cell(&scope.version)),
        ("SpanAttributes", go_map(&s.attributes)),
        (
            "Duration",
            Want::Num(s.end_time_unix_nano.wrapping_sub(s.start_time_unix_nano)),
        ),
        ("StatusCode", text_cell(code_name(status.code))),
        ("StatusMessage", text_cell(&status.message)),
        ("(events)", Want::Num(s.events.len() as u64)),
        ("(links)", Want::Num(s.links.len() as u64)),
    ];
    for e in &s.events {
        row.push(("Events.Timestamp", Want::Num(e.time_unix_nano)));
        row.push(("Events.Name", text_cell(&e.name)));
        row.push(("Events.Attributes", go_map(&e.attributes)));
    }
    for l in &s.links {
        row.push(("Links.TraceId", id(&l.trace_id, 16)));
        row.push(("Links.SpanId", id(&l.span_id, 8)));
        row.push(("Links.TraceState", text_cell(&l.trace_state)));
        row.push(("Links.Attributes", go_map(&l.attributes)));
    }
    row
}

fn expected(req: &ExportTraceServiceRequest) -> Vec<Row<Want>> {
    let mut rows = Vec::new();
    for rs in &req.resource_spans {
        for ss in &rs.scope_spans {
            for s in &ss.spans {
                rows.push(want_span(rs, ss, s));
            }
        }
    }
    rows
}

// ---- what the decoder wrote ----

fn got_span(b: &TracesBatch, i: usize) -> Row<Got> {
    let s = &b.spans;
    let (r, sc): (&Resources, &Scopes) = (&b.resources, &b.scopes);
    let (res, scope) = (s.resource[i], s.scope[i]);
    let name = |n: &str| Got::Str(n.to_owned());
    let (events, links) = (s.events.of(i), s.links.of(i));
    let mut row = vec![
        ("Timestamp", Got::Num(s.timestamp[i])),
        ("TraceId", Got::Bytes(s.trace_id[i].to_vec())),
        ("SpanId", Got::Bytes(s.span_id[i].to_vec())),
        ("ParentSpanId", Got::Bytes(s.parent_span_id[i].to_vec())),
        ("TraceState", got_str(&s.trace_state, i)),
        ("SpanName", got_str(&s.name, i)),
        ("SpanKind", name(span_kind_name(s.kind[i]))),
        ("ServiceName", got_str(&r.service_name, res)),
        ("ResourceAttributes", got_map(&r.attributes, res)),
        ("ScopeName", got_str(&sc.name, scope)),
        ("ScopeVersion", got_str(&sc.version, scope)),
        ("SpanAttributes", got_map(&s.attributes, i)),
        ("Duration", Got::Num(s.duration[i])),
        ("StatusCode", name(status_code_name(s.status_code[i]))),
        ("StatusMessage", got_str(&s.status_message, i)),
        ("(events)", Got::Num(events.len() as u64)),
        ("(links)", Got::Num(links.len() as u64)),
    ];
    let ev = &s.events;
    for e in events {
        row.push(("Events.Timestamp", Got::Num(ev.timestamp[e])));
        row.push(("Events.Name", got_str(&ev.name, e)));
        row.push(("Events.Attributes", got_map(&ev.attributes, e)));
    }
    let ln = &s.links;
    for l in links {
        row.push(("Links.TraceId", Got::Bytes(ln.trace_id[l].to_vec())));
        row.push(("Links.SpanId", Got::Bytes(ln.span_id[l].to_vec())));
        row.push(("Links.TraceState", got_str(&ln.trace_state, l)));
        row.push(("Links.Attributes", got_map(&ln.attributes, l)));
    }
    row
}

/// Every cell of the spans from row `first` on against `want`.
fn check(b: &TracesBatch, first: usize, want: &[Row<Want>]) -> Result<(), TestCaseError> {
    prop_assert!(first + want.len() <= b.rows());
    for (n, want) in want.iter().enumerate() {
        let got = got_span(b, first + n);
        let want_columns: Vec<&str> = want.iter().map(|(c, _)| *c).collect();
        let got_columns: Vec<&str> = got.iter().map(|(c, _)| *c).collect();
        prop_assert_eq!(want_columns, got_columns, "span {}", first + n);
        for ((column, w), (_, g)) in want.iter().zip(&got) {
            if let Err(why) = check_cell(w, g) {
                return Err(TestCaseError::fail(format!(
                    "span {}, column {column}: {why}\n  expected: {w:?}\n  actual:   {g:?}",
                    first + n
                )));
            }
        }
    }
    Ok(())
}

/// The batch's columns agree with each other.
fn consistent(b: &TracesBatch) -> Result<(), TestCaseError> {
    let s = &b.spans;
    let n = s.len();
    let lens = [
        s.duration.len(),
        s.trace_id.len(),
        s.span_id.len(),
        s.parent_span_id.len(),
        s.trace_state.len(),
        s.name.len(),
        s.kind.len(),
        s.attributes.len(),
        s.status_code.len(),
        s.status_message.len(),
        s.events.ends.len(),
        s.links.ends.len(),
        s.resource.len(),
        s.scope.len(),
    ];
    prop_assert!(lens.iter().all(|&l| l == n), "{:?} vs {}", lens, n);
    prop_assert_eq!(s.attributes.pending(), 0);
    let ev = &s.events;
    prop_assert_eq!(ev.ends.last().copied().unwrap_or(0), ev.len());
    prop_assert!(ev.name.len() == ev.len() && ev.attributes.len() == ev.len());
    let ln = &s.links;
    prop_assert_eq!(ln.ends.last().copied().unwrap_or(0), ln.len());
    prop_assert!(ln.span_id.len() == ln.len() && ln.attributes.len() == ln.len());
    prop_assert!(s.resource.iter().all(|&i| i < b.resources.len()));
    prop_assert!(s.scope.iter().all(|&i| i < b.scopes.len()));
    Ok(())
}

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
    consistent(batch)?;
    check(batch, first, &want)?;
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
        check(&batch, at_a, &want_a)?;

        let mut bad = if b.is_empty() { a } else { b };
        apply(&damage, &mut bad);
        let before = format!("{batch:?}");
        let (mark, rows) = (batch.mark(), batch.rows());
        match decode_traces(&bad, &mut batch) {
            Ok(decoded) => {
                consistent(&batch)?;
                prop_assert_eq!(batch.rows(), rows + decoded.spans);
                check(&batch, at_a, &want_a)?;
                check(&batch, at_b, &want_b)?;
                if let Ok(reference) = ExportTraceServiceRequest::decode(bad.as_slice()) {
                    prop_assert_eq!(decoded.spans, expected(&reference).len(), "{:02x?}", bad);
                }
            }
            Err(_) => {
                prop_assert_eq!(batch.mark(), mark);
                prop_assert!(format!("{batch:?}") == before, "a failed request left a trace");
            }
        }
    }
}
