//! A model of what the Go collector makes of an `AnyValue`
//! (`pcommon.Value.AsString`), written from Go's rules (strconv, encoding/json,
//! base64) rather than from sluice's code, so that the two can be checked against each
//! other.
//!
//! Arrays and kvlists are `serde_json` values, compared with what sluice wrote after
//! serde_json has read it back ([`GoString::matches`]): the text must be valid JSON
//! that decodes to the original strings, numbers and structure.

use std::collections::BTreeMap;
use std::fmt;

use opentelemetry_proto::tonic::common::v1::{AnyValue, any_value::Value as V};
use serde_json::Value as Json;

/// What `pcommon.Value.AsString()` must return.
#[derive(Clone, PartialEq)]
pub(crate) enum GoString {
    /// Exactly this text.
    Text(String),
    /// JSON (an array or kvlist) that reads back as this value; see [`same_json`].
    Json(Json),
}

impl GoString {
    /// Whether `got` is what Go writes.
    pub(crate) fn matches(&self, got: &str) -> bool {
        match self {
            GoString::Text(want) => got == want,
            GoString::Json(want) => {
                serde_json::from_str::<Json>(got).is_ok_and(|got| same_json(&got, want))
            }
        }
    }
}

impl fmt::Debug for GoString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GoString::Text(s) => write!(f, "{s:?}"),
            GoString::Json(j) => write!(f, "JSON equal to {j}"),
        }
    }
}

/// Go's `pcommon.Value.AsString()` of `v` (`None`: no value at all).
pub(crate) fn go_as_string(v: Option<&AnyValue>) -> GoString {
    let text = match v.and_then(|v| v.value.as_ref()) {
        None => String::new(),
        Some(V::StringValue(s)) => s.clone(),
        Some(V::BoolValue(b)) => b.to_string(),
        Some(V::IntValue(i)) => i.to_string(),
        Some(V::DoubleValue(d)) => go_float(*d),
        Some(V::BytesValue(b)) => base64(b),
        // pdata ignores the encoder's error (NaN, ±Inf inside) and returns "".
        Some(V::ArrayValue(_) | V::KvlistValue(_)) => {
            return go_json(v).map_or(GoString::Text(String::new()), GoString::Json);
        }
        // A string-table reference (profiles only): the collector's exporters have no
        // table to look it up in, and sluice reads the field as unknown.
        Some(V::StringValueStrindex(_)) => String::new(),
    };
    GoString::Text(text)
}

/// Go's `json.Marshal(v.AsRaw())`; `None` where Go's encoder fails (NaN, ±Inf).
pub(crate) fn go_json(v: Option<&AnyValue>) -> Option<Json> {
    Some(match v.and_then(|v| v.value.as_ref()) {
        None => Json::Null,
        Some(V::StringValue(s)) => Json::from(s.as_str()),
        Some(V::BoolValue(b)) => Json::from(*b),
        Some(V::IntValue(i)) => Json::from(*i),
        Some(V::DoubleValue(d)) => Json::from(serde_json::Number::from_f64(*d)?),
        // `AsRaw` of empty bytes is a nil `[]byte`, which Go encodes as null.
        Some(V::BytesValue(b)) if b.is_empty() => Json::Null,
        Some(V::BytesValue(b)) => Json::from(base64(b)),
        Some(V::ArrayValue(a)) => Json::Array(
            a.values
                .iter()
                .map(|v| go_json(Some(v)))
                .collect::<Option<_>>()?,
        ),
        Some(V::KvlistValue(l)) => {
            // The Go map keeps the last value of a repeated key; only those are encoded.
            let last: BTreeMap<&str, Option<&AnyValue>> = l
                .values
                .iter()
                .map(|kv| (kv.key.as_str(), kv.value.as_ref()))
                .collect();
            let mut map = serde_json::Map::new();
            for (k, v) in last {
                map.insert(k.to_string(), go_json(v)?);
            }
            Json::Object(map)
        }
        // As an empty value (see go_as_string).
        Some(V::StringValueStrindex(_)) => Json::Null,
    })
}

