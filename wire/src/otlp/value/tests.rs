use super::*;

// ---- protobuf builders: AnyValue / KeyValue bodies, spelled out field by field ----

fn varint(mut v: u64, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// A length-delimited field.
fn field(number: u32, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    varint(u64::from(number) << 3 | 2, &mut out);
    varint(body.len() as u64, &mut out);
    out.extend_from_slice(body);
    out
}

fn str_value(s: &str) -> Vec<u8> {
    field(1, s.as_bytes())
}

fn bool_value(b: bool) -> Vec<u8> {
    vec![0x10, u8::from(b)]
}

fn int_value(i: i64) -> Vec<u8> {
    let mut out = vec![0x18];
    varint(i as u64, &mut out);
    out
}

fn double_value(d: f64) -> Vec<u8> {
    let mut out = vec![0x21];
    out.extend_from_slice(&d.to_bits().to_le_bytes());
    out
}

fn bytes_value(b: &[u8]) -> Vec<u8> {
    field(7, b)
}

fn array_value(elements: &[Vec<u8>]) -> Vec<u8> {
    field(
        5,
        &elements
            .iter()
            .flat_map(|e| field(1, e))
            .collect::<Vec<_>>(),
    )
}

fn key_value(key: &str, value: &[u8]) -> Vec<u8> {
    [field(1, key.as_bytes()), field(2, value)].concat()
}

fn kvlist_value(entries: &[(&str, Vec<u8>)]) -> Vec<u8> {
    field(
        6,
        &entries
            .iter()
            .flat_map(|(k, v)| field(1, &key_value(k, v)))
            .collect::<Vec<_>>(),
    )
}

fn nested_arrays(levels: usize, inner: Vec<u8>) -> Vec<u8> {
    (0..levels).fold(inner, |v, _| array_value(&[v]))
}

fn nested_kvlists(levels: usize, inner: Vec<u8>) -> Vec<u8> {
    (0..levels).fold(inner, |v, _| kvlist_value(&[("k", v)]))
}

// ---- runners ----

fn as_string(body: &[u8]) -> Result<String, DecodeError> {
    let mut out = Vec::new();
    PbValue::parse(Reader::new(body))?.write_as_string(&mut out)?;
    Ok(String::from_utf8(out).expect("AsString is UTF-8"))
}

fn kind(result: Result<String, DecodeError>) -> ErrorKind {
    result.expect_err("should fail").kind
}

fn json_string(s: &str) -> String {
    let mut out = Vec::new();
    write_json_string(s, &mut out);
    String::from_utf8(out).unwrap()
}

/// The entries `flatten_into` pushes, in order, before `finish_row` drops repeats.
fn flatten(body: &[u8], key: &str) -> Result<Vec<(String, String)>, DecodeError> {
    let mut maps = Maps::default();
    let mut scratch = key.as_bytes().to_vec();
    let flattened = PbValue::parse(Reader::new(body))?.flatten_into(&mut scratch, &mut maps);
    assert_eq!(scratch, key.as_bytes(), "the key buffer is restored");
    flattened?;
    Ok(pending(&maps))
}

fn pending(maps: &Maps) -> Vec<(String, String)> {
    (0..maps.pending())
        .map(|i| {
            let (k, v) = maps.pending_entry(i);
            (
                String::from_utf8(k.to_vec()).unwrap(),
                String::from_utf8(v.to_vec()).unwrap(),
            )
        })
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

// ---- tests ----

#[test]
fn doubles_are_stringified_like_pdata() {
    // Expected values are what Go's float64AsString prints for each input.
    let cases = [
        (1.0, "1"),
        (-1.0, "-1"),
        (0.0, "0"),
        (-0.0, "-0"),
        (3.5, "3.5"),
        (0.1, "0.1"),
        (1.0 / 3.0, "0.3333333333333333"),
        (123456789.0, "123456789"),
        (1e20, "100000000000000000000"),
        (1e21, "1e+21"),
        (1.5e300, "1.5e+300"),
        (0.000001, "0.000001"),
        (0.0000001, "1e-7"),
        (1.5e-7, "1.5e-7"),
        (-2.5e-10, "-2.5e-10"),
        (f64::MAX, "1.7976931348623157e+308"),
        (f64::MIN_POSITIVE, "2.2250738585072014e-308"),
        (f64::NAN, "NaN"),
        (f64::INFINITY, "Infinity"),
        (f64::NEG_INFINITY, "-Infinity"),
    ];
    for (v, want) in cases {
        let mut out = Vec::new();
        write_f64(v, &mut out);
        assert_eq!(String::from_utf8(out).unwrap(), want, "{v:?}");
    }
}

#[test]
fn every_kind_is_stringified_like_as_string() {
    let cases: &[(Vec<u8>, &str)] = &[
        (vec![], ""),
        (str_value("hello"), "hello"),
        (str_value(""), ""),
        (str_value("a<b>&\"\n"), "a<b>&\"\n"), // a plain string is not escaped
        (bool_value(true), "true"),
        (bool_value(false), "false"),
        (vec![0x10, 0x02], "true"), // any non-zero varint
        (int_value(0), "0"),
        (int_value(-1), "-1"),
        (int_value(i64::MIN), "-9223372036854775808"),
        (int_value(i64::MAX), "9223372036854775807"),
        (double_value(1.0), "1"),
        (double_value(1e21), "1e+21"),
        (double_value(0.1), "0.1"),
        (bytes_value(b"hello"), "aGVsbG8="),
        (bytes_value(&[0xff, 0xfe]), "//4="),
        (bytes_value(b""), ""),
        (array_value(&[]), "[]"),
        (kvlist_value(&[]), "{}"),
        (field(5, &[]), "[]"),
        (field(6, &[]), "{}"),
    ];
    for (body, want) in cases {
        assert_eq!(as_string(body).as_deref(), Ok(*want), "{body:02x?}");
    }
}

#[test]
fn bytes_are_standard_base64() {
    // RFC 4648 section 10.
    let cases = [
        ("", ""),
        ("f", "Zg=="),
        ("fo", "Zm8="),
        ("foo", "Zm9v"),
        ("foob", "Zm9vYg=="),
        ("fooba", "Zm9vYmE="),
        ("foobar", "Zm9vYmFy"),
    ];
    for (raw, want) in cases {
        assert_eq!(
            as_string(&bytes_value(raw.as_bytes())).as_deref(),
            Ok(want),
            "{raw:?}"
        );
    }
    let all: Vec<u8> = (0..=255).collect();
    let text = as_string(&bytes_value(&all)).unwrap();
    assert!(
        text.starts_with("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g"),
        "{text}"
    );
    assert!(text.ends_with("+/w=="), "{text}");
}

#[test]
fn arrays_are_json() {
    let body = array_value(&[
        int_value(1),
        str_value("a"),
        bool_value(true),
        vec![],
        double_value(1.5),
        kvlist_value(&[("k", str_value("v"))]),
    ]);
    assert_eq!(
        as_string(&body).as_deref(),
        Ok(r#"[1,"a",true,null,1.5,{"k":"v"}]"#)
    );

    let body = array_value(&[
        bytes_value(b"hi"),
        bytes_value(b""), // a nil []byte in AsRaw: null
        int_value(i64::MIN),
        double_value(1e21),
        double_value(-0.0),
        double_value(1e-7),
        array_value(&[]),
        kvlist_value(&[]),
        str_value("x<y>&z"),
    ]);
    assert_eq!(
        as_string(&body).as_deref(),
        Ok(r#"["aGk=",null,-9223372036854775808,1e+21,-0,1e-7,[],{},"x<y>&z"]"#)
    );
}

#[test]
fn kvlist_keys_are_sorted_by_bytes_and_the_last_repeat_wins() {
    let body = kvlist_value(&[
        ("b", int_value(1)),
        ("a", int_value(2)),
        ("B", int_value(3)),
        ("é", int_value(4)),
        ("aa", int_value(5)),
        ("", int_value(6)),
    ]);
    assert_eq!(
        as_string(&body).as_deref(),
        Ok(r#"{"":6,"B":3,"a":2,"aa":5,"b":1,"é":4}"#)
    );

    let body = kvlist_value(&[
        ("k", str_value("first")),
        ("j", vec![]),
        ("k", str_value("last")),
    ]);
    assert_eq!(as_string(&body).as_deref(), Ok(r#"{"j":null,"k":"last"}"#));

    // A KeyValue without a value field holds an empty value.
    let body = field(6, &field(1, &field(1, b"k")));
    assert_eq!(as_string(&body).as_deref(), Ok(r#"{"k":null}"#));

    // Keys are escaped like values.
    let body = kvlist_value(&[("<a\"b>", str_value("\n"))]);
    assert_eq!(as_string(&body).as_deref(), Ok(r#"{"<a\"b>":"\n"}"#));
}

#[test]
fn big_kvlists_sort_off_the_stack_the_same_way() {
    let mut entries: Vec<(String, Vec<u8>)> = (0..40)
        .rev()
        .map(|i| (format!("k{i:02}"), int_value(i)))
        .collect();
    entries.push(("k05".into(), str_value("last")));
    let borrowed: Vec<(&str, Vec<u8>)> = entries
        .iter()
        .map(|(k, v)| (k.as_str(), v.clone()))
        .collect();
    let want: Vec<String> = (0..40)
        .map(|i| {
            if i == 5 {
                r#""k05":"last""#.to_string()
            } else {
                format!(r#""k{i:02}":{i}"#)
            }
        })
        .collect();
    assert_eq!(
        as_string(&kvlist_value(&borrowed)).unwrap(),
        format!("{{{}}}", want.join(","))
    );
}

#[test]
fn json_strings_are_escaped_like_go_without_html_escaping() {
    let cases = [
        ("plain", r#""plain""#),
        ("", r#""""#),
        ("a\"b", r#""a\"b""#),
        ("back\\slash", r#""back\\slash""#),
        ("\n\r\t", r#""\n\r\t""#),
        ("\u{8}\u{c}", r#""\b\f""#),
        ("\u{1}", r#""\u0001""#),
        ("\u{0}\u{1f}", r#""\u0000\u001f""#),
        ("<a href=\"x\">&amp;</a>", r#""<a href=\"x\">&amp;</a>""#),
        ("\u{7f}", "\"\u{7f}\""),
        ("héllo 😀 日本", "\"héllo 😀 日本\""),
        ("a\u{2028}b\u{2029}c", r#""a\u2028b\u2029c""#),
        ("\u{2027}\u{202a}", "\"\u{2027}\u{202a}\""), // the neighbours stay
    ];
    for (raw, want) in cases {
        assert_eq!(json_string(raw), want, "{raw:?}");
    }
}

#[test]
fn values_nest_up_to_max_depth() {
    let depth = MAX_DEPTH as usize;
    let want = format!("{}1{}", "[".repeat(depth), "]".repeat(depth));
    assert_eq!(as_string(&nested_arrays(depth, int_value(1))), Ok(want));
    assert_eq!(
        kind(as_string(&nested_arrays(depth + 1, int_value(1)))),
        ErrorKind::TooDeep
    );
    // An array at depth MAX_DEPTH is refused even when empty.
    assert_eq!(
        kind(as_string(&nested_arrays(depth, array_value(&[])))),
        ErrorKind::TooDeep
    );

    let want = format!("{}1{}", r#"{"k":"#.repeat(depth), "}".repeat(depth));
    assert_eq!(as_string(&nested_kvlists(depth, int_value(1))), Ok(want));
    assert_eq!(
        kind(as_string(&nested_kvlists(depth + 1, int_value(1)))),
        ErrorKind::TooDeep
    );

    // The value of a repeated key is not written but still walked.
    let body = kvlist_value(&[
        ("a", nested_arrays(depth, int_value(1))),
        ("a", int_value(1)),
    ]);
    assert_eq!(kind(as_string(&body)), ErrorKind::TooDeep);
}

#[test]
fn the_last_oneof_field_wins_and_unknown_fields_are_skipped() {
    assert_eq!(
        as_string(&[str_value("a"), int_value(7)].concat()).as_deref(),
        Ok("7")
    );
    assert_eq!(
        as_string(&[int_value(7), str_value("a")].concat()).as_deref(),
        Ok("a")
    );
    assert_eq!(
        as_string(&[array_value(&[]), bool_value(true)].concat()).as_deref(),
        Ok("true")
    );

    let unknown = [
        vec![0x40, 0x05],                   // field 8, varint
        field(15, b"junk"),                 // field 15, length-delimited
        vec![0x4d, 1, 2, 3, 4],             // field 9, fixed32
        vec![0x51, 1, 2, 3, 4, 5, 6, 7, 8], // field 10, fixed64
        vec![0x80, 0x01, 0x01],             // field 16 (two-byte tag), varint
    ]
    .concat();
    assert_eq!(
        as_string(&[unknown.clone(), str_value("x")].concat()).as_deref(),
        Ok("x")
    );

    // Unknown fields in ArrayValue, KeyValueList and KeyValue bodies too.
    let array = field(
        5,
        &[unknown.clone(), field(1, &int_value(1)), unknown.clone()].concat(),
    );
    assert_eq!(as_string(&array).as_deref(), Ok("[1]"));
    let entry = [
        unknown.clone(),
        key_value("k", &int_value(2)),
        unknown.clone(),
    ]
    .concat();
    let kvlist = field(6, &[unknown.clone(), field(1, &entry)].concat());
    assert_eq!(as_string(&kvlist).as_deref(), Ok(r#"{"k":2}"#));
}

#[test]
fn parse_reads_each_kind_and_as_str_only_strings() {
    fn parse(body: &[u8]) -> PbValue<'_> {
        PbValue::parse(Reader::new(body)).unwrap()
    }
    assert!(matches!(parse(&[]), PbValue::Empty));
    assert!(matches!(parse(&str_value("s")), PbValue::Str("s")));
    assert!(matches!(parse(&bool_value(true)), PbValue::Bool(true)));
    assert!(matches!(parse(&int_value(-5)), PbValue::Int(-5)));
    assert!(matches!(parse(&double_value(2.5)), PbValue::Double(d) if d == 2.5));
    assert!(matches!(parse(&bytes_value(b"b")), PbValue::Bytes(b"b")));
    assert!(matches!(parse(&array_value(&[])), PbValue::Array(_)));
    assert!(matches!(parse(&kvlist_value(&[])), PbValue::Kvlist(_)));
    assert_eq!(parse(&str_value("s")).as_str(), Some("s"));
    assert_eq!(parse(&int_value(1)).as_str(), None);
    assert_eq!(parse(&[]).as_str(), None);
}

#[test]
fn key_values_parse_and_a_repeated_value_merges() {
    /// Key and value, the value as its Debug text (scalars only).
    fn parse(body: &[u8]) -> (String, String) {
        let (key, value) = parse_key_value(Reader::new(body)).unwrap();
        (key.to_string(), format!("{value:?}"))
    }
    let owned = |k: &str, v: &str| (k.to_string(), v.to_string());
    assert_eq!(
        parse(&key_value("k", &str_value("v"))),
        owned("k", r#"Str("v")"#)
    );
    assert_eq!(parse(&field(1, b"only")), owned("only", "Empty"));
    assert_eq!(parse(&[]), owned("", "Empty"));
    // A second `value` merges: an empty one keeps the first, a set one replaces it.
    let twice = [key_value("k", &str_value("a")), field(2, &[])].concat();
    assert_eq!(parse(&twice), owned("k", r#"Str("a")"#));
    let twice = [key_value("k", &str_value("a")), field(2, &int_value(1))].concat();
    assert_eq!(parse(&twice), owned("k", "Int(1)"));
    // Wrong wire types for key and value.
    let err = parse_key_value(Reader::new(&[0x08, 0x01])).unwrap_err();
    assert_eq!(
        err,
        DecodeError {
            kind: ErrorKind::WrongWireType {
                field: 1,
                got: WireType::Varint
            },
            offset: 1
        }
    );
    let err = parse_key_value(Reader::new(&[0x10, 0x01])).unwrap_err();
    assert_eq!(
        err.kind,
        ErrorKind::WrongWireType {
            field: 2,
            got: WireType::Varint
        }
    );
}

#[test]
fn malformed_values_fail_with_kind_and_offset() {
    let wrong = |field, got| ErrorKind::WrongWireType { field, got };
    let cases: &[(&[u8], DecodeError)] = &[
        // string_value as a varint; int_value as bytes; double_value as fixed32.
        (
            &[0x08, 0x01],
            DecodeError {
                kind: wrong(1, WireType::Varint),
                offset: 1,
            },
        ),
        (
            &[0x1a, 0x00],
            DecodeError {
                kind: wrong(3, WireType::Len),
                offset: 1,
            },
        ),
        (
            &[0x25, 0, 0, 0, 0],
            DecodeError {
                kind: wrong(4, WireType::Fixed32),
                offset: 1,
            },
        ),
        // An array element as a varint.
        (
            &[0x2a, 0x02, 0x08, 0x01],
            DecodeError {
                kind: wrong(1, WireType::Varint),
                offset: 3,
            },
        ),
        // An array element whose string claims 5 bytes and has 2.
        (
            &[0x2a, 0x06, 0x0a, 0x04, 0x0a, 0x05, b'a', b'b'],
            DecodeError {
                kind: ErrorKind::Truncated,
                offset: 5,
            },
        ),
        // An array element whose string is not UTF-8.
        (
            &[0x2a, 0x06, 0x0a, 0x04, 0x0a, 0x02, 0xff, 0xfe],
            DecodeError {
                kind: ErrorKind::InvalidUtf8 { field: 1 },
                offset: 5,
            },
        ),
        // A kvlist key that is not UTF-8.
        (
            &[0x32, 0x05, 0x0a, 0x03, 0x0a, 0x01, 0xff],
            DecodeError {
                kind: ErrorKind::InvalidUtf8 { field: 1 },
                offset: 5,
            },
        ),
        // A top-level double cut short; a truncated top-level length.
        (
            &[0x21, 0, 0],
            DecodeError {
                kind: ErrorKind::Truncated,
                offset: 1,
            },
        ),
        (
            &[0x2a, 0x05, 0x0a],
            DecodeError {
                kind: ErrorKind::Truncated,
                offset: 1,
            },
        ),
    ];
    for (body, want) in cases {
        assert_eq!(as_string(body), Err(*want), "{body:02x?}");
    }
    // Malformed bytes under a repeated key that JSON leaves out still fail.
    let body = kvlist_value(&[("a", field(5, &[0x08, 0x01])), ("a", int_value(1))]);
    assert_eq!(kind(as_string(&body)), wrong(1, WireType::Varint));
}

#[test]
fn a_failed_write_leaves_the_output_as_it_was() {
    let body = array_value(&[str_value("x"), field(5, &[0x08, 0x01])]);
    let value = PbValue::parse(Reader::new(&body)).unwrap();
    let mut out = b"before".to_vec();
    assert!(value.write_as_string(&mut out).is_err());
    assert_eq!(out, b"before");
}

#[test]
fn non_finite_doubles_void_the_json_like_gos_encoder() {
    // json.Encoder fails on NaN and ±Inf and writes nothing; pdata ignores the error.
    for d in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        assert_eq!(
            as_string(&array_value(&[int_value(1), double_value(d)])).as_deref(),
            Ok("")
        );
        assert_eq!(
            as_string(&kvlist_value(&[("a", double_value(d))])).as_deref(),
            Ok("")
        );
        let deep = kvlist_value(&[
            ("a", str_value("x")),
            ("b", nested_arrays(3, double_value(d))),
        ]);
        assert_eq!(as_string(&deep).as_deref(), Ok(""));
    }
    // Under a repeated key, only the last value reaches the encoder.
    let body = kvlist_value(&[("a", double_value(f64::NAN)), ("a", int_value(1))]);
    assert_eq!(as_string(&body).as_deref(), Ok(r#"{"a":1}"#));
    // A void value leaves what was in the buffer before it.
    let body = array_value(&[double_value(f64::NAN)]);
    let value = PbValue::parse(Reader::new(&body)).unwrap();
    let mut out = b"before".to_vec();
    value.write_as_string(&mut out).unwrap();
    assert_eq!(out, b"before");
}

#[test]
fn flatten_makes_dotted_and_indexed_keys_and_drops_empty_containers() {
    let body = kvlist_value(&[
        (
            "http",
            kvlist_value(&[("method", str_value("GET")), ("status", int_value(200))]),
        ),
        (
            "tags",
            array_value(&[
                str_value("a"),
                str_value("b"),
                array_value(&[str_value("c")]),
            ]),
        ),
        ("no_map", kvlist_value(&[])),
        ("no_list", array_value(&[])),
        ("empty", vec![]),
        ("d", double_value(1.5)),
        ("m", kvlist_value(&[("x", bytes_value(b"hi"))])),
        (
            "objs",
            array_value(&[kvlist_value(&[("y", bool_value(true))])]),
        ),
    ]);
    let want = pairs(&[
        ("attr.http.method", "GET"),
        ("attr.http.status", "200"),
        ("attr.tags.0", "a"),
        ("attr.tags.1", "b"),
        ("attr.tags.20", "c"),
        ("attr.empty", ""),
        ("attr.d", "1.5"),
        ("attr.m.x", "aGk="),
        ("attr.objs.0.y", "true"),
    ]);
    assert_eq!(flatten(&body, "attr"), Ok(want));

    // Under an empty key a map adds no leading dot; an array always writes one.
    let body = kvlist_value(&[
        ("a", kvlist_value(&[("b", int_value(1))])),
        ("l", array_value(&[int_value(2)])),
    ]);
    assert_eq!(flatten(&body, ""), Ok(pairs(&[("a.b", "1"), ("l.0", "2")])));
    let body = kvlist_value(&[("", kvlist_value(&[("b", int_value(1))]))]);
    assert_eq!(flatten(&body, ""), Ok(pairs(&[("b", "1")])));
    assert_eq!(
        flatten(&array_value(&[int_value(1)]), ""),
        Ok(pairs(&[(".0", "1")]))
    );

    // Anything else is one entry; repeated keys are all pushed (finish_row keeps the last).
    assert_eq!(flatten(&str_value("v"), "k"), Ok(pairs(&[("k", "v")])));
    assert_eq!(flatten(&[], "k"), Ok(pairs(&[("k", "")])));
    let body = kvlist_value(&[("a", int_value(1)), ("a", int_value(2))]);
    assert_eq!(
        flatten(&body, "k"),
        Ok(pairs(&[("k.a", "1"), ("k.a", "2")]))
    );
}

#[test]
fn flatten_is_depth_limited_and_restores_the_key_on_error() {
    let depth = MAX_DEPTH as usize;
    // The dot is dropped every other level: `k.00.00…`.
    let key = format!("k{}", ".00".repeat(depth / 2));
    assert_eq!(
        flatten(&nested_arrays(depth, int_value(1)), "k"),
        Ok(pairs(&[(&key, "1")]))
    );
    // `flatten` checks the restored key itself.
    assert_eq!(
        flatten(&nested_arrays(depth + 1, int_value(1)), "k")
            .unwrap_err()
            .kind,
        ErrorKind::TooDeep
    );
    let body = kvlist_value(&[("a", int_value(1)), ("b", field(5, &[0x08, 0x01]))]);
    assert!(matches!(
        flatten(&body, "k").unwrap_err().kind,
        ErrorKind::WrongWireType { .. }
    ));
}

#[test]
fn merge_kvlist_pushes_each_entry_as_string() {
    let body = kvlist_value(&[
        ("a", str_value("x")),
        ("b", kvlist_value(&[("c", int_value(1))])),
        ("e", vec![]),
        ("a", str_value("y")),
    ]);
    let value = PbValue::parse(Reader::new(&body)).unwrap();
    let mut maps = Maps::default();
    value.merge_kvlist_into(&mut maps).unwrap();
    assert_eq!(
        pending(&maps),
        pairs(&[("a", "x"), ("b", r#"{"c":1}"#), ("e", ""), ("a", "y")])
    );
    maps.finish_row();
    let row: Vec<_> = maps.row(0).collect();
    assert_eq!(
        row,
        [(&b"b"[..], &br#"{"c":1}"#[..]), (b"e", b""), (b"a", b"y")]
    );

    // Other kinds push nothing.
    for body in [str_value("s"), array_value(&[int_value(1)]), vec![]] {
        let mut maps = Maps::default();
        PbValue::parse(Reader::new(&body))
            .unwrap()
            .merge_kvlist_into(&mut maps)
            .unwrap();
        assert_eq!(maps.pending(), 0);
    }

    // Values nested too deep fail: the kvlist is depth 0, its values depth 1.
    let body = kvlist_value(&[("a", nested_arrays(MAX_DEPTH as usize, int_value(1)))]);
    let mut maps = Maps::default();
    let err = PbValue::parse(Reader::new(&body))
        .unwrap()
        .merge_kvlist_into(&mut maps)
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::TooDeep);
}

#[test]
fn no_input_panics() {
    // Every prefix and many one-byte corruptions of a value using every kind.
    let body = kvlist_value(&[
        ("s", str_value("x\u{2028}")),
        (
            "n",
            array_value(&[int_value(-1), double_value(0.5), bool_value(true), vec![]]),
        ),
        (
            "m",
            kvlist_value(&[("b", bytes_value(b"\x00\x01")), ("m", kvlist_value(&[]))]),
        ),
        ("d", double_value(f64::NAN)),
    ]);
    let run = |bytes: &[u8]| {
        if let Ok(value) = PbValue::parse(Reader::new(bytes)) {
            let _ = value.write_as_string(&mut Vec::new());
            let _ = value.flatten_into(&mut b"k".to_vec(), &mut Maps::default());
            let _ = value.merge_kvlist_into(&mut Maps::default());
        }
        let _ = parse_key_value(Reader::new(bytes));
    };
    for len in 0..=body.len() {
        run(&body[..len]);
    }
    for i in 0..body.len() {
        for b in [
            0x00,
            0x01,
            0x02,
            0x05,
            0x07,
            0x0a,
            0x7f,
            0x80,
            0xff,
            body[i] ^ 0x40,
        ] {
            let mut bytes = body.clone();
            bytes[i] = b;
            run(&bytes);
        }
    }
}

/// Cross-check against prost: random `AnyValue` trees encoded by prost must stringify
/// to what the Go model in [`testgen`](crate::otlp::testgen) says: leaves exactly,
/// arrays and kvlists as JSON that serde_json reads back as the model's value (so the
/// escapes must be valid JSON that decodes to the original strings).
mod against_prost {
    use super::*;
    use crate::otlp::reference::go_as_string;
    use crate::otlp::testgen::any_value;
    use proptest::prelude::*;
    use prost::Message as _;

    proptest! {
        #[test]
        fn as_string_matches_a_model_of_go(value in any_value()) {
            let bytes = value.encode_to_vec();
            let text = as_string(&bytes).expect("prost's encoding decodes");
            let want = go_as_string(Some(&value));
            prop_assert!(want.matches(&text), "{:?} vs {:?}", text, want);
        }
    }
}

/// The straightforward form of pdata's `float64AsString`, through `core::fmt`: the
/// reference `write_f64` (ryu + ES6 layout) must agree with on every double, except
/// on exact ties between two shortest representations, where `core::fmt` rounds half
/// up and Go's `strconv` (and ryu) round half to even.
fn f64_reference(v: f64) -> String {
    if !v.is_finite() {
        return if v.is_nan() {
            "NaN"
        } else if v > 0.0 {
            "Infinity"
        } else {
            "-Infinity"
        }
        .into();
    }
    let abs = v.abs();
    if abs == 0.0 || (1e-6..1e21).contains(&abs) {
        format!("{v}")
    } else {
        let s = format!("{v:e}");
        let (m, e) = s.split_once('e').unwrap();
        if e.starts_with('-') {
            format!("{m}e{e}")
        } else {
            format!("{m}e+{e}")
        }
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4096))]

    #[test]
    fn write_f64_agrees_with_the_fmt_reference_on_any_bits(bits in proptest::prelude::any::<u64>()) {
        check_f64(f64::from_bits(bits))?;
    }

    #[test]
    fn write_f64_agrees_with_the_fmt_reference_near_the_cutoffs(m in 1u32..10_000, e in -30i32..30) {
        let v = f64::from(m) * 10f64.powi(e);
        for v in [v, -v, v.next_up(), v.next_down()] {
            check_f64(v)?;
        }
    }
}

fn check_f64(v: f64) -> Result<(), proptest::test_runner::TestCaseError> {
    let mut out = Vec::new();
    write_f64(v, &mut out);
    let ours = String::from_utf8(out).unwrap();
    let reference = f64_reference(v);
    if ours != reference {
        // Only a tie may differ: both round-trip, same digits, ours is the even one.
        let digits = |s: &str| {
            s.split('e')
                .next()
                .unwrap()
                .bytes()
                .filter(u8::is_ascii_digit)
                .count()
        };
        let last = |s: &str| {
            s.split('e')
                .next()
                .unwrap()
                .bytes()
                .rev()
                .find(u8::is_ascii_digit)
                .unwrap()
        };
        proptest::prop_assert_eq!(
            ours.parse::<f64>().ok(),
            Some(v),
            "{} does not round-trip",
            ours
        );
        proptest::prop_assert_eq!(reference.parse::<f64>().ok(), Some(v));
        proptest::prop_assert_eq!(
            digits(&ours),
            digits(&reference),
            "{} vs {}",
            ours,
            reference
        );
        proptest::prop_assert!(
            (last(&ours) - b'0').is_multiple_of(2),
            "{} vs {}: not the even tie",
            ours,
            reference
        );
    }
    Ok(())
}

#[test]
fn a_tie_between_shortest_forms_rounds_to_even_like_go() {
    // 1126000000000000.25 lies exactly between …0.2 and …0.3; Go's strconv writes .2.
    let v = 1.126e15f64.next_up();
    let mut out = Vec::new();
    write_f64(v, &mut out);
    assert_eq!(String::from_utf8(out).unwrap(), "1126000000000000.2");
}
