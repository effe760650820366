//! Scalar fields of OTLP/JSON: the protobuf JSON mapping's spellings of integers,
//! doubles, enums, ids, bytes and strings, each read by a serde seed that writes its
//! failure (kind and offending value) into the [`Ctx`] for the error message.
//!
//! | field type | accepted (as pdata's `json.Iterator` does, unless noted) |
//! |---|---|
//! | `fixed64`, `uint32`, `fixed32` | JSON integer, or decimal string (`"123"`; no sign, no spaces) |
//! | `int64` (`intValue`, `asInt`), `int32`, `sint32` (`scale`, `offset`) | JSON integer, or decimal string with optional sign |
//! | `double` | JSON number, or a string: `"NaN"`, `"Infinity"`, `"-Infinity"`, or a decimal |
//! | enum (`severityNumber`, `kind`, `code`, `aggregationTemporality`) | JSON integer in `int32`, or the value's name (`"SEVERITY_NUMBER_INFO"`, `"SPAN_KIND_SERVER"`, `"STATUS_CODE_ERROR"`, `"AGGREGATION_TEMPORALITY_DELTA"`) |
//! | `bytes` (ids) | hex, either case, exactly 32 / 16 digits, or `""` = absent |
//! | `bytes` (`bytesValue`) | base64, standard or URL-safe alphabet, padded or not (protojson; pdata takes standard padded only) |
//! | `string` | JSON string; a lone UTF-16 surrogate escape becomes U+FFFD, as Go's decoders make it |
//!
//! `null` is the field left out, for every type (protojson; pdata refuses `null`
//! for numbers, booleans and ids and reads it as `""` for strings). A repeated number
//! field (`bucketCounts`, `explicitBounds`) is an array of these, or `null` for none;
//! a `null` element is refused, as pdata and protojson refuse it.

use core::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, SeqAccess, Visitor};

use super::JsonErrorKind;
use super::error::{Seg, quote};
use super::read::{Ctx, Out};
use super::tape::Text;

/// The names of `SeverityNumber`'s values, by number (`opentelemetry/proto/logs/v1/logs.proto`).
const SEVERITY_NAMES: [&str; 25] = [
    "SEVERITY_NUMBER_UNSPECIFIED",
    "SEVERITY_NUMBER_TRACE",
    "SEVERITY_NUMBER_TRACE2",
    "SEVERITY_NUMBER_TRACE3",
    "SEVERITY_NUMBER_TRACE4",
    "SEVERITY_NUMBER_DEBUG",
    "SEVERITY_NUMBER_DEBUG2",
    "SEVERITY_NUMBER_DEBUG3",
    "SEVERITY_NUMBER_DEBUG4",
    "SEVERITY_NUMBER_INFO",
    "SEVERITY_NUMBER_INFO2",
    "SEVERITY_NUMBER_INFO3",
    "SEVERITY_NUMBER_INFO4",
    "SEVERITY_NUMBER_WARN",
    "SEVERITY_NUMBER_WARN2",
    "SEVERITY_NUMBER_WARN3",
    "SEVERITY_NUMBER_WARN4",
    "SEVERITY_NUMBER_ERROR",
    "SEVERITY_NUMBER_ERROR2",
    "SEVERITY_NUMBER_ERROR3",
    "SEVERITY_NUMBER_ERROR4",
    "SEVERITY_NUMBER_FATAL",
    "SEVERITY_NUMBER_FATAL2",
    "SEVERITY_NUMBER_FATAL3",
    "SEVERITY_NUMBER_FATAL4",
];

/// The names of `Span.SpanKind`'s values, by number (`opentelemetry/proto/trace/v1/trace.proto`).
const SPAN_KIND_NAMES: [&str; 6] = [
    "SPAN_KIND_UNSPECIFIED",
    "SPAN_KIND_INTERNAL",
    "SPAN_KIND_SERVER",
    "SPAN_KIND_CLIENT",
    "SPAN_KIND_PRODUCER",
    "SPAN_KIND_CONSUMER",
];

/// The names of `Status.StatusCode`'s values, by number (`trace.proto`).
const STATUS_CODE_NAMES: [&str; 3] = ["STATUS_CODE_UNSET", "STATUS_CODE_OK", "STATUS_CODE_ERROR"];

