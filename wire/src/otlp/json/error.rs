//! Why an OTLP/JSON request was refused, and where.

use core::fmt;

use serde_json::error::Category;

use crate::otlp::value::MAX_DEPTH;

/// What is wrong with an OTLP/JSON request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum JsonErrorKind {
    /// Not JSON (serde_json's message says what it met).
    Syntax,
    /// The body ends inside the JSON.
    Truncated,
    /// A value of the wrong JSON type for its field: an array where an object belongs,
    /// a number for a string field, an object at the top that is not one…
    WrongType,
    /// A `traceId` / `spanId` that is neither empty nor `digits` hex digits.
    BadId { digits: u8 },
    /// An integer field (`type_name` is its protobuf type) holding a number or string
    /// that is not an integer of that type.
    BadInteger { type_name: &'static str },
    /// A `doubleValue` string that is not a number, `NaN`, `Infinity` or `-Infinity`.
    BadDouble,
    /// A `bytesValue` that is not base64.
    BadBase64,
    /// A `severityNumber` string that names no `SeverityNumber`.
    UnknownSeverity,
    /// A `kind` or `status.code` string that names no value of its enum (`type_name`).
    UnknownEnum { type_name: &'static str },
    /// A string that is not valid UTF-8.
    InvalidUtf8,
    /// `AnyValue`s nested deeper than [`MAX_DEPTH`].
    TooDeep,
}

/// A refused OTLP/JSON request: what ([`kind`](Self::kind)), at which field
/// ([`path`](Self::path), e.g. `resourceLogs[0].scopeLogs[1].logRecords[3].traceId`)
/// and where in the text (line and column, 1-based).
///
/// One word wide, so a `Result` stays small; the details live behind a `Box`, built
/// only when a request fails.
pub struct JsonError(Box<Inner>);

#[derive(Debug)]
struct Inner {
    kind: JsonErrorKind,
    path: String,
    /// The offending value, as it was written (shortened), for the kinds we detect.
    value: Option<String>,
    line: usize,
    column: usize,
    /// serde_json's own error, for syntax and type errors (its message says more).
    source: Option<serde_json::Error>,
}

/// A step of a field path: a field name or an array index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Seg {
    Field(&'static str),
    Index(usize),
}

/// Longest value quoted in an error message, in bytes (longer ones are cut, with `…`).
const VALUE_IN_MESSAGE: usize = 64;

impl JsonError {
    /// The error for a request serde_json stopped with `source`, at `path`. `found` is
    /// what a seed of ours found wrong (its kind and the offending value); `None` when
    /// serde_json itself refused the text, whose message then says what is wrong.
    #[cold]
    #[inline(never)]
    pub(super) fn new(
        found: Option<(JsonErrorKind, Option<String>)>,
        path: &[Seg],
        source: serde_json::Error,
    ) -> JsonError {
        let mut rendered = String::new();
        for seg in path {
            // Writing into a String cannot fail.
            let _ = match seg {
                Seg::Field(name) if rendered.is_empty() => {
                    fmt::Write::write_str(&mut rendered, name)
                }
                Seg::Field(name) => fmt::Write::write_fmt(&mut rendered, format_args!(".{name}")),
                Seg::Index(i) => fmt::Write::write_fmt(&mut rendered, format_args!("[{i}]")),
            };
        }
        let (line, column) = (source.line(), source.column());
        let (kind, value, source) = match found {
            Some((kind, value)) => (kind, value, None),
            None => {
                let kind = match source.classify() {
                    Category::Eof => JsonErrorKind::Truncated,
                    Category::Data => JsonErrorKind::WrongType,
                    Category::Syntax | Category::Io => JsonErrorKind::Syntax,
                };
                (kind, None, Some(source))
            }
        };
        JsonError(Box::new(Inner {
            kind,
            path: rendered,
            value,
            line,
            column,
            source,
        }))
    }

    pub fn kind(&self) -> JsonErrorKind {
        self.0.kind
    }

    /// The field the error is in, e.g. `resourceLogs[0].scopeLogs[1].logRecords[3].traceId`;
    /// empty for the request object itself.
    pub fn path(&self) -> &str {
        &self.0.path
    }

    /// The 1-based line of the input where reading stopped.
    pub fn line(&self) -> usize {
        self.0.line
    }

    /// The 1-based column of the input where reading stopped.
    pub fn column(&self) -> usize {
        self.0.column
    }
}

/// Quotes a value for an error message: JSON-style, cut after [`VALUE_IN_MESSAGE`] bytes.
#[cold]
pub(super) fn quote(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw);
    let mut end = text.len().min(VALUE_IN_MESSAGE);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let cut = if end < text.len() { "…" } else { "" };
    format!("{:?}{cut}", &text[..end])
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let e = &*self.0;
        let path = if e.path.is_empty() {
            "request"
        } else {
            &e.path
        };
        if let Some(source) = &e.source {
            // serde_json's message ends with its own "at line L column C".
            return write!(f, "invalid OTLP/JSON: {path}: {source}");
        }
        write!(f, "invalid OTLP/JSON: {path}: ")?;
        if let Some(value) = &e.value {
            write!(f, "{value} ")?;
        }
        match e.kind {
            JsonErrorKind::BadId { digits } => write!(f, "is not {digits} hex digits")?,
            JsonErrorKind::BadInteger { type_name } => write!(
                f,
                "is not a valid {type_name} (a JSON integer or a decimal string)"
            )?,
            JsonErrorKind::BadDouble => {
                f.write_str(r#"is not a number, "NaN", "Infinity" or "-Infinity""#)?
            }
            JsonErrorKind::BadBase64 => f.write_str("is not base64")?,
            JsonErrorKind::UnknownSeverity => {
                f.write_str("is not a SeverityNumber name (SEVERITY_NUMBER_…)")?
            }
            JsonErrorKind::UnknownEnum { type_name } => write!(f, "is not a {type_name} name")?,
            JsonErrorKind::InvalidUtf8 => f.write_str("is not valid UTF-8")?,
            JsonErrorKind::TooDeep => write!(f, "values nest deeper than {MAX_DEPTH} levels")?,
            JsonErrorKind::Syntax | JsonErrorKind::Truncated | JsonErrorKind::WrongType => {
                f.write_str("is not valid here")?
            }
        }
        write!(f, " at line {} column {}", e.line, e.column)
    }
}

impl fmt::Debug for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl std::error::Error for JsonError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0
            .source
            .as_ref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}
