//! ClickStack's log processing, as pure functions.
//!
//! ClickStack (HyperDX) runs its OpenTelemetry collector with a `transform` processor on every
//! log it writes to `otel_logs`; sluice must store exactly what that processor produces. This
//! module holds the pieces that are pure text work; the logs decoder calls them per record.
//!
//! Sources: `hyperdxio/hyperdx` `docker/otel-collector/config.yaml` at 5903952c (JSON body,
//! body inference, lower-casing); hyperdx PR #2363 (`@hyperdx/otel-collector` 2.28.0: severity
//! from attributes), whose statements are pinned here by its description and smoke tests;
//! OTTL in opentelemetry-collector-contrib `pkg/ottl/ottlfuncs` (`ExtractPatterns`, `ParseJSON`
//! on goccy/go-json, `flatten`, `Substring`, `Len`, `ConvertCase`).
//!
//! | ClickStack statement | here |
//! |---|---|
//! | `set(log.cache, ExtractPatterns(log.body, "(?P<0>(\\{.*\\}))")) where IsString(log.body)` | [`json_object_in_body`] |
//! | `merge_maps(log.attributes, ParseJSON(log.cache["0"]), "upsert") where IsMap(log.cache)` | [`merge_json_body`] |
//! | `flatten(log.attributes) where IsMap(log.cache)` | [`merge_json_body`] (JSON fields), caller (the record's own attributes, see 2.) |
//! | `merge_maps(log.attributes, log.body, "upsert") where IsMap(log.body)` | caller |
//! | `set(log.severity_text, log.attributes[K])` for K in [`LEVEL_KEYS`], then `IsMatch` → number | caller picks K; [`severity_number_from_level`] |
//! | `Substring(log.body.string, 0, 256)`, `ExtractPatterns(…, "(?i)(?P<0>\\b(alert\|…\|trace))")`, `IsMatch` chain | [`severity_from_body`] |
//! | `set(log.severity_text, ConvertCase(log.severity_text, "lower"))` | [`lowercase_severity`] |
//!
//! # Record lifecycle (what the caller does, in this order)
//!
//! 1. A record with attribute `rr-web.event` goes to `hyperdx_sessions`, untouched by the rest.
//! 2. Attributes. `log.cache` is a map even when `ExtractPatterns` did not run or found nothing,
//!    so `IsMap(log.cache)` is always true: the record's own attributes are flattened for *every*
//!    record (kvlist and array values become dotted keys, see [`push_member`], [`push_index`]).
//!    A string body then contributes [`json_object_in_body`] → [`merge_json_body`], pushed after
//!    the record's attributes so that on the same key the body wins (`Maps` keeps the last).
//!    A kvlist body's entries are upserted *after* the flatten, so they stay unflattened.
//! 3. Severity, only while the record has severity number 0 and empty text: the first
//!    [`LEVEL_KEYS`] attribute (of the merged, flattened set; last entry of a repeated key) whose
//!    value is a non-empty string gives the text and [`severity_number_from_level`] the number
//!    (OTTL's `severity_text` setter ignores non-strings, so pino's numeric `level` is skipped).
//!    If there is still neither, [`severity_from_body`] on the body's `AsString` form: OTTL's
//!    `body.string` is `Body().AsString()`, so a kvlist body is searched as its JSON.
//! 4. The text is lower-cased, always ([`lowercase_severity`]).
//!
//! # Invariants
//!
//! - [`merge_json_body`] pushes all of an object's fields or none: it validates the whole text
//!   before it writes, since a [`Maps`] row cannot take entries back.
//! - No allocation: keys are built in the caller's scratch buffer, values are written straight
//!   into the column arena (escaped strings are decoded in place there).
//! - Known differences from Go, all on inputs a logger does not produce: JSON nested deeper
//!   than [`MAX_JSON_DEPTH`]; a JSON key repeated with a map or array value (Go keeps only the
//!   last value whole, here the earlier value's flattened keys survive beside it); and a body
//!   field that replaces a record attribute of another shape (`{"a":{"b":1}}` over attribute
//!   `a = "x"`: Go drops `a`, the caller must skip it; see 2.).

use std::convert::Infallible;
use std::io::Write as _;

use crate::columns::Maps;
use crate::otlp::value::write_f64;

/// Attribute keys whose string value gives the severity, in priority order (hyperdx PR #2363:
/// pino, winston, zap, logrus, slog…; Datadog and GCP; Elastic ECS, flattened).
pub const LEVEL_KEYS: [&str; 7] = [
    "level",
    "Level",
    "LEVEL",
    "severity",
    "Severity",
    "SEVERITY",
    "log.level",
];

