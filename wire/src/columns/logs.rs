//! The column buffers of the log tables: `otel_logs` and `hyperdx_sessions`.
//!
//! One [`LogsBatch`] holds both tables' rows, because one OTLP logs request can feed
//! both (session-replay records go to `hyperdx_sessions`). Resource and scope values
//! are stored once per resource / scope ([`Resources`], [`Scopes`]) and each row points
//! at them; the RowBinary encoder repeats them per row, as ClickHouse needs.

use super::{Maps, Strings};
pub use super::{Resources, Scopes};

/// The per-record columns of one log table.
#[derive(Clone, Debug, Default)]
pub struct LogRows {
    /// `Timestamp`, ns since the epoch: `time_unix_nano`, else `observed_time_unix_nano`.
    pub timestamp: Vec<u64>,
    /// `TraceId`: 16 bytes, all zero when absent (written as an empty string).
    pub trace_id: Vec<[u8; 16]>,
    /// `SpanId`: 8 bytes, all zero when absent.
    pub span_id: Vec<[u8; 8]>,
    /// `TraceFlags` = `flags & 0xff`.
    pub trace_flags: Vec<u8>,
    pub severity_text: Strings,
    pub severity_number: Vec<u8>,
    /// `Body`: the body `AnyValue` stringified as the collector does.
    pub body: Strings,
    /// `LogAttributes`.
    pub attributes: Maps,
    /// `EventName` (only `otel_logs` has the column; sessions keep it unused).
    pub event_name: Strings,
    /// Row index into [`Resources`].
    pub resource: Vec<usize>,
    /// Row index into [`Scopes`].
    pub scope: Vec<usize>,
}

impl LogRows {
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
        self.trace_id.truncate(rows);
        self.span_id.truncate(rows);
        self.trace_flags.truncate(rows);
        self.severity_text.truncate(rows);
        self.severity_number.truncate(rows);
        self.body.truncate(rows);
        self.attributes.truncate(rows);
        self.event_name.truncate(rows);
        self.resource.truncate(rows);
        self.scope.truncate(rows);
    }

    fn byte_len(&self) -> usize {
        // Fixed-size columns: 8 + 16 + 8 + 1 + 1 + 8 + 8 bytes a row.
        self.len() * 50
            + self.severity_text.byte_len()
            + self.body.byte_len()
            + self.attributes.byte_len()
            + self.event_name.byte_len()
    }
}

/// Where a batch stood before a request was decoded into it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mark {
    resources: usize,
    scopes: usize,
    logs: usize,
    sessions: usize,
}

/// The rows of `otel_logs` and `hyperdx_sessions` waiting to be sealed.
#[derive(Clone, Debug, Default)]
pub struct LogsBatch {
    pub resources: Resources,
    pub scopes: Scopes,
    /// Rows for `otel_logs`.
    pub logs: LogRows,
    /// Rows for `hyperdx_sessions` (records with an `rr-web.event` attribute).
    pub sessions: LogRows,
}

impl LogsBatch {
    pub fn mark(&self) -> Mark {
        Mark {
            resources: self.resources.len(),
            scopes: self.scopes.len(),
            logs: self.logs.len(),
            sessions: self.sessions.len(),
        }
    }

    /// Drops everything appended since `mark` (a request that failed to decode).
    pub fn rollback(&mut self, mark: Mark) {
        self.resources.truncate(mark.resources);
        self.scopes.truncate(mark.scopes);
        self.logs.truncate(mark.logs);
        self.sessions.truncate(mark.sessions);
    }

    /// Empties the batch, keeping its buffers' capacity.
    pub fn clear(&mut self) {
        self.rollback(Mark {
            resources: 0,
            scopes: 0,
            logs: 0,
            sessions: 0,
        });
    }

    /// Records in both tables.
    pub fn rows(&self) -> usize {
        self.logs.len() + self.sessions.len()
    }

    /// Approximate bytes held, for sealing batches by size.
    pub fn byte_len(&self) -> usize {
        self.resources.byte_len()
            + self.scopes.byte_len()
            + self.logs.byte_len()
            + self.sessions.byte_len()
    }
}
