//! Lenient forms: what pdata (or protojson) accepts besides the canonical OTLP/JSON, and
//! what it means.

use super::*;

/// What the lenient texts below mean, as a message.
fn lenient_message() -> ExportLogsServiceRequest {
    let mut msg = one_record(
        vec![kv("service.name", s("svc"))],
        LogRecord {
            time_unix_nano: 1_700_000_000_000_000_000,
            observed_time_unix_nano: 1_700_000_000_000_000_001,
            severity_number: 13,
            severity_text: "Warn".into(),
            body: Some(av(s("hello"))),
            attributes: vec![
                kv("i", Value::IntValue(-5)),
                kv("j", Value::IntValue(-6)),
                kv("big", Value::IntValue(i64::MAX)),
                kv("d", Value::DoubleValue(f64::NAN)),
                kv("inf", Value::DoubleValue(f64::NEG_INFINITY)),
                kv("half", Value::DoubleValue(0.5)),
                kv("e", Value::StringValue(String::new())),
                KeyValue {
                    key: "empty".into(),
                    value: Some(AnyValue { value: None }),
                    ..Default::default()
                },
                KeyValue {
                    key: "n".into(),
                    value: None,
                    ..Default::default()
                },
                kv("b64", Value::BytesValue(vec![0xff, 0xef])),
                kv("std", Value::BytesValue(vec![0xff, 0xef])),
            ],
            flags: 1,
            event_name: "ev".into(),
            ..Default::default()
        },
    );
    let sl = &mut msg.resource_logs[0].scope_logs[0];
    sl.scope.as_mut().unwrap().version = String::new();
    sl.scope.as_mut().unwrap().attributes.clear();
    msg
}

#[test]
fn lenient_forms_mean_what_the_message_means() {
    // snake_case names, int64 as number and string, enum names, "NaN", unknown keys at
    // every level, null fields, empty ids, unpadded URL-safe and padded standard base64.
    let text = r#"{"resource_logs":[{"resource":{"attributes":[{"key":"service.name","value":{"string_value":"svc"}}],
        "dropped_attributes_count":"2","entityRefs":[{"type":"x"}]},
      "schema_url":"resource-schema","unknown":{"deep":[1,2,{"x":null}]},
      "scope_logs":[{"scope":{"name":"lib","version":null,"attributes":null,"dropped_attributes_count":null},
        "schemaUrl":"scope-schema",
        "log_records":[{"time_unix_nano":"1700000000000000000","observed_time_unix_nano":1700000000000000001,
          "severity_number":"SEVERITY_NUMBER_WARN","severity_text":"Warn","body":{"string_value":"hello","extra":[]},
          "attributes":[{"key":"i","value":{"int_value":-5}},{"key":"j","value":{"intValue":"-6"}},
            {"key":"big","value":{"intValue":9223372036854775807}},
            {"key":"d","value":{"doubleValue":"NaN"}},{"key":"inf","value":{"doubleValue":"-Infinity"}},
            {"key":"half","value":{"double_value":"0.5"}},
            {"key":"e","value":{"stringValue":""}},{"key":"empty","value":{}},{"key":"n","value":null},
            {"key":"b64","value":{"bytesValue":"_-8"}},{"key":"std","value":{"bytes_value":"/+8="}}],
          "trace_id":"","span_id":"","traceId":null,"flags":"1","event_name":"ev","extra":123,
          "droppedAttributesCount":null,"timeUnixNano":null}]}]}],"more":"ignored"}"#;
    let msg = lenient_message();
    for opts in [LogsOptions::default(), raw()] {
        assert_same(&json(text.as_bytes(), &opts).unwrap(), &pb(&msg, &opts));
    }
}

#[test]
fn severity_numbers_as_names_and_numbers() {
    for (spelling, number) in [
        ("9", 9),
        (r#""SEVERITY_NUMBER_UNSPECIFIED""#, 0),
        (r#""SEVERITY_NUMBER_INFO""#, 9),
        (r#""SEVERITY_NUMBER_FATAL4""#, 24),
        ("-1", 255),
        ("null", 0),
    ] {
        let text = format!(
            r#"{{"resourceLogs":[{{"scopeLogs":[{{"logRecords":[{{"severityNumber":{spelling},"severityText":"x"}}]}}]}}]}}"#
        );
        let b = json(text.as_bytes(), &raw()).unwrap();
        assert_eq!(b.logs.severity_number, [number], "{spelling}");
    }
}

#[test]
fn ids_in_upper_or_lower_case_hex() {
    let text = r#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[
        {"traceId":"0102030405060708090A0B0C0D0E0F10","spanId":"aAbBcCdDeEfF0011"}]}]}]}"#;
    let b = json(text.as_bytes(), &raw()).unwrap();
    assert_eq!(b.logs.trace_id[0].to_vec(), (1..=16).collect::<Vec<u8>>());
    assert_eq!(
        b.logs.span_id[0],
        [0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x00, 0x11]
    );
}

