//! Traces: HTTP spans in traces of [`SPANS_PER_TRACE`].

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status, span};

use super::{
    METHODS, ROUTES, Rng, SPAN_KEYS, SPANS_PER_TRACE, Shape, Stamps, attributes, group_len, kv,
    now_nanos, resource, scope, seq_attr, text,
};

/// A traces request of `shape`, pool entry `variant`: spans in traces of
/// [`SPANS_PER_TRACE`], a server root and client / internal children.
pub fn traces(shape: &Shape, stamps: &Stamps, variant: u64) -> ExportTraceServiceRequest {
    let mut rng = Rng::new(shape.seed ^ variant.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0x5eed);
    let t0 = now_nanos();
    let groups = shape.resources * shape.scopes;
    let mut ordinal = 0;
    let resource_spans = (0..shape.resources)
        .map(|r| ResourceSpans {
            resource: Some(resource(r, variant, stamps)),
            scope_spans: (0..shape.scopes)
                .map(|s| {
                    let n = group_len(shape.records, groups, r * shape.scopes + s);
                    let mut trace_id = Vec::new();
                    let mut parent = Vec::new();
                    let spans = (0..n)
                        .map(|j| {
                            let i = ordinal;
                            ordinal += 1;
                            let root = j % SPANS_PER_TRACE == 0;
                            if root {
                                trace_id = rng.id(16);
                                parent = Vec::new();
                            }
                            let span_id = rng.id(8);
                            let start = t0 + i as u64 * 10_000;
                            let mut attributes = attributes(
                                &mut rng,
                                SPAN_KEYS,
                                shape.attributes,
                                shape.cardinality,
                            );
                            seq_attr(stamps, &mut attributes, i);
                            let error = rng.below(50) == 0;
                            let events = if rng.below(10) == 0 {
                                vec![span::Event {
                                    time_unix_nano: start + 1_000_000,
                                    name: "cache.miss".into(),
                                    attributes: vec![kv(
                                        "cache.key",
                                        text(format!(
                                            "cart:{:06}",
                                            rng.below(shape.cardinality.max(1))
                                        )),
                                    )],
                                    dropped_attributes_count: 0,
                                }]
                            } else {
                                Vec::new()
                            };
                            Span {
                                trace_id: trace_id.clone(),
                                span_id: span_id.clone(),
                                parent_span_id: std::mem::replace(&mut parent, span_id),
                                name: format!("{} {}", rng.pick(METHODS), rng.pick(ROUTES)),
                                kind: if root { 2 } else { [1, 3][rng.below(2)] },
                                start_time_unix_nano: start,
                                end_time_unix_nano: start + 1_000 * (50 + rng.below(50_000) as u64),
                                attributes,
                                events,
                                status: Some(if error {
                                    Status {
                                        message: "upstream returned 503".into(),
                                        code: 2,
                                    }
                                } else {
                                    Status::default()
                                }),
                                flags: 0x101,
                                ..Default::default()
                            }
                        })
                        .collect();
                    ScopeSpans {
                        scope: Some(scope(s)),
                        spans,
                        schema_url: String::new(),
                    }
                })
                .collect(),
            schema_url: "https://opentelemetry.io/schemas/1.26.0".into(),
        })
        .collect();
    ExportTraceServiceRequest { resource_spans }
}
