//! Columns → ClickHouse `RowBinary`.
//!
//! RowBinary is ClickHouse's row-oriented binary input format
//! (<https://clickhouse.com/docs/interfaces/formats/RowBinary>): each row is its
//! values in the order of the INSERT's column list, each in its type's encoding:
//!
//! | type | encoding |
//! |---|---|
//! | `UInt8`, `UInt32`, `UInt64`, `Int32`, `Float64` | little-endian, fixed width |
//! | `DateTime64(9)` | `Int64` nanoseconds, little-endian |
//! | `String`, `LowCardinality(String)` | LEB128 length, then the bytes |
//! | `Map(K, V)` | LEB128 entry count, then key, value, key, value, … |
//! | `Array(T)` | LEB128 length, then the items |
//!
//! Encoders append to a `Vec<u8>` that the caller reuses batch after batch; nothing
//! here allocates per row.

pub mod logs;
pub mod metrics;
pub mod read;
pub mod traces;

use crate::columns::Maps;

/// Appends `v` as an unsigned LEB128 varint.
#[inline]
pub fn write_leb128(mut v: u64, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Appends a `String`.
#[inline]
pub fn write_str(s: &[u8], out: &mut Vec<u8>) {
    write_leb128(s.len() as u64, out);
    out.extend_from_slice(s);
}

/// Appends row `row` of a `Map(String, String)` column.
#[inline]
pub fn write_map(col: &Maps, row: usize, out: &mut Vec<u8>) {
    let entries = col.row(row);
    write_leb128(entries.len() as u64, out);
    for (k, v) in entries {
        write_str(k, out);
        write_str(v, out);
    }
}

/// The rows of a `Map` column encoded once, for maps that repeat on many rows (a
/// resource's or a scope's attributes, which every record under it carries): each is
/// written once per encode and copied per row, which costs a fraction of writing it
/// entry by entry (`write_map` was a tenth of a shard's time on logs with a
/// six-attribute resource).
#[derive(Debug, Default)]
pub struct EncodedMaps {
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

impl EncodedMaps {
    /// Encodes every row of `col` (none when `wanted` is false: the column is not
    /// in the INSERT).
    pub fn new(col: &Maps, wanted: bool) -> EncodedMaps {
        let mut e = EncodedMaps::default();
        if wanted {
            for row in 0..col.len() {
                write_map(col, row, &mut e.bytes);
                e.ends.push(e.bytes.len());
            }
        }
        e
    }

    /// Appends row `row`, as [`write_map`] would.
    #[inline]
    pub fn write(&self, row: usize, out: &mut Vec<u8>) {
        let start = if row == 0 { 0 } else { self.ends[row - 1] };
        out.extend_from_slice(&self.bytes[start..self.ends[row]]);
    }
}

/// Appends a trace or span id as ClickStack stores it: lowercase hex, or an empty
/// string when the id is all zeros (absent).
#[inline]
pub fn write_hex_id(id: &[u8], out: &mut Vec<u8>) {
    if id.iter().all(|&b| b == 0) {
        out.push(0);
        return;
    }
    write_hex(id, out);
}

/// Appends bytes as a lowercase hex `String`, zeros included (the metric tables'
/// exemplar ids, as the exporter writes them: `hex.EncodeToString(id[:])`).
#[inline]
pub fn write_hex(id: &[u8], out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    write_leb128(id.len() as u64 * 2, out);
    for &b in id {
        out.push(HEX[usize::from(b >> 4)]);
        out.push(HEX[usize::from(b & 0xf)]);
    }
}

/// Appends an `Array(T)`: the count, then `item` for each index of `items`.
#[inline]
pub fn write_array(
    items: core::ops::Range<usize>,
    out: &mut Vec<u8>,
    mut item: impl FnMut(usize, &mut Vec<u8>),
) {
    write_leb128(items.len() as u64, out);
    for j in items {
        item(j, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leb128_and_strings_are_spelled_as_clickhouse_reads_them() {
        let mut out = Vec::new();
        for v in [0u64, 1, 127, 128, 300, u64::MAX] {
            write_leb128(v, &mut out);
        }
        assert_eq!(
            out,
            [
                0x00, 0x01, 0x7f, 0x80, 0x01, 0xac, 0x02, //
                0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01
            ]
        );
        out.clear();
        write_str(b"ab", &mut out);
        write_str(b"", &mut out);
        assert_eq!(out, [0x02, b'a', b'b', 0x00]);
    }

    #[test]
    fn ids_are_lowercase_hex_or_empty() {
        let mut out = Vec::new();
        write_hex_id(&[0xab, 0x01, 0x00, 0xff, 0, 0, 0, 0x10], &mut out);
        assert_eq!(out[0], 16);
        assert_eq!(&out[1..], b"ab0100ff00000010");
        out.clear();
        write_hex_id(&[0; 16], &mut out);
        assert_eq!(out, [0x00]);
    }

    #[test]
    fn encoded_maps_write_what_write_map_writes() {
        let mut m = Maps::default();
        m.push_entry(b"service.name", b"checkout");
        m.finish_row();
        m.finish_row();
        m.push_entry(b"a", b"1");
        m.push_entry(b"b", b"");
        m.finish_row();
        let e = EncodedMaps::new(&m, true);
        for row in [2, 0, 1, 2] {
            let (mut want, mut got) = (Vec::new(), Vec::new());
            write_map(&m, row, &mut want);
            e.write(row, &mut got);
            assert_eq!(got, want, "row {row}");
        }
        assert!(EncodedMaps::new(&m, false).ends.is_empty());
    }

    #[test]
    fn maps_are_counted_pairs() {
        let mut m = Maps::default();
        m.push_entry(b"k", b"v");
        m.push_entry(b"x", b"");
        m.finish_row();
        m.finish_row();
        let mut out = Vec::new();
        write_map(&m, 0, &mut out);
        write_map(&m, 1, &mut out);
        assert_eq!(out, [2, 1, b'k', 1, b'v', 1, b'x', 0, 0]);
    }
}
