//! The rows as ClickHouse stores them: a table's RowBinary read back with the
//! ClickHouse types of its columns (the schema contract, the vendored
//! `clickstack-columns.tsv`) by [`crate::rowbinary::read`], cell by cell against the
//! reference's rows.
//!
//! The reference says what each cell is as an OTLP value; ClickHouse's form of it
//! follows the design's row-value rules, written here from the schema, not from the
//! encoders:
//!
//! | reference cell | ClickHouse type | stored as |
//! |---|---|---|
//! | `Num` (nanoseconds) | `DateTime64(9)` | the same 64 bits, little-endian |
//! | `Num` (nanoseconds) | `DateTime` | whole seconds, saturating at `u32::MAX` |
//! | `Num` | `UInt8`, `Bool`, `UInt32`, `Int32`, `UInt64` | its low bytes, little-endian |
//! | `Float` | `Float64` | its bits |
//! | `Bytes` (an id) | `String` | lowercase hex; empty when every byte is zero (but for exemplars') |
//! | `Str` | `String` | the text (JSON that reads back equal, for arrays and kvlists) |
//! | `Map` | `Map(String, String)` | the entries, in the reference's order |
//! | `Nums`, `Floats` | `Array(UInt64)`, `Array(Float64)` | the items |
//!
//! A nested column (`Events.Name`, `Exemplars.Value`, …) is an array of the
//! reference's cells of that name, one per element.
//!
//! [`logs`], [`traces`] and [`metric_tables`] encode every table of a batch with all
//! its columns and check it so; without a reference (`None`: an input only sluice
//! reads, or ClickStack processing on) the rows are only read back whole.

use crate::columns::logs::LogsBatch;
use crate::columns::metrics::MetricsBatch;
use crate::columns::traces::TracesBatch;
use crate::rowbinary::logs::{LogColumn, encode_logs};
use crate::rowbinary::metrics::{TABLES, columns_of, encode_table};
use crate::rowbinary::read::{Type, Value, read_row};
use crate::rowbinary::traces::{TraceColumn, encode_traces};
use crate::tables::Table;

use super::{Row, Want, check_map, ensure, logs as ref_logs, metrics as ref_metrics, utf8};

/// The schema contract: `table, column, type, kind` a line.
const COLUMNS_TSV: &str = include_str!("../../../../engine/tests/data/clickstack-columns.tsv");

/// The stored columns of `table` in the TSV, in order: (name, ClickHouse type).
pub(crate) fn tsv_columns(table: &str) -> Vec<(&'static str, &'static str)> {
    stored_columns()
        .iter()
        .filter(|(t, _, _, _)| *t == table)
        .map(|(_, c, name, _)| (*c, *name))
        .collect()
}

/// Every stored column of the TSV: table, column, type name, type; read once (the
/// fuzz targets check millions of batches).
fn stored_columns() -> &'static [(&'static str, &'static str, &'static str, Type)] {
    static COLUMNS: std::sync::OnceLock<Vec<(&str, &str, &str, Type)>> = std::sync::OnceLock::new();
    COLUMNS.get_or_init(|| {
        COLUMNS_TSV
            .lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| l.split('\t').collect::<Vec<_>>())
            .filter(|f| f.len() == 4 && f[3] == "stored")
            .map(|f| {
                let ty = Type::parse(f[2]).unwrap_or_else(|e| panic!("{}.{}: {e}", f[0], f[1]));
                (f[0], f[1], f[2], ty)
            })
            .collect()
    })
}

/// `otel_logs` and `hyperdx_sessions`.
pub(crate) fn logs(b: &LogsBatch, want: Option<&ref_logs::Expected>) -> Result<(), String> {
    let logs = want.map_or((b.logs.len(), &[][..]), |w| (w.base.logs, &w.logs[..]));
    let sessions = (b.sessions.len(), &[][..]);
    for (table, rows, (first, wanted)) in [
        (Table::Logs, &b.logs, logs),
        (Table::Sessions, &b.sessions, sessions),
    ] {
        // The table's own columns (`hyperdx_sessions` has no `EventName`), as the
        // engine lists them from `DESCRIBE TABLE`.
        let stored = tsv_columns(table.default_name());
        let cols: Vec<LogColumn> = LogColumn::ALL
            .into_iter()
            .filter(|c| stored.iter().any(|(name, _)| *name == c.name()))
            .collect();
        let columns: Vec<&str> = cols.iter().map(|c| c.name()).collect();
        let mut out = Vec::new();
        encode_logs(
            rows,
            &b.resources,
            &b.scopes,
            &cols,
            0..rows.len(),
            &mut out,
        );
        check_table(
            table.default_name(),
            &columns,
            &out,
            rows.len(),
            first,
            wanted,
        )?;
    }
    Ok(())
}

