use std::io::Write;

use flate2::Compression;
use flate2::write::{DeflateEncoder, GzEncoder, ZlibEncoder};

use super::body::{Encoding::*, *};
use super::*;

const MIB: usize = 1 << 20;

/// Something like an OTLP request: repetitive, but not trivially so.
fn sample(len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len);
    let mut i = 0u64;
    while out.len() < len {
        write!(
            out,
            "service-{} span {} attr=value-{};",
            i % 7,
            i,
            i * i % 1000
        )
        .unwrap();
        i += 1;
    }
    out.truncate(len);
    out
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn zlib(data: &[u8]) -> Vec<u8> {
    let mut e = ZlibEncoder::new(Vec::new(), Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn raw_deflate(data: &[u8]) -> Vec<u8> {
    let mut e = DeflateEncoder::new(Vec::new(), Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn zstd(data: &[u8]) -> Vec<u8> {
    ::zstd::bulk::compress(data, 3).unwrap()
}

fn inflate(enc: Encoding, input: &[u8], limit: usize) -> Result<Vec<u8>, DecompressError> {
    let mut out = Vec::new();
    decompress(enc, input, limit, &mut out).map(|()| out)
}

fn corrupt(encoding: Encoding, reason: &'static str) -> Result<Vec<u8>, DecompressError> {
    Err(DecompressError::Corrupt { encoding, reason })
}

const TRUNCATED: &str = "the data ends before the end of the stream";

#[test]
fn error_stays_small() {
    assert!(size_of::<DecompressError>() <= 3 * size_of::<usize>());
}

#[test]
fn encoding_names() {
    let cases = [
        ("identity", Some(Identity)),
        ("gzip", Some(Gzip)),
        ("GZip", Some(Gzip)),
        ("x-gzip", Some(Gzip)),
        (" zstd ", Some(Zstd)),
        ("ZSTD", Some(Zstd)),
        ("deflate", Some(Deflate)),
        ("Deflate", Some(Deflate)),
        ("br", None),
        ("snappy", None),
        ("gzip, identity", None),
        ("", None),
        ("gzipp", None),
    ];
    for (v, want) in cases {
        assert_eq!(Encoding::from_header(v), want, "{v:?}");
    }
    for e in [Identity, Gzip, Zstd, Deflate] {
        assert_eq!(Encoding::from_header(e.name()), Some(e));
    }
}

#[test]
fn literal_streams_of_hello() {
    // Python's gzip.compress(b'hello', mtime=0), zlib.compress(b'hello') and the same
    // as raw deflate (wbits=-15).
    let gz = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\x03\xcb\x48\xcd\xc9\xc9\x07\x00\x86\xa6\x10\x36\x05\x00\x00\x00";
    let zl = b"\x78\x9c\xcb\x48\xcd\xc9\xc9\x07\x00\x06\x2c\x02\x15";
    let raw = b"\xcb\x48\xcd\xc9\xc9\x07\x00";
    assert_eq!(inflate(Gzip, gz, 100).unwrap(), b"hello");
    assert_eq!(inflate(Deflate, zl, 100).unwrap(), b"hello");
    assert_eq!(inflate(Deflate, raw, 100).unwrap(), b"hello");
    assert_eq!(inflate(Identity, b"hello", 100).unwrap(), b"hello");
}

#[test]
fn round_trips() {
    let data = sample(MIB + 12345);
    for (enc, packed) in [
        (Gzip, gzip(&data)),
        (Deflate, zlib(&data)),
        (Deflate, raw_deflate(&data)),
        (Zstd, zstd(&data)),
        (Identity, data.clone()),
    ] {
        assert!(packed.len() < data.len() / 3 || enc == Identity);
        let out = inflate(enc, &packed, 64 * MIB).unwrap();
        assert!(out == data, "{enc} round trip");
        // Sized from the input: no doubling past the output.
        assert!(
            out.capacity() <= 2 * data.len(),
            "{enc}: {}",
            out.capacity()
        );
    }
}

#[test]
fn empty_payloads() {
    for (enc, packed) in [
        (Gzip, gzip(b"")),
        (Deflate, zlib(b"")),
        (Deflate, raw_deflate(b"")),
        (Zstd, zstd(b"")),
    ] {
        assert_eq!(inflate(enc, &packed, 0).unwrap(), b"", "{enc}");
    }
}

#[test]
fn appends_to_what_out_holds() {
    let mut out = b"head:".to_vec();
    decompress(Gzip, &gzip(b"body"), 4, &mut out).unwrap();
    decompress(Zstd, &zstd(b"more"), 4, &mut out).unwrap();
    assert_eq!(out, b"head:bodymore");
}

#[test]
fn gzip_members_are_concatenated() {
    let mut two = gzip(b"first member, ");
    two.extend_from_slice(&gzip(b"second member"));
    assert_eq!(
        inflate(Gzip, &two, 100).unwrap(),
        b"first member, second member"
    );
    // The limit counts every member.
    assert_eq!(
        inflate(Gzip, &two, 20),
        Err(DecompressError::TooLarge { limit: 20 })
    );
}

#[test]
fn zstd_frames_are_concatenated() {
    let mut two = zstd(b"first frame, ");
    two.extend_from_slice(&zstd(b"second frame"));
    assert_eq!(
        inflate(Zstd, &two, 100).unwrap(),
        b"first frame, second frame"
    );
    // A skippable frame (magic 0x184D2A50, 4-byte length) in between is skipped.
    let mut skip = zstd(b"a");
    skip.extend_from_slice(&[0x50, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 1, 2, 3]);
    skip.extend_from_slice(&zstd(b"b"));
    assert_eq!(inflate(Zstd, &skip, 100).unwrap(), b"ab");
}

#[test]
fn exactly_the_limit_is_fine() {
    let data = sample(100_000);
    for (enc, packed) in [
        (Gzip, gzip(&data)),
        (Deflate, zlib(&data)),
        (Zstd, zstd(&data)),
        (Identity, data.clone()),
    ] {
        assert_eq!(inflate(enc, &packed, data.len()).unwrap(), data, "{enc}");
        assert_eq!(
            inflate(enc, &packed, data.len() - 1),
            Err(DecompressError::TooLarge {
                limit: data.len() - 1
            }),
            "{enc}"
        );
    }
}

#[test]
fn zip_bombs_stop_at_the_limit() {
    let zeros = vec![0u8; 10 * MIB];
    for (enc, packed) in [
        (Gzip, gzip(&zeros)),
        (Deflate, zlib(&zeros)),
        (Deflate, raw_deflate(&zeros)),
        (Zstd, zstd(&zeros)),
    ] {
        assert!(packed.len() < 20_000, "{enc}: {}", packed.len());
        let mut out = Vec::new();
        assert_eq!(
            decompress(enc, &packed, MIB, &mut out),
            Err(DecompressError::TooLarge { limit: MIB }),
            "{enc}"
        );
        assert!(out.capacity() <= MIB + 1, "{enc}: {}", out.capacity());
    }
    // A gzip whose ISIZE claims 4 GiB does not get 4 GiB.
    let mut lying = gzip(&zeros);
    let n = lying.len();
    lying[n - 4..].copy_from_slice(&u32::MAX.to_le_bytes());
    let mut out = Vec::new();
    assert!(decompress(Gzip, &lying, MIB, &mut out).is_err());
    assert!(out.capacity() <= MIB + 1);
    // Nor does a tiny one: the first allocation believes at most 64 times the input.
    let mut tiny = gzip(b"hi");
    let n = tiny.len();
    tiny[n - 4..].copy_from_slice(&u32::MAX.to_le_bytes());
    let mut out = Vec::new();
    assert_eq!(
        decompress(Gzip, &tiny, 64 * MIB, &mut out),
        corrupt(Gzip, "checksum mismatch").map(drop)
    );
    assert!(out.capacity() <= 64 << 10, "{}", out.capacity());
}

#[test]
fn identity_over_the_limit() {
    assert_eq!(
        inflate(Identity, b"12345", 4),
        Err(DecompressError::TooLarge { limit: 4 })
    );
}

#[test]
fn corrupt_gzip() {
    let good = gzip(&sample(10_000));
    let n = good.len();

    let mut bad_magic = good.clone();
    bad_magic[0] = 0x1e;
    assert_eq!(inflate(Gzip, &bad_magic, MIB), corrupt(Gzip, "bad header"));

    let mut bad_crc = good.clone();
    bad_crc[n - 8] ^= 1;
    assert_eq!(
        inflate(Gzip, &bad_crc, MIB),
        corrupt(Gzip, "checksum mismatch")
    );

    let mut bad_isize = good.clone();
    bad_isize[n - 1] ^= 1;
    assert_eq!(
        inflate(Gzip, &bad_isize, MIB),
        corrupt(Gzip, "checksum mismatch")
    );

    for cut in [0, 1, 5, 10, n / 2, n - 8, n - 1] {
        assert_eq!(
            inflate(Gzip, &good[..cut], MIB),
            corrupt(Gzip, TRUNCATED),
            "cut at {cut}"
        );
    }

    let mut trailing = good.clone();
    trailing.extend_from_slice(b"garbage!");
    assert_eq!(inflate(Gzip, &trailing, MIB), corrupt(Gzip, "bad header"));

    let mut bad_block = good.clone();
    bad_block[10] = 0xff; // first deflate block: BTYPE 11, reserved
    assert_eq!(
        inflate(Gzip, &bad_block, MIB),
        corrupt(Gzip, "invalid compressed data")
    );
}

#[test]
fn corrupt_deflate() {
    let good = zlib(&sample(10_000));
    let n = good.len();
    let mut bad_adler = good.clone();
    bad_adler[n - 1] ^= 1;
    assert_eq!(
        inflate(Deflate, &bad_adler, MIB),
        corrupt(Deflate, "checksum mismatch")
    );
    assert_eq!(
        inflate(Deflate, &good[..n - 2], MIB),
        corrupt(Deflate, TRUNCATED)
    );
    let mut trailing = good.clone();
    trailing.push(0);
    assert_eq!(
        inflate(Deflate, &trailing, MIB),
        corrupt(Deflate, "bytes follow the end of the compressed stream")
    );

    let raw = raw_deflate(&sample(10_000));
    assert_eq!(
        inflate(Deflate, &raw[..raw.len() / 2], MIB),
        corrupt(Deflate, TRUNCATED)
    );
    assert_eq!(inflate(Deflate, b"", MIB), corrupt(Deflate, TRUNCATED));
}

#[test]
fn zlib_header_detection() {
    // Every zlib header zlib itself writes (levels 0-9 give FLEVEL 0-3).
    for level in 0..=9 {
        let mut e = ZlibEncoder::new(Vec::new(), Compression::new(level));
        e.write_all(b"x").unwrap();
        assert!(body::is_zlib_header(&e.finish().unwrap()), "level {level}");
    }
    // Raw deflate streams of many shapes do not look like one.
    for len in [0, 1, 10, 1000, 100_000] {
        for level in 0..=9 {
            let mut e = DeflateEncoder::new(Vec::new(), Compression::new(level));
            e.write_all(&sample(len)).unwrap();
            let raw = e.finish().unwrap();
            assert!(!body::is_zlib_header(&raw), "{len} bytes at level {level}");
        }
    }
}

#[test]
fn corrupt_zstd() {
    let data = sample(10_000);
    let good = zstd(&data);
    let n = good.len();
    assert_eq!(
        inflate(Zstd, b"not zstd at all", MIB),
        corrupt(Zstd, "Unknown frame descriptor")
    );
    assert_eq!(inflate(Zstd, b"", MIB), corrupt(Zstd, TRUNCATED));
    for cut in [1, 4, 6, n / 2, n - 1] {
        assert_eq!(
            inflate(Zstd, &good[..cut], MIB),
            corrupt(Zstd, TRUNCATED),
            "cut at {cut}"
        );
    }
    // With a content checksum, a flipped checksum byte is caught.
    let mut c = ::zstd::bulk::Compressor::new(3).unwrap();
    c.include_checksum(true).unwrap();
    let mut summed = c.compress(&data).unwrap();
    let n = summed.len();
    summed[n - 1] ^= 1;
    assert_eq!(
        inflate(Zstd, &summed, MIB),
        corrupt(Zstd, "Restored data doesn't match checksum")
    );
    let mut trailing = good.clone();
    trailing.extend_from_slice(b"garbage!");
    assert_eq!(
        inflate(Zstd, &trailing, MIB),
        corrupt(Zstd, "Unknown frame descriptor")
    );
}

/// A streamed zstd frame (no content size) with a `2^window_log` window.
fn zstd_with_window(data: &[u8], window_log: u32) -> Vec<u8> {
    let mut e = ::zstd::stream::Encoder::new(Vec::new(), 3).unwrap();
    e.window_log(window_log).unwrap();
    e.include_contentsize(false).unwrap();
    e.write_all(data).unwrap();
    e.flush().unwrap();
    e.finish().unwrap()
}

#[test]
fn zstd_windows_are_bounded() {
    let data = sample(1000);
    // 8 MiB windows are always accepted, even under a small limit (RFC 8878).
    let w23 = zstd_with_window(&data, 23);
    assert_eq!(inflate(Zstd, &w23, 1000).unwrap(), data);
    // Above that, only as far as the limit reaches.
    let w26 = zstd_with_window(&data, 26);
    assert_eq!(
        inflate(Zstd, &w26, MIB),
        corrupt(Zstd, "Frame requires too much memory for decoding")
    );
    assert_eq!(inflate(Zstd, &w26, 64 * MIB).unwrap(), data);
    let w28 = zstd_with_window(&data, 28);
    assert_eq!(
        inflate(Zstd, &w28, 1 << 30),
        corrupt(Zstd, "Frame requires too much memory for decoding")
    );
}

#[test]
fn decompress_errors_name_the_problem() {
    assert_eq!(
        DecompressError::TooLarge { limit: 1024 }.to_string(),
        "the request body decompresses to more than the limit of 1024 bytes"
    );
    assert_eq!(
        DecompressError::Corrupt {
            encoding: Gzip,
            reason: "checksum mismatch"
        }
        .to_string(),
        "invalid gzip-compressed request body: checksum mismatch"
    );
}

// ---- ClickHouse compressed blocks ----

/// A block as the test decoder found it.
#[derive(Debug)]
struct Block {
    method: u8,
    data: Vec<u8>,
}

/// ClickHouse's reader, small: checks each checksum and size, decompresses.
fn read_blocks(mut input: &[u8]) -> Vec<Block> {
    let mut blocks = Vec::new();
    while !input.is_empty() {
        let (checksum, rest) = input.split_at(CHECKSUM_LEN);
        let method = rest[0];
        let compressed = u32::from_le_bytes(rest[1..5].try_into().unwrap()) as usize;
        let size = u32::from_le_bytes(rest[5..9].try_into().unwrap()) as usize;
        let (block, next) = rest.split_at(compressed);
        assert_eq!(checksum, block::checksum(block));
        let payload = &block[HEADER_LEN..];
        let data = match method {
            METHOD_NONE => payload.to_vec(),
            METHOD_LZ4 => lz4_flex::block::decompress(payload, size).unwrap(),
            METHOD_ZSTD => ::zstd::bulk::decompress(payload, size).unwrap(),
            m => panic!("unknown method {m:#x}"),
        };
        assert_eq!(data.len(), size);
        assert!(size <= MAX_BLOCK_SIZE);
        blocks.push(Block { method, data });
        input = next;
    }
    blocks
}

#[test]
fn none_block_bytes() {
    let mut out = Vec::new();
    compress_blocks(BlockCodec::None, b"abc", &mut out);
    let mut want = Vec::new();
    // CityHash128 v1.0.2 of the 12 bytes after it, as the clickhouse-cityhash package
    // (ClickHouse's Python drivers) computes it: `struct.pack("<QQ", h >> 64, h & MASK)`
    // of its `CityHash128(b"\x02\x0c\0\0\0\x03\0\0\0abc")`.
    want.extend_from_slice(b"\xc3\xc1\x56\xa6\x6b\x08\x83\xdc\x19\x61\xb8\x4f\x7d\x1a\x8a\x0d");
    want.push(METHOD_NONE);
    want.extend_from_slice(&[12, 0, 0, 0]); // 9 header bytes + 3 payload bytes
    want.extend_from_slice(&[3, 0, 0, 0]);
    want.extend_from_slice(b"abc");
    assert_eq!(out, want);
}

#[test]
fn none_block_matches_a_block_clickhouse_wrote() {
    // `x.bin` of a MergeTree wide part holding the UInt64 column `x CODEC(NONE)` with
    // rows 1, 2, 3, written by ClickHouse 26.9 (chDB) itself.
    let clickhouse = [
        0x39, 0x32, 0x97, 0xf2, 0x20, 0xa1, 0x0f, 0x9e, 0xd5, 0x82, 0x4c, 0x8a, 0x1c, 0x64, 0xa7,
        0x74, // checksum
        0x02, 0x21, 0x00, 0x00, 0x00, 0x18, 0x00, 0x00, 0x00, // none, 33 bytes, 24 bytes
        1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0,
    ];
    let mut out = Vec::new();
    compress_blocks(BlockCodec::None, &clickhouse[25..], &mut out);
    assert_eq!(out, clickhouse);
}

#[test]
fn lz4_block_bytes_match_clickhouse() {
    // An LZ4 block from ClickHouse, as the clickhouse-rs client's tests pin it (a
    // RowBinary row of a few columns).
    let source = [
        1u8, 0, 2, 255, 255, 255, 255, 0, 1, 1, 1, 115, 6, 83, 116, 114, 105, 110, 103, 3, 97, 98,
        99,
    ];
    let block = [
        245u8, 5, 222, 235, 225, 158, 59, 108, 225, 31, 65, 215, 66, 66, 36, 92, // checksum
        130, 34, 0, 0, 0, 23, 0, 0, 0, // LZ4, 34 bytes compressed, 23 uncompressed
        240, 8, 1, 0, 2, 255, 255, 255, 255, 0, 1, 1, 1, 115, 6, 83, 116, 114, 105, 110, 103, 3,
        97, 98, 99,
    ];
    let mut out = Vec::new();
    compress_blocks(BlockCodec::Lz4, &source, &mut out);
    assert_eq!(out, block);
}

#[test]
fn block_round_trips() {
    let data = sample(2 * MIB + 1000);
    for codec in [
        BlockCodec::None,
        BlockCodec::Lz4,
        BlockCodec::Zstd {
            level: DEFAULT_ZSTD_LEVEL,
        },
        BlockCodec::Zstd { level: -1000 }, // clamped to zstd's fastest
    ] {
        let mut out = Vec::new();
        compress_blocks(codec, &data, &mut out);
        let blocks = read_blocks(&out);
        assert_eq!(blocks.len(), 3, "{codec:?}");
        assert!(blocks.iter().all(|b| b.method == codec.method()));
        assert!(blocks[..2].iter().all(|b| b.data.len() == MAX_BLOCK_SIZE));
        assert_eq!(blocks[2].data.len(), 1000);
        let joined: Vec<u8> = blocks.into_iter().flat_map(|b| b.data).collect();
        assert!(joined == data, "{codec:?}");
        if matches!(codec, BlockCodec::Lz4 | BlockCodec::Zstd { level: 1 }) {
            assert!(out.len() < data.len() / 3, "{codec:?}: {}", out.len());
        }
    }
    // Past zstd's strongest level is its strongest level.
    let mut strongest = Vec::new();
    compress_blocks(
        BlockCodec::Zstd { level: 1000 },
        &data[..10_000],
        &mut strongest,
    );
    assert_eq!(read_blocks(&strongest)[0].data, data[..10_000]);
}

#[test]
fn empty_input_writes_no_block() {
    let mut out = b"x".to_vec();
    compress_blocks(BlockCodec::Lz4, b"", &mut out);
    assert_eq!(out, b"x");
}

#[test]
fn encoder_is_reusable() {
    let (a, b) = (sample(200_000), sample(50_000));
    for codec in [BlockCodec::Lz4, BlockCodec::Zstd { level: 3 }] {
        let mut enc = BlockEncoder::new(codec);
        let mut reused = Vec::new();
        enc.encode(&a, &mut reused);
        enc.encode(&b, &mut reused);
        let mut fresh = Vec::new();
        compress_blocks(codec, &a, &mut fresh);
        compress_blocks(codec, &b, &mut fresh);
        assert_eq!(reused, fresh, "{codec:?}");
        assert_eq!(read_blocks(&reused).len(), 2);
    }
}

#[test]
fn blocks_decompress_back_for_every_codec_and_damage_is_caught() {
    let data = sample(3 * MAX_BLOCK_SIZE + 777);
    for codec in [
        BlockCodec::None,
        BlockCodec::Lz4,
        BlockCodec::Zstd { level: 1 },
    ] {
        let mut blocks = Vec::new();
        compress_blocks(codec, &data, &mut blocks);
        let mut back = b"kept".to_vec();
        decompress_blocks(&blocks, &mut back).unwrap();
        assert_eq!(&back[..4], b"kept", "{codec:?}: appends");
        assert!(back[4..] == data[..], "{codec:?}");
        let mut out = Vec::new();
        assert_eq!(
            decompress_blocks(&blocks[..blocks.len() - 1], &mut out),
            Err(BlockError::Truncated {
                offset: blocks.len() - last_block_len(&blocks)
            }),
            "{codec:?}"
        );
        let mut damaged = blocks.clone();
        damaged[CHECKSUM_LEN + HEADER_LEN + 3] ^= 1;
        assert_eq!(
            decompress_blocks(&damaged, &mut out),
            Err(BlockError::Checksum { offset: 0 }),
            "{codec:?}"
        );
    }
}

/// The length of the last block in a run of blocks.
fn last_block_len(blocks: &[u8]) -> usize {
    let mut pos = 0;
    let mut last = 0;
    while pos < blocks.len() {
        let h = &blocks[pos + CHECKSUM_LEN..];
        let compressed = u32::from_le_bytes([h[1], h[2], h[3], h[4]]) as usize;
        last = CHECKSUM_LEN + compressed;
        pos += last;
    }
    last
}