/// `SEVERITY_NUMBER_TRACE`, the OTel severity number ClickStack gives a `trace` log.
pub const SEVERITY_TRACE: u8 = 1;
/// `SEVERITY_NUMBER_DEBUG`.
pub const SEVERITY_DEBUG: u8 = 5;
/// `SEVERITY_NUMBER_INFO`, also the fallback when nothing matches.
pub const SEVERITY_INFO: u8 = 9;
/// `SEVERITY_NUMBER_WARN`.
pub const SEVERITY_WARN: u8 = 13;
/// `SEVERITY_NUMBER_ERROR`.
pub const SEVERITY_ERROR: u8 = 17;
/// `SEVERITY_NUMBER_FATAL`.
pub const SEVERITY_FATAL: u8 = 21;

/// Leading bytes of a body searched for a level keyword: `Substring(log.body.string, 0, 256)`.
/// OTTL's `Substring` (without its `utf8_safe` flag) and `Len` count bytes, not characters.
pub const BODY_SEVERITY_WINDOW: usize = 256;

/// Deepest JSON nesting [`merge_json_body`] accepts; a deeper body is not merged. Go's decoder
/// allows 10 000 (`maxDecodeNestingDepth`), which recursion here would pay for in stack (two
/// frames a level); 512 levels stay far inside a 2 MiB thread stack and any real log line.
pub const MAX_JSON_DEPTH: usize = 512;

/// The keywords of `\b(alert|crit|emerg|fatal|error|err|warn|notice|debug|dbug|trace)`, in the
/// regex's alternation order, with the text and number the `IsMatch` chain gives each.
const BODY_KEYWORDS: [(&[u8], &str, u8); 11] = [
    (b"alert", "fatal", SEVERITY_FATAL),
    (b"crit", "fatal", SEVERITY_FATAL),
    (b"emerg", "fatal", SEVERITY_FATAL),
    (b"fatal", "fatal", SEVERITY_FATAL),
    (b"error", "error", SEVERITY_ERROR),
    (b"err", "error", SEVERITY_ERROR),
    (b"warn", "warn", SEVERITY_WARN),
    (b"notice", "warn", SEVERITY_WARN),
    (b"debug", "debug", SEVERITY_DEBUG),
    (b"dbug", "debug", SEVERITY_DEBUG),
    (b"trace", "trace", SEVERITY_TRACE),
];

/// The `IsMatch(log.severity_text, "(?i)(…)")` statements of the attribute rule, in the order
/// they run; each overwrites the number, so the last that matches wins.
const LEVEL_MATCHES: [(&[&[u8]], u8); 6] = [
    (&[b"alert", b"crit", b"emerg", b"fatal"], SEVERITY_FATAL),
    (&[b"error", b"err"], SEVERITY_ERROR),
    (&[b"warn", b"notice"], SEVERITY_WARN),
    (&[b"info"], SEVERITY_INFO),
    (&[b"debug", b"dbug"], SEVERITY_DEBUG),
    (&[b"trace"], SEVERITY_TRACE),
];

/// The severity number for a level text taken from an attribute: case-insensitive substring
/// matches tried in the order alert|crit|emerg|fatal (21), error|err (17), warn|notice (13),
/// info (9), debug|dbug (5), trace (1), the last match winning (`"info-debug"` → 5,
/// `"error info"` → 9, `"terror"` → 17); a text that matches none gets [`SEVERITY_INFO`].
/// Only ASCII letters occur in the keywords, and Go's `(?i)` folds none of them to a
/// non-ASCII letter (unlike `k` and `s`), so ASCII case folding is exact.
pub fn severity_number_from_level(text: &str) -> u8 {
    let text = text.as_bytes();
    LEVEL_MATCHES
        .iter()
        .rev()
        .find(|(words, _)| {
            words
                .iter()
                .any(|word| contains_ignore_ascii_case(text, word))
        })
        .map_or(SEVERITY_INFO, |&(_, number)| number)
}

