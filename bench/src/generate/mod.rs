//! Parameterised OTLP requests: the load generator's payloads.
//!
//! [`crate::payload`] holds the fixed requests the criterion benches decode (their sizes
//! are quoted in `ARCHITECTURE.md`, so they stay as they are); this module builds
//! requests of any shape from a [`Shape`]: records per request, resources, scopes per
//! resource, attributes per record, log body size, attribute cardinality and a seed.
//! The defaults look like a busy Kubernetes service: `service.name` and `k8s.*`
//! resource attributes, trace context on most log records, a realistic mix of
//! severities, HTTP server and client spans grouped into traces, and the five metric
//! kinds.
//!
//! # Layout
//!
//! This file holds the shape, the stamps, the random source and what every signal
//! shares (resources, scopes, attribute vocabulary); `logs.rs`, `traces.rs` and
//! `metrics.rs` build one request each; `tests.rs` checks shapes and seeds.
//!
//! # Stamps
//!
//! The load generator re-sends a pool of pre-encoded requests and gives each send its
//! own identity by overwriting fixed-width attribute values in the encoded bytes (see
//! `loadgen::pool`). The generator writes those values as *placeholders*,
//! [`STAMP_WIDTH`] bytes of ASCII that are the same in protobuf and in OTLP/JSON
//! (no escaping), numbered in the order they appear in the request, so that the pool
//! can find every one of them and check that it found exactly those:
//!
//! | attribute | where | placeholder | patched to |
//! |---|---|---|---|
//! | `loadgen.request` ([`REQUEST_KEY`]) | every resource | `~lg~r` + 11-digit resource ordinal | the request's number, 16 digits |
//! | `loadgen.seq` ([`SEQ_KEY`]) | every record (log, span, data point) | `~lg~s` + 11-digit record ordinal | the record's sequence number, 16 digits |
//! | `loadgen.run_id` ([`RUN_ID_KEY`]) | every resource | (not patched: the run id itself) | |
//!
//! Generated text (bodies, names, attribute values) never contains `~`, so a
//! placeholder cannot be confused with payload text.

use opentelemetry_proto::tonic::common::v1::{
    AnyValue, InstrumentationScope, KeyValue, any_value::Value,
};
use opentelemetry_proto::tonic::resource::v1::Resource;

mod logs;
mod metrics;
mod traces;

pub use logs::logs;
pub use metrics::metrics;
pub use traces::traces;

/// Width of a patched stamp value: 16 ASCII digits (up to 10^16 − 1 requests or
/// records in one run: 31 years at ten million records a second).
pub const STAMP_WIDTH: usize = 16;
/// The largest value a stamp holds.
pub const STAMP_MAX: u64 = 9_999_999_999_999_999;
/// Every placeholder starts with these bytes; generated text never contains `~`.
pub const PLACEHOLDER_PREFIX: &[u8; 4] = b"~lg~";
const _: () = assert!(PLACEHOLDER_PREFIX.len() + 1 + 11 == STAMP_WIDTH);

/// Resource attribute holding the request's number.
pub const REQUEST_KEY: &str = "loadgen.request";
/// Record attribute holding the record's sequence number (`--verify`).
pub const SEQ_KEY: &str = "loadgen.seq";
/// Resource attribute holding the run id (`--verify`).
pub const RUN_ID_KEY: &str = "loadgen.run_id";

/// Data points in one metric.
pub const POINTS_PER_METRIC: usize = 10;
/// Spans in one trace (the first is the root, each next one a child of the one before).
pub const SPANS_PER_TRACE: usize = 8;

/// The kinds of stamp placeholders.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StampKind {
    Request,
    Seq,
}

impl StampKind {
    /// The letter after [`PLACEHOLDER_PREFIX`].
    pub const fn letter(self) -> u8 {
        match self {
            StampKind::Request => b'r',
            StampKind::Seq => b's',
        }
    }
}

/// The placeholder for the `ordinal`-th stamp of `kind` in a request.
pub fn placeholder(kind: StampKind, ordinal: usize) -> String {
    format!(
        "{}{}{ordinal:011}",
        std::str::from_utf8(PLACEHOLDER_PREFIX).unwrap_or("~lg~"),
        char::from(kind.letter())
    )
}

