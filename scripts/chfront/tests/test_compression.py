"""Compressed request and response bodies: HTTP Content-Encoding, ClickHouse's native
compressed blocks (decompress=1 / compress=1) and their CityHash128 checksums."""

import bz2
import glob
import gzip
import lzma
import os
import struct
import zlib

import brotli
import lz4.block
import lz4.frame
import pytest
import zstandard

from compression import (METHOD_LZ4, METHOD_NONE, METHOD_ZSTD, NativeBlockDecoder, block_checksum,
                         encode_block, encode_blocks)
from conftest import Client

ROWS = 5000
TSV = b"".join(b"%d\tvalue %d\n" % (i, i) for i in range(ROWS))

ENCODERS = {
    "gzip": gzip.compress,
    "deflate": zlib.compress,
    "br": brotli.compress,
    "zstd": lambda data: zstandard.ZstdCompressor().compress(data),
    "lz4": lz4.frame.compress,
    "xz": lzma.compress,
    "bz2": bz2.compress,
}


@pytest.fixture
def xs(ch: Client, table: str) -> str:
    ch.query(f"CREATE TABLE {table} (x UInt32, s String) ENGINE = MergeTree ORDER BY x")
    return table


def count(ch: Client, table: str) -> int:
    return int(ch.text(f"SELECT count() FROM {table}"))


@pytest.mark.parametrize("encoding", sorted(ENCODERS))
def test_content_encoding(ch: Client, xs: str, encoding: str):
    body = ENCODERS[encoding](TSV)
    resp = ch.request("POST", body, params={"query": f"INSERT INTO {xs} FORMAT TSV"},
                      headers={"Content-Encoding": encoding})
    assert resp.status == 200, resp.text
    assert count(ch, xs) == ROWS
    assert ch.text(f"SELECT sum(x) FROM {xs}") == f"{ROWS * (ROWS - 1) // 2}\n"


def test_content_encoding_of_the_query_itself_and_concatenated_frames(ch: Client):
    body = gzip.compress(b"SELECT 40 ") + gzip.compress(b"+ 2")
    assert ch.request("POST", body, headers={"Content-Encoding": "gzip"}).body == b"42\n"


def test_unknown_or_broken_content_encoding(ch: Client):
    resp = ch.request("POST", b"SELECT 1", headers={"Content-Encoding": "snappy-ish"})
    assert resp.status == 400 and resp.header("X-ClickHouse-Exception-Code") == "36"
    resp = ch.request("POST", gzip.compress(b"SELECT 1")[:-6], headers={"Content-Encoding": "gzip"})
    assert resp.status == 500 and resp.header("X-ClickHouse-Exception-Code") == "271"


@pytest.mark.parametrize("method", [METHOD_LZ4, METHOD_ZSTD, METHOD_NONE], ids=["lz4", "zstd", "none"])
def test_decompress_native_blocks(ch: Client, xs: str, method: int):
    body = encode_blocks(TSV, method, block_size=16 << 10)  # several blocks
    resp = ch.request("POST", body, params={"query": f"INSERT INTO {xs} FORMAT TSV", "decompress": "1"})
    assert resp.status == 200, resp.text
    assert count(ch, xs) == ROWS


def test_decompress_rowbinary_like_the_clickhouse_crate(ch: Client, xs: str):
    # The crate: INSERT INTO t(cols) FORMAT RowBinary in the URL, decompress=1, LZ4 blocks, auth headers.
    data = b"".join(struct.pack("<I", i) + b"\x01" + bytes([65 + i % 26]) for i in range(1000))
    body = b"".join(encode_block(data[i:i + 1000]) for i in range(0, len(data), 1000))
    resp = ch.request("POST", body, params={"query": f"INSERT INTO {xs}(x,s) FORMAT RowBinary", "decompress": "1",
                                            "async_insert": "0"},
                      headers={"X-ClickHouse-User": "default", "X-ClickHouse-Key": ""})
    assert resp.status == 200, resp.text
    assert count(ch, xs) == 1000


