//! `ExportTraceServiceRequest` → `otel_traces` rows, from the column table of the
//! `traces` module doc: a span's resource and scope columns, its events and links.

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::InstrumentationScope;
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};

use super::{
    Got, Row, Want, check_row, ensure, go_map, got_map, got_str, id, same_len, service_name,
    text_cell,
};
use crate::columns::traces::TracesBatch;
use crate::columns::{Resources, Scopes};
use crate::rowbinary::traces::{span_kind_name, status_code_name};

// ---- the reference mapping ----

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
        ("ServiceName", text_cell(service_name(&r.attributes))),
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

pub(crate) fn expected(req: &ExportTraceServiceRequest) -> Vec<Row<Want>> {
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

// ---- comparing ----

/// Every cell of the spans from row `first` on against `want`.
pub(crate) fn check(b: &TracesBatch, first: usize, want: &[Row<Want>]) -> Result<(), String> {
    ensure!(
        first + want.len() <= b.rows(),
        "otel_traces: {} rows, expected at least {}",
        b.rows(),
        first + want.len()
    );
    for (n, want) in want.iter().enumerate() {
        check_row("otel_traces", first + n, want, &got_span(b, first + n))?;
    }
    Ok(())
}

/// The batch's columns agree with each other.
pub(crate) fn consistent(b: &TracesBatch) -> Result<(), String> {
    let s = &b.spans;
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
    same_len("spans", s.len(), &lens)?;
    ensure!(s.attributes.pending() == 0, "a span map row is half built");
    let ev = &s.events;
    ensure!(
        ev.ends.last().copied().unwrap_or(0) == ev.len(),
        "the last span's events do not end the events"
    );
    same_len("events", ev.len(), &[ev.name.len(), ev.attributes.len()])?;
    let ln = &s.links;
    ensure!(
        ln.ends.last().copied().unwrap_or(0) == ln.len(),
        "the last span's links do not end the links"
    );
    same_len("links", ln.len(), &[ln.span_id.len(), ln.attributes.len()])?;
    ensure!(
        s.resource.iter().all(|&i| i < b.resources.len()),
        "a span's resource is missing"
    );
    ensure!(
        s.scope.iter().all(|&i| i < b.scopes.len()),
        "a span's scope is missing"
    );
    Ok(())
}
