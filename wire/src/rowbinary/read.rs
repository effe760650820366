//! RowBinary read back: the types of a table's columns, parsed from ClickHouse's
//! names for them (`system.columns.type`), and rows found or read as values.
//!
//! The sink uses [`row_ends`] to split an INSERT ClickHouse refused as data into its
//! rows (to find the rows it refuses); tests and the fuzz targets use [`read_row`] to
//! check encoders value by value. Only the types RowBinary gives a fixed shape are
//! known: the ClickStack schema's (`String`, `LowCardinality(String)`, `Map`,
//! `Array`, `DateTime`, `DateTime64`, integers, floats, `Bool`) and a few more.

/// A ClickHouse column type, as far as RowBinary's layout goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Type {
    /// A fixed number of little-endian bytes: integers, floats, `Bool`, `Date`,
    /// `DateTime` (4), `DateTime64` (8), `UUID` (16), `FixedString(N)`.
    Fixed(usize),
    /// LEB128 length, then bytes: `String` (and `LowCardinality(String)`).
    String,
    /// LEB128 count, then the items.
    Array(Box<Type>),
    /// LEB128 count, then key, value, key, value…
    Map(Box<Type>, Box<Type>),
    /// One byte (1 = NULL), then the value unless NULL.
    Nullable(Box<Type>),
}

/// A value read back.
#[derive(Clone, Debug, PartialEq)]
pub enum Value<'a> {
    Fixed(&'a [u8]),
    String(&'a [u8]),
    Array(Vec<Value<'a>>),
    Map(Vec<(Value<'a>, Value<'a>)>),
    Null,
}

/// Why bytes are not RowBinary of the given types, or a type name is not known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReadError {
    /// The input ends inside a value that starts at `offset`.
    Truncated { offset: usize },
    /// A type this reader does not know.
    UnknownType(String),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::Truncated { offset } => {
                write!(f, "RowBinary ends inside a value at byte {offset}")
            }
            ReadError::UnknownType(t) => write!(f, "no RowBinary reader for type {t}"),
        }
    }
}

impl std::error::Error for ReadError {}

impl Type {
    /// Parses a ClickHouse type name, e.g. `Map(LowCardinality(String), String)`.
    pub fn parse(name: &str) -> Result<Type, ReadError> {
        let unknown = || ReadError::UnknownType(name.to_owned());
        let name = name.trim();
        let (head, args) = match name.find('(') {
            Some(open) if name.ends_with(')') => {
                (&name[..open], Some(&name[open + 1..name.len() - 1]))
            }
            _ => (name, None),
        };
        let fixed = |n| Ok(Type::Fixed(n));
        match (head, args) {
            ("UInt8" | "Int8" | "Bool", None) => fixed(1),
            ("UInt16" | "Int16" | "Date", None) => fixed(2),
            ("UInt32" | "Int32" | "Float32" | "Date32", None) => fixed(4),
            ("DateTime", _) => fixed(4),
            ("UInt64" | "Int64" | "Float64", None) | ("DateTime64", Some(_)) => fixed(8),
            ("UInt128" | "Int128" | "UUID", None) => fixed(16),
            ("FixedString", Some(n)) => n.trim().parse().map(Type::Fixed).map_err(|_| unknown()),
            ("String", None) => Ok(Type::String),
            ("LowCardinality", Some(inner)) => Type::parse(inner),
            ("Nullable", Some(inner)) => Ok(Type::Nullable(Box::new(Type::parse(inner)?))),
            ("Array", Some(inner)) => Ok(Type::Array(Box::new(Type::parse(inner)?))),
            ("Map", Some(kv)) => {
                let (k, v) = split_top_level(kv).ok_or_else(unknown)?;
                Ok(Type::Map(
                    Box::new(Type::parse(k)?),
                    Box::new(Type::parse(v)?),
                ))
            }
            _ => Err(unknown()),
        }
    }
}

/// `K, V` split at the comma outside any parentheses.
fn split_top_level(s: &str) -> Option<(&str, &str)> {
    let mut depth = 0;
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => return Some((&s[..i], &s[i + 1..])),
            _ => {}
        }
    }
    None
}

fn leb128(buf: &[u8], pos: &mut usize) -> Result<usize, ReadError> {
    let offset = *pos;
    let mut v: u64 = 0;
    for shift in (0..64).step_by(7) {
        let b = *buf.get(*pos).ok_or(ReadError::Truncated { offset })?;
        *pos += 1;
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return usize::try_from(v).map_err(|_| ReadError::Truncated { offset });
        }
    }
    Err(ReadError::Truncated { offset })
}

fn take<'a>(buf: &'a [u8], pos: &mut usize, n: usize) -> Result<&'a [u8], ReadError> {
    let offset = *pos;
    let end = pos.checked_add(n).ok_or(ReadError::Truncated { offset })?;
    let s = buf.get(*pos..end).ok_or(ReadError::Truncated { offset })?;
    *pos = end;
    Ok(s)
}