/// Equal JSON, numbers compared as numbers (`1` for 1.0; serde_json, without its
/// `float_roundtrip` feature, may read a float an ULP or so off).
pub(crate) fn same_json(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Number(x), Json::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(x), Some(y)) => x == y,
            _ => {
                let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
                // A few ULPs apart (`to_bits` orders finite doubles of one sign);
                // a relative bound would fail subnormals.
                x == y
                    || (x.is_sign_negative() == y.is_sign_negative()
                        && x.to_bits().abs_diff(y.to_bits()) <= 4)
            }
        },
        (Json::Array(x), Json::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_json(x, y))
        }
        (Json::Object(x), Json::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((kx, x), (ky, y))| kx == ky && same_json(x, y))
        }
        _ => a == b,
    }
}

/// Go's `float64AsString`: `strconv.FormatFloat(d, 'f', -1, 64)`, or `'e'` with the
/// exponent's leading zeros cut for `|d| < 1e-6` and `|d| >= 1e21`, as
/// `encoding/json` does; `NaN`, `Infinity`, `-Infinity` for the others. Built from
/// Rust's shortest round-trip digits (`{:e}`).
/// `core::fmt`'s shortest digits break an exact tie between two shortest candidates
/// upwards; Go's strconv breaks it to even. `digits` are `core::fmt`'s; when they end
/// in an odd digit, the value is checked against the exact midpoint below them (the
/// exact decimal expansion of a double has at most 767 significant digits).
fn go_tie_to_even(d: f64, digits: String) -> String {
    let last = digits.as_bytes()[digits.len() - 1];
    if (last - b'0').is_multiple_of(2) {
        return digits;
    }
    let exact = format!("{:.767e}", d.abs());
    let exact: String = exact.split('e').next().unwrap().replace('.', "");
    let mut lower = digits.clone().into_bytes();
    *lower.last_mut().unwrap() -= 1;
    let lower = String::from_utf8(lower).unwrap();
    let midpoint = format!("{lower}5");
    let is_tie = exact.starts_with(&midpoint) && exact[midpoint.len()..].bytes().all(|b| b == b'0');
    if is_tie { lower } else { digits }
}

pub(crate) fn go_float(d: f64) -> String {
    if d.is_nan() {
        return "NaN".into();
    }
    if d.is_infinite() {
        return if d > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    let sci = format!("{d:e}"); // "-1.25e-7", "0e0"
    let (mantissa, exp) = sci.split_once('e').expect("exponent form");
    let exp: i32 = exp.parse().expect("exponent");
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa),
    };
    let digits = go_tie_to_even(d, mantissa.replace('.', ""));
    let abs = d.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let (first, rest) = digits.split_at(1);
        let dot = if rest.is_empty() { "" } else { "." };
        let exp_sign = if exp < 0 { '-' } else { '+' };
        return format!("{sign}{first}{dot}{rest}e{exp_sign}{}", exp.unsigned_abs());
    }
    let n = digits.len() as i32;
    if exp < 0 {
        let zeros = "0".repeat((-exp - 1) as usize);
        format!("{sign}0.{zeros}{digits}")
    } else if exp >= n - 1 {
        let zeros = "0".repeat((exp - n + 1) as usize);
        format!("{sign}{digits}{zeros}")
    } else {
        let (int, frac) = digits.split_at(exp as usize + 1);
        format!("{sign}{int}.{frac}")
    }
}

/// Go's `base64.StdEncoding.EncodeToString`: standard alphabet, padded.
pub(crate) fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let mut group = [0u8; 4];
        group[1..=chunk.len()].copy_from_slice(chunk);
        let bits = u32::from_be_bytes(group);
        // 3 bytes make 4 sextets; n bytes make n + 1, and `=` pads the rest.
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((bits >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[test]
fn the_model_formats_as_go_does() {
    // Outputs of Go's strconv / encoding/json for these inputs.
    let floats = [
        (0.0, "0"),
        (-0.0, "-0"),
        (1.0, "1"),
        (-1.5, "-1.5"),
        (100.0, "100"),
        (0.1, "0.1"),
        (1e-6, "0.000001"),
        (1.5e-7, "1.5e-7"),
        (1e20, "100000000000000000000"),
        (1e21, "1e+21"),
        (123456789.125, "123456789.125"),
        (f64::MAX, "1.7976931348623157e+308"),
        (5e-324, "5e-324"),
    ];
    for (d, want) in floats {
        assert_eq!(go_float(d), want, "{d:e}");
    }
    for (data, want) in [
        (&b""[..], ""),
        (b"f", "Zg=="),
        (b"fo", "Zm8="),
        (b"foo", "Zm9v"),
        (b"\xff\xfe\xfd\xfc", "//79/A=="),
    ] {
        assert_eq!(base64(data), want);
    }
}
