//! The column buffers of `otel_traces`.
//!
//! A [`TracesBatch`] holds resource and scope rows ([`Resources`], [`Scopes`], the
//! same types the log tables use) and one [`SpanRows`] row per span, which points at
//! its resource and scope by index. A span's events and links are `Nested` columns in
//! ClickHouse (`Events.Name`, `Links.TraceId`, … each an `Array`): here each is an
//! arena of all spans' events ([`Events`]) or links ([`Links`]), with the end index of
//! each span's slice, as [`Maps`] keeps its entries. So a span with events costs no
//! allocation of its own.
//!
//! # Invariants
//!
//! - Every column of [`SpanRows`] holds the same number of rows once a span is
//!   complete, and `events.ends` / `links.ends` hold one end per span.
//! - A span's events and links are pushed (each finished) before the span's own row;
//!   [`TracesBatch::rollback`] drops the items of spans past the mark with them.

use super::{Maps, Strings};
pub use super::{Resources, Scopes};

/// The events of all spans: one row per event, and the end event of each span.
#[derive(Clone, Debug, Default)]
pub struct Events {
    /// `Events.Timestamp`: `Event.time_unix_nano`.
    pub timestamp: Vec<u64>,
    /// `Events.Name`.
    pub name: Strings,
    /// `Events.Attributes`.
    pub attributes: Maps,
    /// Per span: the index one past its last event.
    pub ends: Vec<usize>,
}

impl Events {
    /// The events of span `span`, as a range of event rows.
    #[inline]
    pub fn of(&self, span: usize) -> core::ops::Range<usize> {
        span_items(&self.ends, span)
    }

    /// Events written so far (each once it is finished).
    #[inline]
    pub fn len(&self) -> usize {
        self.timestamp.len()
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.timestamp.is_empty()
    }

    /// Closes the current span's list of events.
    #[inline]
    pub fn finish_span(&mut self) {
        self.ends.push(self.len());
    }

    /// Keeps the events of the first `spans` spans.
    fn truncate_spans(&mut self, spans: usize) {
        self.ends.truncate(spans);
        let keep = self.ends.last().copied().unwrap_or(0);
        self.timestamp.truncate(keep);
        self.name.truncate(keep);
        self.attributes.truncate(keep);
    }

    fn byte_len(&self) -> usize {
        (self.timestamp.len() + self.ends.len()) * 8
            + self.name.byte_len()
            + self.attributes.byte_len()
    }
}

/// The links of all spans: one row per link, and the end link of each span.
#[derive(Clone, Debug, Default)]
pub struct Links {
    /// `Links.TraceId`: 16 bytes, all zero when absent (written as an empty string).
    pub trace_id: Vec<[u8; 16]>,
    /// `Links.SpanId`: 8 bytes, all zero when absent.
    pub span_id: Vec<[u8; 8]>,
    /// `Links.TraceState`.
    pub trace_state: Strings,
    /// `Links.Attributes`.
    pub attributes: Maps,
    /// Per span: the index one past its last link.
    pub ends: Vec<usize>,
}

impl Links {
    /// The links of span `span`, as a range of link rows.
    #[inline]
    pub fn of(&self, span: usize) -> core::ops::Range<usize> {
        span_items(&self.ends, span)
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.trace_id.len()
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.trace_id.is_empty()
    }

    /// Closes the current span's list of links.
    #[inline]
    pub fn finish_span(&mut self) {
        self.ends.push(self.len());
    }

    /// Keeps the links of the first `spans` spans.
    fn truncate_spans(&mut self, spans: usize) {
        self.ends.truncate(spans);
        let keep = self.ends.last().copied().unwrap_or(0);
        self.trace_id.truncate(keep);
        self.span_id.truncate(keep);
        self.trace_state.truncate(keep);
        self.attributes.truncate(keep);
    }

    fn byte_len(&self) -> usize {
        self.trace_id.len() * 24
            + self.ends.len() * 8
            + self.trace_state.byte_len()
            + self.attributes.byte_len()
    }
}

/// The items of span `span` in an arena with per-span `ends`.
#[inline]
fn span_items(ends: &[usize], span: usize) -> core::ops::Range<usize> {
    let start = if span == 0 { 0 } else { ends[span - 1] };
    start..ends[span]
}

