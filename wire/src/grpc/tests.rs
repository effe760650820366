use super::*;

/// `hello` as one uncompressed gRPC message.
const HELLO: &[u8] = &[0, 0, 0, 0, 5, b'h', b'e', b'l', b'l', b'o'];

fn read(chunks: &[&[u8]]) -> Result<Message, FrameError> {
    let mut r = MessageReader::new(DEFAULT_MAX_MESSAGE);
    for c in chunks {
        r.push(Bytes::copy_from_slice(c))?;
    }
    r.finish()
}

fn hello() -> Message {
    Message {
        compressed: false,
        body: Bytes::from_static(b"hello"),
    }
}

#[test]
fn error_stays_small() {
    assert_eq!(size_of::<FrameError>(), 12);
}

#[test]
fn one_chunk_is_sliced_not_copied() {
    let chunk = Bytes::from_static(HELLO);
    let mut r = MessageReader::new(DEFAULT_MAX_MESSAGE);
    r.push(chunk.clone()).unwrap();
    let m = r.finish().unwrap();
    assert_eq!(m, hello());
    assert_eq!(m.body.as_ptr(), chunk[5..].as_ptr());
}

#[test]
fn body_in_its_own_frame_is_sliced_not_copied() {
    let body = Bytes::from_static(b"hello");
    let mut r = MessageReader::new(DEFAULT_MAX_MESSAGE);
    r.push(Bytes::from_static(&[0, 0, 0])).unwrap();
    r.push(Bytes::from_static(&[0, 5])).unwrap();
    r.push(body.clone()).unwrap();
    assert_eq!(r.finish().unwrap().body.as_ptr(), body.as_ptr());
}

#[test]
fn split_at_every_position() {
    for i in 0..=HELLO.len() {
        let (a, b) = HELLO.split_at(i);
        assert_eq!(read(&[a, b]), Ok(hello()), "split at {i}");
        for j in i..=HELLO.len() {
            let (b1, b2) = HELLO[i..].split_at(j - i);
            assert_eq!(read(&[a, b1, b2]), Ok(hello()), "split at {i} and {j}");
        }
    }
}

#[test]
fn one_byte_per_frame() {
    let chunks: Vec<&[u8]> = HELLO.chunks(1).collect();
    assert_eq!(read(&chunks), Ok(hello()));
}

#[test]
fn body_over_frames_is_one_buffer_of_the_declared_length() {
    let body: Vec<u8> = (0..100_000u32).map(|i| i as u8).collect();
    let mut framed = BytesMut::new();
    encode_message(&body, &mut framed);
    let framed = framed.freeze();
    let mut r = MessageReader::new(DEFAULT_MAX_MESSAGE);
    // HTTP/2's default SETTINGS_MAX_FRAME_SIZE is 16 KiB.
    for c in framed.chunks(16 << 10) {
        r.push(framed.slice_ref(c)).unwrap();
    }
    let m = r.finish().unwrap();
    assert_eq!(m.body, body);
    assert!(!m.compressed);
}

#[test]
fn compressed_flag() {
    let m = read(&[&[1, 0, 0, 0, 2, 0x1f, 0x8b]]).unwrap();
    assert!(m.compressed);
    assert_eq!(m.body, &[0x1f, 0x8b][..]);
}

#[test]
fn bad_flag_fails_at_once() {
    let mut r = MessageReader::new(DEFAULT_MAX_MESSAGE);
    assert_eq!(
        r.push(Bytes::from_static(&[2, 0])),
        Ok(()),
        "the flag is judged with the whole prefix"
    );
    assert_eq!(
        r.push(Bytes::from_static(&[0, 0, 1])),
        Err(FrameError::BadFlag { flag: 2 })
    );
    // The reader is spent: the same error again.
    assert_eq!(
        r.push(Bytes::from_static(b"x")),
        Err(FrameError::BadFlag { flag: 2 })
    );
    assert_eq!(r.finish(), Err(FrameError::BadFlag { flag: 2 }));
}

