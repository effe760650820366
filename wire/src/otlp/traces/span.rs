//! Rows from decoded spans: the part of traces decoding that protobuf and OTLP/JSON
//! share.
//!
//! A format reads a `Span`'s scalar fields into a [`Span`] and writes its row with
//! [`finish_span`]; attributes, events and links are pushed as the format meets them
//! ([`span_attribute`], [`event_attribute`] + [`finish_event`], [`link_attribute`] +
//! [`finish_link`]), each into its own arena, so nothing waits for the span to close.
//! Everything is generic over [`ValueView`], so both formats stringify alike.
//!
//! # Invariants
//!
//! - A span's events and links are finished before the span is.
//! - On error, rows may be half written; the caller rolls the batch back to the mark
//!   it took before the request ([`TracesBatch::rollback`](crate::columns::traces::TracesBatch::rollback)).

use crate::columns::traces::SpanRows;
use crate::otlp::value::ValueView;

/// The scalar fields of one `Span`, decoded, before they go into columns.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Span<'v> {
    /// All zero when absent.
    pub trace_id: [u8; 16],
    /// All zero when absent.
    pub span_id: [u8; 8],
    /// All zero for a root span.
    pub parent_span_id: [u8; 8],
    pub trace_state: &'v str,
    pub name: &'v str,
    /// `SpanKind`, as sent (any `int32`).
    pub kind: i32,
    pub start: u64,
    pub end: u64,
    /// `Status.code`, as sent (any `int32`).
    pub status_code: i32,
    pub status_message: &'v str,
    /// Row index into the batch's resources.
    pub resource: usize,
    /// Row index into the batch's scopes.
    pub scope: usize,
}

impl Span<'_> {
    /// A span with every field at its default, under `resource` and `scope`.
    pub fn new(resource: usize, scope: usize) -> Self {
        Span {
            trace_id: [0; 16],
            span_id: [0; 8],
            parent_span_id: [0; 8],
            trace_state: "",
            name: "",
            kind: 0,
            start: 0,
            end: 0,
            status_code: 0,
            status_message: "",
            resource,
            scope,
        }
    }
}

/// A span attribute: into `SpanAttributes` of the span being read.
#[inline]
pub(crate) fn span_attribute<'v, V: ValueView<'v>>(
    out: &mut SpanRows,
    key: &str,
    value: &V,
) -> Result<(), V::Error> {
    out.attributes
        .push_entry_with(key.as_bytes(), |b| value.write_as_string(b))
}

/// Writes the span's row, closing its attributes, events and links.
pub(crate) fn finish_span(out: &mut SpanRows, s: &Span<'_>) {
    out.attributes.finish_row();
    out.events.finish_span();
    out.links.finish_span();
    out.timestamp.push(s.start);
    // The exporter subtracts `uint64` timestamps: an end before the start wraps.
    out.duration.push(s.end.wrapping_sub(s.start));
    out.trace_id.push(s.trace_id);
    out.span_id.push(s.span_id);
    out.parent_span_id.push(s.parent_span_id);
    out.trace_state.push(s.trace_state.as_bytes());
    out.name.push(s.name.as_bytes());
    out.kind.push(s.kind);
    out.status_code.push(s.status_code);
    out.status_message.push(s.status_message.as_bytes());
    out.resource.push(s.resource);
    out.scope.push(s.scope);
}

/// The scalar fields of one `Span.Event`.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Event<'v> {
    pub time: u64,
    pub name: &'v str,
}

/// An event attribute: into the attributes of the event being read.
#[inline]
pub(crate) fn event_attribute<'v, V: ValueView<'v>>(
    out: &mut SpanRows,
    key: &str,
    value: &V,
) -> Result<(), V::Error> {
    out.events
        .attributes
        .push_entry_with(key.as_bytes(), |b| value.write_as_string(b))
}

/// Writes the event's row, closing its attributes.
pub(crate) fn finish_event(out: &mut SpanRows, e: &Event<'_>) {
    let ev = &mut out.events;
    ev.attributes.finish_row();
    ev.timestamp.push(e.time);
    ev.name.push(e.name.as_bytes());
}

/// The scalar fields of one `Span.Link`.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Link<'v> {
    /// All zero when absent.
    pub trace_id: [u8; 16],
    /// All zero when absent.
    pub span_id: [u8; 8],
    pub trace_state: &'v str,
}

/// A link attribute: into the attributes of the link being read.
#[inline]
pub(crate) fn link_attribute<'v, V: ValueView<'v>>(
    out: &mut SpanRows,
    key: &str,
    value: &V,
) -> Result<(), V::Error> {
    out.links
        .attributes
        .push_entry_with(key.as_bytes(), |b| value.write_as_string(b))
}

/// Writes the link's row, closing its attributes.
pub(crate) fn finish_link(out: &mut SpanRows, l: &Link<'_>) {
    let links = &mut out.links;
    links.attributes.finish_row();
    links.trace_id.push(l.trace_id);
    links.span_id.push(l.span_id);
    links.trace_state.push(l.trace_state.as_bytes());
}
