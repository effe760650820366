//! Request-body decompression with a hard output limit (see the module doc above).

use core::fmt;

use flate2::{Decompress, FlushDecompress, Status};
use zstd::zstd_safe::{self, DCtx, DParameter, InBuffer, OutBuffer};

/// A body's content coding, from `grpc-encoding` or `Content-Encoding`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Encoding {
    Identity,
    Gzip,
    Zstd,
    /// zlib-wrapped deflate (RFC 1950), or raw deflate (RFC 1951) from clients that
    /// get HTTP's `deflate` wrong.
    Deflate,
}

impl Encoding {
    /// Reads a `grpc-encoding` or `Content-Encoding` value: `identity`, `gzip`
    /// (also `x-gzip`, RFC 9110 §8.4.1.3), `zstd` or `deflate`, any case, surrounding
    /// blanks ignored. `None` for any other coding, or a list of several; the caller
    /// answers `UNIMPLEMENTED` / 415.
    pub fn from_header(v: &str) -> Option<Encoding> {
        let v = v.trim_matches([' ', '\t']);
        [
            ("identity", Encoding::Identity),
            ("gzip", Encoding::Gzip),
            ("x-gzip", Encoding::Gzip),
            ("zstd", Encoding::Zstd),
            ("deflate", Encoding::Deflate),
        ]
        .into_iter()
        .find(|(name, _)| v.eq_ignore_ascii_case(name))
        .map(|(_, e)| e)
    }

    /// The coding's name as gRPC and HTTP spell it.
    pub const fn name(self) -> &'static str {
        match self {
            Encoding::Identity => "identity",
            Encoding::Gzip => "gzip",
            Encoding::Zstd => "zstd",
            Encoding::Deflate => "deflate",
        }
    }
}

impl fmt::Display for Encoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a body could not be decompressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecompressError {
    /// The output passed `limit` bytes (413 / `RESOURCE_EXHAUSTED`).
    TooLarge { limit: usize },
    /// The input is not valid data of its encoding (400 / `INVALID_ARGUMENT`).
    Corrupt {
        encoding: Encoding,
        reason: &'static str,
    },
}

impl DecompressError {
    #[cold]
    #[inline(never)]
    fn corrupt(encoding: Encoding, reason: &'static str) -> DecompressError {
        DecompressError::Corrupt { encoding, reason }
    }

    #[cold]
    #[inline(never)]
    fn too_large(limit: usize) -> DecompressError {
        DecompressError::TooLarge { limit }
    }
}

impl fmt::Display for DecompressError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            DecompressError::TooLarge { limit } => write!(
                f,
                "the request body decompresses to more than the limit of {limit} bytes"
            ),
            DecompressError::Corrupt { encoding, reason } => {
                write!(f, "invalid {encoding}-compressed request body: {reason}")
            }
        }
    }
}

impl std::error::Error for DecompressError {}

const TRUNCATED: &str = "the data ends before the end of the stream";
const TRAILING: &str = "bytes follow the end of the compressed stream";

/// The first output allocation when the input does not declare its size: a guess at a
/// typical OTLP protobuf compression ratio. Bounded by the limit, like every growth.
const RATIO_GUESS: usize = 4;
/// The smallest growth of the output buffer.
const MIN_GROWTH: usize = 64 << 10;
/// The most a declared size (gzip ISIZE, zstd content size) is believed for the first
/// allocation: 64 times the input, more than OTLP data compresses. A tiny body that
/// claims gigabytes gets a small buffer that then doubles as real output arrives.
const MAX_HINT_RATIO: usize = 64;

/// The first allocation for `input` that declares `size` bytes of output.
fn first_allocation(input: &[u8], size: Option<usize>) -> usize {
    let believable = input.len().saturating_mul(MAX_HINT_RATIO).max(MIN_GROWTH);
    match size {
        // One byte more than the size, so the call that reaches the end has room.
        Some(n) => n.saturating_add(1).min(believable),
        None => input.len().saturating_mul(RATIO_GUESS).max(MIN_GROWTH),
    }
}

