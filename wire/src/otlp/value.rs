//! OTLP `AnyValue`s as the OpenTelemetry collector stringifies them.
//!
//! ClickHouse stores every attribute value as a `String`; the OTel ClickHouse exporter
//! writes `pcommon.Value.AsString()`, so sluice writes exactly that:
//!
//! | AnyValue | string |
//! |---|---|
//! | string | as is |
//! | bool | `true` / `false` |
//! | int | decimal |
//! | double | [`write_f64`]: shortest round-trip, ES6 style (`1.0` → `1`, `1e+21`, `1e-7`) |
//! | bytes | standard base64, padded |
//! | array, kvlist | compact JSON, as below |
//! | empty | empty string |
//!
//! Arrays and kvlists become what pdata's `marshalJSONNoHTMLEscape(v.AsRaw())` prints
//! (`json.Encoder` with `SetEscapeHTML(false)`, trailing newline trimmed; collector PR
//! #15108): Go's `encoding/json` applied to `[]any` / `map[string]any`. So object keys
//! come out sorted by bytes, a repeated key once with its last value (the Go map keeps
//! the last), empty values and empty bytes as `null`, bytes as a base64 string, and
//! strings escaped by [`write_json_string`]. A NaN or infinite double anywhere inside
//! makes the Go encoder fail, and `AsString` then returns the empty string.
//!
//! # Lifecycle
//!
//! A decoder meets an `AnyValue` as a length-delimited field (a log body, a
//! `KeyValue`'s value) and calls [`PbValue::parse`] on it: that reads the oneof and
//! nothing below it, so an array or kvlist stays a [`Reader`] over the request bytes.
//! Writing the value ([`write_as_string`](ValueView::write_as_string),
//! [`flatten_into`](ValueView::flatten_into), [`merge_kvlist_into`](ValueView::merge_kvlist_into))
//! parses and validates the nested values while it walks them.
//!
//! The writers are provided methods of [`ValueView`], which is all a format has to
//! give: what kind a value is, and a cursor over an array's or kvlist's members.
//! [`PbValue`] is the protobuf view; the OTLP/JSON reader has its own
//! (`otlp::json`). Each view gets its own monomorphised copy of the same writers, so
//! both formats stringify, flatten and merge byte for byte alike.
//!
//! # Invariants
//!
//! - Nothing is copied except into the output buffer. The one heap allocation is the
//!   sort buffer of a kvlist with more than `SORT_ON_STACK` (16) entries rendered as
//!   JSON.
//! - Values nest at most [`MAX_DEPTH`] deep, so the recursion is bounded.
//! - Every nested byte is validated before a walk returns `Ok`, including the values
//!   of repeated keys that JSON leaves out.
//! - On error, `write_as_string` leaves `out` as it found it and `flatten_into` leaves
//!   `key` as it found it; entries already pushed into a `Maps` stay, and the caller
//!   drops the row (`Maps::truncate`) as it does for any failed request.

use crate::columns::Maps;
use crate::proto::{DecodeError, ErrorKind, Reader, WireType};

/// How deep values may nest: a value may sit inside at most this many arrays and
/// kvlists, and an array or kvlist that would hold values deeper (even an empty one)
/// is refused with [`ErrorKind::TooDeep`]. The top-level value is at depth 0.
///
/// The number is where prost's default recursion limit (100 nested messages) falls for
/// a log body nested through kvlists: the body `AnyValue` is message 4 below
/// `ExportLogsServiceRequest` (`ResourceLogs`, `ScopeLogs`, `LogRecord`), and each
/// kvlist level costs 3 messages (`KeyValueList`, `KeyValue`, `AnyValue`), so prost
/// reads an `AnyValue` at depth 32 (message 100) but not a kvlist inside it. The Go
/// collector sets no limit; sluice needs one so hostile input cannot exhaust the stack.
pub const MAX_DEPTH: u32 = 32;