/// The names of `AggregationTemporality`'s values, by number (`opentelemetry/proto/metrics/v1/metrics.proto`).
const TEMPORALITY_NAMES: [&str; 3] = [
    "AGGREGATION_TEMPORALITY_UNSPECIFIED",
    "AGGREGATION_TEMPORALITY_DELTA",
    "AGGREGATION_TEMPORALITY_CUMULATIVE",
];

/// A JSON number or string as a number field meets it.
#[derive(Clone, Copy, Debug)]
pub(super) enum Num<'s> {
    U(u64),
    /// Negative (serde_json gives non-negative integers as `U`).
    I(i64),
    /// A number with a fraction or exponent, one too big for 64 bits, or `-0`.
    F(f64),
    Str(&'s str),
}

impl Num<'_> {
    #[cold]
    fn quote(self) -> String {
        match self {
            Num::U(v) => v.to_string(),
            Num::I(v) => v.to_string(),
            Num::F(v) => format!("{v:?}"),
            Num::Str(s) => quote(s.as_bytes()),
        }
    }
}

/// A number field: `parse` turns what the JSON holds into the field's value.
pub(super) struct NumberSeed<'c, 'a, 'o, T> {
    ctx: &'c mut Ctx<'a, 'o>,
    what: &'static str,
    parse: fn(Num<'_>) -> Result<T, JsonErrorKind>,
}

impl<'c, 'a, 'o> NumberSeed<'c, 'a, 'o, u64> {
    /// `fixed64` (`timeUnixNano`, `observedTimeUnixNano`).
    pub fn u64(ctx: &'c mut Ctx<'a, 'o>) -> Self {
        NumberSeed {
            ctx,
            what: "an unsigned 64-bit integer (a JSON integer or a decimal string)",
            parse: parse_u64,
        }
    }
}

impl<'c, 'a, 'o> NumberSeed<'c, 'a, 'o, u32> {
    /// `uint32` / `fixed32` (`flags`, `droppedAttributesCount`).
    pub fn u32(ctx: &'c mut Ctx<'a, 'o>) -> Self {
        NumberSeed {
            ctx,
            what: "an unsigned 32-bit integer (a JSON integer or a decimal string)",
            parse: |n| {
                let v = parse_u64(n).map_err(|_| BAD_U32)?;
                u32::try_from(v).map_err(|_| BAD_U32)
            },
        }
    }
}

impl<'c, 'a, 'o> NumberSeed<'c, 'a, 'o, i64> {
    /// `int64` (`intValue`).
    pub fn i64(ctx: &'c mut Ctx<'a, 'o>) -> Self {
        NumberSeed {
            ctx,
            what: "a signed 64-bit integer (a JSON integer or a decimal string)",
            parse: parse_i64,
        }
    }
}

impl<'c, 'a, 'o> NumberSeed<'c, 'a, 'o, i32> {
    /// `int32` / `sint32` (`scale`, `offset`).
    pub fn i32(ctx: &'c mut Ctx<'a, 'o>) -> Self {
        NumberSeed {
            ctx,
            what: "a signed 32-bit integer (a JSON integer or a decimal string)",
            parse: |n| {
                let v = parse_i64(n).map_err(|_| BAD_I32)?;
                i32::try_from(v).map_err(|_| BAD_I32)
            },
        }
    }

    /// `SeverityNumber`: a number in `int32`, or a value's name.
    pub fn severity(ctx: &'c mut Ctx<'a, 'o>) -> Self {
        NumberSeed {
            ctx,
            what: "a SeverityNumber (a JSON integer or a name such as \"SEVERITY_NUMBER_INFO\")",
            parse: |n| parse_enum(n, &SEVERITY_NAMES, JsonErrorKind::UnknownSeverity),
        }
    }

    /// `Span.SpanKind`: a number in `int32`, or a value's name.
    pub fn span_kind(ctx: &'c mut Ctx<'a, 'o>) -> Self {
        NumberSeed {
            ctx,
            what: "a SpanKind (a JSON integer or a name such as \"SPAN_KIND_SERVER\")",
            parse: |n| {
                let unknown = JsonErrorKind::UnknownEnum {
                    type_name: "SpanKind",
                };
                parse_enum(n, &SPAN_KIND_NAMES, unknown)
            },
        }
    }

