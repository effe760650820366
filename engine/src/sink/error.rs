//! What a failed INSERT means, and what the sink does about it.
//!
//! ClickHouse says why it refused an INSERT in `X-ClickHouse-Exception-Code` (also on
//! a 200 whose body ends in an exception, where the code is read from the body's
//! `Code: N.`), not in the HTTP status: a proxy in front may answer 502 or 503 with no
//! code at all. Each failure is parsed once, here, into an [`InsertError`] with a
//! [`Class`]; the inserter decides from the class alone.
//!
//! | class | examples (code) | what the sink does |
//! |---|---|---|
//! | [`Class::Transient`] | network errors, timeouts, 241 memory limit, 252 too many parts, 202 too many simultaneous queries, 3xx/5xx of a proxy, any code not listed | retry the same INSERT (same bytes, same deduplication token) with capped, jittered exponential backoff |
//! | [`Class::Structural`] | 60 unknown table, 81 unknown database, 516 / 192 / 194 authentication, 164 readonly, 497 access denied, 16 / 47 unknown column | pause the table's sink: keep the data, say so in the log, probe every few seconds, resume when it is fixed |
//! | [`Class::Data`] | 27, 6, 33, 53, 69, 70, 72, 117, 131, 321 parse and type errors, 469 violated constraint | the rows themselves are refused: retrying the same bytes cannot help |
//!
//! Whether a failure may have committed matters only for what the log says and for
//! `ack = "clickhouse"`: a connection refused never sent anything, but a reset or a
//! timeout after the body went out is [`InsertError::ambiguous`], which is why every
//! retry carries the same deduplication token.

use std::fmt;

/// What kind of failure an INSERT met.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    /// Retry as is: it is expected to go away (overload, network, restart).
    Transient,
    /// Something about the table or the login is wrong: hold the data until fixed.
    Structural,
    /// ClickHouse refused rows as data.
    Data,
}

impl Class {
    /// The class's name in metrics and logs.
    pub const fn name(self) -> &'static str {
        match self {
            Class::Transient => "transient",
            Class::Structural => "structural",
            Class::Data => "data",
        }
    }
}

/// A failed INSERT, parsed once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InsertError {
    /// `X-ClickHouse-Exception-Code` (or `Code: N.` from the body).
    pub code: Option<u32>,
    /// The HTTP status, when an answer came.
    pub status: Option<u16>,
    pub class: Class,
    /// Whether the INSERT may have committed although it failed.
    pub ambiguous: bool,
    pub message: String,
}

impl fmt::Display for InsertError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.code, self.status) {
            (Some(code), _) => write!(f, "ClickHouse error {code} ({}): ", name(code))?,
            (None, Some(status)) => write!(f, "HTTP {status}: ")?,
            (None, None) => {}
        }
        f.write_str(&self.message)
    }
}

impl InsertError {
    /// No answer: the connection could not be made (nothing was sent).
    pub fn unreachable(message: String) -> InsertError {
        InsertError {
            code: None,
            status: None,
            class: Class::Transient,
            ambiguous: false,
            message: format!("ClickHouse is unreachable: {message}"),
        }
    }

    /// The connection broke or timed out after the request may have gone out.
    pub fn broken(message: String) -> InsertError {
        InsertError {
            code: None,
            status: None,
            class: Class::Transient,
            ambiguous: true,
            message,
        }
    }

    /// ClickHouse (or a proxy in front of it) answered, and it was not a commit.
    pub fn answered(status: u16, header_code: Option<u32>, body: &str) -> InsertError {
        let code = header_code.or_else(|| code_in_body(body));
        let class = match code {
            Some(code) => classify(code),
            // A proxy's answer (502, 503, 504, 429, a redirect): try again.
            None => Class::Transient,
        };
        InsertError {
            code,
            status: Some(status),
            class,
            ambiguous: false,
            message: body.trim().to_owned(),
        }
    }
}

