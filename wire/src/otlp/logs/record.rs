//! Rows from decoded records: the part of logs decoding that protobuf and OTLP/JSON share.
//!
//! A format reads a `LogRecord`'s fields into a [`Record`] (scalars decoded, strings
//! borrowed, body and attributes as [`ValueView`]s) and hands it to [`write_record`],
//! which stringifies the values, applies ClickStack's processing and pushes the row.
//! Resources and scopes go through the rows every signal shares (`otlp::common`).
//! Everything here is generic over the view, so each format gets its own
//! monomorphised copy: no `dyn`, and no copy of a value before it reaches its column.
//!
//! # Invariants
//!
//! - A record goes to `hyperdx_sessions` untouched when it has an `rr-web.event`
//!   attribute (and routing is on); else to `otel_logs`, processed.
//! - On error, rows may be half written; the caller rolls the batch back to the mark
//!   it took before the request ([`LogsBatch::rollback`]).

use crate::columns::logs::LogsBatch;
use crate::columns::{Maps, Strings};
use crate::otlp::clickstack;
use crate::otlp::value::ValueView;

use super::{LogsOptions, SESSION_ATTRIBUTE};

/// The fields of one `LogRecord`, decoded, before they go into columns.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Record<'v, V> {
    pub time: u64,
    pub observed: u64,
    pub severity_number: i32,
    pub severity_text: &'v str,
    /// `None` when the record has no body (written as an empty value).
    pub body: Option<V>,
    pub flags: u32,
    /// All zero when absent.
    pub trace_id: [u8; 16],
    /// All zero when absent.
    pub span_id: [u8; 8],
    pub event_name: &'v str,
    /// Row index into the batch's resources.
    pub resource: usize,
    /// Row index into the batch's scopes.
    pub scope: usize,
}

impl<V> Record<'_, V> {
    /// A record with every field at its default, under `resource` and `scope`.
    pub fn new(resource: usize, scope: usize) -> Self {
        Record {
            time: 0,
            observed: 0,
            severity_number: 0,
            severity_text: "",
            body: None,
            flags: 0,
            trace_id: [0; 16],
            span_id: [0; 8],
            event_name: "",
            resource,
            scope,
        }
    }
}

/// Writes one record's row into `out` (`otel_logs` or `hyperdx_sessions`).
///
/// `attrs` are the record's attributes in order (it is walked twice: once for the
/// session marker, once to write them); `key` is scratch space, reused record to
/// record.
pub(crate) fn write_record<'v, V: ValueView<'v>>(
    out: &mut LogsBatch,
    opts: &LogsOptions,
    key: &mut Vec<u8>,
    rec: &Record<'v, V>,
    attrs: impl Iterator<Item = (&'v str, V)> + Clone,
) -> Result<(), V::Error> {
    let session = opts.route_sessions && attrs.clone().any(|(k, _)| k == SESSION_ATTRIBUTE);
    let rows = if session {
        &mut out.sessions
    } else {
        &mut out.logs
    };
    match &rec.body {
        Some(body) => rows.body.push_with(|b| body.write_as_string(b))?,
        None => rows.body.push(b""),
    }
    if session {
        for (k, v) in attrs {
            rows.attributes
                .push_entry_with(k.as_bytes(), |b| v.write_as_string(b))?;
        }
    } else {
        processed_attributes(attrs, rec.body, key, opts, &mut rows.attributes)?;
    }
    rows.attributes.finish_row();

    let (text, number) = severity(
        (rec.severity_text, rec.severity_number),
        &rows.body,
        &rows.attributes,
        opts,
        session,
    );
    // The text may borrow the attributes column: stage it in the key scratch.
    // Session rows are stored as sent: no step of ClickStack's processing applies.
    key.clear();
    if opts.lowercase_severity && !session {
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
    rows.resource.push(rec.resource);
    rows.scope.push(rec.scope);
    Ok(())
}

/// `LogAttributes` of an `otel_logs` record, with the body merged in (ClickStack).
fn processed_attributes<'v, V: ValueView<'v>>(
    attrs: impl Iterator<Item = (&'v str, V)>,
    body: Option<V>,
    key: &mut Vec<u8>,
    opts: &LogsOptions,
    out: &mut Maps,
) -> Result<(), V::Error> {
    let json = match body.and_then(|b| b.as_str()) {
        Some(s) if opts.json_body => {
            clickstack::json_object_in_body(s).filter(|j| clickstack::is_json_object(j))
        }
        _ => None,
    };
    let Some(json) = json else {
        for (k, v) in attrs {
            out.push_entry_with(k.as_bytes(), |b| v.write_as_string(b))?;
        }
        if opts.json_body
            && let Some(body) = body
        {
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

/// The severity of a record: its own `(text, number)`, else (ClickStack) from
/// attributes, else from the body's text (the row just written to the `Body` column).
fn severity<'r>(
    (own_text, own_number): (&'r str, i32),
    body: &'r Strings,
    attributes: &'r Maps,
    opts: &LogsOptions,
    session: bool,
) -> (&'r str, u8) {
    // The exporter writes `uint8(SeverityNumber)`: Go's conversion keeps the low byte.
    let own = (own_text, own_number as u8);
    if session || own_number != 0 || !own_text.is_empty() {
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
        // The stored Body, `AsString` of any kind, as ClickStack's `body.string`; read
        // only here, where a record without a severity needs it.
        let text = body
            .last()
            .and_then(|b| core::str::from_utf8(b).ok())
            .unwrap_or("");
        return clickstack::severity_from_body(text);
    }
    own
}
