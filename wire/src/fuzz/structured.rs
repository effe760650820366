//! Structure-aware targets: the fuzzer's bytes drive an [`arbitrary::Unstructured`]
//! that builds a valid request with the `opentelemetry-proto` types, so every input
//! reaches deep fields (nested values, events, exemplars, buckets) at once. The
//! request is encoded by prost, then changed in one of the ways protobuf allows and
//! prost's encoder never writes ([`Mutation`]), or damaged; the bytes go through the
//! protobuf check of [`super::signal`], and the request, written as OTLP/JSON by
//! opentelemetry-proto's serde, through the OTLP/JSON check.

use arbitrary::Unstructured;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{
    AnyValue, ArrayValue, InstrumentationScope, KeyValue, KeyValueList, any_value::Value,
};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::metrics::v1::{
    Exemplar, ExponentialHistogram, ExponentialHistogramDataPoint, Gauge, Histogram,
    HistogramDataPoint, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum, Summary,
    SummaryDataPoint, exemplar, exponential_histogram_data_point::Buckets, metric::Data,
    number_data_point, summary_data_point::ValueAtQuantile,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status, span};
use prost::Message;

use super::signal::{self, Logs, Metrics, Signal, Traces};

/// Keys drawn from a small pool, so records repeat keys (last-wins maps) and carry
/// the ones ClickStack processing looks at.
const KEYS: &[&str] = &[
    "service.name",
    "k",
    "level",
    "severity",
    "message",
    "rr-web.event",
    "http.method",
    "a.b",
    "",
];

/// Text: mostly from a small pool of telemetry-like strings (JSON bodies, levels,
/// characters JSON escapes), sometimes any string.
const TEXTS: &[&str] = &[
    "",
    "x",
    "INFO",
    "error: disk full",
    r#"{"a":{"b":1},"level":"warn"}"#,
    r#"[1,"two",{"3":null}]"#,
    "quote\" backslash\\ newline\n tab\t nul\0",
    "\u{2028}\u{2029}<>&é€😀",
];

/// How a request's encoding is changed before it is decoded. Each is valid
/// protobuf that must decode as prost reads it.
#[derive(Clone, Copy, Debug)]
enum Mutation {
    /// As prost writes it.
    None,
    /// Two requests back to back: protobuf merges them (repeated fields append).
    Concatenated,
    /// Unknown fields of every wire type appended (they must be skipped).
    UnknownFields,
    /// A byte changed: usually invalid, sometimes still valid with other meaning.
    Flip { at: usize, mask: u8 },
    /// Cut short.
    Truncated { at: usize },
}

/// Builds values from the fuzzer's bytes; out of bytes, it builds the smallest ones.
struct Gen<'u, 'a> {
    u: &'u mut Unstructured<'a>,
    depth: u32,
}

impl Gen<'_, '_> {
    fn n(&mut self, max: usize) -> usize {
        self.u.int_in_range(0..=max).unwrap_or(0)
    }

    fn bool(&mut self) -> bool {
        self.u.arbitrary().unwrap_or(false)
    }

    fn u64(&mut self) -> u64 {
        match self.n(3) {
            0 => 0,
            1 => self
                .u
                .int_in_range(1..=2_000_000_000_000_000_000)
                .unwrap_or(1),
            _ => self.u.arbitrary().unwrap_or(0),
        }
    }

    fn i32(&mut self, usual: i32) -> i32 {
        if self.n(7) == 0 {
            self.u.arbitrary().unwrap_or(0)
        } else {
            self.u.int_in_range(0..=usual).unwrap_or(0)
        }
    }

    fn f64(&mut self) -> f64 {
        match self.n(7) {
            0 => f64::NAN,
            1 => f64::INFINITY,
            2 => -0.0,
            3 => self.u.arbitrary().unwrap_or(0.0),
            _ => f64::from(self.u.int_in_range(-1000..=1000).unwrap_or(0)) / 8.0,
        }
    }

    fn text(&mut self) -> String {
        if self.n(5) == 0 {
            self.u.arbitrary().unwrap_or_default()
        } else {
            TEXTS[self.n(TEXTS.len() - 1)].to_owned()
        }
    }

    fn key(&mut self) -> String {
        if self.n(7) == 0 {
            self.text()
        } else {
            KEYS[self.n(KEYS.len() - 1)].to_owned()
        }
    }

