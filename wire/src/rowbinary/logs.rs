//! RowBinary for `otel_logs` and `hyperdx_sessions`.
//!
//! The INSERT lists the columns the table has (the engine asks `DESCRIBE TABLE`, so an
//! older table without `EventName` still works); [`LogColumn`] names every column
//! sluice can write, and [`encode_logs`] writes rows for any subset, in the order given.
//!
//! | column | ClickHouse type | from |
//! |---|---|---|
//! | `Timestamp` | `DateTime64(9)` | `LogRows::timestamp` |
//! | `TraceId`, `SpanId` | `String` | hex of the id, empty when zero |
//! | `TraceFlags`, `SeverityNumber` | `UInt8` | |
//! | `SeverityText` | `LowCardinality(String)` | |
//! | `ServiceName`, `ResourceSchemaUrl`, `ResourceAttributes` | `LowCardinality(String)`, `Map(LowCardinality(String), String)` | the row's resource |
//! | `ScopeSchemaUrl`, `ScopeName`, `ScopeVersion`, `ScopeAttributes` | strings, `Map` | the row's scope |
//! | `Body`, `EventName` | `String` | |
//! | `LogAttributes` | `Map(LowCardinality(String), String)` | |

use super::{EncodedMaps, write_hex_id, write_map, write_str};
use crate::columns::logs::{LogRows, Resources, Scopes};

/// A column of the log tables that sluice writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LogColumn {
    Timestamp,
    TraceId,
    SpanId,
    TraceFlags,
    SeverityText,
    SeverityNumber,
    ServiceName,
    Body,
    ResourceSchemaUrl,
    ResourceAttributes,
    ScopeSchemaUrl,
    ScopeName,
    ScopeVersion,
    ScopeAttributes,
    LogAttributes,
    EventName,
}

impl LogColumn {
    /// Every column, in the ClickStack `otel_logs` order.
    pub const ALL: [LogColumn; 16] = [
        LogColumn::Timestamp,
        LogColumn::TraceId,
        LogColumn::SpanId,
        LogColumn::TraceFlags,
        LogColumn::SeverityText,
        LogColumn::SeverityNumber,
        LogColumn::ServiceName,
        LogColumn::Body,
        LogColumn::ResourceSchemaUrl,
        LogColumn::ResourceAttributes,
        LogColumn::ScopeSchemaUrl,
        LogColumn::ScopeName,
        LogColumn::ScopeVersion,
        LogColumn::ScopeAttributes,
        LogColumn::LogAttributes,
        LogColumn::EventName,
    ];

    /// The ClickHouse column name.
    pub const fn name(self) -> &'static str {
        match self {
            LogColumn::Timestamp => "Timestamp",
            LogColumn::TraceId => "TraceId",
            LogColumn::SpanId => "SpanId",
            LogColumn::TraceFlags => "TraceFlags",
            LogColumn::SeverityText => "SeverityText",
            LogColumn::SeverityNumber => "SeverityNumber",
            LogColumn::ServiceName => "ServiceName",
            LogColumn::Body => "Body",
            LogColumn::ResourceSchemaUrl => "ResourceSchemaUrl",
            LogColumn::ResourceAttributes => "ResourceAttributes",
            LogColumn::ScopeSchemaUrl => "ScopeSchemaUrl",
            LogColumn::ScopeName => "ScopeName",
            LogColumn::ScopeVersion => "ScopeVersion",
            LogColumn::ScopeAttributes => "ScopeAttributes",
            LogColumn::LogAttributes => "LogAttributes",
            LogColumn::EventName => "EventName",
        }
    }

    pub fn from_name(name: &str) -> Option<LogColumn> {
        LogColumn::ALL.into_iter().find(|c| c.name() == name)
    }
}

/// Appends rows `rows.start..rows.end` (all rows: `0..rows.len()`) of a log table as
/// RowBinary with the given columns.
pub fn encode_logs(
    rows: &LogRows,
    resources: &Resources,
    scopes: &Scopes,
    columns: &[LogColumn],
    range: core::ops::Range<usize>,
    out: &mut Vec<u8>,
) {
    let resource_maps = EncodedMaps::new(
        &resources.attributes,
        columns.contains(&LogColumn::ResourceAttributes),
    );
    let scope_maps = EncodedMaps::new(
        &scopes.attributes,
        columns.contains(&LogColumn::ScopeAttributes),
    );
    for i in range {
        let res = rows.resource[i];
        let scope = rows.scope[i];
        for col in columns {
            match col {
                LogColumn::Timestamp => out.extend_from_slice(&rows.timestamp[i].to_le_bytes()),
                LogColumn::TraceId => write_hex_id(&rows.trace_id[i], out),
                LogColumn::SpanId => write_hex_id(&rows.span_id[i], out),
                LogColumn::TraceFlags => out.push(rows.trace_flags[i]),
                LogColumn::SeverityText => write_str(rows.severity_text.get(i), out),
                LogColumn::SeverityNumber => out.push(rows.severity_number[i]),
                LogColumn::ServiceName => write_str(resources.service_name.get(res), out),
                LogColumn::Body => write_str(rows.body.get(i), out),
                LogColumn::ResourceSchemaUrl => write_str(resources.schema_url.get(res), out),
                LogColumn::ResourceAttributes => resource_maps.write(res, out),
                LogColumn::ScopeSchemaUrl => write_str(scopes.schema_url.get(scope), out),
                LogColumn::ScopeName => write_str(scopes.name.get(scope), out),
                LogColumn::ScopeVersion => write_str(scopes.version.get(scope), out),
                LogColumn::ScopeAttributes => scope_maps.write(scope, out),
                LogColumn::LogAttributes => write_map(&rows.attributes, i, out),
                LogColumn::EventName => write_str(rows.event_name.get(i), out),
            }
        }
    }
}
