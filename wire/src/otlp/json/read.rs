//! How the request's messages are read: serde seeds that carry the reading state
//! ([`Ctx`]) and write rows as objects close.
//!
//! Each message is an [`Object`]: a field enum (both spellings of each name, made by
//! `fields!`) and what to do with each field's value. Lists of messages are read
//! element by element ([`Element`]): a resource, scope or record row is written when
//! its object closes, so nothing but the record being read is held (on the [`Tape`]).
//! The messages themselves are in `request` (`ExportLogsServiceRequest` down to
//! `LogRecord`) and `any_value` (`KeyValue`, `AnyValue`).
//!
//! Field semantics follow pdata's JSON unmarshaler (`pdata/plog/json.go`, the
//! `unmarshalJSONIter` of `ResourceLogs`, `ScopeLogs`, `LogRecord`, and
//! `pdata/internal` `UnmarshalJSONIterValue` / `UnmarshalJSONIterMap`): keys in any
//! order, unknown keys skipped, a repeated scalar field's last value wins, a repeated
//! list field appends, a repeated message field (`resource`, `scope`, `body`, `value`)
//! merges (so a later `AnyValue` replaces the oneof only if it sets one), and `null`
//! where an object is expected reads as an empty object.

use core::fmt;
use core::marker::PhantomData;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::columns::logs::LogsBatch;
use crate::columns::metrics::MetricsBatch;
use crate::columns::traces::TracesBatch;
use crate::columns::{Resources, Scopes};
use crate::otlp::logs::LogsOptions;

use super::JsonErrorKind;
use super::error::{JsonError, Seg};
use super::tape::{Tape, Text};

/// The batch a request is read into: the signal's, with what it needs.
pub(super) enum Out<'o> {
    Logs(&'o mut LogsBatch, &'o LogsOptions),
    Traces(&'o mut TracesBatch),
    /// The batch, and the metrics skipped so far (no data points, or no known kind).
    Metrics(&'o mut MetricsBatch, usize),
}

impl Out<'_> {
    /// The resource rows, which every signal has.
    pub fn resources(&mut self) -> &mut Resources {
        match self {
            Out::Logs(b, _) => &mut b.resources,
            Out::Traces(b) => &mut b.resources,
            Out::Metrics(b, _) => &mut b.resources,
        }
    }

    /// The scope rows, which every signal has.
    pub fn scopes(&mut self) -> &mut Scopes {
        match self {
            Out::Logs(b, _) => &mut b.scopes,
            Out::Traces(b) => &mut b.scopes,
            Out::Metrics(b, _) => &mut b.scopes,
        }
    }

    /// The logs batch. Only the logs request's objects call it, and only
    /// [`decode_logs_json`](super::decode_logs_json) reads that request, into
    /// `Out::Logs`: the other arms cannot be reached from any input.
    pub fn logs(&mut self) -> (&mut LogsBatch, &LogsOptions) {
        match self {
            Out::Logs(b, opts) => (b, opts),
            _ => unreachable!("a logs object read into another signal's batch"),
        }
    }

    /// The traces batch (as [`logs`](Self::logs), for the traces request).
    pub fn traces(&mut self) -> &mut TracesBatch {
        match self {
            Out::Traces(b) => b,
            _ => unreachable!("a traces object read into another signal's batch"),
        }
    }

    /// The metrics batch (as [`logs`](Self::logs), for the metrics request).
    pub fn metrics(&mut self) -> &mut MetricsBatch {
        self.metrics_and_skipped().0
    }

    /// The metrics batch and the count of metrics skipped so far.
    pub fn metrics_and_skipped(&mut self) -> (&mut MetricsBatch, &mut usize) {
        match self {
            Out::Metrics(b, skipped) => (b, skipped),
            _ => unreachable!("a metrics object read into another signal's batch"),
        }
    }
}