/// zstd windows sluice accepts: at least 8 MiB, the size RFC 8878 §3.1.1.1.2 asks
/// every decoder to support (encoders declare it whatever their input's size); above
/// that, as large as the output limit (a back-reference cannot reach further), and
/// never more than libzstd's default ceiling, `ZSTD_WINDOWLOG_LIMIT_DEFAULT` (2^27).
const ZSTD_WINDOW_LOG_FLOOR: u32 = 23;
const ZSTD_WINDOW_LOG_CEILING: u32 = 27;

/// Appends the decoded `input` to `out`, failing with
/// [`DecompressError::TooLarge`] once more than `limit` bytes would be appended.
///
/// `out` never grows past `out.len() + limit + 1` bytes of capacity on account of
/// this call. Spare capacity `out` already had may be written past that before the
/// limit is noticed. On error, `out` holds whatever was decoded; the caller discards
/// it. `Identity` copies; the engine uses the body as it is instead.
pub fn decompress(
    enc: Encoding,
    input: &[u8],
    limit: usize,
    out: &mut Vec<u8>,
) -> Result<(), DecompressError> {
    let mut sink = Sink {
        start: out.len(),
        limit,
        out,
    };
    match enc {
        Encoding::Identity => {
            if input.len() > limit {
                return Err(DecompressError::too_large(limit));
            }
            sink.out.extend_from_slice(input);
            Ok(())
        }
        Encoding::Gzip => inflate(Flavor::Gzip, input, &mut sink),
        Encoding::Deflate if is_zlib_header(input) => inflate(Flavor::Zlib, input, &mut sink),
        Encoding::Deflate => inflate(Flavor::Raw, input, &mut sink),
        Encoding::Zstd => unzstd(input, &mut sink),
    }
}

/// The output buffer and its allowance.
struct Sink<'a> {
    out: &'a mut Vec<u8>,
    start: usize,
    limit: usize,
}

impl Sink<'_> {
    fn produced(&self) -> usize {
        self.out.len() - self.start
    }

    /// Makes room for more output when `out` is full: `first` bytes the first time,
    /// then doubling; never past `limit + 1` bytes of output in all.
    fn reserve(&mut self, first: usize) -> Result<(), DecompressError> {
        let produced = self.produced();
        if produced > self.limit {
            return Err(DecompressError::too_large(self.limit));
        }
        if self.spare() > 0 {
            return Ok(());
        }
        let allowed = (self.limit - produced).saturating_add(1);
        let want = if produced == 0 {
            first.max(1)
        } else {
            produced.max(MIN_GROWTH)
        };
        self.out.reserve_exact(want.min(allowed));
        Ok(())
    }

    fn spare(&self) -> usize {
        self.out.capacity() - self.out.len()
    }
}

