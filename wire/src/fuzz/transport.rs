//! The transport layers: gRPC message framing across DATA frames, and bounded body
//! decompression.

/// gRPC framing: the body split into DATA frames at the sizes the first byte picks.
/// The reader must take exactly one well-formed message (flag 0 or 1, a big-endian
/// length that the rest matches, within the limit) and give back its flag and bytes,
/// and refuse anything else.
pub(super) fn grpc_framing(data: &[u8]) {
    let Some((&split, body)) = data.split_first() else {
        return;
    };
    let step = usize::from(split).max(1);
    let limit = 1 << 16;
    let expected = match body {
        [flag @ (0 | 1), a, b, c, d, rest @ ..]
            if u32::from_be_bytes([*a, *b, *c, *d]) as usize == rest.len()
                && rest.len() <= limit =>
        {
            Some((*flag == 1, rest))
        }
        _ => None,
    };
    let mut reader = crate::grpc::MessageReader::new(limit);
    let mut pushed = Ok(());
    for chunk in body.chunks(step) {
        pushed = reader.push(bytes::Bytes::copy_from_slice(chunk));
        if pushed.is_err() {
            break;
        }
    }
    let message = pushed.and_then(|()| reader.finish());
    match (message, expected) {
        (Ok(m), Some((compressed, rest))) => {
            assert_eq!(m.compressed, compressed, "the compressed flag");
            assert_eq!(&m.body[..], rest, "the message's bytes");
        }
        (Err(_), None) => {}
        (Ok(m), None) => panic!("a malformed body was taken: {} bytes", m.body.len()),
        (Err(e), Some(_)) => panic!("a well-formed message was refused: {e}"),
    }
}

/// Body decompression with a limit: the first byte picks the encoding; the output
/// never passes the limit.
pub(super) fn decompress(data: &[u8]) {
    use crate::compress::Encoding;
    let Some((&which, body)) = data.split_first() else {
        return;
    };
    let encoding = [Encoding::Gzip, Encoding::Zstd, Encoding::Deflate][usize::from(which) % 3];
    let limit = 1 << 20;
    let mut out = Vec::new();
    if crate::compress::decompress(encoding, body, limit, &mut out).is_ok() {
        assert!(out.len() <= limit);
    }
    assert!(
        out.capacity() <= 2 * limit + 64,
        "decompression allocated past its limit"
    );
}