    /// An id: mostly absent or of the right length, sometimes all zeros.
    fn id(&mut self, len: usize) -> Vec<u8> {
        match self.n(5) {
            0 => Vec::new(),
            1 => vec![0; len],
            _ => (0..len).map(|_| self.u.arbitrary().unwrap_or(0)).collect(),
        }
    }

    fn any_value(&mut self) -> AnyValue {
        let kinds = if self.depth >= 4 { 6 } else { 8 };
        let value = match self.n(kinds) {
            0 => None,
            1 | 2 => Some(Value::StringValue(self.text())),
            3 => Some(Value::BoolValue(self.bool())),
            4 => Some(Value::IntValue(self.u.arbitrary().unwrap_or(0))),
            5 => Some(Value::DoubleValue(self.f64())),
            6 => Some(Value::BytesValue(self.u.arbitrary().unwrap_or_default())),
            7 => {
                self.depth += 1;
                let values = (0..self.n(4)).map(|_| self.any_value()).collect();
                self.depth -= 1;
                Some(Value::ArrayValue(ArrayValue { values }))
            }
            _ => {
                self.depth += 1;
                let values = self.attributes(4);
                self.depth -= 1;
                Some(Value::KvlistValue(KeyValueList { values }))
            }
        };
        AnyValue { value }
    }

    fn attributes(&mut self, max: usize) -> Vec<KeyValue> {
        (0..self.n(max))
            .map(|_| KeyValue {
                key: self.key(),
                value: (self.n(7) != 0).then(|| self.any_value()),
                key_strindex: 0,
            })
            .collect()
    }

    fn resource(&mut self) -> Option<Resource> {
        (self.n(5) != 0).then(|| Resource {
            attributes: self.attributes(5),
            dropped_attributes_count: self.i32(3) as u32,
            entity_refs: Vec::new(),
        })
    }

    fn scope(&mut self) -> Option<InstrumentationScope> {
        (self.n(3) != 0).then(|| InstrumentationScope {
            name: self.text(),
            version: self.text(),
            attributes: self.attributes(3),
            dropped_attributes_count: self.i32(3) as u32,
        })
    }

    fn logs(&mut self) -> ExportLogsServiceRequest {
        let resource_logs = (0..self.n(3))
            .map(|_| ResourceLogs {
                resource: self.resource(),
                scope_logs: (0..self.n(3))
                    .map(|_| ScopeLogs {
                        scope: self.scope(),
                        log_records: (0..self.n(6)).map(|_| self.log_record()).collect(),
                        schema_url: self.text(),
                    })
                    .collect(),
                schema_url: self.text(),
            })
            .collect();
        ExportLogsServiceRequest { resource_logs }
    }

    fn log_record(&mut self) -> LogRecord {
        LogRecord {
            time_unix_nano: self.u64(),
            observed_time_unix_nano: self.u64(),
            severity_number: self.i32(24),
            severity_text: self.text(),
            body: (self.n(5) != 0).then(|| self.any_value()),
            attributes: self.attributes(6),
            dropped_attributes_count: self.i32(3) as u32,
            flags: self.i32(511) as u32,
            trace_id: self.id(16),
            span_id: self.id(8),
            event_name: self.text(),
        }
    }

    fn traces(&mut self) -> ExportTraceServiceRequest {
        let resource_spans = (0..self.n(3))
            .map(|_| ResourceSpans {
                resource: self.resource(),
                scope_spans: (0..self.n(3))
                    .map(|_| ScopeSpans {
                        scope: self.scope(),
                        spans: (0..self.n(5)).map(|_| self.span()).collect(),
                        schema_url: self.text(),
                    })
                    .collect(),
                schema_url: self.text(),
            })
            .collect();
        ExportTraceServiceRequest { resource_spans }
    }

