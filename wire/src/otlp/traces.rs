//! `ExportTraceServiceRequest` protobuf → the `otel_traces` columns.
//!
//! # Request lifecycle
//!
//! [`decode_traces`] walks the request once, span by span, and appends each span to
//! the [`TracesBatch`] of the shard that received it, as [`decode_logs`](super::logs::decode_logs)
//! does for records: resource and scope rows are read once per `ResourceSpans` /
//! `ScopeSpans` (the shared readers of `otlp::common`), strings are copied once from
//! the request into the column arenas, and a span's attributes, events and links go
//! straight into their arenas as they are read. On any error the batch is rolled
//! back to where it stood. The rows are written by `traces/span.rs`, which the
//! OTLP/JSON reader ([`super::json::decode_traces_json`]) shares. There is no
//! ClickStack processing for spans.
//!
//! # Columns
//!
//! | column | OTLP field | notes |
//! |---|---|---|
//! | `Timestamp` | `Span.start_time_unix_nano` | |
//! | `TraceId`, `SpanId`, `ParentSpanId` | `trace_id`, `span_id`, `parent_span_id` | 16 / 8 bytes or empty; hex, empty when all zero |
//! | `TraceState`, `SpanName` | `trace_state`, `name` | |
//! | `SpanKind` | `kind` | named when encoded (`Server`, …; `""` for an unknown number) |
//! | `ServiceName` | resource attribute `service.name` | when it is a string |
//! | `ResourceAttributes` | `Resource.attributes` | |
//! | `ScopeName`, `ScopeVersion` | `InstrumentationScope` | |
//! | `SpanAttributes` | `attributes` | |
//! | `Duration` | `end_time_unix_nano - start_time_unix_nano` | unsigned, wrapping |
//! | `StatusCode`, `StatusMessage` | `status.code`, `status.message` | code named when encoded (`Unset`, `Ok`, `Error`) |
//! | `Events.Timestamp`, `Events.Name`, `Events.Attributes` | `events[].time_unix_nano`, `name`, `attributes` | |
//! | `Links.TraceId`, `Links.SpanId`, `Links.TraceState`, `Links.Attributes` | `links[].…` | |
//!
//! # Protobuf semantics
//!
//! As for logs: fields in any order (a `resource` after its `scope_spans`, too),
//! unknown fields skipped (the deprecated `Status` field 1 among them), the last
//! occurrence of a singular field wins, a `status` that occurs twice is merged. A
//! known field with the wrong wire type, a trace id that is not 16 bytes or a span id
//! not 8 (empty is absent), and invalid UTF-8 are errors.

mod span;

pub(crate) use span::{
    Event, Link, Span, event_attribute, finish_event, finish_link, finish_span, link_attribute,
    span_attribute,
};

use crate::columns::traces::{SpanRows, TracesBatch};
use crate::proto::{DecodeError, Reader, WireType};

use super::common::{fixed_id, read_resource, read_scope};
use super::value::parse_key_value;

/// What one request added.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TracesDecoded {
    /// Spans added to `otel_traces`.
    pub spans: usize,
}

/// Decodes one `ExportTraceServiceRequest` into `out`; on error `out` is unchanged.
pub fn decode_traces(request: &[u8], out: &mut TracesBatch) -> Result<TracesDecoded, DecodeError> {
    let mark = out.mark();
    let before = out.rows();
    match self::request(Reader::new(request), out) {
        Ok(()) => Ok(TracesDecoded {
            spans: out.rows() - before,
        }),
        Err(e) => {
            out.rollback(mark);
            Err(e)
        }
    }
}

fn request(mut r: Reader<'_>, out: &mut TracesBatch) -> Result<(), DecodeError> {
    while let Some((field, wire)) = r.field()? {
        match (field, wire) {
            (1, WireType::Len) => resource_spans(r.message()?, out)?,
            (1, w) => return Err(r.wrong_type(field, w)),
            (_, w) => r.skip(w)?,
        }
    }
    Ok(())
}

/// `ResourceSpans`: the resource first (wherever it is), then its scopes.
fn resource_spans(rs: Reader<'_>, out: &mut TracesBatch) -> Result<(), DecodeError> {
    let resource = read_resource(rs, &mut out.resources)?;
    let mut r = rs;
    while let Some((field, wire)) = r.field()? {
        match field {
            2 => scope_spans(r.message()?, resource, out)?,
            _ => r.skip(wire)?,
        }
    }
    Ok(())
}