def test_chunked_body_of_compressed_blocks(ch: Client, xs: str):
    # hyper (under the clickhouse crate) streams inserts with Transfer-Encoding: chunked; chunk
    # boundaries fall anywhere inside the compressed blocks.
    body = encode_blocks(TSV, METHOD_LZ4, block_size=10_000)
    conn = ch.connection()
    try:
        conn.putrequest("POST", f"/?query=INSERT+INTO+{xs}+FORMAT+TSV&decompress=1")
        conn.putheader("Transfer-Encoding", "chunked")
        conn.endheaders()
        for i in range(0, len(body), 777):
            piece = body[i:i + 777]
            conn.send(b"%x\r\n%s\r\n" % (len(piece), piece))
        conn.send(b"0\r\n\r\n")
        resp = conn.getresponse()
        assert resp.status == 200, resp.read()
        resp.read()
    finally:
        conn.close()
    assert count(ch, xs) == ROWS


def test_decompress_together_with_content_encoding(ch: Client, xs: str):
    body = gzip.compress(encode_blocks(TSV, METHOD_ZSTD))
    resp = ch.request("POST", body, params={"query": f"INSERT INTO {xs} FORMAT TSV", "decompress": "1"},
                      headers={"Content-Encoding": "gzip"})
    assert resp.status == 200, resp.text
    assert count(ch, xs) == ROWS


def test_corrupted_block_checksum(ch: Client, xs: str):
    body = bytearray(encode_blocks(TSV, METHOD_LZ4))
    body[3] ^= 0x01  # inside the checksum of the first block
    conn = ch.connection()
    try:
        resp = ch.request("POST", bytes(body), params={"query": f"INSERT INTO {xs} FORMAT TSV", "decompress": "1"},
                          conn=conn)
        after = ch.request("POST", b"SELECT 1", conn=conn)  # the body was drained: the connection still works
    finally:
        conn.close()
    assert resp.status == 500
    assert resp.header("X-ClickHouse-Exception-Code") == "40"
    assert resp.text.startswith("Code: 40. DB::Exception: Checksum doesn't match")
    assert after.body == b"1\n"
    assert count(ch, xs) == 0

    body = bytearray(encode_blocks(TSV, METHOD_LZ4))
    body[40] ^= 0xFF  # inside the payload
    resp = ch.request("POST", bytes(body), params={"query": f"INSERT INTO {xs} FORMAT TSV", "decompress": "1"})
    assert resp.header("X-ClickHouse-Exception-Code") == "40"


def test_checksumming_can_be_disabled_like_in_clickhouse(ch: Client, xs: str):
    body = bytearray(encode_blocks(TSV, METHOD_LZ4))
    body[3] ^= 0x01
    resp = ch.request("POST", bytes(body), params={
        "query": f"INSERT INTO {xs} FORMAT TSV", "decompress": "1",
        "http_native_compression_disable_checksumming_on_decompress": "1"})
    assert resp.status == 200, resp.text
    assert count(ch, xs) == ROWS


def test_truncated_and_unknown_blocks(ch: Client, xs: str):
    body = encode_blocks(TSV, METHOD_LZ4)
    resp = ch.request("POST", body[:-10], params={"query": f"INSERT INTO {xs} FORMAT TSV", "decompress": "1"})
    assert resp.header("X-ClickHouse-Exception-Code") == "33"
    header = struct.pack("<BII", 0x91, 9 + 3, 3)
    block = block_checksum(header + b"abc") + header + b"abc"
    resp = ch.request("POST", block, params={"query": f"INSERT INTO {xs} FORMAT TSV", "decompress": "1"})
    assert resp.header("X-ClickHouse-Exception-Code") == "89"


