//! Protobuf wire-format primitives: varints, tags, length-delimited slices.
//!
//! A [`Reader`] walks one message's bytes without building anything: every
//! length-delimited field comes back as a slice of the input, so strings stay in the
//! request buffer until a decoder copies them once into a column. The rules are the
//! protobuf encoding spec's (<https://protobuf.dev/programming-guides/encoding/>):
//!
//! - a varint is at most 10 bytes ([`MAX_VARINT_LEN`]); a longer one is an error, as
//!   is a 10th byte that carries more than the 64th bit;
//! - a tag is a varint `field << 3 | wire_type`; field 0 and wire types 6 and 7 are
//!   invalid; groups (3, 4) are deprecated and OTLP never uses them, so they are
//!   refused rather than skipped;
//! - a length-delimited field's length must fit in what is left of the message.
//!
//! Errors carry the byte offset (from the start of the request) where decoding
//! stopped, so a 400 answer can say where the input is wrong.

use core::fmt;

/// A varint encodes 64 bits in at most 10 bytes of 7 bits each.
pub const MAX_VARINT_LEN: usize = 10;

/// The wire types of protobuf that OTLP uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WireType {
    Varint,
    Fixed64,
    Len,
    Fixed32,
}

impl WireType {
    pub const fn name(self) -> &'static str {
        match self {
            WireType::Varint => "varint",
            WireType::Fixed64 => "fixed64",
            WireType::Len => "length-delimited",
            WireType::Fixed32 => "fixed32",
        }
    }
}

/// What is wrong with the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The input ends inside a field.
    Truncated,
    /// A varint runs past 10 bytes or past 64 bits.
    VarintOverflow,
    /// A tag with field number 0 or a wire type protobuf does not define (or groups).
    InvalidTag,
    /// A known field arrived with another wire type than its schema gives.
    WrongWireType { field: u32, got: WireType },
    /// A string field is not valid UTF-8.
    InvalidUtf8 { field: u32 },
    /// Values nest deeper than the decoder's limit.
    TooDeep,
    /// A fixed-size field (trace id, span id) has the wrong length.
    BadLength { field: u32, len: u32 },
}

/// A decode failure: what, and where (byte offset from the start of the request).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DecodeError {
    pub kind: ErrorKind,
    pub offset: u32,
}

impl DecodeError {
    #[cold]
    #[inline(never)]
    pub fn new(kind: ErrorKind, offset: usize) -> DecodeError {
        DecodeError {
            kind,
            offset: u32::try_from(offset).unwrap_or(u32::MAX),
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = self.offset;
        match self.kind {
            ErrorKind::Truncated => write!(
                f,
                "truncated protobuf: the input ends inside a field at byte {at}"
            ),
            ErrorKind::VarintOverflow => write!(
                f,
                "invalid protobuf: varint longer than 64 bits at byte {at}"
            ),
            ErrorKind::InvalidTag => write!(f, "invalid protobuf: bad field tag at byte {at}"),
            ErrorKind::WrongWireType { field, got } => write!(
                f,
                "invalid protobuf: field {field} has the wrong wire type ({}) at byte {at}",
                got.name()
            ),
            ErrorKind::InvalidUtf8 { field } => {
                write!(
                    f,
                    "invalid protobuf: string field {field} is not valid UTF-8 at byte {at}"
                )
            }
            ErrorKind::TooDeep => write!(f, "values nested too deeply at byte {at}"),
            ErrorKind::BadLength { field, len } => {
                write!(
                    f,
                    "invalid protobuf: field {field} has {len} bytes, which its type does not allow, at byte {at}"
                )
            }
        }
    }
}

impl std::error::Error for DecodeError {}

/// A cursor over one protobuf message. `Copy`: copying a cursor forks it (the
/// decoders walk a message twice that way, e.g. a resource before its records).
#[derive(Clone, Copy, Debug)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    /// Offset of `buf[0]` in the whole request, for error positions.
    base: usize,
}