#[test]
fn too_large_from_the_prefix_alone() {
    let mut r = MessageReader::new(10);
    r.push(Bytes::from_static(&[0, 0, 0])).unwrap();
    assert_eq!(
        r.push(Bytes::from_static(&[0, 11])),
        Err(FrameError::TooLarge { len: 11, limit: 10 })
    );
    assert_eq!(r.declared_len(), None);

    let mut r = MessageReader::new(DEFAULT_MAX_MESSAGE);
    let e = r
        .push(Bytes::from_static(&[1, 0xff, 0xff, 0xff, 0xff]))
        .unwrap_err();
    assert_eq!(
        e,
        FrameError::TooLarge {
            len: u32::MAX,
            limit: 64 << 20
        }
    );
    assert_eq!(e.code(), Code::ResourceExhausted);

    // Exactly at the limit is fine.
    let mut r = MessageReader::new(5);
    r.push(Bytes::from_static(HELLO)).unwrap();
    assert_eq!(r.finish(), Ok(hello()));
}

#[test]
fn declared_len_once_the_prefix_is_in() {
    let mut r = MessageReader::new(DEFAULT_MAX_MESSAGE);
    r.push(Bytes::from_static(&HELLO[..4])).unwrap();
    assert_eq!(r.declared_len(), None);
    r.push(Bytes::from_static(&HELLO[4..6])).unwrap();
    assert_eq!(r.declared_len(), Some(5));
}

#[test]
fn truncated() {
    assert_eq!(
        read(&[&HELLO[..3]]),
        Err(FrameError::TruncatedPrefix { received: 3 })
    );
    assert_eq!(
        read(&[&HELLO[..7]]),
        Err(FrameError::Truncated {
            received: 2,
            expected: 5
        })
    );
    assert_eq!(
        read(&[&HELLO[..5]]),
        Err(FrameError::Truncated {
            received: 0,
            expected: 5
        })
    );
}

#[test]
fn empty_body() {
    assert_eq!(read(&[]), Err(FrameError::Empty));
    assert_eq!(read(&[&[], &[]]), Err(FrameError::Empty));
    assert_eq!(FrameError::Empty.code(), Code::InvalidArgument);
}

#[test]
fn empty_message_is_a_message() {
    // An empty ExportLogsServiceRequest is valid protobuf.
    let m = read(&[&[0, 0, 0, 0, 0]]).unwrap();
    assert!(m.body.is_empty());
    assert_eq!(
        read(&[&[0, 0, 0, 0, 0, 0]]),
        Err(FrameError::Trailing { offset: 5 })
    );
}

#[test]
fn trailing_bytes_and_second_messages() {
    let mut two = HELLO.to_vec();
    two.extend_from_slice(HELLO);
    assert_eq!(read(&[&two]), Err(FrameError::Trailing { offset: 10 }));
    assert_eq!(
        read(&[HELLO, &[0]]),
        Err(FrameError::Trailing { offset: 10 })
    );
    assert_eq!(
        read(&[&HELLO[..8], &two[8..]]),
        Err(FrameError::Trailing { offset: 10 })
    );
    // An empty frame after the message (END_STREAM on an empty DATA frame) is fine.
    assert_eq!(read(&[HELLO, &[]]), Ok(hello()));
}

#[test]
fn errors_name_the_problem() {
    let cases = [
        (
            FrameError::Empty,
            "the gRPC request body is empty: expected one message",
        ),
        (
            FrameError::BadFlag { flag: 7 },
            "invalid gRPC message prefix: compressed flag is 7, expected 0 or 1",
        ),
        (
            FrameError::TooLarge {
                len: 100,
                limit: 10,
            },
            "the gRPC message is 100 bytes, over the limit of 10 bytes",
        ),
        (
            FrameError::TruncatedPrefix { received: 2 },
            "truncated gRPC request: the body ends after 2 of the 5 bytes of the message prefix",
        ),
        (
            FrameError::Truncated {
                received: 2,
                expected: 5,
            },
            "truncated gRPC message: the body ends after 2 of the 5 bytes its prefix announces",
        ),
        (
            FrameError::Trailing { offset: 10 },
            "the gRPC request body has bytes after its message, at byte 10: a unary call takes exactly one message",
        ),
    ];
    for (e, want) in cases {
        assert_eq!(e.to_string(), want);
    }
}

