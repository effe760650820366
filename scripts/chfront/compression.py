"""Body compression as ClickHouse's HTTP interface understands it.

Two independent layers, applied in this order to a request body:

1. HTTP `Content-Encoding`: gzip, deflate (zlib format, as ClickHouse's "deflate"), br, zstd,
   lz4 (the LZ4 *frame* format), xz, bz2. Responses use the same encodings when the client
   sends `Accept-Encoding` and `enable_http_compression=1`.
2. ClickHouse's native compressed blocks, when the URL has `decompress=1` (request) or
   `compress=1` (response). The stream is a sequence of blocks, each:

       16 bytes   CityHash128 (CityHash v1.0.2, as ClickHouse uses it) of the rest of the block,
                  stored as two little-endian u64, high half first
        1 byte    method: 0x82 LZ4 block, 0x90 ZSTD, 0x02 none
        4 bytes   u32 LE compressed size, counting these 9 header bytes
        4 bytes   u32 LE uncompressed size
        ...       payload

   A wrong checksum is ClickHouse's error 40 CHECKSUM_DOESNT_MATCH. The hash comes from
   the `clickhouse-cityhash` package; the layout was checked against blocks that the engine
   itself writes into MergeTree `.bin` files.

Decoders are incremental (`feed(chunk) -> bytes`, `finish() -> bytes`) so bodies of hundreds
of megabytes stream through without being held in memory whole.
"""

import bz2
import lzma
import struct
import zlib
from typing import Callable, Iterable, Iterator, List

import brotli
import lz4.block
import lz4.frame
import zstandard
from clickhouse_cityhash.cityhash import CityHash128

from errors import (BAD_ARGUMENTS, CANNOT_DECOMPRESS, CANNOT_READ_ALL_DATA, CHECKSUM_DOESNT_MATCH,
                    TOO_LARGE_SIZE_COMPRESSED, UNKNOWN_COMPRESSION_METHOD, ClickHouseError)

METHOD_NONE = 0x02
METHOD_LZ4 = 0x82
METHOD_ZSTD = 0x90
CHECKSUM_SIZE = 16
HEADER_SIZE = 9  # method byte + compressed size + uncompressed size
MAX_COMPRESSED_SIZE = 0x40000000  # ClickHouse's DBMS_MAX_COMPRESSED_SIZE, 1 GiB
RESPONSE_BLOCK_SIZE = 1 << 20  # ClickHouse's DBMS_DEFAULT_BUFFER_SIZE: one block per MiB of output
_U64 = (1 << 64) - 1


def block_checksum(block: bytes) -> bytes:
    """The 16 checksum bytes ClickHouse puts before `block` (header + payload)."""
    value = CityHash128(bytes(block))
    return struct.pack("<QQ", value >> 64, value & _U64)


def encode_block(data: bytes, method: int = METHOD_LZ4) -> bytes:
    """One ClickHouse compressed block holding `data`."""
    if method == METHOD_LZ4:
        payload = lz4.block.compress(data, store_size=False)
    elif method == METHOD_ZSTD:
        payload = zstandard.ZstdCompressor(level=1).compress(data)
    elif method == METHOD_NONE:
        payload = bytes(data)
    else:
        raise ValueError(f"unknown method 0x{method:02x}")
    header = struct.pack("<BII", method, HEADER_SIZE + len(payload), len(data))
    return block_checksum(header + payload) + header + payload


def encode_blocks(data: bytes, method: int = METHOD_LZ4, block_size: int = RESPONSE_BLOCK_SIZE) -> bytes:
    """`data` as a sequence of compressed blocks (empty data gives no block, as in ClickHouse)."""
    return b"".join(encode_block(data[i:i + block_size], method) for i in range(0, len(data), block_size))


class NativeBlockDecoder:
    """Incremental decoder of ClickHouse compressed blocks (`decompress=1`)."""

    def __init__(self, verify_checksums: bool = True) -> None:
        self._buf = bytearray()
        self._zstd = zstandard.ZstdDecompressor()
        self._verify = verify_checksums

    def feed(self, chunk: bytes) -> bytes:
        self._buf += chunk
        out: List[bytes] = []
        while len(self._buf) >= CHECKSUM_SIZE + HEADER_SIZE:
            method, size_compressed, size_decompressed = struct.unpack_from("<BII", self._buf, CHECKSUM_SIZE)
            if size_compressed > MAX_COMPRESSED_SIZE or size_compressed < HEADER_SIZE:
                raise ClickHouseError(
                    TOO_LARGE_SIZE_COMPRESSED,
                    f"Too large size_compressed_without_checksum: {size_compressed}. Most likely corrupted data")
            end = CHECKSUM_SIZE + size_compressed
            if len(self._buf) < end:
                break
            block = bytes(self._buf[CHECKSUM_SIZE:end])
            expected = bytes(self._buf[:CHECKSUM_SIZE])
            del self._buf[:end]
            actual = block_checksum(block) if self._verify else expected
            if actual != expected:
                raise ClickHouseError(
                    CHECKSUM_DOESNT_MATCH,
                    f"Checksum doesn't match: corrupted data. Reference: 0x{expected.hex()}. "
                    f"Actual: 0x{actual.hex()}. Size of compressed block: {size_compressed}")
            out.append(self._decompress(method, block[HEADER_SIZE:], size_decompressed))
        return b"".join(out)

    def finish(self) -> bytes:
        if self._buf:
            expected = CHECKSUM_SIZE + HEADER_SIZE
            if len(self._buf) >= expected:
                expected = CHECKSUM_SIZE + struct.unpack_from("<I", self._buf, CHECKSUM_SIZE + 1)[0]
            raise ClickHouseError(
                CANNOT_READ_ALL_DATA,
                f"Cannot read all data. Bytes read: {len(self._buf)}. Bytes expected: {expected}")
        return b""

    def _decompress(self, method: int, payload: bytes, size: int) -> bytes:
        try:
            if method == METHOD_LZ4:
                data = lz4.block.decompress(payload, uncompressed_size=size)
            elif method == METHOD_ZSTD:
                data = self._zstd.decompress(payload, max_output_size=size)
            elif method == METHOD_NONE:
                data = payload
            else:
                raise ClickHouseError(UNKNOWN_COMPRESSION_METHOD, f"Unknown compression method: 0x{method:02x}")
        except ClickHouseError:
            raise
        except Exception as exc:
            raise ClickHouseError(CANNOT_DECOMPRESS, f"Cannot decompress block (method 0x{method:02x}): {exc}")
        if len(data) != size:
            raise ClickHouseError(
                CANNOT_DECOMPRESS,
                f"Cannot decompress block (method 0x{method:02x}): got {len(data)} bytes, expected {size}")
        return data


