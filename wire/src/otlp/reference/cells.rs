//! The cells a reference mapping writes ([`Want`]) and a decoder's columns give
//! ([`Got`]), and how they are compared.

use std::collections::BTreeMap;

use opentelemetry_proto::tonic::common::v1::KeyValue;

use super::{GoString, go_as_string};
use crate::columns::{Maps, Strings};

/// A cell as the reference mapping wants it.
#[derive(Debug)]
pub(crate) enum Want {
    Num(u64),
    /// A double, compared bit for bit (NaN payloads and -0 included).
    Float(f64),
    /// An `Array(UInt64)`.
    Nums(Vec<u64>),
    /// An `Array(Float64)`, compared bit for bit.
    Floats(Vec<f64>),
    Bytes(Vec<u8>),
    Str(GoString),
    /// A `Map(String, String)`, in the order the decoder keeps (see [`go_map`]).
    Map(Vec<(String, GoString)>),
}

/// A cell as the decoder wrote it.
#[derive(Debug)]
pub(crate) enum Got {
    Num(u64),
    Float(f64),
    Nums(Vec<u64>),
    Floats(Vec<f64>),
    Bytes(Vec<u8>),
    Str(String),
    Map(Vec<(String, String)>),
}

/// A row: (column, cell) in a fixed order, the same for [`Want`] and [`Got`].
pub(crate) type Row<T> = Vec<(&'static str, T)>;

pub(crate) fn text_cell(s: &str) -> Want {
    Want::Str(GoString::Text(s.to_owned()))
}

/// Attributes as the collector's exporter stores them: a Go map of `AsString`s, so a
/// repeated key keeps its last value. In the order the decoder documents
/// (`Maps::finish_row`): each key once, where its last occurrence stood.
pub(crate) fn go_map(attrs: &[KeyValue]) -> Want {
    let entries = attrs
        .iter()
        .enumerate()
        .filter(|(i, kv)| !attrs[i + 1..].iter().any(|later| later.key == kv.key))
        .map(|(_, kv)| (kv.key.clone(), go_as_string(kv.value.as_ref())))
        .collect();
    Want::Map(entries)
}

pub(crate) fn utf8(b: &[u8]) -> String {
    String::from_utf8(b.to_vec()).expect("columns hold UTF-8")
}

pub(crate) fn got_str(col: &Strings, i: usize) -> Got {
    Got::Str(utf8(col.get(i)))
}

pub(crate) fn got_map(col: &Maps, i: usize) -> Got {
    Got::Map(col.row(i).map(|(k, v)| (utf8(k), utf8(v))).collect())
}

pub(crate) fn check_cell(want: &Want, got: &Got) -> Result<(), String> {
    match (want, got) {
        (Want::Num(w), Got::Num(g)) if w == g => Ok(()),
        (Want::Float(w), Got::Float(g)) if w.to_bits() == g.to_bits() => Ok(()),
        (Want::Nums(w), Got::Nums(g)) if w == g => Ok(()),
        (Want::Floats(w), Got::Floats(g)) if same_bits(w, g) => Ok(()),
        (Want::Bytes(w), Got::Bytes(g)) if w == g => Ok(()),
        (Want::Str(w), Got::Str(g)) if w.matches(g) => Ok(()),
        (Want::Map(w), Got::Map(g)) => check_map(w, g),
        _ => Err("differs".into()),
    }
}

fn same_bits(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(a, b)| a.to_bits() == b.to_bits())
}

/// First as maps (the same keys, each value as Go stringifies the last occurrence),
/// then the order of the keys: the decoder's documented order, each key where its
/// last occurrence stood.
pub(crate) fn check_map(
    want: &[(String, GoString)],
    got: &[(String, String)],
) -> Result<(), String> {
    let got_map: BTreeMap<&str, &str> = got.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    if got_map.len() != got.len() {
        return Err("a key is stored twice".into());
    }
    let want_map: BTreeMap<&str, &GoString> = want.iter().map(|(k, v)| (k.as_str(), v)).collect();
    for (k, w) in &want_map {
        match got_map.get(k) {
            None => return Err(format!("key {k:?} missing")),
            Some(g) if !w.matches(g) => {
                return Err(format!("key {k:?}: expected {w:?}, got {g:?}"));
            }
            Some(_) => {}
        }
    }
    if let Some(k) = got_map.keys().find(|k| !want_map.contains_key(*k)) {
        return Err(format!("unexpected key {k:?}"));
    }
    let want_keys: Vec<&str> = want.iter().map(|(k, _)| k.as_str()).collect();
    let got_keys: Vec<&str> = got.iter().map(|(k, _)| k.as_str()).collect();
    if want_keys != got_keys {
        return Err(format!(
            "keys in order {got_keys:?}, expected {want_keys:?}"
        ));
    }
    Ok(())
}