/// Kvlists rendered as JSON with at most this many entries are sorted in a stack array;
/// a bigger one allocates a single `Vec` for its entries. Maps nested in attributes and
/// bodies are mostly small; a stack array per nesting level stays small too (checked
/// at compile time in `Json::object`, for each view).
const SORT_ON_STACK: usize = 16;

/// A decoded AnyValue: a view into the request bytes, nothing copied.
#[derive(Clone, Copy, Debug)]
pub enum PbValue<'a> {
    /// No oneof field was set.
    Empty,
    Str(&'a str),
    Bool(bool),
    Int(i64),
    Double(f64),
    Bytes(&'a [u8]),
    /// An `ArrayValue` body: `AnyValue`s in field 1.
    Array(Reader<'a>),
    /// A `KeyValueList` body: `KeyValue`s in field 1.
    Kvlist(Reader<'a>),
}

impl<'a> PbValue<'a> {
    /// Parses an AnyValue message body (the reader from `Reader::message()`); last oneof field wins.
    ///
    /// Unknown fields are skipped; a known field with another wire type is an error.
    /// Arrays and kvlists are not looked into until they are written.
    #[inline(always)]
    pub fn parse(r: Reader<'a>) -> Result<PbValue<'a>, DecodeError> {
        PbValue::Empty.merge(r)
    }

    /// Reads AnyValue fields on top of `self`: protobuf's merge of a second copy of a
    /// message, in which a oneof field replaces whatever the oneof held. A second
    /// array or kvlist replaces the first too (as gogoproto's generated code, which the
    /// collector long used, does; the spec would concatenate two kvlists).
    #[inline(always)]
    pub(crate) fn merge(self, mut r: Reader<'a>) -> Result<PbValue<'a>, DecodeError> {
        let mut value = self;
        while let Some((field, wire)) = r.field()? {
            value = match (field, wire) {
                (1, WireType::Len) => PbValue::Str(r.str(1)?),
                (2, WireType::Varint) => PbValue::Bool(r.varint()? != 0),
                // int64 is the varint's 64 bits, two's complement.
                (3, WireType::Varint) => PbValue::Int(r.varint()? as i64),
                (4, WireType::Fixed64) => PbValue::Double(f64::from_bits(r.fixed64()?)),
                (5, WireType::Len) => PbValue::Array(r.message()?),
                (6, WireType::Len) => PbValue::Kvlist(r.message()?),
                (7, WireType::Len) => PbValue::Bytes(r.bytes()?),
                (1..=7, _) => return Err(r.wrong_type(field, wire)),
                _ => {
                    r.skip(wire)?;
                    continue;
                }
            };
        }
        Ok(value)
    }
}

impl<'a> ValueView<'a> for PbValue<'a> {
    type Error = DecodeError;
    type List = Reader<'a>;

    #[inline]
    fn kind(&self) -> ValueKind<'a, Reader<'a>> {
        match *self {
            PbValue::Empty => ValueKind::Empty,
            PbValue::Str(s) => ValueKind::Str(s),
            PbValue::Bool(b) => ValueKind::Bool(b),
            PbValue::Int(i) => ValueKind::Int(i),
            PbValue::Double(d) => ValueKind::Double(d),
            PbValue::Bytes(b) => ValueKind::Bytes(b),
            PbValue::Array(list) => ValueKind::Array(list),
            PbValue::Kvlist(list) => ValueKind::Kvlist(list),
        }
    }

    /// The next element of an `ArrayValue` body.
    fn next_element(list: &mut Reader<'a>) -> Result<Option<PbValue<'a>>, DecodeError> {
        while let Some((field, wire)) = list.field()? {
            match (field, wire) {
                (1, WireType::Len) => return PbValue::parse(list.message()?).map(Some),
                (1, _) => return Err(list.wrong_type(field, wire)),
                _ => list.skip(wire)?,
            }
        }
        Ok(None)
    }

    /// The next entry of a `KeyValueList` body.
    fn next_entry(list: &mut Reader<'a>) -> Result<Option<(&'a str, PbValue<'a>)>, DecodeError> {
        while let Some((field, wire)) = list.field()? {
            match (field, wire) {
                (1, WireType::Len) => return parse_key_value(list.message()?).map(Some),
                (1, _) => return Err(list.wrong_type(field, wire)),
                _ => list.skip(wire)?,
            }
        }
        Ok(None)
    }

    #[cold]
    fn too_deep(list: &Reader<'a>) -> DecodeError {
        DecodeError::new(ErrorKind::TooDeep, list.offset())
    }
}

/// What an `AnyValue` holds, as a [`ValueView`] shows it: scalars by value, strings
/// and bytes borrowed, an array or kvlist as a cursor `L` over its members.
#[derive(Clone, Copy, Debug)]
pub enum ValueKind<'v, L> {
    /// No oneof field was set.
    Empty,
    Str(&'v str),
    Bool(bool),
    Int(i64),
    Double(f64),
    Bytes(&'v [u8]),
    /// Elements come from [`ValueView::next_element`].
    Array(L),
    /// Entries come from [`ValueView::next_entry`].
    Kvlist(L),
}

/// An `AnyValue` as a decoder holds it, and everything the collector makes of one.
///
/// A format implements the four required methods: [`PbValue`] over protobuf bytes,
/// the OTLP/JSON reader over its parsed tree. The provided methods are the writers;
/// they are generic, so each format gets a monomorphised copy (no `dyn`) and both
/// write the same bytes for the same value.
pub trait ValueView<'v>: Copy {
    /// What walking nested values can fail with (malformed bytes, too deep).
    type Error;
    /// A cursor over an array's elements or a kvlist's entries.
    type List: Copy;

    /// What this value is.
    fn kind(&self) -> ValueKind<'v, Self::List>;

    /// The next element of an array, advancing `list`.
    fn next_element(list: &mut Self::List) -> Result<Option<Self>, Self::Error>;

    /// The next entry of a kvlist, advancing `list`.
    fn next_entry(list: &mut Self::List) -> Result<Option<(&'v str, Self)>, Self::Error>;

    /// The error for walking into `list` when it sits [`MAX_DEPTH`] deep or deeper.
    fn too_deep(list: &Self::List) -> Self::Error;

    /// The string, if this is a string value.
    #[inline]
    fn as_str(&self) -> Option<&'v str> {
        match self.kind() {
            ValueKind::Str(s) => Some(s),
            _ => None,
        }
    }

    /// Appends AsString() of this value to `out`. Nested values are parsed (and validated) as they are walked; depth-limited.
    ///
    /// On error `out` is left as it was.
    fn write_as_string(&self, out: &mut Vec<u8>) -> Result<(), Self::Error> {
        let start = out.len();
        let written = write_as_string_at(self, 0, out);
        if written.is_err() {
            out.truncate(start);
        }
        written
    }

    /// OTTL `flatten` of this value under the key in `key` (which holds e.g. `b"http"`).
    ///
    /// What `flatten` (opentelemetry-collector-contrib `pkg/ottl/ottlfuncs/func_flatten.go`,
    /// no `depth`, no `resolve_conflicts`) makes of a value under a key:
    ///
    /// - a kvlist becomes its entries under `key.sub`, recursively; the `.` is left out
    ///   while the key is still empty (Go adds it only to a non-empty prefix);
    /// - an array becomes its elements under `key.0`, `key.1`, …, recursively; the
    ///   elements of an array that is itself an array element get no `.` (`a.00`, and
    ///   `a.00.0` one level further), as OTTL's `flattenSlice` writes them
    ///   ([`push_index`](super::clickstack::push_index));
    /// - an empty kvlist or empty array yields no entry at all: `flatten` drops it;
    /// - anything else is one entry, `key` = AsString (an empty value gives `""`).
    ///
    /// A repeated key pushes both entries; `Maps::finish_row` keeps the last, as
    /// `PutEmpty` on the Go map does.
    ///
    /// `key` is a scratch buffer: it has its original length again when this returns,
    /// also on error.
    fn flatten_into(&self, key: &mut Vec<u8>, out: &mut Maps) -> Result<(), Self::Error> {
        let len = key.len();
        let flattened = flatten_at(self, 0, false, key, out);
        key.truncate(len);
        flattened
    }

    /// For a kvlist value: pushes each entry (key, AsString(value)) into `out` (no flattening). Other kinds: nothing.
    ///
    /// Entries are pushed in wire order, repeated keys included; `Maps::finish_row`
    /// keeps the last of each.
    fn merge_kvlist_into(&self, out: &mut Maps) -> Result<(), Self::Error> {
        let ValueKind::Kvlist(mut list) = self.kind() else {
            return Ok(());
        };
        // The kvlist is at depth 0, its values at depth 1.
        while let Some((key, value)) = Self::next_entry(&mut list)? {
            out.push_entry_with(key.as_bytes(), |buf| write_as_string_at(&value, 1, buf))?;
        }
        Ok(())
    }
}

/// Parses a KeyValue message body into its key and value (absent value = Empty).
///
/// A repeated `value` field is merged into the first, as protobuf merges a message
/// field seen twice: the last oneof field across both wins.
#[inline(always)]
pub fn parse_key_value<'a>(mut r: Reader<'a>) -> Result<(&'a str, PbValue<'a>), DecodeError> {
    let mut key = "";
    let mut value = PbValue::Empty;
    while let Some((field, wire)) = r.field()? {
        match (field, wire) {
            (1, WireType::Len) => key = r.str(1)?,
            (2, WireType::Len) => value = value.merge(r.message()?)?,
            (1 | 2, _) => return Err(r.wrong_type(field, wire)),
            _ => r.skip(wire)?,
        }
    }
    Ok((key, value))
}

/// Appends `s` as a Go encoding/json string literal (quotes included), with pdata's escaping rules.
///
/// That is Go's `appendString` with HTML escaping off (Go ≥ 1.22): `"` and `\` get a
/// backslash; `\b`, `\f`, `\n`, `\r`, `\t` their short escapes; other bytes below
/// 0x20 `\u00XX` (lowercase hex); U+2028 and U+2029 `\u2028` / `\u2029`, which Go
/// escapes unconditionally; everything else, `<`, `>`, `&`, DEL and all other
/// non-ASCII text included, as is. (Go also turns invalid UTF-8 into `\ufffd`; a
/// `&str` has none.)
pub fn write_json_string(s: &str, out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let b = s.as_bytes();
    out.reserve(b.len() + 2);
    out.push(b'"');
    let mut start = 0;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let width = match c {
            b'"' | b'\\' | 0x00..=0x1f => 1,
            // U+2028 and U+2029 are E2 80 A8 and E2 80 A9 in UTF-8.
            0xe2 if b.get(i + 1) == Some(&0x80) && matches!(b.get(i + 2), Some(0xa8 | 0xa9)) => 3,
            _ => {
                i += 1;
                continue;
            }
        };
        out.extend_from_slice(&b[start..i]);
        match c {
            b'"' | b'\\' => out.extend_from_slice(&[b'\\', c]),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0xe2 if b[i + 2] == 0xa8 => out.extend_from_slice(b"\\u2028"),
            0xe2 => out.extend_from_slice(b"\\u2029"),
            _ => {
                out.extend_from_slice(b"\\u00");
                out.extend_from_slice(&[HEX[usize::from(c >> 4)], HEX[usize::from(c & 0xf)]]);
            }
        }
        i += width;
        start = i;
    }
    out.extend_from_slice(&b[start..]);
    out.push(b'"');
}

/// Writes `v` as pdata's `float64AsString` does (Go's `encoding/json` float
/// encoding, "as if by ES6 number to string conversion"): the shortest decimal that
/// round-trips, in plain notation for `1e-6 <= |v| < 1e21` (and zero), else in
/// exponent notation with a sign and no leading zeros in the exponent (`1e+21`,
/// `1.5e-7`). NaN and infinities, which JSON cannot hold, are written `NaN`,
/// `Infinity` and `-Infinity`, as pdata does since collector PR #15138 (before it,
/// pdata wrote the JSON encoder's error text, `json: unsupported value: NaN`).
pub fn write_f64(v: f64, out: &mut Vec<u8>) {
    if !v.is_finite() {
        let text: &[u8] = if v.is_nan() {
            b"NaN"
        } else if v > 0.0 {
            b"Infinity"
        } else {
            b"-Infinity"
        };
        out.extend_from_slice(text);
        return;
    }
    // Whole numbers are common (counts, sizes, status codes sent as doubles): print the
    // integer; below 2^53 every such double is exactly that integer.
    if v.fract() == 0.0 && v.abs() < 9_007_199_254_740_992.0 {
        if v == 0.0 && v.is_sign_negative() {
            out.extend_from_slice(b"-0");
        } else {
            out.extend_from_slice(itoa::Buffer::new().format(v as i64).as_bytes());
        }
        return;
    }
    if write_short_decimal(v, out) {
        return;
    }
    // `ryu` gives the shortest round-trip digits, breaking exact ties to even as Go's
    // strconv does (`core::fmt` rounds them up); lay them out as ES6 does.
    let mut buf = ryu::Buffer::new();
    let (negative, digits, n) = shortest_digits(buf.format_finite(v));
    write_es6(negative, &digits, n, out);
}

/// Powers of ten that are exact doubles, for [`write_short_decimal`].
const POW10: [f64; 5] = [1.0, 10.0, 100.0, 1_000.0, 10_000.0];

/// Writes `v` if it is a short decimal (`12.5`, `0.25`, `99.99`: at most four decimals
/// and a magnitude well inside 2^53), the common case in telemetry, without the
/// general shortest-digits search. Returns false, writing nothing, otherwise.
///
/// `m / 10^k` is the shortest representation when (1) `v × 10^k` is the integer `m`
/// and `m / 10^k` reads back as `v` (the division is correctly rounded, as parsing
/// is), and (2) no number with `k - 1` decimals reads back as `v`: the only candidates
/// are the two integers around `v × 10^(k-1)`, because the interval of reals that round
/// to `v` is far narrower than `10^-(k-1)` at these magnitudes. It is also the closest
/// `k`-decimal candidate (`m` is the nearest integer to `v × 10^k`), as Go chooses.
fn write_short_decimal(v: f64, out: &mut Vec<u8>) -> bool {
    // 2^40: the products and quotients below stay exact integers with room to spare.
    const LIMIT: f64 = 1_099_511_627_776.0;
    for k in 1..POW10.len() {
        let p = v * POW10[k];
        if p.abs() >= LIMIT {
            return false;
        }
        if p.fract() != 0.0 || p / POW10[k] != v {
            continue;
        }
        let m = p as i64;
        let shorter = (m / 10) as f64; // towards zero; its neighbour away from zero:
        let away = shorter + p.signum();
        if k > 1 && (shorter / POW10[k - 1] == v || away / POW10[k - 1] == v) {
            return false;
        }
        let mut digits = itoa::Buffer::new();
        let digits = digits.format(m.unsigned_abs()).as_bytes();
        if m < 0 {
            out.push(b'-');
        }
        match digits.len().checked_sub(k) {
            Some(0) | None => {
                out.extend_from_slice(b"0.");
                out.resize(out.len() + (k - digits.len()), b'0');
                out.extend_from_slice(digits);
            }
            Some(int) => {
                out.extend_from_slice(&digits[..int]);
                out.push(b'.');
                out.extend_from_slice(&digits[int..]);
            }
        }
        return true;
    }
    false
}

/// Splits `ryu`'s output (`-12.5`, `1e21`, `1.5e-7`, `0.001`) into the sign, the
/// significant digits `d1…dk` and the exponent `n` with `|v| = 0.d1…dk × 10^n` (the
/// ES6 spec's names).
fn shortest_digits(s: &str) -> (bool, DigitBuf, i32) {
    let (negative, s) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let (mantissa, exp) = match s.split_once('e') {
        Some((m, e)) => (m, e.parse::<i32>().unwrap_or(0)),
        None => (s, 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let mut digits = DigitBuf::default();
    // Leading zeros (of `0.001`) move the exponent; trailing zeros (of `12.50`) go.
    let mut n = exp + int.len() as i32;
    for &d in int.as_bytes().iter().chain(frac.as_bytes()) {
        if digits.len == 0 && d == b'0' {
            n -= 1;
            continue;
        }
        digits.push(d);
    }
    while digits.len > 1 && digits.last() == b'0' {
        digits.len -= 1;
    }
    (negative, digits, n)
}

/// The significant digits of a double: at most 17, and a little slack.
#[derive(Default)]
struct DigitBuf {
    d: [u8; 24],
    len: usize,
}

impl DigitBuf {
    fn push(&mut self, d: u8) {
        if self.len < self.d.len() {
            self.d[self.len] = d;
            self.len += 1;
        }
    }

    fn last(&self) -> u8 {
        self.d[self.len - 1]
    }

    fn as_bytes(&self) -> &[u8] {
        &self.d[..self.len]
    }
}

/// Number::toString (ECMA-262 §6.1.6.1.20) for `0.d1…dk × 10^n`, with Go's exponent
/// style (`e+21`, `e-7`). Plain notation for `-6 < n <= 21`, which is Go's
/// `1e-6 <= |v| < 1e21`.
fn write_es6(negative: bool, digits: &DigitBuf, n: i32, out: &mut Vec<u8>) {
    let d = digits.as_bytes();
    let k = d.len() as i32;
    if negative {
        out.push(b'-');
    }
    if k <= n && n <= 21 {
        out.extend_from_slice(d);
        out.resize(out.len() + (n - k) as usize, b'0');
    } else if 0 < n && n <= 21 {
        out.extend_from_slice(&d[..n as usize]);
        out.push(b'.');
        out.extend_from_slice(&d[n as usize..]);
    } else if -6 < n && n <= 0 {
        out.extend_from_slice(b"0.");
        out.resize(out.len() + (-n) as usize, b'0');
        out.extend_from_slice(d);
    } else {
        out.push(d[0]);
        if k > 1 {
            out.push(b'.');
            out.extend_from_slice(&d[1..]);
        }
        out.push(b'e');
        let e = n - 1;
        out.push(if e < 0 { b'-' } else { b'+' });
        out.extend_from_slice(itoa::Buffer::new().format(e.unsigned_abs()).as_bytes());
    }
}

/// Appends `data` in standard base64 with padding (Go's `base64.StdEncoding`).
fn write_base64(data: &[u8], out: &mut Vec<u8>) {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let sextet = |n: u32, shift: u32| ALPHABET[((n >> shift) & 63) as usize];
    out.reserve(data.len().div_ceil(3) * 4);
    let mut chunks = data.chunks_exact(3);
    for c in &mut chunks {
        let n = u32::from(c[0]) << 16 | u32::from(c[1]) << 8 | u32::from(c[2]);
        out.extend_from_slice(&[sextet(n, 18), sextet(n, 12), sextet(n, 6), sextet(n, 0)]);
    }
    match *chunks.remainder() {
        [a] => {
            let n = u32::from(a) << 16;
            out.extend_from_slice(&[sextet(n, 18), sextet(n, 12), b'=', b'=']);
        }
        [a, b] => {
            let n = u32::from(a) << 16 | u32::from(b) << 8;
            out.extend_from_slice(&[sextet(n, 18), sextet(n, 12), sextet(n, 6), b'=']);
        }
        _ => {}
    }
}

/// AsString of `v`, which sits at `depth`.
fn write_as_string_at<'v, V: ValueView<'v>>(
    v: &V,
    depth: u32,
    out: &mut Vec<u8>,
) -> Result<(), V::Error> {
    match v.kind() {
        ValueKind::Empty => {}
        ValueKind::Str(s) => out.extend_from_slice(s.as_bytes()),
        ValueKind::Bool(b) => out.extend_from_slice(if b { b"true" } else { b"false" }),
        ValueKind::Int(i) => out.extend_from_slice(itoa::Buffer::new().format(i).as_bytes()),
        ValueKind::Double(d) => write_f64(d, out),
        ValueKind::Bytes(b) => write_base64(b, out),
        ValueKind::Array(_) | ValueKind::Kvlist(_) => {
            let start = out.len();
            let mut json = Json {
                out,
                unsupported: false,
            };
            json.value(v, depth)?;
            if json.unsupported {
                // Go's encoder failed and wrote nothing; pdata ignores the error.
                out.truncate(start);
            }
        }
    }
    Ok(())
}

/// Refuses to walk into a container at `depth` whose elements would nest too deep.
#[inline]
fn enter<'v, V: ValueView<'v>>(list: &V::List, depth: u32) -> Result<(), V::Error> {
    if depth >= MAX_DEPTH {
        return Err(V::too_deep(list));
    }
    Ok(())
}

/// Walks a value without writing it (the value of a repeated key that JSON leaves
/// out), so that malformed or too deep input is refused all the same.
fn check<'v, V: ValueView<'v>>(v: &V, depth: u32) -> Result<(), V::Error> {
    match v.kind() {
        ValueKind::Array(mut list) => {
            enter::<V>(&list, depth)?;
            while let Some(element) = V::next_element(&mut list)? {
                check(&element, depth + 1)?;
            }
        }
        ValueKind::Kvlist(mut list) => {
            enter::<V>(&list, depth)?;
            while let Some((_, value)) = V::next_entry(&mut list)? {
                check(&value, depth + 1)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// The flatten walk: `v` sits at `depth` under the key in `key`.
fn flatten_at<'v, V: ValueView<'v>>(
    v: &V,
    depth: u32,
    in_array: bool,
    key: &mut Vec<u8>,
    out: &mut Maps,
) -> Result<(), V::Error> {
    let base = key.len();
    match v.kind() {
        ValueKind::Kvlist(mut list) => {
            enter::<V>(&list, depth)?;
            while let Some((sub, value)) = V::next_entry(&mut list)? {
                key.truncate(base);
                if base > 0 {
                    key.push(b'.');
                }
                key.extend_from_slice(sub.as_bytes());
                flatten_at(&value, depth + 1, false, key, out)?;
            }
        }
        ValueKind::Array(mut list) => {
            enter::<V>(&list, depth)?;
            let mut index = 0usize;
            while let Some(element) = V::next_element(&mut list)? {
                key.truncate(base);
                // `a.0`, but `a.00` for an array inside an array (and `a.00.0` one level
                // further): OTTL's `flattenSlice` drops the dot every other level.
                super::clickstack::push_index(key, index, in_array);
                flatten_at(&element, depth + 1, !in_array, key, out)?;
                index += 1;
            }
        }
        _ => out.push_entry_with(key, |buf| write_as_string_at(v, depth, buf))?,
    }
    key.truncate(base);
    Ok(())
}

/// A kvlist entry waiting to be sorted for JSON: its key, its place on the wire (so
/// the last of a repeated key is known), its value.
#[derive(Clone, Copy)]
struct Entry<'v, V> {
    key: &'v str,
    index: usize,
    value: V,
}

/// Go's `encoding/json` of `AsRaw()`, written straight into `out`.
struct Json<'o> {
    out: &'o mut Vec<u8>,
    /// A NaN or infinity was met: Go's encoder fails on it, so the text is void.
    unsupported: bool,
}

impl Json<'_> {
    fn value<'v, V: ValueView<'v>>(&mut self, v: &V, depth: u32) -> Result<(), V::Error> {
        match v.kind() {
            ValueKind::Empty => self.out.extend_from_slice(b"null"),
            ValueKind::Str(s) => write_json_string(s, self.out),
            ValueKind::Bool(b) => self
                .out
                .extend_from_slice(if b { b"true" } else { b"false" }),
            ValueKind::Int(i) => {
                self.out
                    .extend_from_slice(itoa::Buffer::new().format(i).as_bytes());
            }
            ValueKind::Double(d) if d.is_finite() => write_f64(d, self.out),
            ValueKind::Double(_) => self.unsupported = true,
            // `ByteSlice.AsRaw` copies into a nil slice, so empty bytes are a nil
            // `[]byte`, which Go encodes as `null`.
            ValueKind::Bytes([]) => self.out.extend_from_slice(b"null"),
            ValueKind::Bytes(b) => {
                self.out.push(b'"');
                write_base64(b, self.out);
                self.out.push(b'"');
            }
            ValueKind::Array(list) => self.array::<V>(list, depth)?,
            ValueKind::Kvlist(list) => self.object::<V>(list, depth)?,
        }
        Ok(())
    }

    fn array<'v, V: ValueView<'v>>(
        &mut self,
        mut list: V::List,
        depth: u32,
    ) -> Result<(), V::Error> {
        enter::<V>(&list, depth)?;
        self.out.push(b'[');
        let mut first = true;
        while let Some(element) = V::next_element(&mut list)? {
            if !first {
                self.out.push(b',');
            }
            first = false;
            self.value(&element, depth + 1)?;
        }
        self.out.push(b']');
        Ok(())
    }

    /// A kvlist as a Go `map[string]any`: keys sorted by bytes, the last value of a
    /// repeated key.
    fn object<'v, V: ValueView<'v>>(
        &mut self,
        mut list: V::List,
        depth: u32,
    ) -> Result<(), V::Error> {
        const {
            assert!(
                SORT_ON_STACK * size_of::<Entry<'static, V>>() * MAX_DEPTH as usize <= 64 * 1024,
                "the JSON sort arrays of a maximally nested value must stay within 64 KiB of stack"
            );
        }
        enter::<V>(&list, depth)?;
        let Some((key, value)) = V::next_entry(&mut list)? else {
            self.out.extend_from_slice(b"{}");
            return Ok(());
        };
        // The first entry fills the stack array; it is overwritten or never read.
        let mut small = [Entry {
            key,
            index: 0,
            value,
        }; SORT_ON_STACK];
        let mut spilled = Vec::new();
        let mut n = 1;
        while let Some((key, value)) = V::next_entry(&mut list)? {
            let entry = Entry {
                key,
                index: n,
                value,
            };
            if n < SORT_ON_STACK {
                small[n] = entry;
            } else {
                if n == SORT_ON_STACK {
                    spilled.extend_from_slice(&small);
                }
                spilled.push(entry);
            }
            n += 1;
        }
        let entries = if n <= SORT_ON_STACK {
            &mut small[..n]
        } else {
            &mut spilled[..]
        };
        // (key, index) is unique, so the unstable sort is deterministic and needs no buffer.
        entries.sort_unstable_by(|a, b| a.key.cmp(b.key).then(a.index.cmp(&b.index)));

        self.out.push(b'{');
        let mut first = true;
        for (i, entry) in entries.iter().enumerate() {
            if entries.get(i + 1).is_some_and(|next| next.key == entry.key) {
                // A later entry has this key; Go's map holds only that one.
                check(&entry.value, depth + 1)?;
                continue;
            }
            if !first {
                self.out.push(b',');
            }
            first = false;
            write_json_string(entry.key, self.out);
            self.out.push(b':');
            self.value(&entry.value, depth + 1)?;
        }
        self.out.push(b'}');
        Ok(())
    }
}

#[cfg(test)]
mod tests;