/// `ScopeSpans`: the scope first (wherever it is), then its spans.
fn scope_spans(ss: Reader<'_>, resource: usize, out: &mut TracesBatch) -> Result<(), DecodeError> {
    let scope = read_scope(ss, &mut out.scopes)?;
    let mut r = ss;
    while let Some((field, wire)) = r.field()? {
        match field {
            2 => span(r.message()?, Span::new(resource, scope), out)?,
            _ => r.skip(wire)?,
        }
    }
    Ok(())
}

/// One `Span`: its attributes, events and links are pushed as they come; its row
/// is written at its end.
fn span<'a>(mut r: Reader<'a>, mut s: Span<'a>, out: &mut TracesBatch) -> Result<(), DecodeError> {
    let rows = &mut out.spans;
    while let Some((field, wire)) = r.field()? {
        match (field, wire) {
            (1, WireType::Len) => s.trace_id = fixed_id(&mut r, 1)?,
            (2, WireType::Len) => s.span_id = fixed_id(&mut r, 2)?,
            (3, WireType::Len) => s.trace_state = r.str(3)?,
            (4, WireType::Len) => s.parent_span_id = fixed_id(&mut r, 4)?,
            (5, WireType::Len) => s.name = r.str(5)?,
            // An enum is an int32 on the wire, sign-extended to 64 bits.
            (6, WireType::Varint) => s.kind = r.varint()? as i32,
            (7, WireType::Fixed64) => s.start = r.fixed64()?,
            (8, WireType::Fixed64) => s.end = r.fixed64()?,
            (9, WireType::Len) => {
                let (key, value) = parse_key_value(r.message()?)?;
                span_attribute(rows, key, &value)?;
            }
            (10 | 12 | 14, WireType::Varint) => drop(r.varint()?),
            (11, WireType::Len) => event(r.message()?, rows)?,
            (13, WireType::Len) => link(r.message()?, rows)?,
            // A status that occurs twice is merged: its fields land on the same span.
            (15, WireType::Len) => status(r.message()?, &mut s)?,
            (16, WireType::Fixed32) => drop(r.fixed32()?),
            (1..=16, w) => return Err(r.wrong_type(field, w)),
            (_, w) => r.skip(w)?,
        }
    }
    finish_span(rows, &s);
    Ok(())
}

/// `Span.Event`.
fn event(mut r: Reader<'_>, rows: &mut SpanRows) -> Result<(), DecodeError> {
    let mut e = Event::default();
    while let Some((field, wire)) = r.field()? {
        match (field, wire) {
            (1, WireType::Fixed64) => e.time = r.fixed64()?,
            (2, WireType::Len) => e.name = r.str(2)?,
            (3, WireType::Len) => {
                let (key, value) = parse_key_value(r.message()?)?;
                event_attribute(rows, key, &value)?;
            }
            (4, WireType::Varint) => drop(r.varint()?),
            (1..=4, w) => return Err(r.wrong_type(field, w)),
            (_, w) => r.skip(w)?,
        }
    }
    finish_event(rows, &e);
    Ok(())
}

/// `Span.Link`.
fn link(mut r: Reader<'_>, rows: &mut SpanRows) -> Result<(), DecodeError> {
    let mut l = Link::default();
    while let Some((field, wire)) = r.field()? {
        match (field, wire) {
            (1, WireType::Len) => l.trace_id = fixed_id(&mut r, 1)?,
            (2, WireType::Len) => l.span_id = fixed_id(&mut r, 2)?,
            (3, WireType::Len) => l.trace_state = r.str(3)?,
            (4, WireType::Len) => {
                let (key, value) = parse_key_value(r.message()?)?;
                link_attribute(rows, key, &value)?;
            }
            (5, WireType::Varint) => drop(r.varint()?),
            (6, WireType::Fixed32) => drop(r.fixed32()?),
            (1..=6, w) => return Err(r.wrong_type(field, w)),
            (_, w) => r.skip(w)?,
        }
    }
    finish_link(rows, &l);
    Ok(())
}

/// `Status` (field 1 is reserved: skipped as unknown).
fn status<'a>(mut r: Reader<'a>, s: &mut Span<'a>) -> Result<(), DecodeError> {
    while let Some((field, wire)) = r.field()? {
        match (field, wire) {
            (2, WireType::Len) => s.status_message = r.str(2)?,
            (3, WireType::Varint) => s.status_code = r.varint()? as i32,
            (2 | 3, w) => return Err(r.wrong_type(field, w)),
            (_, w) => r.skip(w)?,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
