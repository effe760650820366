//! The reference mapping: the rows a request, as prost reads it into the
//! `opentelemetry-proto` types, must add to each table, and the check of a decoded
//! batch against them, cell by cell. Compiled for tests and for the fuzz bridges
//! (`cfg(fuzzing)`), never into sluice itself.
//!
//! Each signal's mapping (`expected`) is written from the column table of its
//! decoder's module doc and the Go collector's behaviour, not from the decoder's code;
//! `AnyValue`s go through the Go model of [`go`]. The property tests feed it random
//! requests built with prost; the fuzz targets feed it whatever prost (or, for
//! OTLP/JSON, opentelemetry-proto's serde reader) accepts.
//!
//! | module | what |
//! |---|---|
//! | [`go`] | the Go collector's `AsString` of an `AnyValue` |
//! | [`cells`] | the cells compared: [`Want`] (the reference's), [`Got`] (the columns') |
//! | [`logs`] | `otel_logs`, resources and scopes |
//! | [`traces`] | `otel_traces`, events and links |
//! | [`metrics`] | the five `otel_metrics_*` tables |
//! | [`divergence`] | the valid requests sluice reads differently from prost, by design |
//! | [`stored`] | a table's RowBinary read back with the schema's types, against the rows |
//! | [`json_reader`] | where opentelemetry-proto's serde reader, the OTLP/JSON reference, can be trusted |

use opentelemetry_proto::tonic::common::v1::{KeyValue, any_value::Value};

use crate::otlp::common::SERVICE_NAME;

mod cells;
pub(crate) mod divergence;
mod go;
pub(crate) mod json_reader;
pub(crate) mod logs;
pub(crate) mod metrics;
pub(crate) mod stored;
pub(crate) mod traces;

pub(crate) use cells::*;
pub(crate) use go::*;

/// Returns `Err(message)` from the enclosing function unless `cond` holds.
macro_rules! ensure {
    ($cond:expr, $($why:tt)+) => {
        if !$cond {
            return Err(format!($($why)+));
        }
    };
}
pub(crate) use ensure;

/// An id as the columns hold it: absent ids as `len` zeros.
pub(crate) fn id(id: &[u8], len: usize) -> Want {
    Want::Bytes(if id.is_empty() {
        vec![0; len]
    } else {
        id.to_vec()
    })
}

/// The exporter reads `Get("service.name").Str()`: pdata's `Get` finds the first
/// entry with the key, and `Str()` is empty unless that value is a string.
pub(crate) fn service_name(attributes: &[KeyValue]) -> &str {
    attributes
        .iter()
        .find(|kv| kv.key == SERVICE_NAME)
        .and_then(|kv| match kv.value.as_ref()?.value.as_ref()? {
            Value::StringValue(s) => Some(s.as_str()),
            _ => None,
        })
        .unwrap_or("")
}

/// One row of `table`, the reference's against the columns': the same columns in the
/// same order, every cell equal.
pub(crate) fn check_row(
    table: &str,
    row: usize,
    want: &Row<Want>,
    got: &Row<Got>,
) -> Result<(), String> {
    let want_columns: Vec<&str> = want.iter().map(|(c, _)| *c).collect();
    let got_columns: Vec<&str> = got.iter().map(|(c, _)| *c).collect();
    ensure!(
        want_columns == got_columns,
        "{table} row {row}: columns {got_columns:?}, expected {want_columns:?}"
    );
    for ((column, w), (_, g)) in want.iter().zip(got) {
        if let Err(why) = check_cell(w, g) {
            return Err(format!(
                "{table} row {row}, column {column}: {why}\n  expected: {w:?}\n  actual:   {g:?}"
            ));
        }
    }
    Ok(())
}

/// Every length in `lens` is `n`.
pub(crate) fn same_len(what: &str, n: usize, lens: &[usize]) -> Result<(), String> {
    ensure!(lens.iter().all(|&l| l == n), "{what}: {lens:?} vs {n}");
    Ok(())
}