    /// `AggregationTemporality`: a number in `int32`, or a value's name.
    pub fn temporality(ctx: &'c mut Ctx<'a, 'o>) -> Self {
        NumberSeed {
            ctx,
            what: "an AggregationTemporality (a JSON integer or a name such as \"AGGREGATION_TEMPORALITY_DELTA\")",
            parse: |n| {
                let unknown = JsonErrorKind::UnknownEnum {
                    type_name: "AggregationTemporality",
                };
                parse_enum(n, &TEMPORALITY_NAMES, unknown)
            },
        }
    }

    /// `Status.StatusCode`: a number in `int32`, or a value's name.
    pub fn status_code(ctx: &'c mut Ctx<'a, 'o>) -> Self {
        NumberSeed {
            ctx,
            what: "a StatusCode (a JSON integer or a name such as \"STATUS_CODE_ERROR\")",
            parse: |n| {
                let unknown = JsonErrorKind::UnknownEnum {
                    type_name: "StatusCode",
                };
                parse_enum(n, &STATUS_CODE_NAMES, unknown)
            },
        }
    }
}

/// An enum field: a number in `int32`, or one of `names` (the values' names, by
/// number); a string that names no value is `unknown`.
fn parse_enum(n: Num<'_>, names: &[&str], unknown: JsonErrorKind) -> Result<i32, JsonErrorKind> {
    match n {
        // pdata's `ReadEnumValue` takes a string as a name only, never as digits.
        Num::Str(name) => names
            .iter()
            .position(|&known| known == name)
            .map(|i| i as i32)
            .ok_or(unknown),
        n => {
            let v = parse_i64(n).map_err(|_| BAD_I32)?;
            i32::try_from(v).map_err(|_| BAD_I32)
        }
    }
}

impl<'c, 'a, 'o> NumberSeed<'c, 'a, 'o, f64> {
    /// `double` (`doubleValue`).
    pub fn f64(ctx: &'c mut Ctx<'a, 'o>) -> Self {
        NumberSeed {
            ctx,
            what: "a number (or \"NaN\", \"Infinity\", \"-Infinity\")",
            parse: parse_f64,
        }
    }
}

const BAD_U64: JsonErrorKind = JsonErrorKind::BadInteger {
    type_name: "uint64",
};
const BAD_U32: JsonErrorKind = JsonErrorKind::BadInteger {
    type_name: "uint32",
};
const BAD_I64: JsonErrorKind = JsonErrorKind::BadInteger { type_name: "int64" };
const BAD_I32: JsonErrorKind = JsonErrorKind::BadInteger { type_name: "int32" };

/// An unsigned integer: a JSON integer, or digits in a string (Go's `ParseUint(s, 10, 64)`:
/// no sign, no spaces, leading zeros allowed). A fraction or exponent is refused, as
/// jsoniter's integer reader refuses it.
fn parse_u64(n: Num<'_>) -> Result<u64, JsonErrorKind> {
    match n {
        Num::U(v) => Ok(v),
        Num::Str(s) if !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit()) => {
            s.parse().map_err(|_| BAD_U64)
        }
        _ => Err(BAD_U64),
    }
}

/// A signed integer: a JSON integer, or a decimal string with an optional sign (Go's
/// `ParseInt(s, 10, 64)`).
fn parse_i64(n: Num<'_>) -> Result<i64, JsonErrorKind> {
    match n {
        Num::U(v) => i64::try_from(v).map_err(|_| BAD_I64),
        Num::I(v) => Ok(v),
        // serde_json reads `-0` as a float; jsoniter reads it as 0.
        Num::F(v) if v == 0.0 && v.is_sign_negative() => Ok(0),
        Num::Str(s) => {
            let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
            if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
                return Err(BAD_I64);
            }
            s.parse().map_err(|_| BAD_I64)
        }
        Num::F(_) => Err(BAD_I64),
    }
}