/// Severity inferred from a body: `(lower-case text, number)`; `("info", 9)` when no keyword.
///
/// The regex `(?i)\b(alert|crit|emerg|fatal|error|err|warn|notice|debug|dbug|trace)` runs over
/// the first [`BODY_SEVERITY_WINDOW`] characters (a keyword cut by the window still matches as a
/// shorter one: `err` of `error`). Leftmost match wins, so the earliest keyword in the body
/// decides, not the earliest in the list. `\b` is Go's ASCII word boundary and only leads, so a
/// keyword must start a word but may run on: `[ERROR]`, `error:`, `warning`, `alertmanager` match;
/// `terror`, `xwarn`, `_error`, `1error` do not; a non-ASCII letter before counts as a boundary.
/// Texts: alert, crit, emerg, fatal → `fatal` (21); error, err → `error` (17); warn, notice →
/// `warn` (13); debug, dbug → `debug` (5); trace → `trace` (1).
pub fn severity_from_body(body: &str) -> (&'static str, u8) {
    // The first 256 characters, as the logs issue states the rule (ClickStack's OTTL
    // `Substring` counts bytes; the two differ only for non-ASCII text).
    let end = body
        .char_indices()
        .nth(BODY_SEVERITY_WINDOW)
        .map_or(body.len(), |(i, _)| i);
    let window = &body.as_bytes()[..end];
    for start in 0..window.len() {
        if !window[start].is_ascii_alphabetic() || (start > 0 && is_word_byte(window[start - 1])) {
            continue;
        }
        let rest = &window[start..];
        for &(word, text, number) in &BODY_KEYWORDS {
            if rest.len() >= word.len() && rest[..word.len()].eq_ignore_ascii_case(word) {
                return (text, number);
            }
        }
    }
    ("info", SEVERITY_INFO)
}

/// The `{…}` part of a string body: from its first `{` to its last `}`, the rule as
/// sluice's logs issue states it. (ClickStack's config extracts it with
/// `ExtractPatterns(log.body, "(?P<0>(\\{.*\\}))")`, whose Go `.` stops at a newline: there,
/// only the first line holding a `{…}` counts and a pretty-printed JSON body is never
/// merged. sluice merges it; see `ARCHITECTURE.md`, "ClickStack processing".)
pub fn json_object_in_body(body: &str) -> Option<&str> {
    let open = body.find('{')?;
    let close = body.rfind('}')?;
    (close > open).then(|| &body[open..=close])
}

/// Parses `json` as a JSON object and pushes its fields, flattened, into `out` as pending entries
/// of the row being built. Returns false, having pushed nothing, if `json` is not an object.
///
/// Parsing is `ParseJSON`'s: goccy/go-json `Unmarshal` into `any`, so JSON with Go's leniencies:
/// numbers are the `[-0-9][-+.eE0-9]*` token read by `strconv.ParseFloat` (`01`, `1.`, `-.5`
/// pass; out of range fails), raw control characters other than NUL pass inside strings, a lone
/// surrogate escape becomes U+FFFD, a `null` key reads as `""`, and the object may be followed
/// by whitespace and then a NUL byte. Flattening is OTTL's `flatten(log.attributes)`:
///
/// - an object member gets `path.name` (no dot while the path is still empty, as for `{"":…}`);
/// - an array element gets `path.i`, but an array directly inside an array gets `pathi`, with
///   no dot (`{"a":[[1,2]]}` → `a.00`, `a.01`: OTTL's `flattenSlice` forgets the separator);
/// - empty objects and arrays vanish; values are stored as pdata's `AsString` writes them:
///   strings as is, numbers as doubles ([`write_f64`]: `3` → `3`, `1e21` → `1e+21`), `true` /
///   `false`, and `null` as `""` (`ParseJSON` keeps it as an empty value, `flatten` keeps that).
///
/// `key` is scratch space for the flattened keys (pass it empty; anything already in it is
/// ignored); it is left as it was given.
pub fn merge_json_body(json: &str, key: &mut Vec<u8>, out: &mut Maps) -> bool {
    // Validate first: the writing pass below walks the same text the same way, so it cannot
    // fail half way through a row that `Maps` has no means to take entries back from.
    if !is_json_object(json) {
        return false;
    }
    let base = key.len();
    let mut sink = Flatten { key, base, out };
    let written = Walker::new(json).document(&mut sink);
    debug_assert!(written.is_ok(), "the validating pass accepted this text");
    sink.key.truncate(base);
    true
}

/// Whether `json` is a JSON object that [`merge_json_body`] would merge (the same
/// parser, without writing anything).
pub fn is_json_object(json: &str) -> bool {
    Walker::new(json).document(&mut Validate).is_ok()
}

