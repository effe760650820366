//! `ExportLogsServiceRequest` protobuf → the `otel_logs` / `hyperdx_sessions` columns.
//!
//! # Request lifecycle
//!
//! [`decode_logs`] walks the request once, record by record, and appends each record
//! to the [`LogsBatch`] of the shard that received it. Strings are copied once, from
//! the request into the column arenas; nothing else is allocated per record. Resource
//! and scope values are decoded once per `ResourceLogs` / `ScopeLogs`. On any error the
//! batch is rolled back to where it stood, so a bad request leaves nothing behind.
//!
//! Reading a record is per format (protobuf here, OTLP/JSON in [`super::json`]);
//! writing its row is shared (`logs/record.rs`: one function generic over
//! [`ValueView`](super::value::ValueView), the `AnyValue` of either format), so both
//! formats fill the columns alike.
//!
//! # Columns
//!
//! | column | OTLP field | notes |
//! |---|---|---|
//! | `Timestamp` | `LogRecord.time_unix_nano` | `observed_time_unix_nano` when zero |
//! | `TraceId`, `SpanId` | `trace_id`, `span_id` | 16 / 8 bytes or empty; hex, empty when all zero |
//! | `TraceFlags` | `flags & 0xff` | |
//! | `SeverityText`, `SeverityNumber` | `severity_text`, `severity_number` | ClickStack processing, below |
//! | `ServiceName` | resource attribute `service.name` | when it is a string |
//! | `Body` | `body` | `AnyValue` stringified as the collector does |
//! | `ResourceSchemaUrl`, `ResourceAttributes` | `ResourceLogs.schema_url`, `Resource.attributes` | |
//! | `ScopeSchemaUrl`, `ScopeName`, `ScopeVersion`, `ScopeAttributes` | `ScopeLogs.schema_url`, `InstrumentationScope` | |
//! | `LogAttributes` | `attributes` | ClickStack processing, below |
//! | `EventName` | `event_name` | `otel_logs` only |
//!
//! # ClickStack processing
//!
//! Applied as ClickStack's collector does, each step switchable in [`LogsOptions`]:
//! records with an `rr-web.event` attribute go to `hyperdx_sessions` untouched; for
//! the others, JSON found in a string body is merged into the attributes (flattened),
//! a map body is merged as is, severity is promoted from `level`-like attributes or
//! inferred from the body, and the severity text is lower-cased. The rules live in
//! [`super::clickstack`].
//!
//! # Protobuf semantics
//!
//! Fields may come in any order (a `resource` after its `scope_logs`, too); unknown
//! fields are skipped; for singular fields the last occurrence wins; a singular
//! message field that occurs twice is merged (attributes of both). A known field with
//! the wrong wire type, a trace id that is not 16 bytes (or a span id not 8) — which
//! pdata refuses too — and invalid UTF-8 are errors.

mod record;

pub use super::common::SERVICE_NAME;
pub(crate) use record::{Record, write_record};

use crate::columns::logs::LogsBatch;
use crate::proto::{DecodeError, Reader, WireType};

use super::common::{fixed_id, read_resource, read_scope};
use super::value::{PbValue, parse_key_value};

/// The attribute that marks a HyperDX session-replay record.
pub const SESSION_ATTRIBUTE: &str = "rr-web.event";

/// ClickStack's log processing steps; all on by default, as in ClickStack.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LogsOptions {
    /// Records with an `rr-web.event` attribute go to `hyperdx_sessions`.
    pub route_sessions: bool,
    /// JSON in a string body (and a map body) is merged into the attributes.
    pub json_body: bool,
    /// Severity from `level`-like attributes when the record has none.
    pub severity_from_attributes: bool,
    /// Severity inferred from the body when there is still none.
    pub severity_from_body: bool,
    /// The severity text is lower-cased.
    pub lowercase_severity: bool,
}

impl Default for LogsOptions {
    fn default() -> Self {
        LogsOptions {
            route_sessions: true,
            json_body: true,
            severity_from_attributes: true,
            severity_from_body: true,
            lowercase_severity: true,
        }
    }
}

/// What one request added.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LogsDecoded {
    /// Records added to `otel_logs`.
    pub logs: usize,
    /// Records added to `hyperdx_sessions`.
    pub sessions: usize,
}

impl LogsDecoded {
    /// The rows `out` holds now beyond `before` (its `(logs, sessions)` row counts).
    pub(crate) fn since(out: &LogsBatch, before: (usize, usize)) -> LogsDecoded {
        LogsDecoded {
            logs: out.logs.len() - before.0,
            sessions: out.sessions.len() - before.1,
        }
    }
}

