use super::*;

/// Runs [`merge_json_body`] into a fresh row; `None` when it refuses the text.
fn merged(json: &str) -> Option<Vec<(String, String)>> {
    let mut out = Maps::default();
    let mut key = Vec::new();
    let ok = merge_json_body(json, &mut key, &mut out);
    assert!(key.is_empty(), "{json:?}: the key scratch is restored");
    if !ok {
        assert_eq!(out.pending(), 0, "{json:?}: refused, so nothing pushed");
        return None;
    }
    out.finish_row();
    let text = |b: &[u8]| String::from_utf8(b.to_vec()).expect("UTF-8");
    Some(out.row(0).map(|(k, v)| (text(k), text(v))).collect())
}

type Entries = &'static [(&'static str, &'static str)];

#[test]
fn json_bodies_are_parsed_like_parse_json_and_flattened_like_ottl() {
    let cases: &[(&str, Option<Entries>)] = &[
        // Scalars; numbers are doubles, stringified as pdata does.
        (
            r#"{"msg":"hi","n":3,"x":3.5,"big":1e21,"t":true,"f":false,"z":null}"#,
            Some(&[
                ("msg", "hi"),
                ("n", "3"),
                ("x", "3.5"),
                ("big", "1e+21"),
                ("t", "true"),
                ("f", "false"),
                ("z", ""),
            ]),
        ),
        (
            r#"{"a":-0,"b":0.1,"c":12345678901234567890,"d":1E-7,"e":100,"f":-2.5e-3}"#,
            Some(&[
                ("a", "-0"),
                ("b", "0.1"),
                ("c", "12345678901234567000"),
                ("d", "1e-7"),
                ("e", "100"),
                ("f", "-0.0025"),
            ]),
        ),
        // goccy hands the number token to strconv.ParseFloat, which is lenient.
        (
            r#"{"a":01,"b":1.,"c":-.5,"d":1e+2}"#,
            Some(&[("a", "1"), ("b", "1"), ("c", "-0.5"), ("d", "100")]),
        ),
        // Nested objects: dotted keys.
        (
            r#"{"a":{"b":{"c":"x"},"d":1}}"#,
            Some(&[("a.b.c", "x"), ("a.d", "1")]),
        ),
        // Arrays: indexed keys; arrays of objects.
        (
            r#"{"list":[1,"two",true,null],"items":[{"id":1},{"id":2,"tags":["x"]}]}"#,
            Some(&[
                ("list.0", "1"),
                ("list.1", "two"),
                ("list.2", "true"),
                ("list.3", ""),
                ("items.0.id", "1"),
                ("items.1.id", "2"),
                ("items.1.tags.0", "x"),
            ]),
        ),
        // An array inside an array: OTTL's flattenSlice drops the dot.
        (
            r#"{"m":[[1,2],[3,[4]],[{"k":5}]]}"#,
            Some(&[
                ("m.00", "1"),
                ("m.01", "2"),
                ("m.10", "3"),
                ("m.11.0", "4"),
                ("m.20.k", "5"),
            ]),
        ),
        // Empty objects and arrays vanish.
        (
            r#"{"a":{},"b":[],"c":[{}],"d":[[]],"e":1}"#,
            Some(&[("e", "1")]),
        ),
        // Empty names: no dot after an empty path, but always one before an index.
        (
            r#"{"":{"x":1},"y":{"":2},"z":[3]}"#,
            Some(&[("x", "1"), ("y.", "2"), ("z.0", "3")]),
        ),
        (r#"{"":[3]}"#, Some(&[(".0", "3")])),
        // Escapes and Unicode, in values and in keys.
        (
            r#"{"m":"a\"b\\c\/d\n\t\u00e9\ud83d\ude00\b\f\r","k\u0065y":"héllo ✓"}"#,
            Some(&[("m", "a\"b\\c/d\n\té😀\u{8}\u{c}\r"), ("key", "héllo ✓")]),
        ),
        // Lone surrogates become U+FFFD.
        (
            r#"{"a":"\ud800","b":"\ud800\u0041","c":"\udc00x","d":"\ud83d\ud83d\ude00"}"#,
            Some(&[
                ("a", "\u{FFFD}"),
                ("b", "\u{FFFD}A"),
                ("c", "\u{FFFD}x"),
                ("d", "\u{FFFD}😀"),
            ]),
        ),
        // Braces inside strings are text.
        (
            r#"{"a":"{not}","b":"}{"}"#,
            Some(&[("a", "{not}"), ("b", "}{")]),
        ),
        // goccy quirks: a `null` key reads as "", raw control characters pass.
        ("{null:1,\"t\":\"x\ty\"}", Some(&[("", "1"), ("t", "x\ty")])),
        // A repeated scalar key: the last wins (Go map, `Maps::finish_row`).
        (r#"{"a":1,"a":2}"#, Some(&[("a", "2")])),
        // Whitespace around; a NUL after the object ends goccy's input.
        (
            " \t{ \"a\" : 1 , \"b\" : [ 2 ] } \r",
            Some(&[("a", "1"), ("b.0", "2")]),
        ),
        ("{\"a\":1}\0trailing", Some(&[("a", "1")])),
        // Not an object, or not JSON: nothing.
        ("[1]", None),
        ("\"s\"", None),
        ("null", None),
        ("", None),
        (r#"{"a":1} {"b":2}"#, None),
        (r#"{"a":1,}"#, None),
        (r#"{"a" 1}"#, None),
        (r#"{"a":tru}"#, None),
        ("{'a':1}", None),
        (r#"{1:2}"#, None),
        (r#"{"a":"\x"}"#, None),
        (r#"{"a":"\u12"}"#, None),
        (r#"{"a":"\u12g4"}"#, None),
        ("{\"a\":\"x\0y\"}", None),
        (r#"{"a":"open}"#, None),
        (r#"{"a":1"#, None),
        (r#"{"a":[1,]}"#, None),
        (r#"{"a":[1 2]}"#, None),
        (r#"{"a":+1}"#, None),
        (r#"{"a":1e}"#, None),
        (r#"{"a":-+1}"#, None),
        (r#"{"a":1x}"#, None),
        (r#"{"a":NaN}"#, None),
        (r#"{"a":1e400}"#, None),
    ];
    for &(json, want) in cases {
        let want = want.map(|w| {
            w.iter()
                .map(|&(k, v)| (k.to_owned(), v.to_owned()))
                .collect::<Vec<_>>()
        });
        assert_eq!(merged(json), want, "{json:?}");
    }
}

#[test]
fn the_json_object_is_found_like_extract_patterns_finds_it() {
    let cases: &[(&str, Option<&str>)] = &[
        (r#"{"a":1}"#, Some(r#"{"a":1}"#)),
        (r#"prefix {"a":1} suffix"#, Some(r#"{"a":1}"#)),
        (r#"{"a":"{not}"}"#, Some(r#"{"a":"{not}"}"#)),
        // Greedy: first `{` to last `}`, even across two objects.
        (r#"x {"a":1} y {"b":2} z"#, Some(r#"{"a":1} y {"b":2}"#)),
        ("no json here", None),
        ("} before {", None),
        ("only {", None),
        // Across lines too: a pretty-printed JSON body is found whole.
        (
            "l1 {\"a\":1}\nl2 {\"b\":2}",
            Some("{\"a\":1}\nl2 {\"b\":2}"),
        ),
        ("no\n{\"b\":2}\r", Some(r#"{"b":2}"#)),
        ("{\n  \"a\": 1\n}", Some("{\n  \"a\": 1\n}")),
        ("{ open\n}", Some("{ open\n}")),
    ];
    for &(body, want) in cases {
        assert_eq!(json_object_in_body(body), want, "{body:?}");
    }
}

#[test]
fn a_json_object_with_text_around_it_is_merged_and_one_that_is_not_json_is_not() {
    assert_eq!(
        json_object_in_body(r#"GET /x {"status":200,"user":{"id":"u1"}} done"#).and_then(merged),
        Some(vec![
            ("status".to_owned(), "200".to_owned()),
            ("user.id".to_owned(), "u1".to_owned())
        ]),
    );
    assert_eq!(
        json_object_in_body("this has some {Key {Value { '{' } } invalid JSON in it")
            .and_then(merged),
        None
    );
}

#[test]
fn a_refused_body_leaves_the_row_as_it_was_and_the_key_scratch_is_ignored() {
    let mut out = Maps::default();
    let mut key = b"junk".to_vec();
    out.push_entry(b"service", b"api");
    assert!(!merge_json_body(r#"{"a":1,"b":[1,}"#, &mut key, &mut out));
    assert_eq!(out.pending(), 1);
    assert!(merge_json_body(r#"{"a":{"b":1}}"#, &mut key, &mut out));
    assert_eq!(key, b"junk");
    assert_eq!(out.pending(), 2);
    assert_eq!(out.pending_entry(1), (&b"a.b"[..], &b"1"[..]));
}

#[test]
fn json_nesting_is_bounded() {
    let nested = |depth: usize| format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth));
    assert!(merged(&nested(MAX_JSON_DEPTH)).is_some());
    assert_eq!(merged(&nested(MAX_JSON_DEPTH + 1)), None);
    let arrays = |depth: usize| {
        format!(
            "{{\"a\":{}1{}}}",
            "[".repeat(depth - 1),
            "]".repeat(depth - 1)
        )
    };
    assert_eq!(
        merged(&arrays(3)),
        Some(vec![("a.00".to_owned(), "1".to_owned())])
    );
    assert!(merged(&arrays(MAX_JSON_DEPTH)).is_some());
    assert_eq!(merged(&arrays(MAX_JSON_DEPTH + 1)), None);
}

#[test]
fn level_texts_map_to_numbers_with_the_last_matching_statement_winning() {
    let cases = [
        ("WARN", 13),
        ("Warning", 13),
        ("warn", 13),
        ("notice", 13),
        ("error", 17),
        ("ERR", 17),
        ("terror", 17),
        ("critical", 21),
        ("emergency", 21),
        ("ALERT", 21),
        ("Fatal", 21),
        ("info", 9),
        ("information", 9),
        ("INFO", 9),
        ("debug", 5),
        ("dbug", 5),
        ("trace", 1),
        ("TRACE", 1),
        ("something", 9),
        ("verbose", 9),
        ("", 9),
        // Overlaps: the statement that runs last wins, whatever the position in the text.
        ("info-debug", 5),
        ("debug-info", 5),
        ("error info", 9),
        ("fatal trace", 1),
        ("warning: error", 13),
        ("error: not a warning", 13),
        ("critical error", 17),
    ];
    for (text, want) in cases {
        assert_eq!(severity_number_from_level(text), want, "{text:?}");
    }
}

#[test]
fn the_first_keyword_starting_a_word_in_the_body_decides() {
    let cases = [
        ("ERROR: boom", ("error", 17)),
        ("[ERROR] boom", ("error", 17)),
        ("error:", ("error", 17)),
        ("err", ("error", 17)),
        ("ERRORS detected in application", ("error", 17)),
        ("WARNING: disk space running low", ("warn", 13)),
        ("warning", ("warn", 13)),
        ("NOTICED unusual activity", ("warn", 13)),
        (
            "CRITICAL: database connection pool exhausted",
            ("fatal", 21),
        ),
        ("EMERGENCY: system failure imminent", ("fatal", 21)),
        ("Alert", ("fatal", 21)),
        ("alertmanager started", ("fatal", 21)),
        ("fatal", ("fatal", 21)),
        ("DEBUGGING enabled", ("debug", 5)),
        ("dbug x", ("debug", 5)),
        ("TRACED request path", ("trace", 1)),
        // Not at a word start.
        ("terror attack", ("info", 9)),
        ("xwarn", ("info", 9)),
        ("_error", ("info", 9)),
        ("1error", ("info", 9)),
        ("x-amz-id-2 : abc123/COuECrITmh", ("info", 9)),
        ("txn_id=ab3cdErrF8x processing complete", ("info", 9)),
        ("Forewarn systems check passed", ("info", 9)),
        ("Request backtraced to origin", ("info", 9)),
        // A non-ASCII letter is not a word character for Go's `\b`.
        ("éerror", ("error", 17)),
        // The earliest position wins, not the earliest keyword in the list.
        ("debug then error", ("debug", 5)),
        ("info then trace then fatal", ("trace", 1)),
        ("", ("info", 9)),
        ("all good", ("info", 9)),
    ];
    for (body, want) in cases {
        assert_eq!(severity_from_body(body), want, "{body:?}");
    }
}

#[test]
fn only_the_first_256_characters_of_the_body_are_searched() {
    let at = |start: usize, word: &str| format!("{} {word} tail", "x".repeat(start - 1));
    assert_eq!(severity_from_body(&at(250, "error")), ("error", 17));
    assert_eq!(severity_from_body(&at(251, "error")), ("error", 17));
    // Cut by the window, `error` still matches as `err`; `er` does not.
    assert_eq!(severity_from_body(&at(252, "error")), ("error", 17));
    assert_eq!(severity_from_body(&at(253, "error")), ("error", 17));
    assert_eq!(severity_from_body(&at(254, "error")), ("info", 9));
    assert_eq!(severity_from_body(&at(300, "error")), ("info", 9));
    assert_eq!(severity_from_body(&at(252, "warn")), ("warn", 13));
    assert_eq!(severity_from_body(&at(253, "warn")), ("info", 9));
    // Characters, not bytes: 130 two-byte characters leave `warn` inside the window,
    // 252 push it out.
    assert_eq!(
        severity_from_body(&format!("{} warn", "é".repeat(130))),
        ("warn", 13)
    );
    assert_eq!(
        severity_from_body(&format!("{} warn", "é".repeat(252))),
        ("info", 9)
    );
}

#[test]
fn severity_texts_are_lower_cased_like_go_strings_to_lower() {
    let cases: [(&[u8], &str); 8] = [
        (b"INFO", "info"),
        (b"Warn", "warn"),
        (b"error", "error"),
        (b"", ""),
        ("ÉRROR".as_bytes(), "érror"),
        // Simple case mapping: `İ` → `i` (not `i̇`), a final `Σ` → `σ` (not `ς`).
        ("İNFO".as_bytes(), "info"),
        ("ΣΑΣ".as_bytes(), "σασ"),
        // Each invalid byte → U+FFFD.
        (b"\xffA\xe2\x82", "\u{FFFD}a\u{FFFD}\u{FFFD}"),
    ];
    for (text, want) in cases {
        let mut out = b"kept:".to_vec();
        lowercase_severity(text, &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            format!("kept:{want}"),
            "{text:?}"
        );
    }
}

#[test]
fn flattened_path_helpers_follow_ottl() {
    let mut key = b"pre".to_vec();
    push_member(&mut key, 3, b"a");
    push_index(&mut key, 0, false);
    push_index(&mut key, 12, true);
    push_member(&mut key, 3, b"b");
    assert_eq!(key, b"prea.012.b");
    let mut key = Vec::new();
    push_member(&mut key, 0, b"");
    push_member(&mut key, 0, b"x");
    assert_eq!(key, b"x");
}
