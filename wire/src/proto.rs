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
//!   invalid; groups (3, 4) are deprecated and OTLP never uses them, but an unknown
//!   field may be one: it is skipped to its matching end, as protobuf requires;
//! - a length-delimited field's length must fit in what is left of the message.
//!
//! Errors carry the byte offset (from the start of the request) where decoding
//! stopped, so a 400 answer can say where the input is wrong.

use core::fmt;

/// A varint encodes 64 bits in at most 10 bytes of 7 bits each.
pub const MAX_VARINT_LEN: usize = 10;

/// Protobuf's wire types. OTLP itself uses the first four; groups (deprecated, but
/// valid protobuf) can still arrive as unknown fields and are skipped whole, as prost
/// and the collector's gogoproto code skip them. (The variants carry no field number:
/// a one-byte `WireType` keeps `Reader::field`'s result small, which the decode loop
/// measurably depends on; so a group ends at its nesting level's end tag whatever
/// its number, a little more lenient than prost, which checks the number.)
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WireType {
    Varint,
    Fixed64,
    Len,
    Fixed32,
    StartGroup,
    EndGroup,
}

/// Groups nested inside an unknown group deeper than this are refused (`TooDeep`);
/// prost's own recursion limit is 100, and nothing OTLP sends has groups at all.
pub const MAX_GROUP_DEPTH: u32 = 32;

impl WireType {
    pub const fn name(self) -> &'static str {
        match self {
            WireType::Varint => "varint",
            WireType::Fixed64 => "fixed64",
            WireType::Len => "length-delimited",
            WireType::Fixed32 => "fixed32",
            WireType::StartGroup => "start-group",
            WireType::EndGroup => "end-group",
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
///
/// Aligned to 8 bytes so that `Result<Reader, DecodeError>` is laid out in whole
/// words: with 4-byte alignment rustc assembled the `Ok` reader from stores at odd
/// offsets, and the decode loop stalled loading it back (store-to-load forwarding).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(align(8))]
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
///
/// Two words: `rest` is what is left to read and `at` its offset in the request.
#[derive(Clone, Copy, Debug)]
pub struct Reader<'a> {
    rest: &'a [u8],
    /// Offset of `rest[0]` in the whole request, for error positions.
    at: usize,
}

impl<'a> Reader<'a> {
    /// A reader over a whole request.
    pub fn new(buf: &'a [u8]) -> Reader<'a> {
        Reader { rest: buf, at: 0 }
    }

    /// Offset of the next byte in the whole request.
    #[inline(always)]
    pub fn offset(&self) -> usize {
        self.at
    }

    #[inline(always)]
    pub fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    #[inline(always)]
    fn advance(&mut self, n: usize) {
        self.rest = &self.rest[n..];
        self.at += n;
    }

    #[inline]
    fn err(&self, kind: ErrorKind) -> DecodeError {
        DecodeError::new(kind, self.offset())
    }

    /// Reads a varint.
    #[inline(always)]
    pub fn varint(&mut self) -> Result<u64, DecodeError> {
        // Fast path: one byte, the common case for tags and small values.
        if let Some(&b) = self.rest.first()
            && b < 0x80
        {
            self.advance(1);
            return Ok(u64::from(b));
        }
        self.varint_slow()
    }

    #[inline(never)]
    fn varint_slow(&mut self) -> Result<u64, DecodeError> {
        let mut value = 0u64;
        for (i, &b) in self.rest.iter().take(MAX_VARINT_LEN).enumerate() {
            // The 10th byte may only carry the 64th bit.
            if i == MAX_VARINT_LEN - 1 && b > 1 {
                return Err(self.err(ErrorKind::VarintOverflow));
            }
            value |= u64::from(b & 0x7f) << (7 * i);
            if b < 0x80 {
                self.advance(i + 1);
                return Ok(value);
            }
        }
        if self.rest.len() < MAX_VARINT_LEN {
            Err(self.err(ErrorKind::Truncated))
        } else {
            Err(self.err(ErrorKind::VarintOverflow))
        }
    }

    /// Reads the next tag: `None` at the end of the message.
    #[inline(always)]
    pub fn field(&mut self) -> Result<Option<(u32, WireType)>, DecodeError> {
        if self.is_empty() {
            return Ok(None);
        }
        let at = self.at;
        let tag = self.varint()?;
        let field = tag >> 3;
        let wire = match tag & 7 {
            0 => WireType::Varint,
            1 => WireType::Fixed64,
            2 => WireType::Len,
            3 => WireType::StartGroup,
            4 => WireType::EndGroup,
            5 => WireType::Fixed32,
            _ => return Err(DecodeError::new(ErrorKind::InvalidTag, at)),
        };
        if field == 0 || field > u64::from(u32::MAX >> 3) {
            return Err(DecodeError::new(ErrorKind::InvalidTag, at));
        }
        Ok(Some((field as u32, wire)))
    }

    /// Reads a length-delimited field's bytes.
    #[inline(always)]
    pub fn bytes(&mut self) -> Result<&'a [u8], DecodeError> {
        let at = self.at;
        let len = self.varint()?;
        if len > self.rest.len() as u64 {
            // Reported where the length starts; the reader is not used after an error.
            return Err(DecodeError::new(ErrorKind::Truncated, at));
        }
        let (s, rest) = self.rest.split_at(len as usize);
        self.at += s.len();
        self.rest = rest;
        Ok(s)
    }

