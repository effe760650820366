//! Logs: access-log records with severities and trace context.

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::common::v1::AnyValue;
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};

use super::{
    LOG_KEYS, METHODS, Rng, Shape, Stamps, WORDS, attributes, group_len, now_nanos, resource,
    scope, seq_attr, text,
};

/// A logs request of `shape`, pool entry `variant`.
pub fn logs(shape: &Shape, stamps: &Stamps, variant: u64) -> ExportLogsServiceRequest {
    let mut rng = Rng::new(shape.seed ^ variant.wrapping_mul(0x2545_f491_4f6c_dd1d));
    let t0 = now_nanos();
    let groups = shape.resources * shape.scopes;
    let mut ordinal = 0;
    let resource_logs = (0..shape.resources)
        .map(|r| ResourceLogs {
            resource: Some(resource(r, variant, stamps)),
            scope_logs: (0..shape.scopes)
                .map(|s| {
                    let n = group_len(shape.records, groups, r * shape.scopes + s);
                    let log_records = (0..n)
                        .map(|_| {
                            let i = ordinal;
                            ordinal += 1;
                            let (severity_number, severity_text) = match rng.below(20) {
                                0..=13 => (9, "INFO"),
                                14..=16 => (5, "DEBUG"),
                                17..=18 => (13, "WARN"),
                                _ => (17, "ERROR"),
                            };
                            let mut attributes =
                                attributes(&mut rng, LOG_KEYS, shape.attributes, shape.cardinality);
                            seq_attr(stamps, &mut attributes, i);
                            let traced = rng.below(5) != 0;
                            let method = rng.pick(METHODS);
                            let v = rng.below(shape.cardinality.max(1));
                            let t = t0 + i as u64 * 1_000;
                            LogRecord {
                                time_unix_nano: t,
                                observed_time_unix_nano: t + 250_000,
                                severity_number,
                                severity_text: severity_text.into(),
                                body: Some(AnyValue {
                                    value: Some(text(body(&mut rng, shape.body_size, method, v))),
                                }),
                                attributes,
                                flags: u32::from(traced),
                                trace_id: if traced { rng.id(16) } else { Vec::new() },
                                span_id: if traced { rng.id(8) } else { Vec::new() },
                                ..Default::default()
                            }
                        })
                        .collect();
                    ScopeLogs {
                        scope: Some(scope(s)),
                        log_records,
                        schema_url: String::new(),
                    }
                })
                .collect(),
            schema_url: "https://opentelemetry.io/schemas/1.26.0".into(),
        })
        .collect();
    ExportLogsServiceRequest { resource_logs }
}

/// A log body of `size` bytes: an access-log line, padded with words or cut.
fn body(rng: &mut Rng, size: usize, method: &str, v: usize) -> String {
    let mut b = format!(
        "{method} /api/v1/items/{v:06} completed with status 200 in {}.{}ms for user u-{}",
        rng.below(900) + 1,
        rng.below(10),
        rng.below(100_000)
    );
    while b.len() < size {
        b.push(' ');
        b.push_str(rng.pick(WORDS));
    }
    b.truncate(size); // ASCII: every index is a char boundary
    b
}
