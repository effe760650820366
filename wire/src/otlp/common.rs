//! What every signal shares: the `Resource` and `InstrumentationScope` messages
//! (`opentelemetry/proto/{resource,common}/v1`), their rows, and trace / span ids.
//!
//! A signal's decoder reads a `Resource*` message in two passes: first
//! [`read_resource`] (the resource and schema URL, wherever they are in the message)
//! writes the resource row, then the signal walks its scopes; a `Scope*` message
//! likewise with [`read_scope`]. The OTLP/JSON reader fills the same rows through
//! [`ResourceRow`] and [`ScopeRow`], so both formats write resources and scopes alike.

use crate::columns::{Resources, Scopes};
use crate::otlp::value::{ValueView, parse_key_value};
use crate::proto::{DecodeError, ErrorKind, Reader, WireType};

/// The resource attribute that names the service (`ServiceName`).
pub const SERVICE_NAME: &str = "service.name";

/// Reads the resource (field 1) and schema URL (field 3) of a `ResourceLogs` /
/// `ResourceSpans` / `ResourceMetrics` message into a new resource row; returns the row's index. The
/// signal's own field 2 (its scopes) is checked for its wire type and skipped.
pub(crate) fn read_resource<'a>(
    mut r: Reader<'a>,
    out: &mut Resources,
) -> Result<usize, DecodeError> {
    let mut row = ResourceRow::start(out);
    while let Some((field, wire)) = r.field()? {
        match (field, wire) {
            (1, WireType::Len) => resource(r.message()?, &mut row, out)?,
            (3, WireType::Len) => row.schema_url = r.str(3)?,
            (1..=3, w) if w != WireType::Len => return Err(r.wrong_type(field, w)),
            (_, w) => r.skip(w)?,
        }
    }
    row.finish(out);
    Ok(row.index)
}

/// `Resource`: its attributes go to the resource row being built.
fn resource<'a>(
    mut r: Reader<'a>,
    row: &mut ResourceRow<'a>,
    out: &mut Resources,
) -> Result<(), DecodeError> {
    while let Some((field, wire)) = r.field()? {
        match (field, wire) {
            (1, WireType::Len) => {
                let (key, value) = parse_key_value(r.message()?)?;
                row.attribute(out, key, &value)?;
            }
            (2, WireType::Varint) => drop(r.varint()?),
            (1 | 2, w) => return Err(r.wrong_type(field, w)),
            (_, w) => r.skip(w)?,
        }
    }
    Ok(())
}

/// Reads the scope (field 1) and schema URL (field 3) of a `ScopeLogs` /
/// `ScopeSpans` / `ScopeMetrics` message into a new scope row; returns the row's index. Field 2 (the
/// records) is checked for its wire type and skipped.
pub(crate) fn read_scope<'a>(mut r: Reader<'a>, out: &mut Scopes) -> Result<usize, DecodeError> {
    let mut row = ScopeRow::start(out);
    while let Some((field, wire)) = r.field()? {
        match (field, wire) {
            (1, WireType::Len) => scope(r.message()?, &mut row, out)?,
            (3, WireType::Len) => row.schema_url = r.str(3)?,
            (1..=3, w) if w != WireType::Len => return Err(r.wrong_type(field, w)),
            (_, w) => r.skip(w)?,
        }
    }
    row.finish(out);
    Ok(row.index)
}

/// `InstrumentationScope`.
fn scope<'a>(
    mut r: Reader<'a>,
    row: &mut ScopeRow<'a>,
    out: &mut Scopes,
) -> Result<(), DecodeError> {
    while let Some((field, wire)) = r.field()? {
        match (field, wire) {
            (1, WireType::Len) => row.name = r.str(1)?,
            (2, WireType::Len) => row.version = r.str(2)?,
            (3, WireType::Len) => {
                let (key, value) = parse_key_value(r.message()?)?;
                ScopeRow::attribute(out, key, &value)?;
            }
            // A `uint32`: the low 32 bits of the varint, as protobuf truncates it.
            (4, WireType::Varint) => row.dropped_attributes = r.varint()? as u32,
            (1..=4, w) => return Err(r.wrong_type(field, w)),
            (_, w) => r.skip(w)?,
        }
    }
    Ok(())
}