/// The per-span columns of `otel_traces`.
#[derive(Clone, Debug, Default)]
pub struct SpanRows {
    /// `Timestamp`: `start_time_unix_nano`.
    pub timestamp: Vec<u64>,
    /// `Duration`: `end_time_unix_nano - start_time_unix_nano`, wrapping (the exporter
    /// subtracts `uint64`s).
    pub duration: Vec<u64>,
    /// `TraceId`: 16 bytes, all zero when absent (written as an empty string).
    pub trace_id: Vec<[u8; 16]>,
    /// `SpanId`: 8 bytes, all zero when absent.
    pub span_id: Vec<[u8; 8]>,
    /// `ParentSpanId`: all zero for a root span.
    pub parent_span_id: Vec<[u8; 8]>,
    /// `TraceState`.
    pub trace_state: Strings,
    /// `SpanName`.
    pub name: Strings,
    /// `SpanKind`: the enum's number (named when encoded).
    pub kind: Vec<i32>,
    /// `SpanAttributes`.
    pub attributes: Maps,
    /// `StatusCode`: the enum's number (named when encoded).
    pub status_code: Vec<i32>,
    /// `StatusMessage`.
    pub status_message: Strings,
    /// `Events.*`.
    pub events: Events,
    /// `Links.*`.
    pub links: Links,
    /// Row index into [`Resources`].
    pub resource: Vec<usize>,
    /// Row index into [`Scopes`].
    pub scope: Vec<usize>,
}

impl SpanRows {
    #[inline]
    pub fn len(&self) -> usize {
        self.timestamp.len()
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.timestamp.is_empty()
    }

    fn truncate(&mut self, rows: usize) {
        self.timestamp.truncate(rows);
        self.duration.truncate(rows);
        self.trace_id.truncate(rows);
        self.span_id.truncate(rows);
        self.parent_span_id.truncate(rows);
        self.trace_state.truncate(rows);
        self.name.truncate(rows);
        self.kind.truncate(rows);
        self.attributes.truncate(rows);
        self.status_code.truncate(rows);
        self.status_message.truncate(rows);
        self.events.truncate_spans(rows);
        self.links.truncate_spans(rows);
        self.resource.truncate(rows);
        self.scope.truncate(rows);
    }

    fn byte_len(&self) -> usize {
        // Fixed-size columns: 8 + 8 + 16 + 8 + 8 + 4 + 4 + 8 + 8 bytes a row.
        self.len() * 72
            + self.trace_state.byte_len()
            + self.name.byte_len()
            + self.attributes.byte_len()
            + self.status_message.byte_len()
            + self.events.byte_len()
            + self.links.byte_len()
    }
}

/// Where a batch stood before a request was decoded into it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mark {
    resources: usize,
    scopes: usize,
    spans: usize,
}

/// The rows of `otel_traces` waiting to be sealed.
#[derive(Clone, Debug, Default)]
pub struct TracesBatch {
    pub resources: Resources,
    pub scopes: Scopes,
    pub spans: SpanRows,
}

impl TracesBatch {
    pub fn mark(&self) -> Mark {
        Mark {
            resources: self.resources.len(),
            scopes: self.scopes.len(),
            spans: self.spans.len(),
        }
    }

    /// Drops everything appended since `mark` (a request that failed to decode),
    /// including events, links and attributes of a span half read.
    pub fn rollback(&mut self, mark: Mark) {
        self.resources.truncate(mark.resources);
        self.scopes.truncate(mark.scopes);
        self.spans.truncate(mark.spans);
    }

    /// Empties the batch, keeping its buffers' capacity.
    pub fn clear(&mut self) {
        self.rollback(Mark {
            resources: 0,
            scopes: 0,
            spans: 0,
        });
    }

    /// Spans held.
    pub fn rows(&self) -> usize {
        self.spans.len()
    }

    /// Approximate bytes held, for sealing batches by size.
    pub fn byte_len(&self) -> usize {
        self.resources.byte_len() + self.scopes.byte_len() + self.spans.byte_len()
    }
}
