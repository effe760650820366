use super::*;

#[test]
fn varints_decode_as_the_spec_examples() {
    // The encoding guide's examples: 1, 150, and the 10-byte maximum.
    let cases: &[(&[u8], u64)] = &[
        (&[0x01], 1),
        (&[0x96, 0x01], 150),
        (&[0xff, 0xff, 0xff, 0xff, 0x0f], u64::from(u32::MAX)),
        (
            &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
            u64::MAX,
        ),
        // Non-minimal encodings are valid protobuf.
        (&[0x80, 0x00], 0),
    ];
    for (bytes, want) in cases {
        let mut r = Reader::new(bytes);
        assert_eq!(r.varint(), Ok(*want), "{bytes:02x?}");
        assert!(r.is_empty());
    }
}

#[test]
fn bad_varints_are_refused_where_they_start() {
    let mut r = Reader::new(&[0x08, 0x96]);
    r.varint().unwrap();
    assert_eq!(
        r.varint(),
        Err(DecodeError {
            kind: ErrorKind::Truncated,
            offset: 1
        })
    );
    // 11 bytes, and a 10th byte carrying bits past 64.
    let eleven = [
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
    ];
    assert_eq!(
        Reader::new(&eleven).varint().unwrap_err().kind,
        ErrorKind::VarintOverflow
    );
    let tenth = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02];
    assert_eq!(
        Reader::new(&tenth).varint().unwrap_err().kind,
        ErrorKind::VarintOverflow
    );
}

#[test]
fn tags_name_field_and_wire_type() {
    // field 1 varint, field 2 len, field 3 fixed64, field 16 fixed32 (two-byte tag).
    let mut r = Reader::new(&[0x08, 0x12, 0x19, 0x85, 0x01]);
    assert_eq!(r.field(), Ok(Some((1, WireType::Varint))));
    assert_eq!(r.field(), Ok(Some((2, WireType::Len))));
    assert_eq!(r.field(), Ok(Some((3, WireType::Fixed64))));
    assert_eq!(r.field(), Ok(Some((16, WireType::Fixed32))));
    assert_eq!(r.field(), Ok(None));
}

#[test]
fn invalid_tags_are_refused() {
    // field 0 (with any wire type); wire types 6 and 7 (undefined).
    for tag in [0x00u8, 0x03, 0x0e, 0x0f] {
        let err = Reader::new(&[tag]).field().unwrap_err();
        assert_eq!(
            err,
            DecodeError {
                kind: ErrorKind::InvalidTag,
                offset: 0
            },
            "tag {tag:#04x}"
        );
    }
}

#[test]
fn length_delimited_fields_are_slices_of_the_input() {
    // field 1: "hi"; field 2: nested message { field 1: 150 }.
    let buf = [0x0a, 0x02, b'h', b'i', 0x12, 0x03, 0x08, 0x96, 0x01];
    let mut r = Reader::new(&buf);
    assert_eq!(r.field(), Ok(Some((1, WireType::Len))));
    let s = r.str(1).unwrap();
    assert_eq!(s, "hi");
    assert_eq!(s.as_ptr(), buf[2..].as_ptr(), "no copy");
    assert_eq!(r.field(), Ok(Some((2, WireType::Len))));
    let mut inner = r.message().unwrap();
    assert_eq!(
        inner.offset(),
        6,
        "nested offsets count from the request start"
    );
    assert_eq!(inner.field(), Ok(Some((1, WireType::Varint))));
    assert_eq!(inner.varint(), Ok(150));
    assert!(inner.is_empty() && r.is_empty());
}

#[test]
fn lengths_past_the_end_and_bad_utf8_are_refused() {
    let err = Reader::new(&[0x05, b'a', b'b']).bytes().unwrap_err();
    assert_eq!(
        err,
        DecodeError {
            kind: ErrorKind::Truncated,
            offset: 0
        }
    );
    // A length near u64::MAX must not overflow the bounds check.
    let huge = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
    assert_eq!(
        Reader::new(&huge).bytes().unwrap_err().kind,
        ErrorKind::Truncated
    );
    let err = Reader::new(&[0x02, 0xc3, 0x28]).str(7).unwrap_err();
    assert_eq!(
        err,
        DecodeError {
            kind: ErrorKind::InvalidUtf8 { field: 7 },
            offset: 0
        }
    );
}

