//! gRPC over HTTP/2, the parts that are bytes: message framing, status codes, the
//! `grpc-timeout`, `grpc-message` and `grpc-status-details-bin` headers.
//!
//! The rules are those of gRPC's wire spec,
//! <https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md>. Nothing here does
//! I/O: the engine's h2 server hands every DATA frame to a [`MessageReader`] and writes
//! what the encoders below return.
//!
//! # Request lifecycle
//!
//! 1. Request headers: `grpc-timeout` → [`parse_timeout`]; `grpc-encoding` →
//!    [`crate::compress::Encoding::from_header`].
//! 2. Each DATA frame's bytes → [`MessageReader::push`]. As soon as the 5-byte prefix is
//!    in, [`MessageReader::declared_len`] tells the admission budget how much is coming,
//!    and a message over the limit has already failed with [`FrameError::TooLarge`].
//! 3. End of stream → [`MessageReader::finish`] → one [`Message`]. If its
//!    `compressed` flag is set, the body goes through [`crate::compress::decompress`]
//!    with the request's `grpc-encoding`; then the OTLP decoder reads it.
//! 4. The answer: HEADERS (`:status 200`, `content-type: application/grpc`), one DATA
//!    frame from [`encode_message`], TRAILERS with `grpc-status` ([`Code::as_str`]),
//!    `grpc-message` ([`percent_encode_message`]) and, on errors,
//!    `grpc-status-details-bin` ([`status_details_header`]).
//!
//! # Invariants
//!
//! - An OTLP `Export` call is unary: the body holds exactly one message. No message,
//!   a cut-off message, or any byte after the message is an error.
//! - The size limit is checked against the prefix, before a byte of the message is
//!   buffered.
//! - A message that arrives inside one DATA frame is a slice of that frame (no copy).
//!   One spread over several frames is copied once into one buffer, allocated at the
//!   declared length (so never more than the limit), because the protobuf decoder
//!   needs one contiguous slice.

use core::fmt;
use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};

/// Bytes before each message: the compressed flag and a big-endian u32 length
/// (PROTOCOL-HTTP2.md, "Length-Prefixed-Message").
pub const PREFIX_LEN: usize = 5;

/// The default limit on one message: 64 MiB, the request-size limit of the design
/// (§4, after decompression), which the compressed message cannot sensibly exceed
/// either.
pub const DEFAULT_MAX_MESSAGE: usize = 64 << 20;

/// One gRPC message, as the prefix describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// The prefix's Compressed-Flag: the body is compressed with the request's
    /// `grpc-encoding`.
    pub compressed: bool,
    pub body: Bytes,
}

/// Why a request body is not one well-formed gRPC message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameError {
    /// The body ended before any byte arrived.
    Empty,
    /// The compressed-flag byte is neither 0 nor 1.
    BadFlag { flag: u8 },
    /// The prefix announces a message longer than the limit.
    TooLarge { len: u32, limit: u32 },
    /// The body ended inside the 5-byte prefix, after `received` bytes.
    TruncatedPrefix { received: u8 },
    /// The body ended after `received` of the message's `expected` bytes.
    Truncated { received: u32, expected: u32 },
    /// Bytes follow the one message, starting at `offset` of the body.
    Trailing { offset: u32 },
}

impl FrameError {
    #[cold]
    #[inline(never)]
    fn too_large(len: u32, limit: usize) -> FrameError {
        FrameError::TooLarge {
            len,
            limit: u32::try_from(limit).unwrap_or(u32::MAX),
        }
    }

    #[cold]
    #[inline(never)]
    fn trailing(len: usize) -> FrameError {
        FrameError::Trailing {
            offset: saturate(PREFIX_LEN + len),
        }
    }

    /// The status to answer with: `RESOURCE_EXHAUSTED` for a message over the limit
    /// (not worth retrying unchanged), `INVALID_ARGUMENT` for a malformed body.
    pub const fn code(self) -> Code {
        match self {
            FrameError::TooLarge { .. } => Code::ResourceExhausted,
            _ => Code::InvalidArgument,
        }
    }
}

fn saturate(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            FrameError::Empty => {
                f.write_str("the gRPC request body is empty: expected one message")
            }
            FrameError::BadFlag { flag } => write!(
                f,
                "invalid gRPC message prefix: compressed flag is {flag}, expected 0 or 1"
            ),
            FrameError::TooLarge { len, limit } => write!(
                f,
                "the gRPC message is {len} bytes, over the limit of {limit} bytes"
            ),
            FrameError::TruncatedPrefix { received } => write!(
                f,
                "truncated gRPC request: the body ends after {received} of the 5 bytes of the message prefix"
            ),
            FrameError::Truncated { received, expected } => write!(
                f,
                "truncated gRPC message: the body ends after {received} of the {expected} bytes its prefix announces"
            ),
            FrameError::Trailing { offset } => write!(
                f,
                "the gRPC request body has bytes after its message, at byte {offset}: a unary call takes exactly one message"
            ),
        }
    }
}