/// Appends an object member `name` to the flattened path `key[base..]`: `path.name`, or just
/// `name` while the path is empty (OTTL `flattenMap` adds the dot only after a non-empty prefix).
pub fn push_member(key: &mut Vec<u8>, base: usize, name: &[u8]) {
    if key.len() > base {
        key.push(b'.');
    }
    key.extend_from_slice(name);
}

/// Appends array index `index` to a flattened path: `.i` for the elements of an array held by a
/// member (even an empty-named one: `.0`), bare `i` for the elements of an array that is itself
/// an array element. Those elements are then flattened like members again.
pub fn push_index(key: &mut Vec<u8>, index: usize, in_array: bool) {
    if !in_array {
        key.push(b'.');
    }
    // Writing into a Vec cannot fail.
    let _ = write!(key, "{index}");
}

/// Lower-cases a severity text into `out`, as Go's `strings.ToLower` (OTTL `ConvertCase(…,
/// "lower")`) does: each character by its simple Unicode lowercase mapping (`İ` → `i`, `Σ` → `σ`
/// even at a word's end, unlike Rust's `str::to_lowercase`), each byte of invalid UTF-8 → U+FFFD.
/// Appends, so the caller can write straight into a column (`Strings::push_with`).
pub fn lowercase_severity(text: &[u8], out: &mut Vec<u8>) {
    if text.is_ascii() {
        out.extend(text.iter().map(u8::to_ascii_lowercase));
        return;
    }
    let mut utf8 = [0; 4];
    for chunk in text.utf8_chunks() {
        for c in chunk.valid().chars() {
            // Only U+0130 lowers to two characters in Rust (SpecialCasing); Go's simple mapping
            // gives `i`, the first of them.
            let lower = c.to_lowercase().next().unwrap_or(c);
            out.extend_from_slice(lower.encode_utf8(&mut utf8).as_bytes());
        }
        for _ in chunk.invalid() {
            out.extend_from_slice(
                char::REPLACEMENT_CHARACTER
                    .encode_utf8(&mut utf8)
                    .as_bytes(),
            );
        }
    }
}

fn contains_ignore_ascii_case(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle))
}

/// `\w` of Go's RE2: ASCII letters, digits and `_`.
fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// The text is not a JSON object ParseJSON would accept.
#[derive(Debug)]
struct Invalid;

type Parsed<T> = Result<T, Invalid>;

/// A JSON scalar; strings are raw (between the quotes), with whether they hold escapes.
#[derive(Debug, Clone, Copy)]
enum Scalar<'a> {
    Str(&'a [u8], bool),
    Num(f64),
    Bool(bool),
    Null,
}

/// What a walk over the JSON does with the paths and values it meets.
trait Sink {
    /// The current path, to return to.
    fn mark(&self) -> usize;
    fn reset(&mut self, mark: usize);
    /// Sets the path to member `name` (raw, escaped or not) of the container at `path`.
    fn member(&mut self, path: usize, name: Option<(&[u8], bool)>);
    /// Sets the path to element `index` of the array at `path`.
    fn index(&mut self, path: usize, index: usize, in_array: bool);
    fn scalar(&mut self, value: Scalar<'_>);
}

/// The validating pass: walks, writes nothing.
struct Validate;

impl Sink for Validate {
    fn mark(&self) -> usize {
        0
    }
    fn reset(&mut self, _: usize) {}
    fn member(&mut self, _: usize, _: Option<(&[u8], bool)>) {}
    fn index(&mut self, _: usize, _: usize, _: bool) {}
    fn scalar(&mut self, _: Scalar<'_>) {}
}

/// The writing pass: flattened keys in `key[base..]`, one entry per scalar.
struct Flatten<'k, 'm> {
    key: &'k mut Vec<u8>,
    base: usize,
    out: &'m mut Maps,
}

impl Sink for Flatten<'_, '_> {
    fn mark(&self) -> usize {
        self.key.len()
    }

    fn reset(&mut self, mark: usize) {
        self.key.truncate(mark);
    }

    fn member(&mut self, path: usize, name: Option<(&[u8], bool)>) {
        self.key.truncate(path);
        push_member(self.key, self.base, b"");
        match name {
            Some((raw, true)) => unescape(raw, self.key),
            Some((raw, false)) => self.key.extend_from_slice(raw),
            None => {}
        }
    }

    fn index(&mut self, path: usize, index: usize, in_array: bool) {
        self.key.truncate(path);
        push_index(self.key, index, in_array);
    }