/// A double: any JSON number, or a string. The protobuf JSON spellings `"NaN"`,
/// `"Infinity"`, `"-Infinity"`, and decimals (`"1.5"`, `"1e3"`) pass, as do the other
/// spellings Go's `ParseFloat` takes that Rust's parser shares (`"inf"`, `"+Inf"`,
/// `"nan"`, any case); a decimal out of range is refused, as Go refuses it. (Go's hex
/// floats, `"0x1p-2"`, are refused here.)
fn parse_f64(n: Num<'_>) -> Result<f64, JsonErrorKind> {
    match n {
        Num::U(v) => Ok(v as f64),
        Num::I(v) => Ok(v as f64),
        Num::F(v) => Ok(v),
        Num::Str(s) => {
            let v: f64 = s.parse().map_err(|_| JsonErrorKind::BadDouble)?;
            let word = s.trim_start_matches(['+', '-']).starts_with(['i', 'I']);
            if v.is_infinite() && !word {
                return Err(JsonErrorKind::BadDouble);
            }
            Ok(v)
        }
    }
}

impl<'a, T> DeserializeSeed<'a> for NumberSeed<'_, 'a, '_, T> {
    type Value = Option<T>;

    fn deserialize<D: Deserializer<'a>>(self, d: D) -> Result<Option<T>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'c, 'a, 'o, T> NumberSeed<'c, 'a, 'o, T> {
    fn done<E: de::Error>(self, n: Num<'_>) -> Result<T, E> {
        (self.parse)(n).map_err(|kind| self.ctx.fail(kind, Some(n.quote())))
    }

    /// The repeated field of this seed's numbers: each element is handed to `push`
    /// (with the batch) as it is read.
    pub fn each(self, push: fn(&mut Out<'o>, T)) -> NumbersSeed<'c, 'a, 'o, T> {
        NumbersSeed { number: self, push }
    }
}

impl<'a, T> Visitor<'a> for NumberSeed<'_, 'a, '_, T> {
    type Value = Option<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.what)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Option<T>, E> {
        Ok(None)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Option<T>, E> {
        self.done(Num::U(v)).map(Some)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Option<T>, E> {
        self.done(Num::I(v)).map(Some)
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Option<T>, E> {
        self.done(Num::F(v)).map(Some)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Option<T>, E> {
        self.done(Num::Str(v)).map(Some)
    }
}

/// A repeated number field (`bucketCounts`, `explicitBounds`): a JSON array of
/// numbers in [`NumberSeed`]'s spellings, each handed to `push` as it is read; `null`
/// is an empty list.
pub(super) struct NumbersSeed<'c, 'a, 'o, T> {
    number: NumberSeed<'c, 'a, 'o, T>,
    push: fn(&mut Out<'o>, T),
}

impl<'a, T> DeserializeSeed<'a> for NumbersSeed<'_, 'a, '_, T> {
    type Value = ();

    fn deserialize<D: Deserializer<'a>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_option(self)
    }
}

impl<'a, T> Visitor<'a> for NumbersSeed<'_, 'a, '_, T> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "an array of {}", self.number.what)
    }

    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_some<D: Deserializer<'a>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }

    fn visit_seq<S: SeqAccess<'a>>(self, mut seq: S) -> Result<(), S::Error> {
        let NumbersSeed {
            number: NumberSeed { ctx, what, parse },
            push,
        } = self;
        for index in 0.. {
            ctx.enter(Seg::Index(index));
            let item = Item(NumberSeed {
                ctx: &mut *ctx,
                what,
                parse,
            });
            let Some(v) = seq.next_element_seed(item)? else {
                ctx.leave();
                break;
            };
            push(&mut ctx.out, v);
            ctx.leave();
        }
        Ok(())
    }
}

/// An element of a repeated number field: as the field's [`NumberSeed`] reads it,
/// except that `null` is refused (there is no element to leave out).
struct Item<'c, 'a, 'o, T>(NumberSeed<'c, 'a, 'o, T>);