#[test]
fn encode_message_bytes() {
    let mut out = BytesMut::from(&b"x"[..]);
    encode_message(b"hello", &mut out);
    assert_eq!(&out[..], b"x\x00\x00\x00\x00\x05hello");
    let mut out = BytesMut::new();
    encode_message(&[], &mut out);
    assert_eq!(&out[..], &[0, 0, 0, 0, 0]);
    let mut out = BytesMut::new();
    encode_message(&[7; 300], &mut out);
    assert_eq!(&out[..5], &[0, 0, 0, 0x01, 0x2c]);
    assert_eq!(read(&[&out]).unwrap().body, &[7; 300][..]);
}

#[test]
fn timeouts() {
    let ok = [
        ("1S", Duration::from_secs(1)),
        ("100m", Duration::from_millis(100)),
        ("2H", Duration::from_secs(7200)),
        ("3M", Duration::from_secs(180)),
        ("250u", Duration::from_micros(250)),
        ("7n", Duration::from_nanos(7)),
        ("0S", Duration::ZERO),
        ("00000010S", Duration::from_secs(10)),
        ("99999999S", Duration::from_secs(99_999_999)),
        ("99999999H", Duration::from_secs(99_999_999 * 3600)),
    ];
    for (v, want) in ok {
        assert_eq!(parse_timeout(v), Some(want), "{v:?}");
    }
    let bad = [
        "",
        "S",
        "1",
        "9999999999S", // 10 digits
        "123456789S",  // 9 digits
        "1s",
        "1h",
        "1x",
        "-1S",
        "+1S",
        " 1S",
        "1S ",
        "1 S",
        "1.5S",
        "\u{ff11}S", // a fullwidth digit
        "1Sm",
    ];
    for v in bad {
        assert_eq!(parse_timeout(v), None, "{v:?}");
    }
}

#[test]
fn codes() {
    let all = [
        Code::Ok,
        Code::Cancelled,
        Code::Unknown,
        Code::InvalidArgument,
        Code::DeadlineExceeded,
        Code::NotFound,
        Code::AlreadyExists,
        Code::PermissionDenied,
        Code::ResourceExhausted,
        Code::FailedPrecondition,
        Code::Aborted,
        Code::OutOfRange,
        Code::Unimplemented,
        Code::Internal,
        Code::Unavailable,
        Code::DataLoss,
        Code::Unauthenticated,
    ];
    for (n, c) in all.into_iter().enumerate() {
        assert_eq!(c.as_str(), n.to_string());
        assert_eq!(c.as_i32(), n as i32);
    }
    assert_eq!(Code::InvalidArgument.as_str(), "3");
    assert_eq!(Code::ResourceExhausted.as_str(), "8");
    assert_eq!(Code::Unavailable.as_str(), "14");
    assert_eq!(Code::Unauthenticated.as_str(), "16");
    assert_eq!(Code::DeadlineExceeded.to_string(), "DEADLINE_EXCEEDED");
}

#[test]
fn percent_encoding() {
    let enc = |s: &str| {
        let mut out = String::from(">");
        percent_encode_message(s, &mut out);
        out
    };
    assert_eq!(enc("plain text: ok ~!"), ">plain text: ok ~!");
    assert_eq!(enc("100%"), ">100%25");
    assert_eq!(enc("a\nb\tc\r"), ">a%0Ab%09c%0D");
    assert_eq!(enc("\u{7f}"), ">%7F");
    assert_eq!(enc("ünï €"), ">%C3%BCn%C3%AF %E2%82%AC");
    assert_eq!(enc(""), ">");
}

#[test]
fn base64_rfc4648_vectors() {
    let cases = [
        ("", ""),
        ("f", "Zg"),
        ("fo", "Zm8"),
        ("foo", "Zm9v"),
        ("foob", "Zm9vYg"),
        ("fooba", "Zm9vYmE"),
        ("foobar", "Zm9vYmFy"),
    ];
    for (input, want) in cases {
        assert_eq!(base64_unpadded(input.as_bytes()), want);
    }
    assert_eq!(base64_unpadded(&[0xfb, 0xff, 0xbf]), "+/+/");
}