def test_blocks_written_by_the_engine_itself(ch: Client, table: str, tmp_path):
    """A MergeTree column file (.bin) is a sequence of the same compressed blocks, written by
    ClickHouse's own code: sending one back with decompress=1 checks our checksum against it."""
    ch.query(f"CREATE TABLE {table} (a UInt64, b UInt64 CODEC(ZSTD(1)), c UInt64 CODEC(NONE)) "
             "ENGINE = MergeTree ORDER BY a SETTINGS min_bytes_for_wide_part = 0, min_rows_for_wide_part = 0")
    ch.query(f"INSERT INTO {table} SELECT number, number * 3, number * 7 FROM numbers(1000)")
    part = ch.text(f"SELECT path FROM system.parts WHERE table = '{table}' AND active").strip()
    files = {os.path.basename(f): open(f, "rb").read() for f in glob.glob(os.path.join(part, "*.bin"))}
    methods = {name: raw[16] for name, raw in files.items()}
    assert methods == {"a.bin": METHOD_LZ4, "b.bin": METHOD_ZSTD, "c.bin": METHOD_NONE}
    target = table + "_copy"
    ch.query(f"CREATE TABLE {target} (v UInt64) ENGINE = MergeTree ORDER BY v")
    try:
        for name, factor in (("a.bin", 1), ("b.bin", 3), ("c.bin", 7)):
            decoded = NativeBlockDecoder().feed(files[name])
            assert decoded == b"".join(struct.pack("<Q", i * factor) for i in range(1000))
            ch.query(f"INSERT INTO {target} FORMAT RowBinary", files[name], decompress="1")
        assert ch.text(f"SELECT count(), sum(v) FROM {target}") == f"3000\t{11 * 999 * 1000 // 2}\n"
    finally:
        ch.query(f"DROP TABLE {target}")


def decode_all(body: bytes) -> bytes:
    decoder = NativeBlockDecoder()
    return decoder.feed(body) + decoder.finish()


def test_compress_response(ch: Client):
    plain = ch.query("SELECT number FROM numbers(300000)")
    compressed = ch.query("SELECT number FROM numbers(300000)", compress="1")
    assert len(plain) > 1 << 20  # several blocks
    assert compressed[16] == METHOD_LZ4
    assert decode_all(compressed) == plain
    # An error while compress=1 comes compressed too, as ClickHouse sends it.
    resp = ch.request("POST", b"SELECT * FROM no_such_table", params={"compress": "1"})
    assert resp.status == 404 and decode_all(resp.body).startswith(b"Code: 60.")


def test_select_like_the_clickhouse_crate(ch: Client):
    # Newer crates: query in the body, default_format=RowBinaryWithNamesAndTypes, compress=1 (LZ4).
    resp = ch.request("POST", b"SELECT toUInt8(number) AS n FROM numbers(3)",
                      params={"default_format": "RowBinaryWithNamesAndTypes", "compress": "1", "database": "default"},
                      headers={"X-ClickHouse-User": "default", "X-ClickHouse-Key": ""})
    assert resp.status == 200
    assert resp.header("X-ClickHouse-Format") == "RowBinaryWithNamesAndTypes"
    assert decode_all(resp.body) == b"\x01\x01n\x05UInt8\x00\x01\x02"
    empty = ch.request("POST", b"SELECT 1 WHERE 0 FORMAT RowBinary", params={"compress": "1"})
    assert (empty.status, empty.body) == (200, b"")


@pytest.mark.parametrize("encoding, decode", [
    ("gzip", gzip.decompress), ("deflate", zlib.decompress), ("br", brotli.decompress),
    ("zstd", lambda d: zstandard.ZstdDecompressor().decompress(d, max_output_size=1 << 26)),
    ("lz4", lz4.frame.decompress),
])
def test_http_response_compression(ch: Client, encoding: str, decode):
    plain = ch.query("SELECT number FROM numbers(1000)")
    resp = ch.request("POST", b"SELECT number FROM numbers(1000)", params={"enable_http_compression": "1"},
                      headers={"Accept-Encoding": encoding})
    assert resp.header("Content-Encoding") == encoding
    assert decode(resp.body) == plain
    # Without enable_http_compression the answer is plain, as in ClickHouse.
    resp = ch.request("POST", b"SELECT 1", headers={"Accept-Encoding": encoding})
    assert resp.header("Content-Encoding") is None and resp.body == b"1\n"


def test_block_checksum_layout():
    """Checksum = CityHash128 (v1.0.2) of method byte + sizes + payload, high u64 first."""
    payload = lz4.block.compress(b"hello hello hello hello", store_size=False)
    block = encode_block(b"hello hello hello hello")
    header = struct.pack("<BII", METHOD_LZ4, 9 + len(payload), 23)
    assert block == block_checksum(header + payload) + header + payload
    assert NativeBlockDecoder().feed(block) == b"hello hello hello hello"