impl std::error::Error for FrameError {}

/// Reads the one message of a unary call from the DATA frames of its request body.
#[derive(Debug)]
pub struct MessageReader {
    max_len: usize,
    state: State,
}

#[derive(Debug)]
enum State {
    /// Collecting the prefix; `have` of its bytes are in `buf`.
    Prefix { buf: [u8; PREFIX_LEN], have: u8 },
    /// Prefix read; `body` holds the part of the message that spans earlier frames
    /// (empty until a frame ends inside the message).
    Body {
        compressed: bool,
        len: usize,
        body: BytesMut,
    },
    /// The message is complete.
    Done(Message),
    /// An error was returned; it is returned again by every later call.
    Failed(FrameError),
}

impl MessageReader {
    /// A reader that refuses messages longer than `max_len` bytes (see
    /// [`DEFAULT_MAX_MESSAGE`]).
    pub fn new(max_len: usize) -> MessageReader {
        MessageReader {
            max_len,
            state: State::Prefix {
                buf: [0; PREFIX_LEN],
                have: 0,
            },
        }
    }

    /// The message's length once its prefix has been read: what the admission budget
    /// should be charged before the body is buffered.
    pub fn declared_len(&self) -> Option<usize> {
        match &self.state {
            State::Body { len, .. } => Some(*len),
            State::Done(m) => Some(m.body.len()),
            State::Prefix { .. } | State::Failed(_) => None,
        }
    }

    /// Feeds the bytes of one DATA frame. After an error the reader is spent: every
    /// later call returns the same error.
    pub fn push(&mut self, chunk: Bytes) -> Result<(), FrameError> {
        let result = self.advance(chunk);
        if let Err(e) = result {
            self.state = State::Failed(e);
        }
        result
    }

    fn advance(&mut self, mut chunk: Bytes) -> Result<(), FrameError> {
        while !chunk.is_empty() {
            match &mut self.state {
                State::Prefix { buf, have } => {
                    let at = usize::from(*have);
                    let take = (PREFIX_LEN - at).min(chunk.len());
                    buf[at..at + take].copy_from_slice(&chunk[..take]);
                    *have += take as u8;
                    let _ = chunk.split_to(take);
                    if usize::from(*have) == PREFIX_LEN {
                        self.state = parse_prefix(buf, self.max_len)?;
                    }
                }
                State::Body {
                    compressed,
                    len,
                    body,
                } => {
                    let need = *len - body.len();
                    let piece = chunk.split_to(need.min(chunk.len()));
                    if body.is_empty() && piece.len() == *len {
                        // The whole message in one frame: keep the frame's bytes.
                        self.state = State::Done(Message {
                            compressed: *compressed,
                            body: piece,
                        });
                    } else {
                        if body.capacity() == 0 {
                            // One allocation at the declared length, which
                            // `parse_prefix` has checked against the limit.
                            *body = BytesMut::with_capacity(*len);
                        }
                        body.extend_from_slice(&piece);
                        if body.len() == *len {
                            self.state = State::Done(Message {
                                compressed: *compressed,
                                body: std::mem::take(body).freeze(),
                            });
                        }
                    }
                }
                State::Done(m) => return Err(FrameError::trailing(m.body.len())),
                State::Failed(e) => return Err(*e),
            }
        }
        // A zero-length message is complete as soon as its prefix is.
        if let State::Body {
            compressed, len: 0, ..
        } = self.state
        {
            self.state = State::Done(Message {
                compressed,
                body: Bytes::new(),
            });
        }
        Ok(())
    }

    /// The message, at the end of the request body.
    pub fn finish(self) -> Result<Message, FrameError> {
        match self.state {
            State::Done(m) => Ok(m),
            State::Prefix { have: 0, .. } => Err(FrameError::Empty),
            State::Prefix { have, .. } => Err(FrameError::TruncatedPrefix { received: have }),
            State::Body { len, body, .. } => Err(FrameError::Truncated {
                received: saturate(body.len()),
                expected: saturate(len),
            }),
            State::Failed(e) => Err(e),
        }
    }
}

fn parse_prefix(buf: &[u8; PREFIX_LEN], max_len: usize) -> Result<State, FrameError> {
    let compressed = match buf[0] {
        0 => false,
        1 => true,
        flag => return Err(FrameError::BadFlag { flag }),
    };
    let len = u32::from_be_bytes([buf[1], buf[2], buf[3], buf[4]]);
    let len_usize = usize::try_from(len).unwrap_or(usize::MAX);
    if len_usize > max_len {
        return Err(FrameError::too_large(len, max_len));
    }
    Ok(State::Body {
        compressed,
        len: len_usize,
        body: BytesMut::new(),
    })
}