/// Decodes one `ExportLogsServiceRequest` into `out`; on error `out` is unchanged.
pub fn decode_logs(
    request: &[u8],
    out: &mut LogsBatch,
    opts: &LogsOptions,
) -> Result<LogsDecoded, DecodeError> {
    let mark = out.mark();
    let before = (out.logs.len(), out.sessions.len());
    let mut d = Decoder {
        out,
        opts,
        attrs: Vec::new(),
        key: Vec::new(),
    };
    match d.request(Reader::new(request)) {
        Ok(()) => Ok(LogsDecoded::since(d.out, before)),
        Err(e) => {
            d.out.rollback(mark);
            Err(e)
        }
    }
}

/// The state of one request's decoding: the batch, and scratch space reused record to
/// record (one allocation per request, none per record).
struct Decoder<'o, 'a> {
    out: &'o mut LogsBatch,
    opts: &'o LogsOptions,
    /// The current record's attributes, in order.
    attrs: Vec<(&'a str, PbValue<'a>)>,
    /// Key scratch for flattening.
    key: Vec<u8>,
}

impl<'a> Decoder<'_, 'a> {
    fn request(&mut self, mut r: Reader<'a>) -> Result<(), DecodeError> {
        while let Some((field, wire)) = r.field()? {
            match (field, wire) {
                (1, WireType::Len) => self.resource_logs(r.message()?)?,
                (1, w) => return Err(r.wrong_type(field, w)),
                (_, w) => r.skip(w)?,
            }
        }
        Ok(())
    }

    /// `ResourceLogs`: the resource first (wherever it is), then its scopes.
    fn resource_logs(&mut self, rl: Reader<'a>) -> Result<(), DecodeError> {
        let resource = read_resource(rl, &mut self.out.resources)?;
        let mut r = rl;
        while let Some((field, wire)) = r.field()? {
            match field {
                2 => self.scope_logs(r.message()?, resource)?,
                _ => r.skip(wire)?,
            }
        }
        Ok(())
    }

    /// `ScopeLogs`: the scope first (wherever it is), then its records.
    fn scope_logs(&mut self, sl: Reader<'a>, resource: usize) -> Result<(), DecodeError> {
        let scope = read_scope(sl, &mut self.out.scopes)?;
        let mut r = sl;
        while let Some((field, wire)) = r.field()? {
            match field {
                2 => self.record(r.message()?, resource, scope)?,
                _ => r.skip(wire)?,
            }
        }
        Ok(())
    }

    /// One `LogRecord`: read its fields, then write one row.
    fn record(
        &mut self,
        mut r: Reader<'a>,
        resource: usize,
        scope: usize,
    ) -> Result<(), DecodeError> {
        let mut rec = Record::new(resource, scope);
        self.attrs.clear();
        while let Some((field, wire)) = r.field()? {
            match (field, wire) {
                (1, WireType::Fixed64) => rec.time = r.fixed64()?,
                (11, WireType::Fixed64) => rec.observed = r.fixed64()?,
                // An enum is an int32 on the wire, sign-extended to 64 bits.
                (2, WireType::Varint) => rec.severity_number = r.varint()? as i32,
                (3, WireType::Len) => rec.severity_text = r.str(3)?,
                // A body that occurs twice is merged into the first, as protobuf does.
                (5, WireType::Len) => {
                    let earlier = rec.body.unwrap_or(PbValue::Empty);
                    rec.body = Some(earlier.merge(r.message()?)?);
                }
                (6, WireType::Len) => self.attrs.push(parse_key_value(r.message()?)?),
                (7, WireType::Varint) => drop(r.varint()?),
                (8, WireType::Fixed32) => rec.flags = r.fixed32()?,
                (9, WireType::Len) => rec.trace_id = fixed_id(&mut r, 9)?,
                (10, WireType::Len) => rec.span_id = fixed_id(&mut r, 10)?,
                (12, WireType::Len) => rec.event_name = r.str(12)?,
                (1..=3 | 5..=12, w) => return Err(r.wrong_type(field, w)),
                (_, w) => r.skip(w)?,
            }
        }
        write_record(
            self.out,
            self.opts,
            &mut self.key,
            &rec,
            self.attrs.iter().copied(),
        )
    }
}

#[cfg(test)]
mod tests;