    /// Reads a length-delimited field as a nested message.
    #[inline(always)]
    pub fn message(&mut self) -> Result<Reader<'a>, DecodeError> {
        let body = self.bytes()?;
        // The nested reader's offsets count from the request start, as ours do.
        Ok(Reader {
            rest: body,
            at: self.at - body.len(),
        })
    }

    /// Reads a string field, checking UTF-8.
    #[inline(always)]
    pub fn str(&mut self, field: u32) -> Result<&'a str, DecodeError> {
        let at = self.offset();
        let b = self.bytes()?;
        // Most OTLP strings are short ASCII (keys, names, levels, URLs): checking that a
        // word at a time beats `from_utf8`'s byte loop on short unaligned input by about
        // 10% of the whole logs decode (`cargo bench -p sluice-bench`, see
        // ARCHITECTURE.md, "Performance"). Non-ASCII strings take the validator.
        if b.is_ascii() {
            #[allow(unsafe_code)]
            // SAFETY: `is_ascii` checked that every byte of `b` is below 0x80, and a
            // sequence of such bytes is valid UTF-8 (each is a one-byte code point).
            let s = unsafe { core::str::from_utf8_unchecked(b) };
            return Ok(s);
        }
        core::str::from_utf8(b).map_err(|_| DecodeError::new(ErrorKind::InvalidUtf8 { field }, at))
    }

    #[inline]
    pub fn fixed64(&mut self) -> Result<u64, DecodeError> {
        let Some(b) = self.rest.first_chunk::<8>() else {
            return Err(self.err(ErrorKind::Truncated));
        };
        let v = u64::from_le_bytes(*b);
        self.advance(8);
        Ok(v)
    }

    #[inline]
    pub fn fixed32(&mut self) -> Result<u32, DecodeError> {
        let Some(b) = self.rest.first_chunk::<4>() else {
            return Err(self.err(ErrorKind::Truncated));
        };
        let v = u32::from_le_bytes(*b);
        self.advance(4);
        Ok(v)
    }

    /// Skips a field the decoder does not know.
    #[inline]
    pub fn skip(&mut self, wire: WireType) -> Result<(), DecodeError> {
        match wire {
            WireType::Varint => self.varint().map(drop),
            WireType::Fixed64 => self.fixed64().map(drop),
            WireType::Len => self.bytes().map(drop),
            WireType::Fixed32 => self.fixed32().map(drop),
            WireType::StartGroup => self.skip_group(1),
            // An end with no start.
            WireType::EndGroup => Err(self.err(ErrorKind::InvalidTag)),
        }
    }

    /// Skips the rest of a group, up to the end tag at its nesting level.
    #[cold]
    fn skip_group(&mut self, depth: u32) -> Result<(), DecodeError> {
        if depth > MAX_GROUP_DEPTH {
            return Err(self.err(ErrorKind::TooDeep));
        }
        loop {
            match self.field()? {
                None => return Err(self.err(ErrorKind::Truncated)),
                Some((_, WireType::EndGroup)) => return Ok(()),
                Some((_, WireType::StartGroup)) => self.skip_group(depth + 1)?,
                Some((_, w)) => self.skip(w)?,
            }
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