/// The shape of one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shape {
    /// Records (log records, spans or metric data points) in one request.
    pub records: usize,
    /// Resources in one request; records are spread evenly over resources × scopes.
    pub resources: usize,
    /// Scopes under each resource.
    pub scopes: usize,
    /// Attributes on each record (besides the stamps).
    pub attributes: usize,
    /// Bytes of each log record's body (logs only).
    pub body_size: usize,
    /// Distinct values each attribute takes.
    pub cardinality: usize,
    /// Seed of the generator; the same seed and shape give the same requests.
    pub seed: u64,
}

impl Default for Shape {
    fn default() -> Shape {
        Shape {
            records: 1000,
            resources: 1,
            scopes: 1,
            attributes: 5,
            body_size: 120,
            cardinality: 100,
            seed: 1,
        }
    }
}

/// What the generator stamps on a request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stamps {
    /// A `loadgen.request` placeholder on every resource.
    pub request: bool,
    /// A `loadgen.seq` placeholder on every record.
    pub seq: bool,
    /// A `loadgen.run_id` attribute on every resource.
    pub run_id: Option<String>,
    /// Metrics: only `Sum`s (the `--verify` query reads `otel_metrics_sum`).
    pub sums_only: bool,
}

/// SplitMix64 (Steele, Lea, Flood 2014): small, fast and good enough for payloads.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (((self.next_u64() >> 32) * n as u64) >> 32) as usize
    }

    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[self.below(from.len())]
    }

    /// `len` random bytes, never all zero (an all-zero id means "no id" in OTLP).
    fn id(&mut self, len: usize) -> Vec<u8> {
        let mut v: Vec<u8> = (0..len).map(|_| self.next_u64() as u8).collect();
        v[0] |= 1;
        v
    }
}

const SERVICES: &[&str] = &[
    "checkout",
    "cart",
    "frontend",
    "payment",
    "shipping",
    "currency",
    "email",
    "ad",
    "recommendation",
    "product-catalog",
    "quote",
    "fraud-detection",
    "accounting",
    "kafka",
];
const NAMESPACES: &[&str] = &["shop", "platform", "payments"];
const SCOPES: &[&str] = &[
    "io.opentelemetry.http",
    "io.opentelemetry.grpc",
    "io.opentelemetry.jdbc",
    "com.shop.orders",
];
const ROUTES: &[&str] = &[
    "/api/v1/cart/{id}",
    "/api/v1/checkout",
    "/api/v1/products",
    "/api/v1/products/{id}",
    "/api/v1/users/{id}/orders",
    "/healthz",
];
const METHODS: &[&str] = &["GET", "GET", "GET", "POST", "PUT", "DELETE"];
const WORDS: &[&str] = &[
    "request",
    "completed",
    "user",
    "order",
    "cache",
    "lookup",
    "upstream",
    "retry",
    "session",
    "payload",
    "token",
    "validated",
    "queue",
    "latency",
    "handler",
    "shard",
    "batch",
    "commit",
];
const METRIC_NAMES: &[&str] = &[
    "http.server.request.duration",
    "http.server.active_requests",
    "http.client.request.duration",
    "process.cpu.time",
    "jvm.memory.used",
    "system.network.io",
    "db.client.connections.usage",
    "messaging.process.duration",
];

/// Record attribute keys, in the order `--attributes` takes them; past the list,
/// `attr.N`.
const LOG_KEYS: &[(&str, Kind)] = &[
    ("http.request.method", Kind::Method),
    ("http.response.status_code", Kind::Status),
    ("url.path", Kind::Path),
    ("user.id", Kind::Text("u-")),
    ("duration_ms", Kind::Double),
    ("client.address", Kind::Text("10.0.3.")),
    ("session.id", Kind::Text("s-")),
    ("tenant.id", Kind::Text("tenant-")),
];
const SPAN_KEYS: &[(&str, Kind)] = &[
    ("http.request.method", Kind::Method),
    ("http.response.status_code", Kind::Status),
    ("url.path", Kind::Path),
    ("server.address", Kind::Text("api-")),
    ("user.id", Kind::Text("u-")),
    ("network.protocol.version", Kind::Text("1.")),
    ("net.peer.port", Kind::Int),
    ("tenant.id", Kind::Text("tenant-")),
];
const POINT_KEYS: &[(&str, Kind)] = &[
    ("http.request.method", Kind::Method),
    ("http.route", Kind::Path),
    ("http.response.status_code", Kind::Status),
    ("server.address", Kind::Text("api-")),
    ("tenant.id", Kind::Text("tenant-")),
];