/// The zlib header (RFC 1950 §2.2): method 8 (deflate), window at most 32 KiB, and
/// `CMF * 256 + FLG` a multiple of 31. A raw deflate stream cannot start this way in
/// practice: its first byte would be a non-final stored block with non-zero padding.
pub(super) fn is_zlib_header(input: &[u8]) -> bool {
    match input {
        [cmf, flg, ..] => {
            cmf & 0x0f == 8 && cmf >> 4 <= 7 && ((u16::from(*cmf) << 8) | u16::from(*flg)) % 31 == 0
        }
        _ => false,
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Flavor {
    Gzip,
    Zlib,
    Raw,
}

impl Flavor {
    fn encoding(self) -> Encoding {
        match self {
            Flavor::Gzip => Encoding::Gzip,
            Flavor::Zlib | Flavor::Raw => Encoding::Deflate,
        }
    }

    fn decompressor(self) -> Decompress {
        match self {
            // 15: the largest deflate window (32 KiB), which the header may lower.
            Flavor::Gzip => Decompress::new_gzip(15),
            Flavor::Zlib => Decompress::new(true),
            Flavor::Raw => Decompress::new(false),
        }
    }
}

/// gzip (each member in turn), zlib or raw deflate.
fn inflate(flavor: Flavor, input: &[u8], sink: &mut Sink<'_>) -> Result<(), DecompressError> {
    let enc = flavor.encoding();
    // ISIZE, the last 4 bytes of a gzip member: its size modulo 2^32 (RFC 1952 §2.3.1).
    let size = match (flavor, input) {
        (Flavor::Gzip, [.., a, b, c, d]) if input.len() >= 18 => {
            Some(u32::from_le_bytes([*a, *b, *c, *d]) as usize)
        }
        _ => None,
    };
    let first = first_allocation(input, size);
    let mut pos = 0;
    loop {
        let mut d = flavor.decompressor();
        loop {
            sink.reserve(first)?;
            let (in_before, out_before) = (d.total_in(), sink.out.len());
            let status = d
                .decompress_vec(&input[pos..], sink.out, FlushDecompress::None)
                .map_err(|e| DecompressError::corrupt(enc, flate_reason(e.message())))?;
            pos += (d.total_in() - in_before) as usize;
            if sink.produced() > sink.limit {
                return Err(DecompressError::too_large(sink.limit));
            }
            if status == Status::StreamEnd {
                break;
            }
            let progressed = d.total_in() != in_before || sink.out.len() != out_before;
            if !progressed && sink.spare() > 0 {
                return Err(DecompressError::corrupt(enc, TRUNCATED));
            }
        }
        if pos == input.len() {
            return Ok(());
        }
        if flavor != Flavor::Gzip {
            return Err(DecompressError::corrupt(enc, TRAILING));
        }
        // Another gzip member follows (or garbage, which its header check refuses).
    }
}

/// A `'static` reason for a zlib error message (zlib's `inflate.c` wording).
fn flate_reason(msg: Option<&str>) -> &'static str {
    let msg = msg.unwrap_or("");
    if msg.contains("header") || msg.contains("method") || msg.contains("window size") {
        "bad header"
    } else if msg.contains("data check") || msg.contains("length check") {
        "checksum mismatch"
    } else if msg.contains("dictionary") {
        "needs a preset dictionary"
    } else {
        "invalid compressed data"
    }
}

/// zstd: every frame of the input in turn (skippable frames are skipped).
fn unzstd(input: &[u8], sink: &mut Sink<'_>) -> Result<(), DecompressError> {
    let enc = Encoding::Zstd;
    let corrupt = |code| DecompressError::corrupt(enc, zstd_safe::get_error_name(code));
    let mut dctx = DCtx::create();
    // The smallest window that covers the whole allowed output.
    let window_log = sink
        .limit
        .checked_next_power_of_two()
        .map_or(usize::BITS, usize::trailing_zeros)
        .clamp(ZSTD_WINDOW_LOG_FLOOR, ZSTD_WINDOW_LOG_CEILING);
    dctx.set_parameter(DParameter::WindowLogMax(window_log))
        .map_err(corrupt)?;
    let size = match zstd_safe::get_frame_content_size(input) {
        Ok(Some(n)) => Some(usize::try_from(n).unwrap_or(usize::MAX)),
        _ => None,
    };
    let first = first_allocation(input, size);
    let mut src = InBuffer::around(input);
    loop {
        sink.reserve(first)?;
        let (in_before, out_before) = (src.pos(), sink.out.len());
        let hint = {
            let mut dst = OutBuffer::around_pos(&mut *sink.out, out_before);
            dctx.decompress_stream(&mut dst, &mut src)
                .map_err(corrupt)?
        };
        if sink.produced() > sink.limit {
            return Err(DecompressError::too_large(sink.limit));
        }
        // 0: a frame is complete and flushed; the next call starts the next frame.
        if hint == 0 && src.pos() == input.len() {
            return Ok(());
        }
        let progressed = src.pos() != in_before || sink.out.len() != out_before;
        if !progressed && sink.spare() > 0 {
            return Err(DecompressError::corrupt(enc, TRUNCATED));
        }
    }
}
