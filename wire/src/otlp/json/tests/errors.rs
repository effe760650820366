//! Refused requests: the kind, the field path, the message, and a batch left as it was.

use super::*;

/// A batch that already holds a request's rows.
fn prefilled() -> LogsBatch {
    let mut batch = LogsBatch::default();
    let msg = one_record(vec![kv("service.name", s("svc"))], rich_record());
    decode_logs_json(&to_json(&msg), &mut batch, &LogsOptions::default()).unwrap();
    batch
}

/// Decodes `text` into a prefilled batch: it must fail with `kind`, name `path`, say
/// `says`, and leave the batch as it was.
#[track_caller]
fn refused(text: &str, kind: JsonErrorKind, path: &str, says: &str) -> JsonError {
    let before = prefilled();
    let mut batch = before.clone();
    let e = decode_logs_json(text.as_bytes(), &mut batch, &LogsOptions::default()).unwrap_err();
    assert_same(&batch, &before);
    let message = e.to_string();
    assert_eq!(e.kind(), kind, "{message}");
    assert_eq!(e.path(), path, "{message}");
    assert!(message.contains(says), "{message:?} does not say {says:?}");
    e
}

/// A record with `fields` after a valid one, so that rows were written before the error.
fn record_text(fields: &str) -> String {
    format!(
        r#"{{"resourceLogs":[{{"scopeLogs":[{{"logRecords":[{{"body":{{"stringValue":"ok"}}}},{{{fields}}}]}}]}}]}}"#
    )
}

const RECORD: &str = "resourceLogs[0].scopeLogs[0].logRecords[1]";