/// `otel_traces`.
/// `want`: the first new row and the reference's rows.
pub(crate) fn traces(b: &TracesBatch, want: Option<(usize, &[Row<Want>])>) -> Result<(), String> {
    let columns: Vec<&str> = TraceColumn::ALL.iter().map(|c| c.name()).collect();
    let (first, wanted) = want.unwrap_or((b.rows(), &[]));
    let mut out = Vec::new();
    encode_traces(b, &TraceColumn::ALL, 0..b.rows(), &mut out);
    check_table(
        Table::Traces.default_name(),
        &columns,
        &out,
        b.rows(),
        first,
        wanted,
    )
}

/// The five `otel_metrics_*` tables.
pub(crate) fn metric_tables(
    b: &MetricsBatch,
    want: Option<&ref_metrics::Expected>,
) -> Result<(), String> {
    let rows = b.points();
    for (t, table) in TABLES.into_iter().enumerate() {
        let columns: Vec<&str> = columns_of(table).iter().map(|c| c.name()).collect();
        let (first, wanted) =
            want.map_or((rows[t], &[][..]), |w| (w.base.points[t], &w.tables[t][..]));
        let mut out = Vec::new();
        encode_table(b, table, columns_of(table), &mut out);
        check_table(table.default_name(), &columns, &out, rows[t], first, wanted)?;
    }
    Ok(())
}

/// Reads `bytes`, the RowBinary of `rows` rows of `table` with `columns` (in that
/// order), and checks the rows from `first` on against `want`: the bytes hold exactly
/// `rows` rows, and every column of a wanted row is the reference's cell.
pub(crate) fn check_table(
    table: &str,
    columns: &[&str],
    bytes: &[u8],
    rows: usize,
    first: usize,
    want: &[Row<Want>],
) -> Result<(), String> {
    let mut types = Vec::with_capacity(columns.len());
    for &c in columns {
        let (_, _, name, ty) = stored_columns()
            .iter()
            .find(|(t, k, _, _)| *t == table && *k == c)
            .ok_or_else(|| format!("{table}.{c} is not a stored column of the schema"))?;
        types.push((c, *name, ty));
    }
    let parse: Vec<Type> = types.iter().map(|(_, _, t)| (*t).clone()).collect();
    let mut pos = 0;
    let mut read: usize = 0;
    while pos < bytes.len() {
        let values =
            read_row(&parse, bytes, &mut pos).map_err(|e| format!("{table} row {read}: {e}"))?;
        if let Some(w) = read.checked_sub(first).and_then(|n| want.get(n)) {
            for ((column, name, ty), got) in types.iter().zip(&values) {
                check_column(column, name, ty, got, w)
                    .map_err(|why| format!("{table} row {read}, column {column}: {why}"))?;
            }
        }
        read += 1;
    }
    ensure!(
        read == rows,
        "{table}: {read} rows read back, {rows} encoded"
    );
    ensure!(
        first + want.len() <= rows,
        "{table}: {rows} rows, the reference wants rows {first}..{}",
        first + want.len()
    );
    Ok(())
}

/// A cell of the reference, or an item of its `Nums` / `Floats` list.
#[derive(Clone, Copy, Debug)]
enum Cell<'a> {
    Want(&'a Want),
    Num(u64),
    Float(f64),
}