/// The state of one request's reading.
pub(super) struct Ctx<'a, 'o> {
    pub out: Out<'o>,
    /// The values of the record (or resource, scope attribute) being read.
    pub tape: Tape<'a>,
    /// The current record's attributes, in order: key, value node.
    pub attrs: Vec<(Text<'a>, usize)>,
    /// Key scratch for flattening.
    pub key: Vec<u8>,
    /// The current resource's `service.name`, once seen.
    pub service: String,
    pub has_service: bool,
    /// Where the reader is: pushed on the way in, popped on the way out, so after a
    /// failure it names the field that failed.
    path: Vec<Seg>,
    /// What a seed found wrong, for the error message (serde_json's error carries the
    /// position, not our kind).
    failure: Option<(JsonErrorKind, Option<String>)>,
}

impl<'a, 'o> Ctx<'a, 'o> {
    pub fn new(out: Out<'o>) -> Self {
        Ctx {
            out,
            tape: Tape::default(),
            attrs: Vec::new(),
            key: Vec::new(),
            service: String::new(),
            has_service: false,
            path: Vec::new(),
            failure: None,
        }
    }

    /// Records why the request is refused; returns the error that unwinds serde_json
    /// (which adds the position).
    #[cold]
    #[inline(never)]
    pub fn fail<E: de::Error>(&mut self, kind: JsonErrorKind, value: Option<String>) -> E {
        self.failure = Some((kind, value));
        E::custom(format_args!("{kind:?}"))
    }

    /// Steps into `seg` for the error path (a reader of its own lists' elements does;
    /// [`ObjectSeed`] and [`ListSeed`] step into fields and elements themselves).
    pub fn enter(&mut self, seg: Seg) {
        self.path.push(seg);
    }

    /// Steps out of what [`enter`](Self::enter) stepped into, once it is read.
    pub fn leave(&mut self) {
        self.path.pop();
    }

    /// The error for a request that serde_json stopped with `e`.
    #[cold]
    pub fn error(&mut self, e: serde_json::Error) -> JsonError {
        JsonError::new(self.failure.take(), &self.path, e)
    }
}

/// The fields of one message: parsed from either spelling, named (lowerCamelCase) in
/// error paths.
pub(super) trait Field: Copy {
    fn from_name(name: &str) -> Option<Self>;
    fn name(self) -> &'static str;
}

macro_rules! fields {
    ($ty:ident { $($variant:ident = $camel:literal $(| $snake:literal)?),* $(,)? }) => {
        #[derive(Clone, Copy, Debug)]
        pub(super) enum $ty {
            $($variant,)*
        }

        impl Field for $ty {
            fn from_name(name: &str) -> Option<Self> {
                match name {
                    $($camel $(| $snake)? => Some($ty::$variant),)*
                    _ => None,
                }
            }

            fn name(self) -> &'static str {
                match self {
                    $($ty::$variant => $camel,)*
                }
            }
        }
    };
}

pub(super) use fields;

/// An object key: a known field, or `None` for a key to skip.
struct KeySeed<F>(PhantomData<F>);

impl<'a, F: Field> DeserializeSeed<'a> for KeySeed<F> {
    type Value = Option<F>;

    fn deserialize<D: Deserializer<'a>>(self, d: D) -> Result<Option<F>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'a, F: Field> Visitor<'a> for KeySeed<F> {
    type Value = Option<F>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field name")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Option<F>, E> {
        Ok(F::from_name(v))
    }
}

/// A message of the request, read field by field.
pub(super) trait Object<'a>: Sized {
    type Field: Field;
    /// What it is, for "expected …" in type errors.
    const WHAT: &'static str;

    /// Called when the object is there (not `null`), before its first field.
    fn begin(&mut self, _ctx: &mut Ctx<'a, '_>) -> Result<(), JsonErrorKind> {
        Ok(())
    }

    /// Reads the value of `field` (with `map.next_value_seed`).
    fn field<A: MapAccess<'a>>(
        &mut self,
        ctx: &mut Ctx<'a, '_>,
        field: Self::Field,
        map: &mut A,
    ) -> Result<(), A::Error>;
}

/// Reads an object into `obj` and gives it back; `null` leaves it as it was.
pub(super) struct ObjectSeed<'c, 'a, 'o, O> {
    ctx: &'c mut Ctx<'a, 'o>,
    obj: O,
}