#[test]
fn bad_ids_are_refused_with_their_path() {
    let e = refused(
        &record_text(r#""traceId":"abc""#),
        JsonErrorKind::BadId { digits: 32 },
        &format!("{RECORD}.traceId"),
        r#"resourceLogs[0].scopeLogs[0].logRecords[1].traceId: "abc" is not 32 hex digits"#,
    );
    assert_eq!(e.line(), 1);
    refused(
        &record_text(&format!(r#""traceId":"{}""#, "a".repeat(31))),
        JsonErrorKind::BadId { digits: 32 },
        &format!("{RECORD}.traceId"),
        "is not 32 hex digits",
    );
    refused(
        &record_text(&format!(r#""spanId":"{}""#, "g".repeat(16))),
        JsonErrorKind::BadId { digits: 16 },
        &format!("{RECORD}.spanId"),
        "is not 16 hex digits",
    );
    refused(
        &record_text(r#""spanId":12"#),
        JsonErrorKind::WrongType,
        &format!("{RECORD}.spanId"),
        "expected a string of 16 hex digits",
    );
}

#[test]
fn bad_numbers_are_refused_with_their_path() {
    let attr =
        |value: &str| record_text(&format!(r#""attributes":[{{"key":"k","value":{value}}}]"#));
    let int_path = format!("{RECORD}.attributes[0].value.intValue");
    refused(
        &attr(r#"{"intValue":"9223372036854775808"}"#),
        JsonErrorKind::BadInteger { type_name: "int64" },
        &int_path,
        r#""9223372036854775808" is not a valid int64"#,
    );
    refused(
        &attr(r#"{"intValue":9223372036854775808}"#),
        JsonErrorKind::BadInteger { type_name: "int64" },
        &int_path,
        "9223372036854775808 is not a valid int64",
    );
    refused(
        &attr(r#"{"intValue":1.5}"#),
        JsonErrorKind::BadInteger { type_name: "int64" },
        &int_path,
        "1.5 is not",
    );
    refused(
        &attr(r#"{"intValue":" 1"}"#),
        JsonErrorKind::BadInteger { type_name: "int64" },
        &int_path,
        "is not a valid int64",
    );
    refused(
        &attr(r#"{"doubleValue":"fast"}"#),
        JsonErrorKind::BadDouble,
        &format!("{RECORD}.attributes[0].value.doubleValue"),
        r#""fast" is not a number"#,
    );
    refused(
        &attr(r#"{"doubleValue":"1e400"}"#),
        JsonErrorKind::BadDouble,
        &format!("{RECORD}.attributes[0].value.doubleValue"),
        "is not a number",
    );
    refused(
        &attr(r#"{"bytesValue":"!!"}"#),
        JsonErrorKind::BadBase64,
        &format!("{RECORD}.attributes[0].value.bytesValue"),
        "is not base64",
    );
    refused(
        &attr(r#"{"boolValue":"true"}"#),
        JsonErrorKind::WrongType,
        &format!("{RECORD}.attributes[0].value.boolValue"),
        "expected true or false",
    );
    refused(
        &record_text(r#""timeUnixNano":-1"#),
        JsonErrorKind::BadInteger {
            type_name: "uint64",
        },
        &format!("{RECORD}.timeUnixNano"),
        "-1 is not a valid uint64",
    );
    refused(
        &record_text(r#""observedTimeUnixNano":"+1""#),
        JsonErrorKind::BadInteger {
            type_name: "uint64",
        },
        &format!("{RECORD}.observedTimeUnixNano"),
        "is not a valid uint64",
    );
    refused(
        &record_text(r#""timeUnixNano":"18446744073709551616""#),
        JsonErrorKind::BadInteger {
            type_name: "uint64",
        },
        &format!("{RECORD}.timeUnixNano"),
        "is not a valid uint64",
    );
    refused(
        &record_text(r#""flags":4294967296"#),
        JsonErrorKind::BadInteger {
            type_name: "uint32",
        },
        &format!("{RECORD}.flags"),
        "is not a valid uint32",
    );
    refused(
        &record_text(r#""severityNumber":"INFO""#),
        JsonErrorKind::UnknownSeverity,
        &format!("{RECORD}.severityNumber"),
        r#""INFO" is not a SeverityNumber name"#,
    );
    refused(
        &record_text(r#""severityNumber":"9""#),
        JsonErrorKind::UnknownSeverity,
        &format!("{RECORD}.severityNumber"),
        "is not a SeverityNumber name",
    );
    refused(
        &record_text(r#""severityNumber":2147483648"#),
        JsonErrorKind::BadInteger { type_name: "int32" },
        &format!("{RECORD}.severityNumber"),
        "is not a valid int32",
    );
}

#[test]
fn wrong_types_are_refused_with_their_path() {
    refused(
        "[]",
        JsonErrorKind::WrongType,
        "",
        "request: invalid type: sequence, expected an ExportLogsServiceRequest object",
    );
    refused(
        r#"{"resourceLogs":{}}"#,
        JsonErrorKind::WrongType,
        "resourceLogs",
        "expected an array of ResourceLogs objects",
    );
    refused(
        &record_text(r#""attributes":{}"#),
        JsonErrorKind::WrongType,
        &format!("{RECORD}.attributes"),
        "expected an array of KeyValue objects",
    );
    refused(
        &record_text(r#""body":"text""#),
        JsonErrorKind::WrongType,
        &format!("{RECORD}.body"),
        "expected an AnyValue object",
    );
    refused(
        &record_text(r#""severityText":5"#),
        JsonErrorKind::WrongType,
        &format!("{RECORD}.severityText"),
        "expected a string",
    );
    refused(
        &record_text(r#""body":{"arrayValue":[]}"#),
        JsonErrorKind::WrongType,
        &format!("{RECORD}.body.arrayValue"),
        "expected an object with \"values\"",
    );
}

#[test]
fn broken_json_is_refused() {
    refused("not json", JsonErrorKind::Syntax, "", "expected ident");
    refused("", JsonErrorKind::Truncated, "", "EOF");
    let whole = record_text(r#""traceId":"""#);
    for cut in [1, 20, whole.len() / 2, whole.len() - 1] {
        let e = refused(
            &whole[..cut],
            JsonErrorKind::Truncated,
            &e_path(&whole[..cut]),
            "EOF",
        );
        assert!(e.column() > 0);
    }
    // Between elements, the list is named.
    refused(
        &record_text(r#""body":{"stringValue":"a"}}"#),
        JsonErrorKind::Syntax,
        "resourceLogs[0].scopeLogs[0].logRecords",
        "expected `,` or `]`",
    );
    refused(
        "{\"resourceLogs\":[{\"schemaUrl\":\"\u{1}\"}],}",
        JsonErrorKind::Syntax,
        "",
        "trailing comma",
    );
}

/// Where a truncated text stops, as the reader names it (the deepest open field).
fn e_path(text: &str) -> String {
    let mut batch = LogsBatch::default();
    decode_logs_json(text.as_bytes(), &mut batch, &raw())
        .unwrap_err()
        .path()
        .to_string()
}

#[test]
fn invalid_utf8_is_refused() {
    let mut text = record_text(r#""eventName":"x""#).into_bytes();
    let at = text.iter().position(|&b| b == b'x').unwrap();
    text[at] = 0xff;
    let mut batch = LogsBatch::default();
    let e = decode_logs_json(&text, &mut batch, &raw()).unwrap_err();
    assert_eq!(e.kind(), JsonErrorKind::InvalidUtf8);
    assert_eq!(e.path(), format!("{RECORD}.eventName"));
    assert_eq!(batch.rows(), 0);
}

#[test]
fn the_error_is_one_word() {
    assert_eq!(size_of::<JsonError>(), size_of::<usize>());
    assert_eq!(
        size_of::<Result<LogsDecoded, JsonError>>(),
        size_of::<LogsDecoded>() + size_of::<usize>()
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Nothing panics, and a refused request leaves nothing behind.
    #[test]
    fn any_bytes_decode_or_fail_cleanly(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let mut batch = LogsBatch::default();
        if decode_logs_json(&bytes, &mut batch, &LogsOptions::default()).is_err() {
            prop_assert_eq!(batch.rows(), 0);
        }
    }

    /// Cut or damaged valid requests: no panic, and a refusal leaves the batch as it was.
    #[test]
    fn damaged_requests_fail_cleanly(msg in request(), cut in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let mut text = to_json(&msg);
        if !text.is_empty() {
            let at = cut.index(text.len());
            text[at] = byte;
            text.truncate(at + 1 + (byte as usize % 4) * text.len() / 4);
        }
        let before = prefilled();
        let mut batch = before.clone();
        if decode_logs_json(&text, &mut batch, &LogsOptions::default()).is_err() {
            assert_same(&batch, &before);
        }
    }
}