#[test]
fn fixed_fields_are_little_endian_and_skips_cover_every_type() {
    let buf = [
        0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, // fixed64
        0x02, 0x00, 0x00, 0x00, // fixed32
    ];
    let mut r = Reader::new(&buf);
    assert_eq!(r.fixed64(), Ok(0x8000_0000_0000_0001));
    assert_eq!(r.fixed32(), Ok(2));
    assert_eq!(r.fixed32().unwrap_err().kind, ErrorKind::Truncated);

    let mut r = Reader::new(&[
        0x96, 0x01, 0x02, b'x', b'y', 1, 2, 3, 4, 1, 2, 3, 4, 5, 6, 7, 8,
    ]);
    r.skip(WireType::Varint).unwrap();
    r.skip(WireType::Len).unwrap();
    r.skip(WireType::Fixed32).unwrap();
    r.skip(WireType::Fixed64).unwrap();
    assert!(r.is_empty());
}

#[test]
fn errors_read_as_sentences_and_stay_small() {
    let e = DecodeError::new(
        ErrorKind::WrongWireType {
            field: 2,
            got: WireType::Varint,
        },
        17,
    );
    assert_eq!(
        e.to_string(),
        "invalid protobuf: field 2 has the wrong wire type (varint) at byte 17"
    );
    // Copy and small: a Result<_, DecodeError> stays cheap on the hot path.
    assert!(core::mem::size_of::<DecodeError>() <= 16);
}

#[test]
fn unknown_groups_are_skipped_to_their_matching_end() {
    // Regression (fuzz, logs_protobuf and traces_protobuf: prost accepted, sluice
    // refused "bad field tag"): field 14 as a group holding a varint, a string and a
    // nested group of field 2, then field 1 (varint 5) after it.
    let buf = [
        0x73, // field 14, start group
        0x08, 0x01, // field 1 varint 1
        0x12, 0x01, b'x', // field 2 "x"
        0x13, 0x08, 0x02, 0x14, // field 2 group { field 1 varint 2 }
        0x74, // field 14, end group
        0x08, 0x05,
    ];
    let mut r = Reader::new(&buf);
    assert_eq!(r.field(), Ok(Some((14, WireType::StartGroup))));
    r.skip(WireType::StartGroup).unwrap();
    assert_eq!(r.field(), Ok(Some((1, WireType::Varint))));
    assert_eq!(r.varint(), Ok(5));
    assert!(r.is_empty());
}

#[test]
fn bad_groups_are_refused() {
    // An end with no start; a group never closed.
    let mut r = Reader::new(&[0x0c]);
    let (_, w) = r.field().unwrap().unwrap();
    assert_eq!(r.skip(w).unwrap_err().kind, ErrorKind::InvalidTag);
    let mut r = Reader::new(&[0x0b, 0x08, 0x01]);
    let (_, w) = r.field().unwrap().unwrap();
    assert_eq!(r.skip(w).unwrap_err().kind, ErrorKind::Truncated);
    // Nested past the limit.
    let deep: Vec<u8> = std::iter::repeat_n(0x0b, MAX_GROUP_DEPTH as usize + 1)
        .chain(std::iter::repeat_n(0x0c, MAX_GROUP_DEPTH as usize + 1))
        .collect();
    let mut r = Reader::new(&deep);
    let (_, w) = r.field().unwrap().unwrap();
    assert_eq!(r.skip(w).unwrap_err().kind, ErrorKind::TooDeep);
    let ok: Vec<u8> = std::iter::repeat_n(0x0b, MAX_GROUP_DEPTH as usize)
        .chain(std::iter::repeat_n(0x0c, MAX_GROUP_DEPTH as usize))
        .collect();
    let mut r = Reader::new(&ok);
    let (_, w) = r.field().unwrap().unwrap();
    r.skip(w).unwrap();
    assert!(r.is_empty());
}