/// `google.rpc.Status` and friends, as prost would generate them, to check ours.
mod pb_ref {
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Status {
        #[prost(int32, tag = "1")]
        pub code: i32,
        #[prost(string, tag = "2")]
        pub message: String,
        #[prost(message, repeated, tag = "3")]
        pub details: Vec<Any>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Any {
        #[prost(string, tag = "1")]
        pub type_url: String,
        #[prost(bytes = "vec", tag = "2")]
        pub value: Vec<u8>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct RetryInfo {
        #[prost(message, optional, tag = "1")]
        pub retry_delay: Option<Duration>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Duration {
        #[prost(int64, tag = "1")]
        pub seconds: i64,
        #[prost(int32, tag = "2")]
        pub nanos: i32,
    }
}

#[test]
fn status_details_bytes() {
    let got = encode_status_details(Code::Unavailable, "busy", Some(Duration::from_millis(1500)));
    let mut want = vec![
        0x08, 14, // code = 14
        0x12, 4, b'b', b'u', b's', b'y', // message = "busy"
        0x1a, 54, // details[0]: Any, 54 bytes
        0x0a, 40, // type_url, 40 bytes
    ];
    want.extend_from_slice(b"type.googleapis.com/google.rpc.RetryInfo");
    want.extend_from_slice(&[
        0x12, 10, // value: RetryInfo, 10 bytes
        0x0a, 8, // retry_delay: Duration, 8 bytes
        0x08, 1, // seconds = 1
        0x10, 0x80, 0xca, 0xb5, 0xee, 0x01, // nanos = 500_000_000
    ]);
    assert_eq!(got, want);

    // prost reads the same fields back, and writes the same bytes.
    use prost::Message as _;
    let status = pb_ref::Status::decode(&got[..]).unwrap();
    assert_eq!(status.code, 14);
    assert_eq!(status.message, "busy");
    assert_eq!(status.details.len(), 1);
    assert_eq!(status.details[0].type_url, RETRY_INFO_TYPE_URL);
    let info = pb_ref::RetryInfo::decode(&status.details[0].value[..]).unwrap();
    assert_eq!(
        info.retry_delay,
        Some(pb_ref::Duration {
            seconds: 1,
            nanos: 500_000_000
        })
    );
    assert_eq!(status.encode_to_vec(), got);
}

#[test]
fn status_details_agree_with_prost() {
    use prost::Message as _;
    let cases = [
        (Code::Ok, "", None),
        (Code::InvalidArgument, "bad", None),
        (Code::ResourceExhausted, "", Some(Duration::ZERO)),
        (Code::Unavailable, "ünï", Some(Duration::from_secs(30))),
        (Code::Unavailable, "x", Some(Duration::from_nanos(1))),
        (Code::Unavailable, "x", Some(Duration::MAX)),
    ];
    for (code, message, retry) in cases {
        let got = encode_status_details(code, message, retry);
        let details = retry.map(|d| pb_ref::Any {
            type_url: RETRY_INFO_TYPE_URL.into(),
            value: pb_ref::RetryInfo {
                retry_delay: Some(pb_ref::Duration {
                    seconds: d.as_secs().min(315_576_000_000) as i64,
                    nanos: d.subsec_nanos() as i32,
                }),
            }
            .encode_to_vec(),
        });
        let want = pb_ref::Status {
            code: code.as_i32(),
            message: message.into(),
            details: details.into_iter().collect(),
        };
        assert_eq!(got, want.encode_to_vec(), "{code:?} {message:?} {retry:?}");
    }
    assert!(encode_status_details(Code::Ok, "", None).is_empty());
}

#[test]
fn status_details_header_is_unpadded_base64() {
    // 0x08 0x03 0x12 0x01 'x' → "CAMSAXg=" padded.
    assert_eq!(
        status_details_header(Code::InvalidArgument, "x", None),
        "CAMSAXg"
    );
}
