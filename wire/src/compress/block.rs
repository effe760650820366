//! ClickHouse's native compressed blocks (the diagram is in the module doc above).

use lz4_flex::block::{CompressTable, compress_into_with_table, get_maximum_output_size};
use zstd::zstd_safe::{self, CCtx, CParameter};

/// Bytes of the CityHash128 checksum before each block.
pub const CHECKSUM_LEN: usize = 16;
/// Bytes of the block header: method, compressed size, uncompressed size.
pub const HEADER_LEN: usize = 9;

/// Method byte: the payload is the data as it is (ClickHouse's `CompressionMethodByte::NONE`).
pub const METHOD_NONE: u8 = 0x02;
/// Method byte: the payload is one LZ4 block (`CompressionMethodByte::LZ4`).
pub const METHOD_LZ4: u8 = 0x82;
/// Method byte: the payload is one zstd frame (`CompressionMethodByte::ZSTD`).
pub const METHOD_ZSTD: u8 = 0x90;

/// Most uncompressed bytes in one block: ClickHouse's `max_compress_block_size`
/// setting, default 1048576
/// (<https://clickhouse.com/docs/operations/settings/settings#max_compress_block_size>).
/// ClickHouse reads larger blocks too (up to 1 GiB compressed), but this is what its
/// own writers produce and what its readers size their buffers for.
pub const MAX_BLOCK_SIZE: usize = 1 << 20;

/// zstd level ClickHouse itself uses by default for `ZSTD` (`CompressionCodecZSTD`).
pub const DEFAULT_ZSTD_LEVEL: i32 = 1;

const _: () = assert!(MAX_BLOCK_SIZE + HEADER_LEN <= u32::MAX as usize);

/// How each block's payload is compressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockCodec {
    /// Stored as it is (method 0x02).
    None,
    /// LZ4 block (method 0x82), what ClickHouse and its clients use by default.
    Lz4,
    /// zstd at `level` (method 0x90); levels outside zstd's range are clamped.
    Zstd { level: i32 },
}

impl BlockCodec {
    /// The block's method byte.
    pub const fn method(self) -> u8 {
        match self {
            BlockCodec::None => METHOD_NONE,
            BlockCodec::Lz4 => METHOD_LZ4,
            BlockCodec::Zstd { .. } => METHOD_ZSTD,
        }
    }
}

/// Writes compressed blocks, keeping its compression state between calls (the LZ4
/// hash table, the zstd context), so a sink that compresses chunk after chunk
/// allocates them once.
pub struct BlockEncoder {
    codec: BlockCodec,
    lz4: Option<CompressTable>,
    zstd: Option<CCtx<'static>>,
}

impl std::fmt::Debug for BlockEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlockEncoder")
            .field("codec", &self.codec)
            .finish_non_exhaustive()
    }
}

impl BlockEncoder {
    pub fn new(codec: BlockCodec) -> BlockEncoder {
        let (lz4, zstd) = match codec {
            BlockCodec::None => (None, None),
            BlockCodec::Lz4 => (Some(CompressTable::large()), None),
            BlockCodec::Zstd { level } => {
                let level = level.clamp(zstd_safe::min_c_level(), zstd_safe::max_c_level());
                let mut cctx = CCtx::create();
                // A level inside zstd's range is always accepted.
                let set = cctx.set_parameter(CParameter::CompressionLevel(level));
                debug_assert!(set.is_ok(), "zstd refused level {level}");
                (None, Some(cctx))
            }
        };
        BlockEncoder { codec, lz4, zstd }
    }

    pub fn codec(&self) -> BlockCodec {
        self.codec
    }

    /// Appends `input` to `out` as blocks of at most [`MAX_BLOCK_SIZE`] bytes each.
    /// Empty input writes no block, as ClickHouse does.
    pub fn encode(&mut self, input: &[u8], out: &mut Vec<u8>) {
        for chunk in input.chunks(MAX_BLOCK_SIZE) {
            self.block(chunk, out);
        }
    }

    fn block(&mut self, chunk: &[u8], out: &mut Vec<u8>) {
        let start = out.len();
        let payload = start + CHECKSUM_LEN + HEADER_LEN;
        let written = match (&mut self.lz4, &mut self.zstd) {
            (Some(table), _) => {
                out.resize(payload + get_maximum_output_size(chunk.len()), 0);
                compress_into_with_table(chunk, &mut out[payload..], table)
                    .expect("the output has lz4_flex's maximum output size")
            }
            (_, Some(cctx)) => {
                out.resize(payload + zstd_safe::compress_bound(chunk.len()), 0);
                cctx.compress2(&mut out[payload..], chunk)
                    .expect("the output has zstd's compress bound")
            }
            (None, None) => {
                out.resize(payload, 0);
                out.extend_from_slice(chunk);
                chunk.len()
            }
        };
        out.truncate(payload + written);
        // Both sizes fit in u32: a chunk is at most MAX_BLOCK_SIZE (checked above), and
        // its compressed form at most the compress bound of that.
        let compressed_size = (HEADER_LEN + written) as u32;
        let header = &mut out[start + CHECKSUM_LEN..payload];
        header[0] = self.codec.method();
        header[1..5].copy_from_slice(&compressed_size.to_le_bytes());
        header[5..9].copy_from_slice(&(chunk.len() as u32).to_le_bytes());
        let checksum = checksum(&out[start + CHECKSUM_LEN..]);
        out[start..start + CHECKSUM_LEN].copy_from_slice(&checksum);
    }
}

