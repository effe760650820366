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

/// Appends a trace or span id as ClickStack stores it: lowercase hex, or an empty
/// string when the id is all zeros (absent).
#[inline]
pub fn write_hex_id(id: &[u8], out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    if id.iter().all(|&b| b == 0) {
        out.push(0);
        return;
    }
    write_leb128(id.len() as u64 * 2, out);
    for &b in id {
        out.push(HEX[usize::from(b >> 4)]);
        out.push(HEX[usize::from(b & 0xf)]);
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