class _FrameDecoder:
    """Wraps a decompressobj-like factory; follows concatenated frames/members."""

    def __init__(self, name: str, factory: Callable[[], object]):
        self._name = name
        self._factory = factory
        self._obj = factory()
        self._fed = False  # bytes were fed to the current object

    def feed(self, chunk: bytes) -> bytes:
        out = []
        data = chunk
        try:
            while data:
                self._fed = True
                out.append(self._obj.decompress(data))
                if not self._obj.eof:
                    break
                data = self._obj.unused_data
                self._obj, self._fed = self._factory(), False
        except ClickHouseError:
            raise
        except Exception as exc:
            raise ClickHouseError(CANNOT_DECOMPRESS, f"Cannot decode the {self._name} request body: {exc}")
        return b"".join(out)

    def finish(self) -> bytes:
        if self._fed and not self._obj.eof:
            raise ClickHouseError(CANNOT_DECOMPRESS, f"Cannot decode the {self._name} request body: it is truncated")
        return b""


class _BrotliDecoder:
    def __init__(self) -> None:
        self._obj = brotli.Decompressor()
        self._fed = False

    def feed(self, chunk: bytes) -> bytes:
        if not chunk:
            return b""
        self._fed = True
        try:
            return self._obj.process(chunk)
        except Exception as exc:
            raise ClickHouseError(CANNOT_DECOMPRESS, f"Cannot decode the br request body: {exc}")

    def finish(self) -> bytes:
        if self._fed and not self._obj.is_finished():
            raise ClickHouseError(CANNOT_DECOMPRESS, "Cannot decode the br request body: it is truncated")
        return b""


class _Identity:
    def feed(self, chunk: bytes) -> bytes:
        return chunk

    def finish(self) -> bytes:
        return b""


_ZSTD = zstandard.ZstdDecompressor()

_CONTENT_DECODERS = {
    "gzip": lambda: _FrameDecoder("gzip", lambda: zlib.decompressobj(16 + zlib.MAX_WBITS)),
    "x-gzip": lambda: _FrameDecoder("gzip", lambda: zlib.decompressobj(16 + zlib.MAX_WBITS)),
    "deflate": lambda: _FrameDecoder("deflate", lambda: zlib.decompressobj(zlib.MAX_WBITS)),
    "zstd": lambda: _FrameDecoder("zstd", _ZSTD.decompressobj),
    "lz4": lambda: _FrameDecoder("lz4", lz4.frame.LZ4FrameDecompressor),
    "xz": lambda: _FrameDecoder("xz", lzma.LZMADecompressor),
    "bz2": lambda: _FrameDecoder("bz2", bz2.BZ2Decompressor),
    "br": _BrotliDecoder,
    "": _Identity,
    "identity": _Identity,
    "none": _Identity,
}

SUPPORTED_ENCODINGS = "'gzip', 'deflate', 'br', 'xz', 'zstd', 'lz4', 'bz2'"


def content_decoder(encoding: str):
    """A decoder for an HTTP Content-Encoding value; unknown ones are ClickHouse's BAD_ARGUMENTS."""
    factory = _CONTENT_DECODERS.get(encoding.strip().lower())
    if factory is None:
        raise ClickHouseError(
            BAD_ARGUMENTS,
            f"Unknown compression method '{encoding}'. Only {SUPPORTED_ENCODINGS} are supported "
            f"by this local server as HTTP Content-Encoding")
    return factory()


def decode_stream(chunks: Iterable[bytes], decoder) -> Iterator[bytes]:
    """Run every chunk through `decoder`, yielding non-empty output."""
    for chunk in chunks:
        out = decoder.feed(chunk)
        if out:
            yield out
    out = decoder.finish()
    if out:
        yield out


# Response Content-Encoding, in ClickHouse's order of preference when the client accepts several.
_RESPONSE_ENCODERS = {
    "zstd": lambda data: zstandard.ZstdCompressor(level=3).compress(data),
    "br": lambda data: brotli.compress(data, quality=4),
    "lz4": lambda data: lz4.frame.compress(data),
    "xz": lambda data: lzma.compress(data),
    "gzip": lambda data: _gzip(data),
    "deflate": lambda data: zlib.compress(data, 3),
    "bz2": lambda data: bz2.compress(data),
}


def _gzip(data: bytes) -> bytes:
    obj = zlib.compressobj(3, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    return obj.compress(data) + obj.flush()


def choose_response_encoding(accept_encoding: str):
    """The encoding to answer with for an Accept-Encoding header, or None."""
    offered = {part.split(";")[0].strip().lower() for part in accept_encoding.split(",")}
    for name in _RESPONSE_ENCODERS:
        if name in offered:
            return name
    return None


def encode_response(data: bytes, encoding: str) -> bytes:
    return _RESPONSE_ENCODERS[encoding](data)