/// The class of a ClickHouse error code (`src/Common/ErrorCodes.cpp`).
pub fn classify(code: u32) -> Class {
    match code {
        // UNKNOWN_TABLE, UNKNOWN_DATABASE, NO_SUCH_COLUMN_IN_TABLE, UNKNOWN_IDENTIFIER,
        // NOT_FOUND_COLUMN_IN_BLOCK, READONLY, UNKNOWN_USER, REQUIRED_PASSWORD,
        // WRONG_PASSWORD, ACCESS_DENIED, AUTHENTICATION_FAILED, THERE_IS_NO_COLUMN.
        60 | 81 | 16 | 47 | 10 | 164 | 192 | 194 | 193 | 497 | 516 | 8 => Class::Structural,
        // CANNOT_PARSE_TEXT, CANNOT_PARSE_INPUT_ASSERTION_FAILED, CANNOT_READ_ALL_DATA,
        // TYPE_MISMATCH, ARGUMENT_OUT_OF_BOUND, CANNOT_CONVERT_TYPE, CANNOT_PARSE_NUMBER,
        // INCORRECT_DATA, TOO_LARGE_STRING_SIZE, VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE,
        // VIOLATED_CONSTRAINT, CANNOT_PARSE_DATETIME, CANNOT_PARSE_UUID.
        6 | 27 | 33 | 53 | 69 | 70 | 72 | 117 | 131 | 321 | 469 | 41 | 376 => Class::Data,
        // Everything else, MEMORY_LIMIT_EXCEEDED (241), TOO_MANY_PARTS (252),
        // TOO_MANY_SIMULTANEOUS_QUERIES (202), TIMEOUT_EXCEEDED (159), NETWORK_ERROR
        // (210), TABLE_IS_READ_ONLY (242, a replica without Keeper) among them: an
        // unknown code holds the data rather than give it up.
        _ => Class::Transient,
    }
}

/// The name of the codes sluice's logs mention most.
fn name(code: u32) -> &'static str {
    match code {
        60 => "UNKNOWN_TABLE",
        81 => "UNKNOWN_DATABASE",
        164 => "READONLY",
        202 => "TOO_MANY_SIMULTANEOUS_QUERIES",
        241 => "MEMORY_LIMIT_EXCEEDED",
        252 => "TOO_MANY_PARTS",
        469 => "VIOLATED_CONSTRAINT",
        497 => "ACCESS_DENIED",
        516 => "AUTHENTICATION_FAILED",
        _ => "see system.errors",
    }
}

/// `Code: N.` at the start of ClickHouse's error text, or where an exception was
/// appended to a 200's body (`… Code: N. DB::Exception: …`).
fn code_in_body(body: &str) -> Option<u32> {
    let at = body.rfind("Code: ")?;
    let digits: String = body[at + 6..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// Whether a 200's body carries an exception (ClickHouse appends one when a query
/// fails after it began to answer).
pub fn body_has_exception(body: &[u8]) -> bool {
    body.windows(15).any(|w| w == b"DB::Exception: ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_classified_by_what_they_mean() {
        for code in [241, 252, 202, 159, 210, 242, 999_999] {
            assert_eq!(classify(code), Class::Transient, "{code}");
        }
        for code in [60, 81, 516, 192, 194, 164, 497, 16] {
            assert_eq!(classify(code), Class::Structural, "{code}");
        }
        for code in [27, 33, 53, 117, 469] {
            assert_eq!(classify(code), Class::Data, "{code}");
        }
    }

    #[test]
    fn the_code_comes_from_the_header_else_from_the_body() {
        let body =
            "Code: 252. DB::Exception: Too many parts (300). (TOO_MANY_PARTS) (version 25.3)";
        let e = InsertError::answered(500, None, body);
        assert_eq!((e.code, e.class), (Some(252), Class::Transient));
        let e = InsertError::answered(404, Some(60), "Code: 60. DB::Exception: no table");
        assert_eq!((e.code, e.class), (Some(60), Class::Structural));
        assert!(
            e.to_string()
                .starts_with("ClickHouse error 60 (UNKNOWN_TABLE): ")
        );
        // An exception after a 200 began: the code is the last one in the body.
        let e = InsertError::answered(200, None, "Ok.\nCode: 469. DB::Exception: violated");
        assert_eq!((e.code, e.class), (Some(469), Class::Data));
        // A proxy's 502 without a code: transient.
        let e = InsertError::answered(502, None, "<html>Bad Gateway</html>");
        assert_eq!((e.code, e.class), (None, Class::Transient));
        assert!(body_has_exception(b"xx Code: 1. DB::Exception: y"));
        assert!(!body_has_exception(b"Ok."));
    }
}