#[test]
fn repeated_keys_are_read_as_pdata_reads_them() {
    // A later scalar wins; lists append; a later `body` or `value` replaces the oneof
    // only if it sets one; `resource` / `scope` merge.
    let text = r#"{"resourceLogs":[{"resource":{"attributes":[{"key":"a","value":{"intValue":1}}]},
        "resource":{"attributes":[{"key":"service.name","value":{"stringValue":"s"}}]},
        "scopeLogs":[{"scope":{"name":"first"},"scope":{"version":"v"},"logRecords":[
          {"severityText":"a","severityText":"b","body":{"stringValue":"kept"},"body":{},
           "attributes":[{"key":"x","value":{"intValue":1},"value":{},"key":"y"}],
           "attributes":[{"key":"z","value":{"stringValue":"s","boolValue":true}}],
           "eventName":"e1","eventName":null}]},
          {"logRecords":[{"body":{"arrayValue":{"values":[{"intValue":1}]},"arrayValue":{"values":[{"intValue":2}],"values":[{"intValue":3}]}}}]}]}]}"#;
    let b = json(text.as_bytes(), &raw()).unwrap();
    assert_eq!(b.resources.service_name.get(0), b"s");
    assert_eq!(b.resources.attributes.row(0).count(), 2);
    assert_eq!(b.scopes.name.get(0), b"first");
    assert_eq!(b.scopes.version.get(0), b"v");
    let l = &b.logs;
    assert_eq!(l.severity_text.get(0), b"b");
    assert_eq!(l.body.get(0), b"kept");
    assert_eq!(l.event_name.get(0), b"e1");
    let attrs: Vec<_> = l.attributes.row(0).collect();
    assert_eq!(attrs, [(&b"y"[..], &b"1"[..]), (b"z", b"true")]);
    assert_eq!(
        l.body.get(1),
        b"[2,3]",
        "a second arrayValue replaces the first; its values append"
    );
}

#[test]
fn null_elements_are_empty_messages_and_null_lists_empty_lists() {
    let text =
        r#"{"resourceLogs":[null,{"scopeLogs":null},{"scopeLogs":[{"logRecords":[null]}]}]}"#;
    let b = json(text.as_bytes(), &raw()).unwrap();
    assert_eq!(b.resources.service_name.len(), 3);
    assert_eq!(b.scopes.name.len(), 1);
    assert_eq!(
        b.logs.len(),
        1,
        "a null record is an empty record, as pdata reads it"
    );
    assert_eq!(b.logs.body.get(0), b"");
    assert_eq!(json(b"null", &raw()).unwrap().rows(), 0);
    assert_eq!(json(b" {} ", &raw()).unwrap().rows(), 0);
}

#[test]
fn text_after_the_request_is_ignored_as_pdata_ignores_it() {
    let b = json(
        br#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{}]}]}]} trailing {"#,
        &raw(),
    )
    .unwrap();
    assert_eq!(b.logs.len(), 1);
}

#[test]
fn escaped_strings_are_unescaped_and_lone_surrogates_become_replacement_characters() {
    let text = r#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"stringValue":"a\"b\\c\u00e9\ud83d\ude00 \ud83d!"},
        "attributes":[{"key":"k\u0041","value":{"stringValue":"\n"}}]}]}]}]}"#;
    let b = json(text.as_bytes(), &raw()).unwrap();
    assert_eq!(
        String::from_utf8_lossy(b.logs.body.get(0)),
        "a\"b\\cé😀 \u{fffd}!"
    );
    assert_eq!(
        b.logs.attributes.row(0).collect::<Vec<_>>(),
        [(&b"kA"[..], &b"\n"[..])]
    );
}

#[test]
fn unknown_keys_are_skipped_however_deep_they_nest() {
    let deep = format!(
        r#"{{"x":{}1{},"resourceLogs":[]}}"#,
        "[".repeat(200_000),
        "]".repeat(200_000)
    );
    assert_eq!(json(deep.as_bytes(), &raw()).unwrap().rows(), 0);
}

#[test]
fn deep_values_are_refused_without_exhausting_the_stack() {
    let n = 100_000;
    let body = format!(
        r#"{}{{}}{}"#,
        r#"{"arrayValue":{"values":["#.repeat(n),
        "]}}".repeat(n)
    );
    let text =
        format!(r#"{{"resourceLogs":[{{"scopeLogs":[{{"logRecords":[{{"body":{body}}}]}}]}}]}}"#);
    let e = json(text.as_bytes(), &raw()).unwrap_err();
    assert_eq!(e.kind(), JsonErrorKind::TooDeep);
}

#[test]
fn base64_in_either_alphabet_padded_or_not() {
    let decode = |text: &str| {
        let mut out = Vec::new();
        scalar::decode_base64(text.as_bytes(), &mut out).map(|()| out)
    };
    assert_eq!(decode(""), Ok(vec![]));
    assert_eq!(decode("/+8="), Ok(vec![0xff, 0xef]));
    assert_eq!(decode("_-8"), Ok(vec![0xff, 0xef]));
    assert_eq!(decode("AQ=="), Ok(vec![1]));
    assert_eq!(decode("AQ"), Ok(vec![1]));
    assert_eq!(
        decode("AQID\r\nBA=="),
        Ok(vec![1, 2, 3, 4]),
        "line breaks are skipped, as Go skips them"
    );
    for bad in ["A", "AQ=", "AQ===", "A=Q=", "AQ==AQ==", "AQ!D", "AQID B"] {
        assert!(decode(bad).is_err(), "{bad}");
    }
}