/// Appends `msg` as one uncompressed Length-Prefixed-Message (a response body).
///
/// # Panics
///
/// If `msg` is 4 GiB or longer, which the prefix cannot express; sluice's responses
/// are a few bytes.
pub fn encode_message(msg: &[u8], out: &mut BytesMut) {
    let len = u32::try_from(msg.len()).expect("a gRPC message is shorter than 4 GiB");
    out.reserve(PREFIX_LEN + msg.len());
    out.put_u8(0);
    out.put_u32(len);
    out.put_slice(msg);
}

/// Most digits a `grpc-timeout` value may have (PROTOCOL-HTTP2.md:
/// `TimeoutValue → {positive integer as ASCII string of at most 8 digits}`).
const MAX_TIMEOUT_DIGITS: usize = 8;

/// Parses a `grpc-timeout` header value: 1 to 8 ASCII digits, then the unit
/// `H` (hours), `M` (minutes), `S`, `m` (milliseconds), `u` (microseconds) or
/// `n` (nanoseconds). Anything else is `None`; the caller ignores such a header.
pub fn parse_timeout(v: &str) -> Option<Duration> {
    let (unit, digits) = v.as_bytes().split_last()?;
    if digits.is_empty() || digits.len() > MAX_TIMEOUT_DIGITS {
        return None;
    }
    let mut n: u64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        n = n * 10 + u64::from(d - b'0');
    }
    // At most 99_999_999 hours: 3.6e11 seconds, far inside u64.
    Some(match unit {
        b'H' => Duration::from_secs(n * 3600),
        b'M' => Duration::from_secs(n * 60),
        b'S' => Duration::from_secs(n),
        b'm' => Duration::from_millis(n),
        b'u' => Duration::from_micros(n),
        b'n' => Duration::from_nanos(n),
        _ => return None,
    })
}

/// gRPC status codes (<https://grpc.github.io/grpc/core/md_doc_statuscodes.html>).
///
/// sluice answers `Ok`, `InvalidArgument` (bad input), `ResourceExhausted` (too large,
/// or overloaded), `Unavailable` (overloaded or shutting down, retry later),
/// `Unauthenticated`, `Unimplemented` (unknown method or encoding),
/// `DeadlineExceeded`, `Cancelled` and `Internal`; the rest complete the set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Code {
    Ok = 0,
    Cancelled = 1,
    Unknown = 2,
    InvalidArgument = 3,
    DeadlineExceeded = 4,
    NotFound = 5,
    AlreadyExists = 6,
    PermissionDenied = 7,
    ResourceExhausted = 8,
    FailedPrecondition = 9,
    Aborted = 10,
    OutOfRange = 11,
    Unimplemented = 12,
    Internal = 13,
    Unavailable = 14,
    DataLoss = 15,
    Unauthenticated = 16,
}

impl Code {
    /// The number, as the `grpc-status` trailer carries it.
    pub const fn as_str(self) -> &'static str {
        const NUMBERS: [&str; 17] = [
            "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15",
            "16",
        ];
        NUMBERS[self as usize]
    }

    /// The number, as `google.rpc.Status.code` carries it.
    pub const fn as_i32(self) -> i32 {
        self as i32
    }

    /// The spec's name, e.g. `INVALID_ARGUMENT`, for logs and metrics.
    pub const fn name(self) -> &'static str {
        match self {
            Code::Ok => "OK",
            Code::Cancelled => "CANCELLED",
            Code::Unknown => "UNKNOWN",
            Code::InvalidArgument => "INVALID_ARGUMENT",
            Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
            Code::NotFound => "NOT_FOUND",
            Code::AlreadyExists => "ALREADY_EXISTS",
            Code::PermissionDenied => "PERMISSION_DENIED",
            Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
            Code::FailedPrecondition => "FAILED_PRECONDITION",
            Code::Aborted => "ABORTED",
            Code::OutOfRange => "OUT_OF_RANGE",
            Code::Unimplemented => "UNIMPLEMENTED",
            Code::Internal => "INTERNAL",
            Code::Unavailable => "UNAVAILABLE",
            Code::DataLoss => "DATA_LOSS",
            Code::Unauthenticated => "UNAUTHENTICATED",
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Appends `msg` as a `grpc-message` header value: bytes outside 0x20–0x7E, and `%`,
/// become `%XX` (upper-case hex) of their UTF-8 bytes (PROTOCOL-HTTP2.md,
/// "Percent-Encoded").
pub fn percent_encode_message(msg: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    out.reserve(msg.len());
    for &b in msg.as_bytes() {
        if (0x20..=0x7e).contains(&b) && b != b'%' {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xf)]));
        }
    }
}