impl<'c, 'a, 'o, O> ObjectSeed<'c, 'a, 'o, O> {
    pub fn new(ctx: &'c mut Ctx<'a, 'o>, obj: O) -> Self {
        ObjectSeed { ctx, obj }
    }
}

impl<'a, O: Object<'a>> DeserializeSeed<'a> for ObjectSeed<'_, 'a, '_, O> {
    type Value = O;

    fn deserialize<D: Deserializer<'a>>(self, d: D) -> Result<O, D::Error> {
        d.deserialize_option(self)
    }
}

impl<'a, O: Object<'a>> Visitor<'a> for ObjectSeed<'_, 'a, '_, O> {
    type Value = O;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(O::WHAT)
    }

    fn visit_none<E: de::Error>(self) -> Result<O, E> {
        Ok(self.obj)
    }

    fn visit_some<D: Deserializer<'a>>(mut self, d: D) -> Result<O, D::Error> {
        if let Err(kind) = self.obj.begin(self.ctx) {
            return Err(self.ctx.fail(kind, None));
        }
        d.deserialize_map(self)
    }

    fn visit_map<A: MapAccess<'a>>(mut self, mut map: A) -> Result<O, A::Error> {
        while let Some(key) = map.next_key_seed(KeySeed::<O::Field>(PhantomData))? {
            match key {
                Some(field) => {
                    self.ctx.path.push(Seg::Field(field.name()));
                    self.obj.field(self.ctx, field, &mut map)?;
                    self.ctx.path.pop();
                }
                // serde_json skips a value without recursing, however deep it nests.
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(self.obj)
    }
}

/// The elements of a list field: each is an object, started and finished here.
pub(super) trait Element<'a> {
    type Object: Object<'a>;
    /// What the list is, for "expected …" in type errors.
    const WHAT: &'static str;

    fn start(&mut self, ctx: &mut Ctx<'a, '_>) -> Self::Object;

    fn finish(&mut self, ctx: &mut Ctx<'a, '_>, obj: Self::Object) -> Result<(), JsonErrorKind>;
}

/// Reads a list field; `null` is an empty list.
pub(super) struct ListSeed<'c, 'a, 'o, E> {
    pub ctx: &'c mut Ctx<'a, 'o>,
    pub each: E,
}

impl<'a, E: Element<'a>> DeserializeSeed<'a> for ListSeed<'_, 'a, '_, E> {
    type Value = ();

    fn deserialize<D: Deserializer<'a>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_option(self)
    }
}

impl<'a, E: Element<'a>> Visitor<'a> for ListSeed<'_, 'a, '_, E> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(E::WHAT)
    }

    fn visit_none<Er: de::Error>(self) -> Result<(), Er> {
        Ok(())
    }

    fn visit_some<D: Deserializer<'a>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }

    fn visit_seq<S: SeqAccess<'a>>(mut self, mut seq: S) -> Result<(), S::Error> {
        for index in 0.. {
            let element = ElementSeed {
                ctx: &mut *self.ctx,
                each: &mut self.each,
                index,
            };
            if seq.next_element_seed(element)?.is_none() {
                break;
            }
        }
        Ok(())
    }
}

/// Element `index` of a list: started, read, finished.
struct ElementSeed<'c, 'e, 'a, 'o, E> {
    ctx: &'c mut Ctx<'a, 'o>,
    each: &'e mut E,
    index: usize,
}

impl<'a, E: Element<'a>> DeserializeSeed<'a> for ElementSeed<'_, '_, 'a, '_, E> {
    type Value = ();

    fn deserialize<D: Deserializer<'a>>(self, d: D) -> Result<(), D::Error> {
        self.ctx.path.push(Seg::Index(self.index));
        let obj = self.each.start(self.ctx);
        let obj = ObjectSeed::new(&mut *self.ctx, obj).deserialize(d)?;
        if let Err(kind) = self.each.finish(self.ctx, obj) {
            return Err(self.ctx.fail(kind, None));
        }
        self.ctx.path.pop();
        Ok(())
    }
}

/// A scalar field's value, unless it was `null`.
#[inline]
pub(super) fn set<T>(field: &mut T, value: Option<T>) {
    if let Some(v) = value {
        *field = v;
    }
}