/// A trace or span id: empty (absent, all zero) or exactly `N` bytes, as pdata requires.
pub(crate) fn fixed_id<const N: usize>(
    r: &mut Reader<'_>,
    field: u32,
) -> Result<[u8; N], DecodeError> {
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

/// The resource row of one `ResourceLogs` / `ResourceSpans`, while its fields are read.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ResourceRow<'v> {
    /// The row's index in the batch's resources (records point at it).
    pub index: usize,
    /// The first `service.name` attribute's value (empty unless a string).
    pub service_name: Option<&'v str>,
    pub schema_url: &'v str,
}

impl<'v> ResourceRow<'v> {
    /// The next resource row of `out`; its attributes are pushed, the rest is written
    /// by [`finish`](Self::finish).
    pub fn start(out: &Resources) -> Self {
        ResourceRow {
            index: out.len(),
            service_name: None,
            schema_url: "",
        }
    }

    /// A `Resource` attribute: into the row being built.
    pub fn attribute<V: ValueView<'v>>(
        &mut self,
        out: &mut Resources,
        key: &str,
        value: &V,
    ) -> Result<(), V::Error> {
        if self.service_name.is_none() {
            self.service_name = service_name(key, value);
        }
        Self::push_attribute(out, key, value)
    }

    /// Pushes a `Resource` attribute into the row being built (without looking for
    /// `service.name`: see [`service_name`]).
    pub fn push_attribute<V: ValueView<'v>>(
        out: &mut Resources,
        key: &str,
        value: &V,
    ) -> Result<(), V::Error> {
        out.attributes
            .push_entry_with(key.as_bytes(), |b| value.write_as_string(b))
    }

    /// Closes the row.
    pub fn finish(&self, res: &mut Resources) {
        res.attributes.finish_row();
        res.service_name
            .push(self.service_name.unwrap_or("").as_bytes());
        res.schema_url.push(self.schema_url.as_bytes());
    }
}

/// `ServiceName` from a resource attribute, if it is `service.name`: the exporter
/// reads it with `Get(...).Str()`, so the first `service.name` counts, and it is empty
/// unless it is a string.
pub(crate) fn service_name<'v, V: ValueView<'v>>(key: &str, value: &V) -> Option<&'v str> {
    (key == SERVICE_NAME).then(|| value.as_str().unwrap_or(""))
}

/// The scope row of one `ScopeLogs` / `ScopeSpans`, while its fields are read.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ScopeRow<'v> {
    /// The row's index in the batch's scopes (records point at it).
    pub index: usize,
    pub name: &'v str,
    pub version: &'v str,
    pub schema_url: &'v str,
    /// `InstrumentationScope.dropped_attributes_count`.
    pub dropped_attributes: u32,
}

impl<'v> ScopeRow<'v> {
    /// The next scope row of `out`; its attributes are pushed, the rest is written by
    /// [`finish`](Self::finish).
    pub fn start(out: &Scopes) -> Self {
        ScopeRow {
            index: out.len(),
            name: "",
            version: "",
            schema_url: "",
            dropped_attributes: 0,
        }
    }

    /// An `InstrumentationScope` attribute: into the row being built.
    pub fn attribute<V: ValueView<'v>>(
        out: &mut Scopes,
        key: &str,
        value: &V,
    ) -> Result<(), V::Error> {
        out.attributes
            .push_entry_with(key.as_bytes(), |b| value.write_as_string(b))
    }

    /// Closes the row.
    pub fn finish(&self, s: &mut Scopes) {
        s.attributes.finish_row();
        s.name.push(self.name.as_bytes());
        s.version.push(self.version.as_bytes());
        s.schema_url.push(self.schema_url.as_bytes());
        s.dropped_attributes.push(self.dropped_attributes);
    }
}
