//! RowBinary for `otel_traces`.
//!
//! The INSERT lists the columns the table has (the engine asks `DESCRIBE TABLE`);
//! [`TraceColumn`] names every stored column of ClickStack's `otel_traces`, and
//! [`encode_traces`] writes rows for any subset, in the order given.
//!
//! | column | ClickHouse type | from |
//! |---|---|---|
//! | `Timestamp` | `DateTime64(9)` | `SpanRows::timestamp` (start time) |
//! | `TraceId`, `SpanId`, `ParentSpanId` | `String` | hex of the id, empty when zero |
//! | `TraceState`, `StatusMessage` | `String` | |
//! | `SpanName` | `LowCardinality(String)` | |
//! | `SpanKind` | `LowCardinality(String)` | [`span_kind_name`] |
//! | `ServiceName` | `LowCardinality(String)` | the row's resource |
//! | `ResourceAttributes` | `Map(LowCardinality(String), String)` | the row's resource |
//! | `ScopeName`, `ScopeVersion` | `String` | the row's scope |
//! | `SpanAttributes` | `Map(LowCardinality(String), String)` | |
//! | `Duration` | `UInt64` | ns |
//! | `StatusCode` | `LowCardinality(String)` | [`status_code_name`] |
//! | `Events.Timestamp` | `Array(DateTime64(9))` | the span's events |
//! | `Events.Name` | `Array(LowCardinality(String))` | |
//! | `Events.Attributes` | `Array(Map(LowCardinality(String), String))` | |
//! | `Links.TraceId`, `Links.SpanId` | `Array(String)` | hex, empty when zero |
//! | `Links.TraceState` | `Array(String)` | |
//! | `Links.Attributes` | `Array(Map(LowCardinality(String), String))` | |

use super::{EncodedMaps, write_array, write_hex_id, write_leb128, write_map, write_str};
use crate::columns::traces::TracesBatch;

/// A stored column of `otel_traces`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TraceColumn {
    Timestamp,
    TraceId,
    SpanId,
    ParentSpanId,
    TraceState,
    SpanName,
    SpanKind,
    ServiceName,
    ResourceAttributes,
    ScopeName,
    ScopeVersion,
    SpanAttributes,
    Duration,
    StatusCode,
    StatusMessage,
    EventsTimestamp,
    EventsName,
    EventsAttributes,
    LinksTraceId,
    LinksSpanId,
    LinksTraceState,
    LinksAttributes,
}

impl TraceColumn {
    /// Every stored column, in the ClickStack `otel_traces` order.
    pub const ALL: [TraceColumn; 22] = [
        TraceColumn::Timestamp,
        TraceColumn::TraceId,
        TraceColumn::SpanId,
        TraceColumn::ParentSpanId,
        TraceColumn::TraceState,
        TraceColumn::SpanName,
        TraceColumn::SpanKind,
        TraceColumn::ServiceName,
        TraceColumn::ResourceAttributes,
        TraceColumn::ScopeName,
        TraceColumn::ScopeVersion,
        TraceColumn::SpanAttributes,
        TraceColumn::Duration,
        TraceColumn::StatusCode,
        TraceColumn::StatusMessage,
        TraceColumn::EventsTimestamp,
        TraceColumn::EventsName,
        TraceColumn::EventsAttributes,
        TraceColumn::LinksTraceId,
        TraceColumn::LinksSpanId,
        TraceColumn::LinksTraceState,
        TraceColumn::LinksAttributes,
    ];

    /// The ClickHouse column name.
    pub const fn name(self) -> &'static str {
        match self {
            TraceColumn::Timestamp => "Timestamp",
            TraceColumn::TraceId => "TraceId",
            TraceColumn::SpanId => "SpanId",
            TraceColumn::ParentSpanId => "ParentSpanId",
            TraceColumn::TraceState => "TraceState",
            TraceColumn::SpanName => "SpanName",
            TraceColumn::SpanKind => "SpanKind",
            TraceColumn::ServiceName => "ServiceName",
            TraceColumn::ResourceAttributes => "ResourceAttributes",
            TraceColumn::ScopeName => "ScopeName",
            TraceColumn::ScopeVersion => "ScopeVersion",
            TraceColumn::SpanAttributes => "SpanAttributes",
            TraceColumn::Duration => "Duration",
            TraceColumn::StatusCode => "StatusCode",
            TraceColumn::StatusMessage => "StatusMessage",
            TraceColumn::EventsTimestamp => "Events.Timestamp",
            TraceColumn::EventsName => "Events.Name",
            TraceColumn::EventsAttributes => "Events.Attributes",
            TraceColumn::LinksTraceId => "Links.TraceId",
            TraceColumn::LinksSpanId => "Links.SpanId",
            TraceColumn::LinksTraceState => "Links.TraceState",
            TraceColumn::LinksAttributes => "Links.Attributes",
        }
    }

    pub fn from_name(name: &str) -> Option<TraceColumn> {
        TraceColumn::ALL.into_iter().find(|c| c.name() == name)
    }
}