/// `Any.type_url` of a `google.rpc.RetryInfo` detail.
pub const RETRY_INFO_TYPE_URL: &str = "type.googleapis.com/google.rpc.RetryInfo";

/// The largest `google.protobuf.Duration.seconds` (duration.proto: about 10,000
/// years); a longer `retry_after` is clamped to it.
const MAX_DURATION_SECONDS: u64 = 315_576_000_000;

/// A serialized `google.rpc.Status`:
///
/// ```text
/// Status    { int32 code = 1; string message = 2; repeated google.protobuf.Any details = 3; }
/// Any       { string type_url = 1; bytes value = 2; }
/// RetryInfo { google.protobuf.Duration retry_delay = 1; }
/// Duration  { int64 seconds = 1; int32 nanos = 2; }
/// ```
///
/// With `retry_after`, `details` holds one `Any` with a `google.rpc.RetryInfo`, which
/// OTLP exporters honour as the delay before their retry. Zero fields are left out, as
/// every proto3 encoder does. This is the body of an OTLP/HTTP error answer, and (as
/// base64, see [`status_details_header`]) the gRPC `grpc-status-details-bin` trailer.
pub fn encode_status_details(code: Code, message: &str, retry_after: Option<Duration>) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + 80);
    if code != Code::Ok {
        pb::varint_field(&mut out, 1, code.as_i32() as u64);
    }
    if !message.is_empty() {
        pb::bytes_field(&mut out, 2, message.as_bytes());
    }
    if let Some(delay) = retry_after {
        let mut duration = Vec::with_capacity(16);
        let seconds = delay.as_secs().min(MAX_DURATION_SECONDS);
        if seconds != 0 {
            pb::varint_field(&mut duration, 1, seconds);
        }
        if delay.subsec_nanos() != 0 {
            pb::varint_field(&mut duration, 2, u64::from(delay.subsec_nanos()));
        }
        let mut retry_info = Vec::with_capacity(duration.len() + 2);
        pb::bytes_field(&mut retry_info, 1, &duration);
        let mut any = Vec::with_capacity(RETRY_INFO_TYPE_URL.len() + retry_info.len() + 4);
        pb::bytes_field(&mut any, 1, RETRY_INFO_TYPE_URL.as_bytes());
        pb::bytes_field(&mut any, 2, &retry_info);
        pb::bytes_field(&mut out, 3, &any);
    }
    out
}

/// The `grpc-status-details-bin` trailer value: [`encode_status_details`] in standard
/// base64 *without* padding. gRPC's spec makes `-bin` values base64 and asks senders to
/// leave the padding out (receivers accept both).
pub fn status_details_header(code: Code, message: &str, retry_after: Option<Duration>) -> String {
    base64_unpadded(&encode_status_details(code, message, retry_after))
}

/// Standard base64 (RFC 4648 §4) without `=` padding.
fn base64_unpadded(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let sextet = |v: u32, shift: u32| char::from(ALPHABET[((v >> shift) & 63) as usize]);
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    let mut chunks = data.chunks_exact(3);
    for c in &mut chunks {
        let v = (u32::from(c[0]) << 16) | (u32::from(c[1]) << 8) | u32::from(c[2]);
        out.extend([sextet(v, 18), sextet(v, 12), sextet(v, 6), sextet(v, 0)]);
    }
    match *chunks.remainder() {
        [a] => {
            let v = u32::from(a) << 16;
            out.extend([sextet(v, 18), sextet(v, 12)]);
        }
        [a, b] => {
            let v = (u32::from(a) << 16) | (u32::from(b) << 8);
            out.extend([sextet(v, 18), sextet(v, 12), sextet(v, 6)]);
        }
        _ => {}
    }
    out
}

/// The few protobuf writes a `google.rpc.Status` needs.
mod pb {
    const VARINT: u64 = 0;
    const LEN: u64 = 2;

    pub(super) fn varint(out: &mut Vec<u8>, mut v: u64) {
        while v >= 0x80 {
            out.push(v as u8 | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }

    pub(super) fn varint_field(out: &mut Vec<u8>, field: u64, v: u64) {
        varint(out, (field << 3) | VARINT);
        varint(out, v);
    }

    pub(super) fn bytes_field(out: &mut Vec<u8>, field: u64, v: &[u8]) {
        varint(out, (field << 3) | LEN);
        varint(out, v.len() as u64);
        out.extend_from_slice(v);
    }
}

#[cfg(test)]
mod tests;