#[derive(Clone, Copy, Debug)]
enum Kind {
    Method,
    Status,
    Path,
    Text(&'static str),
    Int,
    Double,
}

fn kv(key: &str, v: Value) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue { value: Some(v) }),
        ..Default::default()
    }
}

fn text(v: impl Into<String>) -> Value {
    Value::StringValue(v.into())
}

/// `n` record attributes from `keys`, each value one of `cardinality` values.
fn attributes(rng: &mut Rng, keys: &[(&str, Kind)], n: usize, cardinality: usize) -> Vec<KeyValue> {
    let mut out = Vec::with_capacity(n + 1);
    for a in 0..n {
        let v = rng.below(cardinality.max(1));
        let (key, kind) = keys.get(a).copied().unwrap_or(("", Kind::Text("v-")));
        let value = match kind {
            Kind::Method => text(METHODS[v % METHODS.len()]),
            Kind::Status => {
                Value::IntValue([200, 200, 200, 201, 204, 404, 500][v % 7] + (v / 7) as i64 * 1000)
            }
            Kind::Path => text(format!("/api/v1/items/{v:06}")),
            Kind::Text(prefix) => text(format!("{prefix}{v}")),
            Kind::Int => Value::IntValue(1024 + v as i64),
            Kind::Double => Value::DoubleValue(v as f64 * 0.25 + 0.5),
        };
        if key.is_empty() {
            out.push(kv(&format!("attr.{a}"), value));
        } else {
            out.push(kv(key, value));
        }
    }
    out
}

/// The resource of group `r` of pool entry `variant`.
fn resource(r: usize, variant: u64, stamps: &Stamps) -> Resource {
    let n = r + variant as usize;
    let base = SERVICES[n % SERVICES.len()];
    let service = match n / SERVICES.len() {
        0 => base.to_string(),
        k => format!("{base}-{k}"),
    };
    let ns = NAMESPACES[n % NAMESPACES.len()];
    let mut attributes = vec![
        kv("service.name", text(service.as_str())),
        kv("service.namespace", text(ns)),
        kv("service.version", text(format!("1.{}.{}", n % 40, n % 7))),
        kv(
            "service.instance.id",
            text(format!("{service}-{:08x}", n * 2_654_435_761 % (1 << 32))),
        ),
        kv("k8s.namespace.name", text(ns)),
        kv("k8s.deployment.name", text(service.as_str())),
        kv(
            "k8s.pod.name",
            text(format!(
                "{service}-7d9f8b6c5d-{:05x}",
                n * 7_919 % (1 << 20)
            )),
        ),
        kv(
            "k8s.node.name",
            text(format!("ip-10-0-{}-{}.ec2.internal", n % 16, n % 250)),
        ),
        kv("deployment.environment.name", text("production")),
        kv("telemetry.sdk.language", text("java")),
        kv("telemetry.sdk.name", text("opentelemetry")),
        kv("telemetry.sdk.version", text("1.45.0")),
    ];
    if stamps.request {
        attributes.push(kv(REQUEST_KEY, text(placeholder(StampKind::Request, r))));
    }
    if let Some(run) = &stamps.run_id {
        attributes.push(kv(RUN_ID_KEY, text(run.as_str())));
    }
    Resource {
        attributes,
        ..Default::default()
    }
}

fn scope(s: usize) -> InstrumentationScope {
    InstrumentationScope {
        name: SCOPES[s % SCOPES.len()].into(),
        version: "2.10.0".into(),
        ..Default::default()
    }
}

/// Records in group `g` of `groups` when `records` are spread evenly.
fn group_len(records: usize, groups: usize, g: usize) -> usize {
    records / groups + usize::from(g < records % groups)
}

/// The generator's clock: now, to the microsecond, so pool requests carry timestamps
/// a collector or ClickHouse TTL accepts.
fn now_nanos() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64 * 1_000)
}

fn seq_attr(stamps: &Stamps, attrs: &mut Vec<KeyValue>, ordinal: usize) {
    if stamps.seq {
        attrs.push(kv(SEQ_KEY, text(placeholder(StampKind::Seq, ordinal))));
    }
}

#[cfg(test)]
mod tests;