/// `SpanKind` as the exporter stores it: pdata's `ptrace.SpanKind.String()`, which
/// is empty for a number the enum does not define.
pub const fn span_kind_name(kind: i32) -> &'static str {
    match kind {
        0 => "Unspecified",
        1 => "Internal",
        2 => "Server",
        3 => "Client",
        4 => "Producer",
        5 => "Consumer",
        _ => "",
    }
}

/// `StatusCode` as the exporter stores it: pdata's `ptrace.StatusCode.String()`,
/// empty for a number the enum does not define.
pub const fn status_code_name(code: i32) -> &'static str {
    match code {
        0 => "Unset",
        1 => "Ok",
        2 => "Error",
        _ => "",
    }
}

/// Appends spans `range.start..range.end` (all: `0..batch.rows()`) of `batch` as
/// RowBinary with the given columns.
pub fn encode_traces(
    batch: &TracesBatch,
    columns: &[TraceColumn],
    range: core::ops::Range<usize>,
    out: &mut Vec<u8>,
) {
    let (spans, resources, scopes) = (&batch.spans, &batch.resources, &batch.scopes);
    let (events, links) = (&spans.events, &spans.links);
    let resource_maps = EncodedMaps::new(
        &resources.attributes,
        columns.contains(&TraceColumn::ResourceAttributes),
    );
    for i in range {
        let res = spans.resource[i];
        let scope = spans.scope[i];
        for col in columns {
            match col {
                TraceColumn::Timestamp => out.extend_from_slice(&spans.timestamp[i].to_le_bytes()),
                TraceColumn::TraceId => write_hex_id(&spans.trace_id[i], out),
                TraceColumn::SpanId => write_hex_id(&spans.span_id[i], out),
                TraceColumn::ParentSpanId => write_hex_id(&spans.parent_span_id[i], out),
                TraceColumn::TraceState => write_str(spans.trace_state.get(i), out),
                TraceColumn::SpanName => write_str(spans.name.get(i), out),
                TraceColumn::SpanKind => write_str(span_kind_name(spans.kind[i]).as_bytes(), out),
                TraceColumn::ServiceName => write_str(resources.service_name.get(res), out),
                TraceColumn::ResourceAttributes => resource_maps.write(res, out),
                TraceColumn::ScopeName => write_str(scopes.name.get(scope), out),
                TraceColumn::ScopeVersion => write_str(scopes.version.get(scope), out),
                TraceColumn::SpanAttributes => write_map(&spans.attributes, i, out),
                TraceColumn::Duration => out.extend_from_slice(&spans.duration[i].to_le_bytes()),
                TraceColumn::StatusCode => {
                    write_str(status_code_name(spans.status_code[i]).as_bytes(), out);
                }
                TraceColumn::StatusMessage => write_str(spans.status_message.get(i), out),
                TraceColumn::EventsTimestamp => {
                    let of = events.of(i);
                    write_leb128(of.len() as u64, out);
                    for t in &events.timestamp[of] {
                        out.extend_from_slice(&t.to_le_bytes());
                    }
                }
                TraceColumn::EventsName => write_array(events.of(i), out, |e, out| {
                    write_str(events.name.get(e), out);
                }),
                TraceColumn::EventsAttributes => write_array(events.of(i), out, |e, out| {
                    write_map(&events.attributes, e, out);
                }),
                TraceColumn::LinksTraceId => write_array(links.of(i), out, |l, out| {
                    write_hex_id(&links.trace_id[l], out);
                }),
                TraceColumn::LinksSpanId => write_array(links.of(i), out, |l, out| {
                    write_hex_id(&links.span_id[l], out);
                }),
                TraceColumn::LinksTraceState => write_array(links.of(i), out, |l, out| {
                    write_str(links.trace_state.get(l), out);
                }),
                TraceColumn::LinksAttributes => write_array(links.of(i), out, |l, out| {
                    write_map(&links.attributes, l, out);
                }),
            }
        }
    }
}

#[cfg(test)]
mod tests;