    fn span(&mut self) -> Span {
        let start = self.u64();
        Span {
            trace_id: self.id(16),
            span_id: self.id(8),
            trace_state: self.text(),
            parent_span_id: self.id(8),
            flags: self.i32(767) as u32,
            name: self.text(),
            kind: self.i32(5),
            start_time_unix_nano: start,
            end_time_unix_nano: if self.bool() {
                start.wrapping_add(self.u64() % 1_000_000_000)
            } else {
                self.u64()
            },
            attributes: self.attributes(6),
            dropped_attributes_count: 0,
            events: (0..self.n(3))
                .map(|_| span::Event {
                    time_unix_nano: self.u64(),
                    name: self.text(),
                    attributes: self.attributes(3),
                    dropped_attributes_count: 0,
                })
                .collect(),
            dropped_events_count: 0,
            links: (0..self.n(2))
                .map(|_| span::Link {
                    trace_id: self.id(16),
                    span_id: self.id(8),
                    trace_state: self.text(),
                    attributes: self.attributes(3),
                    dropped_attributes_count: 0,
                    flags: 0,
                })
                .collect(),
            dropped_links_count: 0,
            status: (self.n(2) != 0).then(|| Status {
                message: self.text(),
                code: self.i32(2),
            }),
        }
    }

    fn metrics(&mut self) -> ExportMetricsServiceRequest {
        let resource_metrics = (0..self.n(3))
            .map(|_| ResourceMetrics {
                resource: self.resource(),
                scope_metrics: (0..self.n(3))
                    .map(|_| ScopeMetrics {
                        scope: self.scope(),
                        metrics: (0..self.n(4)).map(|_| self.metric()).collect(),
                        schema_url: self.text(),
                    })
                    .collect(),
                schema_url: self.text(),
            })
            .collect();
        ExportMetricsServiceRequest { resource_metrics }
    }

    fn metric(&mut self) -> Metric {
        let points = self.n(3);
        let data = match self.n(5) {
            0 => None,
            1 => Some(Data::Gauge(Gauge {
                data_points: (0..points).map(|_| self.number_point()).collect(),
            })),
            2 => Some(Data::Sum(Sum {
                data_points: (0..points).map(|_| self.number_point()).collect(),
                aggregation_temporality: self.i32(2),
                is_monotonic: self.bool(),
            })),
            3 => Some(Data::Histogram(Histogram {
                data_points: (0..points).map(|_| self.histogram_point()).collect(),
                aggregation_temporality: self.i32(2),
            })),
            4 => Some(Data::ExponentialHistogram(ExponentialHistogram {
                data_points: (0..points).map(|_| self.exp_histogram_point()).collect(),
                aggregation_temporality: self.i32(2),
            })),
            _ => Some(Data::Summary(Summary {
                data_points: (0..points).map(|_| self.summary_point()).collect(),
            })),
        };
        Metric {
            name: self.text(),
            description: self.text(),
            unit: self.text(),
            metadata: Vec::new(),
            data,
        }
    }

    fn exemplars(&mut self) -> Vec<Exemplar> {
        (0..self.n(2))
            .map(|_| Exemplar {
                filtered_attributes: self.attributes(2),
                time_unix_nano: self.u64(),
                span_id: self.id(8),
                trace_id: self.id(16),
                value: match self.n(2) {
                    0 => None,
                    1 => Some(exemplar::Value::AsDouble(self.f64())),
                    _ => Some(exemplar::Value::AsInt(self.u.arbitrary().unwrap_or(0))),
                },
            })
            .collect()
    }

    fn number_point(&mut self) -> NumberDataPoint {
        NumberDataPoint {
            attributes: self.attributes(4),
            start_time_unix_nano: self.u64(),
            time_unix_nano: self.u64(),
            exemplars: self.exemplars(),
            flags: self.i32(1) as u32,
            value: match self.n(2) {
                0 => None,
                1 => Some(number_data_point::Value::AsDouble(self.f64())),
                _ => Some(number_data_point::Value::AsInt(
                    self.u.arbitrary().unwrap_or(0),
                )),
            },
        }
    }

    fn counts(&mut self, max: usize) -> Vec<u64> {
        (0..self.n(max)).map(|_| self.u64()).collect()
    }

    fn maybe_f64(&mut self) -> Option<f64> {
        self.bool().then(|| self.f64())
    }

    fn histogram_point(&mut self) -> HistogramDataPoint {
        HistogramDataPoint {
            attributes: self.attributes(4),
            start_time_unix_nano: self.u64(),
            time_unix_nano: self.u64(),
            count: self.u64(),
            sum: self.maybe_f64(),
            bucket_counts: self.counts(6),
            explicit_bounds: (0..self.n(5)).map(|_| self.f64()).collect(),
            exemplars: self.exemplars(),
            flags: self.i32(1) as u32,
            min: self.maybe_f64(),
            max: self.maybe_f64(),
        }
    }