    fn scalar(&mut self, value: Scalar<'_>) {
        let key = &self.key[self.base..];
        match value {
            Scalar::Str(raw, false) => self.out.push_entry(key, raw),
            Scalar::Str(raw, true) => {
                let Ok(()) = self.out.push_entry_with(key, |buf| {
                    unescape(raw, buf);
                    Ok::<(), Infallible>(())
                });
            }
            Scalar::Num(v) => {
                let Ok(()) = self.out.push_entry_with(key, |buf| {
                    write_f64(v, buf);
                    Ok::<(), Infallible>(())
                });
            }
            Scalar::Bool(b) => self.out.push_entry(key, if b { b"true" } else { b"false" }),
            Scalar::Null => self.out.push_entry(key, b""),
        }
    }
}

/// A recursive-descent walk over JSON text with goccy/go-json's grammar (see [`merge_json_body`]).
/// Past the end reads as NUL, which is how goccy treats the NUL it appends to its input.
struct Walker<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Walker<'a> {
    fn new(text: &'a str) -> Self {
        Walker { text, at: 0 }
    }

    fn peek(&self) -> u8 {
        self.text.as_bytes().get(self.at).copied().unwrap_or(0)
    }

    fn skip_whitespace(&mut self) {
        while matches!(self.peek(), b' ' | b'\t' | b'\n' | b'\r') {
            self.at += 1;
        }
    }

    fn literal(&mut self, word: &[u8]) -> Parsed<()> {
        if self.text.as_bytes()[self.at..].starts_with(word) {
            self.at += word.len();
            Ok(())
        } else {
            Err(Invalid)
        }
    }

    /// The whole text: one object (`merge_maps` needs a map), then whitespace, then the end.
    fn document(&mut self, sink: &mut impl Sink) -> Parsed<()> {
        self.skip_whitespace();
        if self.peek() != b'{' {
            return Err(Invalid);
        }
        self.object(sink, 1)?;
        self.skip_whitespace();
        if self.peek() == 0 {
            Ok(())
        } else {
            Err(Invalid)
        }
    }

    /// A value whose path the sink already holds; `in_array` when it is an array element.
    fn value(&mut self, sink: &mut impl Sink, depth: usize, in_array: bool) -> Parsed<()> {
        self.skip_whitespace();
        let scalar = match self.peek() {
            b'{' => return self.object(sink, depth + 1),
            b'[' => return self.array(sink, depth + 1, in_array),
            b'"' => {
                let (raw, escaped) = self.string()?;
                Scalar::Str(raw, escaped)
            }
            b'-' | b'0'..=b'9' => Scalar::Num(self.number()?),
            b't' => self.literal(b"true").map(|()| Scalar::Bool(true))?,
            b'f' => self.literal(b"false").map(|()| Scalar::Bool(false))?,
            b'n' => self.literal(b"null").map(|()| Scalar::Null)?,
            _ => return Err(Invalid),
        };
        sink.scalar(scalar);
        Ok(())
    }

    fn object(&mut self, sink: &mut impl Sink, depth: usize) -> Parsed<()> {
        if depth > MAX_JSON_DEPTH {
            return Err(Invalid);
        }
        self.at += 1; // '{'
        self.skip_whitespace();
        if self.peek() == b'}' {
            self.at += 1;
            return Ok(());
        }
        let path = sink.mark();
        loop {
            self.skip_whitespace();
            let name = match self.peek() {
                b'"' => Some(self.string()?),
                // goccy's string decoder reads `null` as the empty string, keys included.
                b'n' => self.literal(b"null").map(|()| None)?,
                _ => return Err(Invalid),
            };
            self.skip_whitespace();
            if self.peek() != b':' {
                return Err(Invalid);
            }
            self.at += 1;
            sink.member(path, name);
            self.value(sink, depth, false)?;
            self.skip_whitespace();
            match self.peek() {
                b',' => self.at += 1,
                b'}' => {
                    self.at += 1;
                    sink.reset(path);
                    return Ok(());
                }
                _ => return Err(Invalid),
            }
        }
    }