impl<'a, T> DeserializeSeed<'a> for Item<'_, 'a, '_, T> {
    type Value = T;

    fn deserialize<D: Deserializer<'a>>(self, d: D) -> Result<T, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'a, T> Visitor<'a> for Item<'_, 'a, '_, T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.what)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
        self.0.done(Num::U(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
        self.0.done(Num::I(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<T, E> {
        self.0.done(Num::F(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        self.0.done(Num::Str(v))
    }
}

/// `boolValue`: `true` or `false`.
pub(super) struct BoolSeed;

impl<'a> DeserializeSeed<'a> for BoolSeed {
    type Value = Option<bool>;

    fn deserialize<D: Deserializer<'a>>(self, d: D) -> Result<Option<bool>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'a> Visitor<'a> for BoolSeed {
    type Value = Option<bool>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("true or false")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Option<bool>, E> {
        Ok(None)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Option<bool>, E> {
        Ok(Some(v))
    }
}

/// A JSON string, read as raw bytes so that serde_json hands lone surrogate escapes
/// over (as WTF-8) instead of failing; `Visitor` impls below take it from there.
struct Raw<V>(V);

impl<'a, V: Visitor<'a>> DeserializeSeed<'a> for Raw<V> {
    type Value = V::Value;

    fn deserialize<D: Deserializer<'a>>(self, d: D) -> Result<V::Value, D::Error> {
        d.deserialize_bytes(self.0)
    }
}

/// A string field: borrowed from the request when it has no escapes, else unescaped
/// onto the tape.
pub(super) struct TextSeed<'c, 'a, 'o>(pub &'c mut Ctx<'a, 'o>);

impl<'a> DeserializeSeed<'a> for TextSeed<'_, 'a, '_> {
    type Value = Option<Text<'a>>;

    fn deserialize<D: Deserializer<'a>>(self, d: D) -> Result<Option<Text<'a>>, D::Error> {
        d.deserialize_option(self)
    }
}

impl<'a> Visitor<'a> for TextSeed<'_, 'a, '_> {
    type Value = Option<Text<'a>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_none<E: de::Error>(self) -> Result<Option<Text<'a>>, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'a>>(self, d: D) -> Result<Option<Text<'a>>, D::Error> {
        Raw(self).deserialize(d)
    }

    fn visit_borrowed_bytes<E: de::Error>(self, v: &'a [u8]) -> Result<Option<Text<'a>>, E> {
        match core::str::from_utf8(v) {
            Ok(s) => Ok(Some(Text::Request(s))),
            Err(_) => Err(self.0.fail(JsonErrorKind::InvalidUtf8, Some(quote(v)))),
        }
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Option<Text<'a>>, E> {
        let tape = &mut self.0.tape;
        let start = tape.text_mut().len();
        if push_wtf8(v, tape.text_mut()).is_err() {
            tape.text_mut().truncate(start);
            return Err(self.0.fail(JsonErrorKind::InvalidUtf8, Some(quote(v))));
        }
        let end = tape.text_mut().len();
        Ok(Some(Text::Tape { start, end }))
    }
}

/// Appends unescaped string bytes to `out`: UTF-8, except that serde_json writes a
/// lone surrogate escape (`"\ud83d"`, as JavaScript's `JSON.stringify` writes half an
/// emoji) as its 3-byte WTF-8 form, which becomes U+FFFD here, as jsoniter and Go's
/// `encoding/json` make it. Any other invalid byte is an error.
fn push_wtf8(mut v: &[u8], out: &mut String) -> Result<(), ()> {
    loop {
        match core::str::from_utf8(v) {
            Ok(s) => {
                out.push_str(s);
                return Ok(());
            }
            Err(e) => {
                let (valid, rest) = v.split_at(e.valid_up_to());
                out.push_str(&String::from_utf8_lossy(valid));
                match rest {
                    [0xed, 0xa0..=0xbf, 0x80..=0xbf, ..] => {
                        out.push(char::REPLACEMENT_CHARACTER);
                        v = &rest[3..];
                    }
                    _ => return Err(()),
                }
            }
        }
    }
}

/// A `traceId` (`N` = 16) or `spanId` (`N` = 8): `2N` hex digits, or `""` for none.
pub(super) struct IdSeed<'c, 'a, 'o, const N: usize>(pub &'c mut Ctx<'a, 'o>);

impl<'a, const N: usize> DeserializeSeed<'a> for IdSeed<'_, 'a, '_, N> {
    type Value = Option<[u8; N]>;

    fn deserialize<D: Deserializer<'a>>(self, d: D) -> Result<Option<[u8; N]>, D::Error> {
        d.deserialize_option(self)
    }
}