fn check_column(
    column: &str,
    type_name: &str,
    ty: &Type,
    got: &Value<'_>,
    want: &Row<Want>,
) -> Result<(), String> {
    let cells: Vec<&Want> = want
        .iter()
        .filter(|(c, _)| *c == column)
        .map(|(_, w)| w)
        .collect();
    match ty {
        Type::Array(inner) => {
            let Value::Array(items) = got else {
                return Err("not an array".into());
            };
            let expect: Vec<Cell<'_>> = match cells.as_slice() {
                [Want::Nums(v)] => v.iter().map(|&n| Cell::Num(n)).collect(),
                [Want::Floats(v)] => v.iter().map(|&f| Cell::Float(f)).collect(),
                _ => {
                    // A nested column: the reference counts its elements in `(name)`.
                    let group = column.split('.').next().unwrap_or(column).to_lowercase();
                    let counted = want.iter().any(|(c, _)| *c == format!("({group})"));
                    ensure!(
                        counted || !cells.is_empty(),
                        "the reference has no cell for it"
                    );
                    cells.iter().map(|w| Cell::Want(w)).collect()
                }
            };
            ensure!(
                items.len() == expect.len(),
                "{} items, expected {}",
                items.len(),
                expect.len()
            );
            let inner_name = type_name
                .strip_prefix("Array(")
                .and_then(|t| t.strip_suffix(')'))
                .unwrap_or(type_name);
            for (i, (item, cell)) in items.iter().zip(expect).enumerate() {
                scalar(column, inner_name, inner, item, cell)
                    .map_err(|why| format!("item {i}: {why}"))?;
            }
            Ok(())
        }
        _ => match cells.as_slice() {
            [w] => scalar(column, type_name, ty, got, Cell::Want(w)),
            [] => Err("the reference has no cell for it".into()),
            _ => Err(format!("the reference has {} cells for it", cells.len())),
        },
    }
}

fn scalar(
    column: &str,
    type_name: &str,
    ty: &Type,
    got: &Value<'_>,
    want: Cell<'_>,
) -> Result<(), String> {
    let base = type_name
        .strip_prefix("LowCardinality(")
        .and_then(|t| t.strip_suffix(')'))
        .unwrap_or(type_name);
    let number = match want {
        Cell::Num(n) | Cell::Want(&Want::Num(n)) => Some(n),
        _ => None,
    };
    let float = match want {
        Cell::Float(f) | Cell::Want(&Want::Float(f)) => Some(f),
        _ => None,
    };
    let expected: Vec<u8> = match (got, ty) {
        (Value::Fixed(_), Type::Fixed(width)) => match (number, float) {
            (Some(ns), _) if base == "DateTime" => {
                (ns / 1_000_000_000).min(u64::from(u32::MAX)).to_le_bytes()[..4].to_vec()
            }
            (Some(n), _) => n.to_le_bytes()[..(*width).min(8)].to_vec(),
            (_, Some(f)) => f.to_bits().to_le_bytes().to_vec(),
            _ => return Err(format!("a {base} for {want:?}")),
        },
        (Value::String(s), _) => {
            let text = utf8(s);
            return match want {
                Cell::Want(Want::Str(go)) => {
                    ensure!(go.matches(&text), "{text:?}, expected {go:?}");
                    Ok(())
                }
                Cell::Want(Want::Bytes(id)) => {
                    // The exporter writes exemplar ids with `hex.EncodeToString`, the
                    // others with `TraceIDToHexOrEmptyString`.
                    let hex = if id.iter().all(|&b| b == 0) && !column.starts_with("Exemplars.") {
                        String::new()
                    } else {
                        id.iter().map(|b| format!("{b:02x}")).collect()
                    };
                    ensure!(text == hex, "{text:?}, expected the id {hex:?}");
                    Ok(())
                }
                _ => Err(format!("a string {text:?} for {want:?}")),
            };
        }
        (Value::Map(entries), _) => {
            let Cell::Want(Want::Map(w)) = want else {
                return Err(format!("a map for {want:?}"));
            };
            let got: Vec<(String, String)> = entries
                .iter()
                .map(|(k, v)| match (k, v) {
                    (Value::String(k), Value::String(v)) => Ok((utf8(k), utf8(v))),
                    _ => Err("a map entry that is not two strings".to_string()),
                })
                .collect::<Result<_, _>>()?;
            return check_map(w, &got);
        }
        _ => return Err(format!("{got:?} for {want:?}")),
    };
    let Value::Fixed(bytes) = got else {
        unreachable!("matched above")
    };
    ensure!(
        *bytes == expected.as_slice(),
        "{bytes:02x?}, expected {expected:02x?} ({want:?})"
    );
    Ok(())
}
