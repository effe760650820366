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

use crate::columns::Maps;
use crate::columns::logs::LogsBatch;
use crate::proto::{DecodeError, ErrorKind, Reader, WireType};

use super::clickstack;
use super::value::{PbValue, parse_key_value};

/// The attribute that marks a HyperDX session-replay record.
pub const SESSION_ATTRIBUTE: &str = "rr-web.event";

/// The resource attribute that names the service (`ServiceName`).
pub const SERVICE_NAME: &str = "service.name";

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

/// Decodes one `ExportLogsServiceRequest` into `out`; on error `out` is unchanged.
pub fn decode_logs(
    request: &[u8],
    out: &mut LogsBatch,
    opts: &LogsOptions,
) -> Result<LogsDecoded, DecodeError> {
    let mark = out.mark();
    let (logs, sessions) = (out.logs.len(), out.sessions.len());
    let mut d = Decoder {
        out,
        opts,
        attrs: Vec::new(),
        key: Vec::new(),
    };
    match d.request(Reader::new(request)) {
        Ok(()) => Ok(LogsDecoded {
            logs: d.out.logs.len() - logs,
            sessions: d.out.sessions.len() - sessions,
        }),
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

/// The fields of one `LogRecord`, before they go into columns.
#[derive(Default)]
struct Record<'a> {
    time: u64,
    observed: u64,
    severity_number: i32,
    severity_text: &'a str,
    body: Option<PbValue<'a>>,
    flags: u32,
    trace_id: [u8; 16],
    span_id: [u8; 8],
    event_name: &'a str,
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
        let index = self.out.resources.service_name.len();
        let mut schema_url = "";
        let mut service_name = None;
        let mut r = rl;
        while let Some((field, wire)) = r.field()? {
            match (field, wire) {
                (1, WireType::Len) => self.resource(r.message()?, &mut service_name)?,
                (3, WireType::Len) => schema_url = r.str(3)?,
                (1..=3, w) if w != WireType::Len => return Err(r.wrong_type(field, w)),
                (_, w) => r.skip(w)?,
            }
        }
        let res = &mut self.out.resources;
        res.attributes.finish_row();
        res.service_name.push(service_name.unwrap_or("").as_bytes());
        res.schema_url.push(schema_url.as_bytes());

        let mut r = rl;
        while let Some((field, wire)) = r.field()? {
            match field {
                2 => self.scope_logs(r.message()?, index)?,
                _ => r.skip(wire)?,
            }
        }
        Ok(())
    }

    /// `Resource`: its attributes go to the resource row being built.
    fn resource(
        &mut self,
        mut r: Reader<'a>,
        service_name: &mut Option<&'a str>,
    ) -> Result<(), DecodeError> {
        while let Some((field, wire)) = r.field()? {
            match (field, wire) {
                (1, WireType::Len) => {
                    let (key, value) = parse_key_value(r.message()?)?;
                    if key == SERVICE_NAME && service_name.is_none() {
                        // The exporter reads it with `Get(...).Str()`: the first
                        // `service.name`, empty unless it is a string.
                        *service_name = Some(value.as_str().unwrap_or(""));
                    }
                    self.out
                        .resources
                        .attributes
                        .push_entry_with(key.as_bytes(), |b| value.write_as_string(b))?;
                }
                (2, WireType::Varint) => drop(r.varint()?),
                (1 | 2, w) => return Err(r.wrong_type(field, w)),
                (_, w) => r.skip(w)?,
            }
        }
        Ok(())
    }

    /// `ScopeLogs`: the scope first (wherever it is), then its records.
    fn scope_logs(&mut self, sl: Reader<'a>, resource: usize) -> Result<(), DecodeError> {
        let index = self.out.scopes.name.len();
        let (mut name, mut version, mut schema_url) = ("", "", "");
        let mut r = sl;
        while let Some((field, wire)) = r.field()? {
            match (field, wire) {
                (1, WireType::Len) => self.scope(r.message()?, &mut name, &mut version)?,
                (3, WireType::Len) => schema_url = r.str(3)?,
                (1..=3, w) if w != WireType::Len => return Err(r.wrong_type(field, w)),
                (_, w) => r.skip(w)?,
            }
        }
        let s = &mut self.out.scopes;
        s.attributes.finish_row();
        s.name.push(name.as_bytes());
        s.version.push(version.as_bytes());
        s.schema_url.push(schema_url.as_bytes());

        let mut r = sl;
        while let Some((field, wire)) = r.field()? {
            match field {
                2 => self.record(r.message()?, resource, index)?,
                _ => r.skip(wire)?,
            }
        }
        Ok(())
    }

    /// `InstrumentationScope`.
    fn scope(
        &mut self,
        mut r: Reader<'a>,
        name: &mut &'a str,
        version: &mut &'a str,
    ) -> Result<(), DecodeError> {
        while let Some((field, wire)) = r.field()? {
            match (field, wire) {
                (1, WireType::Len) => *name = r.str(1)?,
                (2, WireType::Len) => *version = r.str(2)?,
                (3, WireType::Len) => {
                    let (key, value) = parse_key_value(r.message()?)?;
                    self.out
                        .scopes
                        .attributes
                        .push_entry_with(key.as_bytes(), |b| value.write_as_string(b))?;
                }
                (4, WireType::Varint) => drop(r.varint()?),
                (1..=4, w) => return Err(r.wrong_type(field, w)),
                (_, w) => r.skip(w)?,
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
        let mut rec = Record::default();
        self.attrs.clear();
        let mut session = false;
        while let Some((field, wire)) = r.field()? {
            match (field, wire) {
                (1, WireType::Fixed64) => rec.time = r.fixed64()?,
                (11, WireType::Fixed64) => rec.observed = r.fixed64()?,
                // An enum is an int32 on the wire, sign-extended to 64 bits.
                (2, WireType::Varint) => rec.severity_number = r.varint()? as i32,
                (3, WireType::Len) => rec.severity_text = r.str(3)?,
                (5, WireType::Len) => rec.body = Some(PbValue::parse(r.message()?)?),
                (6, WireType::Len) => {
                    let kv = parse_key_value(r.message()?)?;
                    session |= kv.0 == SESSION_ATTRIBUTE;
                    self.attrs.push(kv);
                }
                (7, WireType::Varint) => drop(r.varint()?),
                (8, WireType::Fixed32) => rec.flags = r.fixed32()?,
                (9, WireType::Len) => rec.trace_id = fixed_id(&mut r, 9)?,
                (10, WireType::Len) => rec.span_id = fixed_id(&mut r, 10)?,
                (12, WireType::Len) => rec.event_name = r.str(12)?,
                (1..=3 | 5..=12, w) => return Err(r.wrong_type(field, w)),
                (_, w) => r.skip(w)?,
            }
        }
        let session = session && self.opts.route_sessions;
        let Decoder {
            out,
            opts,
            attrs,
            key,
        } = self;
        let rows = if session {
            &mut out.sessions
        } else {
            &mut out.logs
        };
        let body = rec.body.unwrap_or(PbValue::Empty);
        rows.body.push_with(|b| body.write_as_string(b))?;
        if session {
            for (k, v) in attrs.iter() {
                rows.attributes
                    .push_entry_with(k.as_bytes(), |b| v.write_as_string(b))?;
            }
        } else {
            processed_attributes(attrs, body, key, opts, &mut rows.attributes)?;
        }
        rows.attributes.finish_row();

        let body_text = rows
            .body
            .last()
            .and_then(|b| core::str::from_utf8(b).ok())
            .unwrap_or("");
        let (text, number) = severity(&rec, body_text, &rows.attributes, opts, session);
        // The text may borrow the attributes column: stage it in the key scratch.
        key.clear();
        if opts.lowercase_severity {
            clickstack::lowercase_severity(text.as_bytes(), key);
        } else {
            key.extend_from_slice(text.as_bytes());
        }
        rows.severity_text.push(key);
        rows.severity_number.push(number);
        rows.timestamp.push(if rec.time != 0 {
            rec.time
        } else {
            rec.observed
        });
        rows.trace_id.push(rec.trace_id);
        rows.span_id.push(rec.span_id);
        rows.trace_flags.push(rec.flags as u8);
        rows.event_name.push(rec.event_name.as_bytes());
        rows.resource.push(resource);
        rows.scope.push(scope);
        Ok(())
    }
}

/// `LogAttributes` of an `otel_logs` record, with the body merged in (ClickStack).
fn processed_attributes(
    attrs: &[(&str, PbValue<'_>)],
    body: PbValue<'_>,
    key: &mut Vec<u8>,
    opts: &LogsOptions,
    out: &mut Maps,
) -> Result<(), DecodeError> {
    let json = match body {
        PbValue::Str(s) if opts.json_body => {
            clickstack::json_object_in_body(s).filter(|j| clickstack::is_json_object(j))
        }
        _ => None,
    };
    let Some(json) = json else {
        for (k, v) in attrs {
            out.push_entry_with(k.as_bytes(), |b| v.write_as_string(b))?;
        }
        if opts.json_body {
            // A map body: its entries win over attributes of the same key.
            body.merge_kvlist_into(out)?;
        }
        return Ok(());
    };
    // JSON in the body: every attribute is flattened, then the body's fields are merged
    // in after them, so that they win a repeated key when the row is finished. (The body
    // was validated above, before anything was flattened: it is parsed twice.)
    for (k, v) in attrs {
        key.clear();
        key.extend_from_slice(k.as_bytes());
        v.flatten_into(key, out)?;
    }
    key.clear();
    let merged = clickstack::merge_json_body(json, key, out);
    debug_assert!(merged, "validated JSON merges");
    Ok(())
}

/// The severity of a record: its own, else (ClickStack) from attributes, else from the
/// body's text (`body` is the stored `Body` column value).
fn severity<'r>(
    rec: &Record<'r>,
    body: &'r str,
    attributes: &'r Maps,
    opts: &LogsOptions,
    session: bool,
) -> (&'r str, u8) {
    // The exporter writes `uint8(SeverityNumber)`: Go's conversion keeps the low byte.
    let own = (rec.severity_text, rec.severity_number as u8);
    if session || rec.severity_number != 0 || !rec.severity_text.is_empty() {
        return own;
    }
    if opts.severity_from_attributes {
        // The finished row holds stringified values: a non-string `level` (say, `3`)
        // counts too here, where ClickStack only takes string attributes.
        let row = attributes.len() - 1;
        for level_key in clickstack::LEVEL_KEYS {
            // The finished row holds each key once, with its final value.
            let found = attributes
                .row(row)
                .find(|(k, _)| *k == level_key.as_bytes());
            if let Some((_, v)) = found
                && !v.is_empty()
                && let Ok(text) = core::str::from_utf8(v)
            {
                return (text, clickstack::severity_number_from_level(text));
            }
        }
    }
    if opts.severity_from_body {
        // The stored Body, `AsString` of any kind, as ClickStack's `body.string`.
        return clickstack::severity_from_body(body);
    }
    own
}

/// A trace or span id: empty (absent) or exactly `N` bytes, as pdata requires.
fn fixed_id<const N: usize>(r: &mut Reader<'_>, field: u32) -> Result<[u8; N], DecodeError> {
    let at = r.offset();
    let b = r.bytes()?;
    match b.len() {
        0 => Ok([0; N]),
        n if n == N => Ok(b.try_into().expect("length checked")),
        n => Err(DecodeError::new(
            ErrorKind::BadLength {
                field,
                len: u32::try_from(n).unwrap_or(u32::MAX),
            },
            at,
        )),
    }
}

#[cfg(test)]
mod tests;