impl<'a> Reader<'a> {
    /// A reader over a whole request.
    pub fn new(buf: &'a [u8]) -> Reader<'a> {
        Reader {
            buf,
            pos: 0,
            base: 0,
        }
    }

    /// Offset of the next byte in the whole request.
    #[inline]
    pub fn offset(&self) -> usize {
        self.base + self.pos
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.pos >= self.buf.len()
    }

    #[inline]
    fn err(&self, kind: ErrorKind) -> DecodeError {
        DecodeError::new(kind, self.offset())
    }

    /// Reads a varint.
    #[inline]
    pub fn varint(&mut self) -> Result<u64, DecodeError> {
        // Fast path: one byte, the common case for tags and small values.
        if let Some(&b) = self.buf.get(self.pos)
            && b < 0x80
        {
            self.pos += 1;
            return Ok(u64::from(b));
        }
        let start = self.pos;
        let mut value = 0u64;
        for i in 0..MAX_VARINT_LEN {
            let Some(&b) = self.buf.get(self.pos) else {
                self.pos = start;
                return Err(self.err(ErrorKind::Truncated));
            };
            self.pos += 1;
            // The 10th byte may only carry the 64th bit.
            if i == MAX_VARINT_LEN - 1 && b > 1 {
                self.pos = start;
                return Err(self.err(ErrorKind::VarintOverflow));
            }
            value |= u64::from(b & 0x7f) << (7 * i);
            if b < 0x80 {
                return Ok(value);
            }
        }
        self.pos = start;
        Err(self.err(ErrorKind::VarintOverflow))
    }

    /// Reads the next tag: `None` at the end of the message.
    #[inline]
    pub fn field(&mut self) -> Result<Option<(u32, WireType)>, DecodeError> {
        if self.is_empty() {
            return Ok(None);
        }
        let at = self.pos;
        let tag = self.varint()?;
        let field = tag >> 3;
        let wire = match tag & 7 {
            0 => WireType::Varint,
            1 => WireType::Fixed64,
            2 => WireType::Len,
            5 => WireType::Fixed32,
            _ => return Err(DecodeError::new(ErrorKind::InvalidTag, self.base + at)),
        };
        if field == 0 || field > u64::from(u32::MAX >> 3) {
            return Err(DecodeError::new(ErrorKind::InvalidTag, self.base + at));
        }
        Ok(Some((field as u32, wire)))
    }

    /// Reads a length-delimited field's bytes.
    #[inline]
    pub fn bytes(&mut self) -> Result<&'a [u8], DecodeError> {
        let start = self.pos;
        let len = self.varint()?;
        let left = self.buf.len() - self.pos;
        if len > left as u64 {
            self.pos = start;
            return Err(self.err(ErrorKind::Truncated));
        }
        let s = &self.buf[self.pos..self.pos + len as usize];
        self.pos += len as usize;
        Ok(s)
    }

    /// Reads a length-delimited field as a nested message.
    #[inline]
    pub fn message(&mut self) -> Result<Reader<'a>, DecodeError> {
        let base = self.offset();
        let body = self.bytes()?;
        // The nested reader's offsets start after the length prefix.
        let prefix = self.offset() - base - body.len();
        Ok(Reader {
            buf: body,
            pos: 0,
            base: base + prefix,
        })
    }

    /// Reads a string field, checking UTF-8.
    #[inline]
    pub fn str(&mut self, field: u32) -> Result<&'a str, DecodeError> {
        let at = self.offset();
        let b = self.bytes()?;
        core::str::from_utf8(b).map_err(|_| DecodeError::new(ErrorKind::InvalidUtf8 { field }, at))
    }

    #[inline]
    pub fn fixed64(&mut self) -> Result<u64, DecodeError> {
        let Some(b) = self.buf.get(self.pos..self.pos + 8) else {
            return Err(self.err(ErrorKind::Truncated));
        };
        self.pos += 8;
        Ok(u64::from_le_bytes(b.try_into().expect("8 bytes")))
    }

    #[inline]
    pub fn fixed32(&mut self) -> Result<u32, DecodeError> {
        let Some(b) = self.buf.get(self.pos..self.pos + 4) else {
            return Err(self.err(ErrorKind::Truncated));
        };
        self.pos += 4;
        Ok(u32::from_le_bytes(b.try_into().expect("4 bytes")))
    }

    /// Skips a field the decoder does not know.
    #[inline]
    pub fn skip(&mut self, wire: WireType) -> Result<(), DecodeError> {
        match wire {
            WireType::Varint => self.varint().map(drop),
            WireType::Fixed64 => self.fixed64().map(drop),
            WireType::Len => self.bytes().map(drop),
            WireType::Fixed32 => self.fixed32().map(drop),
        }
    }

    /// The error for a known field with an unexpected wire type.
    #[cold]
    pub fn wrong_type(&self, field: u32, got: WireType) -> DecodeError {
        self.err(ErrorKind::WrongWireType { field, got })
    }
}

#[cfg(test)]
mod tests;
