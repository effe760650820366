//! Strategies for whole requests' parts: attributes, resources, scopes (every
//! signal's), spans and trace requests; and damage done to encoded requests.

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{
    AnyValue, EntityRef, InstrumentationScope, KeyValue, any_value::Value as V,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status, span};
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use proptest::sample::{Index, select};

use super::{attribute_value, key_value, text};
use crate::otlp::common::SERVICE_NAME;

// ---- strategies: the parts of requests every signal shares ----

/// Attribute keys come mostly from this pool, so that a record repeats a key now and
/// then; it holds the keys ClickStack processing looks at, plain attributes here.
pub(crate) const KEYS: &[&str] = &[
    "a",
    "b",
    "level",
    "http.method",
    SERVICE_NAME,
    "rr-web.event",
    "é",
    "q\"k",
    "",
];

pub(crate) fn attributes(max: usize) -> impl Strategy<Value = Vec<KeyValue>> {
    let key = prop_oneof![6 => select(KEYS).prop_map(String::from), 1 => text()];
    vec(key_value(key), 0..=max)
}

/// Counts that ClickHouse does not store: usually zero, sometimes anything.
pub(crate) fn dropped() -> impl Strategy<Value = u32> {
    prop_oneof![3 => Just(0), 1 => any::<u32>()]
}

/// Resource attributes with, half the time, a `service.name` at a random place:
/// mostly a string, sometimes another kind or no value (the pool may add another).
pub(crate) fn resource_attributes() -> impl Strategy<Value = Vec<KeyValue>> {
    let service = prop_oneof![
        3 => text().prop_map(|s| Some(AnyValue { value: Some(V::StringValue(s)) })),
        1 => attribute_value(),
    ];
    (attributes(4), option::of((any::<Index>(), service))).prop_map(|(mut attrs, service)| {
        if let Some((at, value)) = service {
            let kv = KeyValue {
                key: SERVICE_NAME.into(),
                value,
                ..Default::default()
            };
            attrs.insert(at.index(attrs.len() + 1), kv);
        }
        attrs
    })
}

pub(crate) fn resource() -> impl Strategy<Value = Option<Resource>> {
    // `entity_refs` (field 3) is a field the decoder does not know: it must skip it.
    let entity_refs = prop_oneof![
        3 => Just(vec![]),
        1 => Just(vec![EntityRef {
            r#type: "service".into(),
            id_keys: vec![SERVICE_NAME.into()],
            ..Default::default()
        }]),
    ];
    let resource = (resource_attributes(), dropped(), entity_refs).prop_map(
        |(attributes, dropped_attributes_count, entity_refs)| Resource {
            attributes,
            dropped_attributes_count,
            entity_refs,
        },
    );
    option::weighted(0.9, resource)
}

pub(crate) fn scope() -> impl Strategy<Value = Option<InstrumentationScope>> {
    let scope = (text(), text(), attributes(3), dropped()).prop_map(
        |(name, version, attributes, dropped_attributes_count)| InstrumentationScope {
            name,
            version,
            attributes,
            dropped_attributes_count,
        },
    );
    option::weighted(0.9, scope)
}

// ---- strategies: spans ----

/// A trace id (`len` 16) or span id (8): absent (empty) or `len` random bytes.
pub(crate) fn id(len: usize) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![1 => Just(vec![]), 3 => vec(any::<u8>(), len)]
}

/// A timestamp: zero now and then, else any `fixed64`.
pub(crate) fn time() -> impl Strategy<Value = u64> {
    prop_oneof![1 => Just(0), 3 => any::<u64>()]
}

/// An enum's number: mostly one of `0..=max`, sometimes any `int32`.
pub(crate) fn enum_number(max: i32) -> impl Strategy<Value = i32> {
    prop_oneof![4 => 0..=max, 1 => any::<i32>()]
}

pub(crate) fn span_event() -> impl Strategy<Value = span::Event> {
    (time(), text(), attributes(3), dropped()).prop_map(
        |(time_unix_nano, name, attributes, dropped_attributes_count)| span::Event {
            time_unix_nano,
            name,
            attributes,
            dropped_attributes_count,
        },
    )
}

pub(crate) fn span_link() -> impl Strategy<Value = span::Link> {
    (
        id(16),
        id(8),
        text(),
        attributes(3),
        dropped(),
        any::<u32>(),
    )
        .prop_map(
            |(trace_id, span_id, trace_state, attributes, dropped_attributes_count, flags)| {
                span::Link {
                    trace_id,
                    span_id,
                    trace_state,
                    attributes,
                    dropped_attributes_count,
                    flags,
                }
            },
        )
}

/// A `Span` with every field random: a root span now and then, events and links
/// mostly few, status often absent.
pub(crate) fn span() -> impl Strategy<Value = Span> {
    let status =
        option::of((text(), enum_number(2)).prop_map(|(message, code)| Status { message, code }));
    (
        (id(16), id(8), text(), id(8), any::<u32>(), text()),
        (enum_number(5), time(), time(), attributes(8), dropped()),
        (
            vec(span_event(), 0..=2),
            dropped(),
            vec(span_link(), 0..=2),
            dropped(),
            status,
        ),
    )
        .prop_map(
            |(
                (trace_id, span_id, trace_state, parent_span_id, flags, name),
                (
                    kind,
                    start_time_unix_nano,
                    end_time_unix_nano,
                    attributes,
                    dropped_attributes_count,
                ),
                (events, dropped_events_count, links, dropped_links_count, status),
            )| Span {
                trace_id,
                span_id,
                trace_state,
                parent_span_id,
                flags,
                name,
                kind,
                start_time_unix_nano,
                end_time_unix_nano,
                attributes,
                dropped_attributes_count,
                events,
                dropped_events_count,
                links,
                dropped_links_count,
                status,
            },
        )
}

/// An `ExportTraceServiceRequest` of a few resources, scopes and spans.
pub(crate) fn trace_request() -> impl Strategy<Value = ExportTraceServiceRequest> {
    let scope_spans =
        (scope(), vec(span(), 0..=4), text()).prop_map(|(scope, spans, schema_url)| ScopeSpans {
            scope,
            spans,
            schema_url,
        });
    let resource_spans = (resource(), vec(scope_spans, 0..=2), text()).prop_map(
        |(resource, scope_spans, schema_url)| ResourceSpans {
            resource,
            scope_spans,
            schema_url,
        },
    );
    vec(resource_spans, 0..=3)
        .prop_map(|resource_spans| ExportTraceServiceRequest { resource_spans })
}

// ---- damage ----

/// Damage done to an encoded request.
#[derive(Clone, Debug)]
pub(crate) enum Damage {
    /// XOR one byte with a non-zero mask.
    Flip(Index, u8),
    /// Cut the request short.
    Truncate(Index),
}

pub(crate) fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        3 => (any::<Index>(), 1..=u8::MAX).prop_map(|(at, mask)| Damage::Flip(at, mask)),
        1 => any::<Index>().prop_map(Damage::Truncate),
    ]
}

pub(crate) fn apply(damage: &[Damage], bytes: &mut Vec<u8>) {
    for d in damage {
        if bytes.is_empty() {
            return;
        }
        match d {
            Damage::Flip(at, mask) => {
                let at = at.index(bytes.len());
                bytes[at] ^= mask;
            }
            Damage::Truncate(at) => bytes.truncate(at.index(bytes.len())),
        }
    }
}
