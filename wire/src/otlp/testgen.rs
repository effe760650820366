//! Test generators shared by the OTLP decoder tests: proptest strategies for
//! `opentelemetry-proto` (prost) values (attributes, resources, scopes, spans, trace
//! requests, metric requests of all five kinds) and for damage to encoded requests.
//! What the decoded rows must be is [`reference`](crate::otlp::reference)'s.

use opentelemetry_proto::tonic::common::v1::{
    AnyValue, ArrayValue, KeyValue, KeyValueList, any_value::Value as V,
};
use proptest::collection::vec;
use proptest::prelude::*;

mod metrics;
mod requests;

pub(crate) use metrics::*;
pub(crate) use requests::*;

// ---- strategies ----

/// Text as telemetry carries it: mostly short ASCII; sometimes quotes, backslashes,
/// control characters, HTML characters, U+2028/U+2029 and other non-ASCII text;
/// sometimes any string at all.
pub(crate) fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => "[a-z0-9._/ -]{0,10}",
        2 => "[\"\\\\<>&\\x00-\\x1f\\x7f\u{2028}\u{2029}é€😀a-c]{0,6}",
        1 => any::<String>(),
    ]
}

/// An `AnyValue` that holds no array or kvlist (or nothing at all).
pub(crate) fn leaf() -> impl Strategy<Value = AnyValue> {
    prop_oneof![
        Just(None),
        text().prop_map(|s| Some(V::StringValue(s))),
        any::<bool>().prop_map(|b| Some(V::BoolValue(b))),
        any::<i64>().prop_map(|i| Some(V::IntValue(i))),
        any::<f64>().prop_map(|d| Some(V::DoubleValue(d))),
        prop_oneof![Just(f64::NAN), Just(f64::INFINITY), Just(f64::NEG_INFINITY)]
            .prop_map(|d| Some(V::DoubleValue(d))),
        vec(any::<u8>(), 0..6).prop_map(|b| Some(V::BytesValue(b))),
    ]
    .prop_map(|value| AnyValue { value })
}

/// An `AnyValue` tree: leaves, arrays and kvlists, a few levels deep. Kvlist keys
/// come from a small set, so repeated keys are common.
pub(crate) fn any_value() -> impl Strategy<Value = AnyValue> {
    leaf().prop_recursive(4, 40, 5, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..5).prop_map(|values| AnyValue {
                value: Some(V::ArrayValue(ArrayValue { values }))
            }),
            vec(("[ab]{0,2}", proptest::option::of(inner)), 0..5).prop_map(|entries| {
                let values = entries
                    .into_iter()
                    .map(|(key, value)| KeyValue {
                        key,
                        value,
                        ..Default::default()
                    })
                    .collect();
                AnyValue {
                    value: Some(V::KvlistValue(KeyValueList { values })),
                }
            }),
        ]
    })
}

/// An attribute's value: mostly a leaf, sometimes a tree, sometimes absent.
pub(crate) fn attribute_value() -> impl Strategy<Value = Option<AnyValue>> {
    prop_oneof![
        1 => Just(None),
        6 => leaf().prop_map(Some),
        2 => any_value().prop_map(Some),
    ]
}

/// A `KeyValue` with its key from `key`. Now and then it also carries `key_strindex`
/// (field 3, used by profiles only), a field the log decoders do not know and skip.
pub(crate) fn key_value(key: impl Strategy<Value = String>) -> impl Strategy<Value = KeyValue> {
    let strindex = prop_oneof![8 => Just(0), 1 => any::<i32>()];
    (key, attribute_value(), strindex).prop_map(|(key, value, key_strindex)| KeyValue {
        key,
        value,
        key_strindex,
    })
}