    fn array(&mut self, sink: &mut impl Sink, depth: usize, in_array: bool) -> Parsed<()> {
        if depth > MAX_JSON_DEPTH {
            return Err(Invalid);
        }
        self.at += 1; // '['
        self.skip_whitespace();
        if self.peek() == b']' {
            self.at += 1;
            return Ok(());
        }
        let path = sink.mark();
        let mut index = 0;
        loop {
            sink.index(path, index, in_array);
            // OTTL flattens an array's elements as slice elements, but the elements of an
            // array inside an array as members again (`flattenSlice` → `flattenValue`).
            self.value(sink, depth, !in_array)?;
            self.skip_whitespace();
            match self.peek() {
                b',' => {
                    self.at += 1;
                    index += 1;
                }
                b']' => {
                    self.at += 1;
                    sink.reset(path);
                    return Ok(());
                }
                _ => return Err(Invalid),
            }
        }
    }

    /// A string at `"`: its raw content and whether it holds escapes. Escapes are checked
    /// (`\uXXXX` needs four hex digits); raw bytes are not, except NUL, which ends goccy's input.
    fn string(&mut self) -> Parsed<(&'a [u8], bool)> {
        let bytes = self.text.as_bytes();
        self.at += 1;
        let start = self.at;
        let mut escaped = false;
        loop {
            match self.peek() {
                b'"' => {
                    let raw = &bytes[start..self.at];
                    self.at += 1;
                    return Ok((raw, escaped));
                }
                b'\\' => {
                    escaped = true;
                    match bytes.get(self.at + 1) {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => {
                            self.at += 2
                        }
                        Some(b'u') => {
                            let hex = bytes.get(self.at + 2..self.at + 6).ok_or(Invalid)?;
                            if !hex.iter().all(u8::is_ascii_hexdigit) {
                                return Err(Invalid);
                            }
                            self.at += 6;
                        }
                        _ => return Err(Invalid),
                    }
                }
                0 => return Err(Invalid),
                _ => self.at += 1,
            }
        }
    }

    /// A number: goccy takes `[-0-9][-+.eE0-9]*`, wants one of NUL, whitespace, `,:}]` after it,
    /// and hands the token to `strconv.ParseFloat`, whose grammar on these characters is Rust's
    /// `f64` grammar; both round correctly. An overflow to ±∞ is `ErrRange`, an error.
    fn number(&mut self) -> Parsed<f64> {
        let start = self.at;
        self.at += 1;
        while matches!(self.peek(), b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-') {
            self.at += 1;
        }
        if !matches!(
            self.peek(),
            0 | b' ' | b'\t' | b'\r' | b'\n' | b',' | b':' | b'}' | b']'
        ) {
            return Err(Invalid);
        }
        // `start` and `at` both sit on ASCII bytes (or the end), so this slice is a `str`.
        match self.text[start..self.at].parse::<f64>() {
            Ok(v) if v.is_finite() => Ok(v),
            _ => Err(Invalid),
        }
    }
}

/// Decodes a validated raw JSON string into `out` as goccy's `unescapeString` does: a high
/// surrogate escape followed by a low one is one character; any other surrogate is U+FFFD.
fn unescape(raw: &[u8], out: &mut Vec<u8>) {
    let mut rest = raw;
    while let Some(at) = rest.iter().position(|&b| b == b'\\') {
        out.extend_from_slice(&rest[..at]);
        rest = &rest[at..];
        let (c, len) = match rest.get(1) {
            Some(b'u') => {
                let high = hex4(rest.get(2..6));
                match (high, rest.get(6..8), hex4(rest.get(8..12))) {
                    (0xD800..=0xDBFF, Some(b"\\u"), low @ 0xDC00..=0xDFFF) => (
                        char::from_u32(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)),
                        12,
                    ),
                    _ => (char::from_u32(high), 6),
                }
            }
            Some(b'b') => (Some('\u{8}'), 2),
            Some(b'f') => (Some('\u{c}'), 2),
            Some(b'n') => (Some('\n'), 2),
            Some(b'r') => (Some('\r'), 2),
            Some(b't') => (Some('\t'), 2),
            // `"`, `\` and `/` stand for themselves; validation let nothing else through.
            Some(&b) => (Some(char::from(b)), 2),
            None => (None, 1),
        };
        let c = c.unwrap_or(char::REPLACEMENT_CHARACTER);
        out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
        rest = rest.get(len..).unwrap_or_default();
    }
    out.extend_from_slice(rest);
}

/// Four hex digits (validated by [`Walker::string`]); anything else reads as 0, like goccy's table.
fn hex4(digits: Option<&[u8]>) -> u32 {
    digits.map_or(0, |d| {
        d.iter()
            .fold(0, |n, &b| n * 16 + char::from(b).to_digit(16).unwrap_or(0))
    })
}

#[cfg(test)]
mod tests;