/// Reads one value of type `t` at `*pos`, moving `*pos` past it.
pub fn read<'a>(t: &Type, buf: &'a [u8], pos: &mut usize) -> Result<Value<'a>, ReadError> {
    Ok(match t {
        Type::Fixed(n) => Value::Fixed(take(buf, pos, *n)?),
        Type::String => {
            let n = leb128(buf, pos)?;
            Value::String(take(buf, pos, n)?)
        }
        Type::Array(item) => {
            let n = leb128(buf, pos)?;
            let mut items = Vec::with_capacity(n.min(buf.len()));
            for _ in 0..n {
                items.push(read(item, buf, pos)?);
            }
            Value::Array(items)
        }
        Type::Map(k, v) => {
            let n = leb128(buf, pos)?;
            let mut entries = Vec::with_capacity(n.min(buf.len()));
            for _ in 0..n {
                let key = read(k, buf, pos)?;
                entries.push((key, read(v, buf, pos)?));
            }
            Value::Map(entries)
        }
        Type::Nullable(inner) => {
            if take(buf, pos, 1)?[0] == 1 {
                Value::Null
            } else {
                read(inner, buf, pos)?
            }
        }
    })
}

/// Moves `*pos` past one value of type `t` without building it.
pub fn skip(t: &Type, buf: &[u8], pos: &mut usize) -> Result<(), ReadError> {
    match t {
        Type::Fixed(n) => {
            take(buf, pos, *n)?;
        }
        Type::String => {
            let n = leb128(buf, pos)?;
            take(buf, pos, n)?;
        }
        Type::Array(item) => {
            for _ in 0..leb128(buf, pos)? {
                skip(item, buf, pos)?;
            }
        }
        Type::Map(k, v) => {
            for _ in 0..leb128(buf, pos)? {
                skip(k, buf, pos)?;
                skip(v, buf, pos)?;
            }
        }
        Type::Nullable(inner) => {
            if take(buf, pos, 1)?[0] != 1 {
                skip(inner, buf, pos)?;
            }
        }
    }
    Ok(())
}

/// Reads one row of `types` at `*pos`.
pub fn read_row<'a>(
    types: &[Type],
    buf: &'a [u8],
    pos: &mut usize,
) -> Result<Vec<Value<'a>>, ReadError> {
    types.iter().map(|t| read(t, buf, pos)).collect()
}

/// Where each row of `buf` ends (RowBinary rows of `types`, back to back).
pub fn row_ends(types: &[Type], buf: &[u8]) -> Result<Vec<usize>, ReadError> {
    let mut ends = Vec::new();
    let mut pos = 0;
    while pos < buf.len() {
        for t in types {
            skip(t, buf, &mut pos)?;
        }
        ends.push(pos);
    }
    Ok(ends)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rowbinary::{write_leb128, write_str};

    #[test]
    fn the_clickstack_types_parse() {
        let map = Type::Map(Box::new(Type::String), Box::new(Type::String));
        assert_eq!(
            Type::parse("Map(LowCardinality(String), String)"),
            Ok(map.clone())
        );
        assert_eq!(
            Type::parse("Array(Map(LowCardinality(String), String))"),
            Ok(Type::Array(Box::new(map)))
        );
        assert_eq!(Type::parse("DateTime64(9)"), Ok(Type::Fixed(8)));
        assert_eq!(Type::parse("DateTime('UTC')"), Ok(Type::Fixed(4)));
        assert_eq!(
            Type::parse("Nullable(UInt32)"),
            Ok(Type::Nullable(Box::new(Type::Fixed(4))))
        );
        assert_eq!(Type::parse("FixedString(16)"), Ok(Type::Fixed(16)));
        assert!(matches!(
            Type::parse("Variant(String, UInt8)"),
            Err(ReadError::UnknownType(_))
        ));
    }

    #[test]
    fn rows_are_found_and_read_back_and_a_cut_row_is_an_error() {
        let types = [
            Type::Fixed(8),
            Type::parse("Map(LowCardinality(String), String)").unwrap(),
            Type::parse("Array(String)").unwrap(),
        ];
        let mut buf = Vec::new();
        for i in 0..3u64 {
            buf.extend_from_slice(&i.to_le_bytes());
            write_leb128(1, &mut buf);
            write_str(b"k", &mut buf);
            write_str(format!("v{i}").as_bytes(), &mut buf);
            write_leb128(i, &mut buf);
            for _ in 0..i {
                write_str(b"item", &mut buf);
            }
        }
        let ends = row_ends(&types, &buf).unwrap();
        assert_eq!(ends.len(), 3);
        assert_eq!(*ends.last().unwrap(), buf.len());
        let mut pos = ends[0];
        let row = read_row(&types, &buf, &mut pos).unwrap();
        assert_eq!(row[0], Value::Fixed(&1u64.to_le_bytes()));
        assert_eq!(
            row[1],
            Value::Map(vec![(Value::String(b"k"), Value::String(b"v1"))])
        );
        assert_eq!(row[2], Value::Array(vec![Value::String(b"item")]));
        assert_eq!(pos, ends[1]);
        // Cut inside the last row's last string: the error points into that row.
        match row_ends(&types, &buf[..buf.len() - 2]) {
            Err(ReadError::Truncated { offset }) => assert!(offset > ends[1] && offset < buf.len()),
            other => panic!("{other:?}"),
        }
    }
}