    fn buckets(&mut self) -> Option<Buckets> {
        self.bool().then(|| Buckets {
            offset: self.i32(20) - 10,
            bucket_counts: self.counts(6),
        })
    }

    fn exp_histogram_point(&mut self) -> ExponentialHistogramDataPoint {
        ExponentialHistogramDataPoint {
            attributes: self.attributes(4),
            start_time_unix_nano: self.u64(),
            time_unix_nano: self.u64(),
            count: self.u64(),
            sum: self.maybe_f64(),
            scale: self.i32(20) - 10,
            zero_count: self.u64(),
            positive: self.buckets(),
            negative: self.buckets(),
            flags: self.i32(1) as u32,
            exemplars: self.exemplars(),
            min: self.maybe_f64(),
            max: self.maybe_f64(),
            zero_threshold: self.f64(),
        }
    }

    fn summary_point(&mut self) -> SummaryDataPoint {
        SummaryDataPoint {
            attributes: self.attributes(4),
            start_time_unix_nano: self.u64(),
            time_unix_nano: self.u64(),
            count: self.u64(),
            sum: self.f64(),
            quantile_values: (0..self.n(4))
                .map(|_| ValueAtQuantile {
                    quantile: self.f64(),
                    value: self.f64(),
                })
                .collect(),
            flags: self.i32(1) as u32,
        }
    }

    fn mutation(&mut self, len: usize) -> Mutation {
        let at = self.n(len.saturating_sub(1));
        match self.n(9) {
            0 => Mutation::Concatenated,
            1 => Mutation::UnknownFields,
            2 => Mutation::Flip {
                at,
                mask: self.u.int_in_range(1..=255).unwrap_or(1),
            },
            3 => Mutation::Truncated { at },
            _ => Mutation::None,
        }
    }
}

/// The unknown fields [`Mutation::UnknownFields`] appends: field numbers no OTLP
/// request message uses at its top level, one of each wire type (a varint, a
/// fixed64, a length-delimited, a group with a field inside, a fixed32).
const UNKNOWN_FIELDS: &[u8] = &[
    0xf8, 0x07, 0x96, 0x01, // field 127, varint 150
    0xf1, 0x07, 1, 2, 3, 4, 5, 6, 7, 8, // field 126, fixed64
    0xea, 0x07, 3, b'a', b'b', b'c', // field 125, 3 bytes
    0xe3, 0x07, 0x08, 0x01, 0xe4, 0x07, // field 124, a group holding field 1 = 1
    0xdd, 0x07, 9, 9, 9, 9, // field 123, fixed32
];

fn apply(mutation: Mutation, bytes: &mut Vec<u8>) {
    match mutation {
        Mutation::None => {}
        Mutation::Concatenated => bytes.extend_from_within(..),
        Mutation::UnknownFields => bytes.extend_from_slice(UNKNOWN_FIELDS),
        Mutation::Flip { at, mask } => {
            if let Some(b) = bytes.get_mut(at) {
                *b ^= mask;
            }
        }
        Mutation::Truncated { at } => bytes.truncate(at),
    }
}

/// Builds a request of `S` with `build`, then runs both checks of [`super::signal`].
fn structured<S: Signal>(data: &[u8], build: fn(&mut Gen<'_, '_>) -> S::Request) {
    let mut u = Unstructured::new(data);
    let mut g = Gen {
        u: &mut u,
        depth: 0,
    };
    let request = build(&mut g);
    let mut bytes = request.encode_to_vec();
    let mutation = g.mutation(bytes.len());
    apply(mutation, &mut bytes);
    signal::protobuf::<S>(&bytes);
    let json = serde_json::to_vec(&request).expect("serde writes any request");
    signal::json::<S>(&json);
}

pub(super) fn logs(data: &[u8]) {
    structured::<Logs>(data, |g| g.logs());
}

pub(super) fn traces(data: &[u8]) {
    structured::<Traces>(data, |g| g.traces());
}

pub(super) fn metrics(data: &[u8]) {
    structured::<Metrics>(data, |g| g.metrics());
}