/// The 16 checksum bytes of a block (`block` = header + payload).
///
/// CityHash128 yields a pair of u64, `(first, second)` (C++'s `Uint128Low64`,
/// `Uint128High64`); ClickHouse writes `first` then `second`, each little-endian.
/// `cityhash-rs` packs the pair into a u128 as `first << 64 | second`, so its halves
/// are swapped here. Pinned by a block ClickHouse wrote (see the tests).
pub(super) fn checksum(block: &[u8]) -> [u8; CHECKSUM_LEN] {
    let hash = cityhash_rs::cityhash_102_128(block);
    let (first, second) = ((hash >> 64) as u64, hash as u64);
    let mut out = [0; CHECKSUM_LEN];
    out[..8].copy_from_slice(&first.to_le_bytes());
    out[8..].copy_from_slice(&second.to_le_bytes());
    out
}

/// Appends `input` to `out` as ClickHouse compressed blocks, for an INSERT sent with
/// `decompress=1`. A one-off [`BlockEncoder`]; keep one to compress many chunks.
pub fn compress_blocks(codec: BlockCodec, input: &[u8], out: &mut Vec<u8>) {
    BlockEncoder::new(codec).encode(input, out);
}

/// Largest uncompressed size a block may claim when reading (ClickHouse's own limit
/// for a compressed block is 1 GiB).
pub const MAX_READ_BLOCK: usize = 1 << 30;

/// Why bytes are not ClickHouse compressed blocks; `offset` is where the block
/// starts in the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockError {
    /// The input ends inside a block.
    Truncated { offset: usize },
    /// The block's CityHash128 does not match.
    Checksum { offset: usize },
    /// A method byte this reader does not know.
    Method { offset: usize, method: u8 },
    /// The payload does not decompress to the size the header says.
    Corrupt { offset: usize },
}

impl std::fmt::Display for BlockError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BlockError::Truncated { offset } => {
                write!(f, "a compressed block at byte {offset} is cut short")
            }
            BlockError::Checksum { offset } => write!(
                f,
                "the compressed block at byte {offset} fails its checksum"
            ),
            BlockError::Method { offset, method } => {
                write!(
                    f,
                    "the compressed block at byte {offset} has an unknown method 0x{method:02x}"
                )
            }
            BlockError::Corrupt { offset } => write!(
                f,
                "the compressed block at byte {offset} does not decompress"
            ),
        }
    }
}

impl std::error::Error for BlockError {}

/// Appends the data of ClickHouse compressed blocks (as [`compress_blocks`] writes
/// them, and as ClickHouse sends with `compress=1`) to `out`, checking each block's
/// checksum.
pub fn decompress_blocks(input: &[u8], out: &mut Vec<u8>) -> Result<(), BlockError> {
    let mut pos = 0;
    while pos < input.len() {
        let offset = pos;
        let head = input
            .get(pos + CHECKSUM_LEN..pos + CHECKSUM_LEN + HEADER_LEN)
            .ok_or(BlockError::Truncated { offset })?;
        let method = head[0];
        let compressed = u32::from_le_bytes([head[1], head[2], head[3], head[4]]) as usize;
        let size = u32::from_le_bytes([head[5], head[6], head[7], head[8]]) as usize;
        if compressed < HEADER_LEN || size > MAX_READ_BLOCK {
            return Err(BlockError::Corrupt { offset });
        }
        let block = input
            .get(pos + CHECKSUM_LEN..pos + CHECKSUM_LEN + compressed)
            .ok_or(BlockError::Truncated { offset })?;
        if checksum(block) != input[pos..pos + CHECKSUM_LEN] {
            return Err(BlockError::Checksum { offset });
        }
        let payload = &block[HEADER_LEN..];
        let start = out.len();
        match method {
            METHOD_NONE => {
                if payload.len() != size {
                    return Err(BlockError::Corrupt { offset });
                }
                out.extend_from_slice(payload);
            }
            METHOD_LZ4 => {
                out.resize(start + size, 0);
                match lz4_flex::block::decompress_into(payload, &mut out[start..]) {
                    Ok(n) if n == size => {}
                    _ => return Err(BlockError::Corrupt { offset }),
                }
            }
            METHOD_ZSTD => {
                out.resize(start + size, 0);
                match zstd_safe::decompress(&mut out[start..], payload) {
                    Ok(n) if n == size => {}
                    _ => return Err(BlockError::Corrupt { offset }),
                }
            }
            _ => return Err(BlockError::Method { offset, method }),
        }
        pos += CHECKSUM_LEN + compressed;
    }
    Ok(())
}