impl<'a, const N: usize> Visitor<'a> for IdSeed<'_, 'a, '_, N> {
    type Value = Option<[u8; N]>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a string of {} hex digits", 2 * N)
    }

    fn visit_none<E: de::Error>(self) -> Result<Option<[u8; N]>, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'a>>(self, d: D) -> Result<Option<[u8; N]>, D::Error> {
        Raw(self).deserialize(d)
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Option<[u8; N]>, E> {
        match decode_hex::<N>(v) {
            Some(id) => Ok(Some(id)),
            None => Err(self.0.fail(
                JsonErrorKind::BadId {
                    digits: 2 * N as u8,
                },
                Some(quote(v)),
            )),
        }
    }
}

/// `2N` hex digits (either case) as `N` bytes; `""` as all zero (absent).
fn decode_hex<const N: usize>(v: &[u8]) -> Option<[u8; N]> {
    let mut id = [0; N];
    if v.is_empty() {
        return Some(id);
    }
    if v.len() != 2 * N {
        return None;
    }
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    };
    for (byte, pair) in id.iter_mut().zip(v.chunks_exact(2)) {
        *byte = digit(pair[0])? << 4 | digit(pair[1])?;
    }
    Some(id)
}

/// `bytesValue`: base64, decoded onto the tape; the value is its byte range there.
pub(super) struct Base64Seed<'c, 'a, 'o>(pub &'c mut Ctx<'a, 'o>);

impl<'a> DeserializeSeed<'a> for Base64Seed<'_, 'a, '_> {
    type Value = Option<(usize, usize)>;

    fn deserialize<D: Deserializer<'a>>(self, d: D) -> Result<Option<(usize, usize)>, D::Error> {
        d.deserialize_option(self)
    }
}

impl<'a> Visitor<'a> for Base64Seed<'_, 'a, '_> {
    type Value = Option<(usize, usize)>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a base64 string")
    }

    fn visit_none<E: de::Error>(self) -> Result<Option<(usize, usize)>, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'a>>(self, d: D) -> Result<Option<(usize, usize)>, D::Error> {
        Raw(self).deserialize(d)
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Option<(usize, usize)>, E> {
        let bytes = self.0.tape.bytes_mut();
        let start = bytes.len();
        if decode_base64(v, bytes).is_err() {
            bytes.truncate(start);
            return Err(self.0.fail(JsonErrorKind::BadBase64, Some(quote(v))));
        }
        Ok(Some((start, bytes.len())))
    }
}

/// Decodes base64 in the standard (`+/`) or URL-safe (`-_`) alphabet, with or without
/// `=` padding, into `out`. Line breaks are skipped and unused trailing bits ignored, as
/// Go's decoders (non-strict) do.
pub(super) fn decode_base64(text: &[u8], out: &mut Vec<u8>) -> Result<(), ()> {
    let mut acc = 0u32;
    let mut n = 0;
    let mut pad = 0;
    for &c in text {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' => {
                pad += 1;
                continue;
            }
            b'\r' | b'\n' => continue,
            _ => return Err(()),
        };
        if pad > 0 {
            // Data after padding.
            return Err(());
        }
        acc = acc << 6 | u32::from(v);
        n += 1;
        if n == 4 {
            out.extend_from_slice(&[(acc >> 16) as u8, (acc >> 8) as u8, acc as u8]);
            acc = 0;
            n = 0;
        }
    }
    // What the last group left: 2 sextets are 1 byte (`==`), 3 are 2 bytes (`=`).
    match (n, pad) {
        (0, 0) => {}
        (2, 0 | 2) => out.push((acc >> 4) as u8),
        (3, 0 | 1) => out.extend_from_slice(&[(acc >> 10) as u8, (acc >> 2) as u8]),
        _ => return Err(()),
    }
    Ok(())
}
