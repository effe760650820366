//! sluice's configuration: one TOML file, every key overridable by the environment.
//!
//! Two stages, as the design asks: [`load`] reads the file and the environment into
//! [`Config`] (unknown keys are errors), then [`Config::validate`] checks what serde
//! cannot and the engine works from the resolved values.
//!
//! # Environment
//!
//! Every key has a variable: `SLUICE_` and the key's path in upper case joined by `_`
//! (`[batch] max_age_ms` is `SLUICE_BATCH_MAX_AGE_MS`, `shards` is `SLUICE_SHARDS`).
//! ClickStack's own variables are understood too, below the `SLUICE_` ones:
//! `CLICKHOUSE_ENDPOINT`, `CLICKHOUSE_USER`, `CLICKHOUSE_PASSWORD`. Values are read
//! as TOML (`true`, `42`, `["a", "b"]`) and, failing that, as a string; a list may
//! also be given comma-separated.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::ack::AckMode;

/// The whole configuration. `sluice.example.toml` documents every key.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Worker shards (threads); 0 = one per CPU core.
    pub shards: usize,
    /// When a client is told its records are stored: `clickhouse`, `wal` or
    /// `memory` (see `engine::ack`); empty = `wal` with `wal.dir`, else `clickhouse`.
    pub ack: String,
    /// How long a stop (SIGTERM) waits for requests and INSERTs to finish.
    pub shutdown_timeout_ms: u64,
    pub listen: Listen,
    pub clickhouse: ClickHouse,
    pub batch: Batch,
    pub limits: Limits,
    pub sink: Sink,
    pub wal: Wal,
    pub http: Http,
    pub logs: LogsProcessing,
    pub telemetry: TelemetryListen,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            shards: 0,
            ack: String::new(),
            shutdown_timeout_ms: 10_000,
            listen: Listen::default(),
            clickhouse: ClickHouse::default(),
            batch: Batch::default(),
            limits: Limits::default(),
            sink: Sink::default(),
            wal: Wal::default(),
            http: Http::default(),
            logs: LogsProcessing::default(),
            telemetry: TelemetryListen::default(),
        }
    }
}

/// Where sluice's own metrics and health check are served (see `engine::telemetry`).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct TelemetryListen {
    /// Prometheus / OpenMetrics `GET /metrics`; empty = off.
    pub metrics: String,
    /// Health check `GET /`; empty = off.
    pub health: String,
}

impl Default for TelemetryListen {
    fn default() -> Self {
        // The ports of ClickStack's collector, on loopback like the OTLP ports.
        TelemetryListen {
            metrics: "127.0.0.1:8888".into(),
            health: "127.0.0.1:13133".into(),
        }
    }
}

/// How the inserters retry and size their INSERTs.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Sink {
    /// `ack = "clickhouse"`: how long a failing INSERT is retried before its
    /// requests are told to retry. (With `wal` and `memory` it is retried until it
    /// commits.)
    pub retry_window_ms: u64,
    /// An INSERT stops taking chunks past this many (compressed) bytes or rows.
    pub max_insert_bytes: usize,
    pub max_insert_rows: usize,
    /// Where rows ClickHouse refuses as data are kept; empty = `<wal.dir>/dead-letter`,
    /// or `sluice-dead-letter` in the working directory without a `wal.dir`.
    pub dead_letter_dir: String,
}

impl Default for Sink {
    fn default() -> Self {
        Sink {
            retry_window_ms: 5_000,
            max_insert_bytes: 64 << 20,
            // Below ClickHouse's max_insert_block_size (1,048,449): one block, so an
            // INSERT is all or nothing.
            max_insert_rows: 1_000_000,
            dead_letter_dir: String::new(),
        }
    }
}

/// The write-ahead log (`ack = "wal"`).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Wal {
    /// The data directory; empty = no write-ahead log.
    pub dir: String,
    /// One fsync serves every request that arrives within this many ms of the first.
    pub group_commit_ms: u64,
    /// Size at which a log segment is closed and a new one begun.
    pub segment_bytes: u64,
    /// The most the data directory may hold; past it (ClickHouse far behind), new
    /// requests are refused with retry information.
    pub max_bytes: u64,
    /// Disk kept free for the outboxes, so that a full disk does not stop what
    /// frees it (see `wal::DiskUse`).
    pub reserve_bytes: u64,
}

impl Default for Wal {
    fn default() -> Self {
        Wal {
            dir: String::new(),
            group_commit_ms: 2,
            segment_bytes: 32 << 20,
            max_bytes: 8 << 30,
            reserve_bytes: 64 << 20,
        }
    }
}
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Listen {
    /// OTLP/gRPC address.
    pub grpc: String,
    /// OTLP/HTTP address.
    pub http: String,
}

impl Default for Listen {
    fn default() -> Self {
        // Loopback by default: exposing the ports is a deliberate choice.
        Listen {
            grpc: "127.0.0.1:4317".into(),
            http: "127.0.0.1:4318".into(),
        }
    }
}

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ClickHouse {
    /// HTTP endpoint; `scripts/clickhouse`'s local server by default.
    pub url: String,
    pub user: String,
    pub password: String,
    pub database: String,
    /// Compression of INSERT bodies: `lz4` (ClickHouse's block format), `zstd`, `none`.
    pub compression: String,
    /// How long one INSERT may take before it counts as failed.
    pub timeout_ms: u64,
}

impl Default for ClickHouse {
    fn default() -> Self {
        ClickHouse {
            url: crate::clickhouse::DEFAULT_URL.into(),
            user: "default".into(),
            password: String::new(),
            database: "default".into(),
            compression: "lz4".into(),
            timeout_ms: 30_000,
        }
    }
}

/// When a shard seals its batch of a table: whichever limit comes first.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Batch {
    pub max_rows: usize,
    pub max_bytes: usize,
    pub max_age_ms: u64,
}

impl Default for Batch {
    fn default() -> Self {
        // ClickHouse wants large inserts about once a second per table.
        Batch {
            max_rows: 100_000,
            max_bytes: 64 << 20,
            max_age_ms: 1_000,
        }
    }
}

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Largest request body after decompression (413 / RESOURCE_EXHAUSTED past it).
    pub max_request_bytes: usize,
    /// Bytes one shard may hold that are not yet committed (or, with the write-ahead
    /// log, on disk): request bodies, its batch, sealed chunks. Past it, requests are
    /// refused with retry information.
    pub shard_budget_bytes: usize,
    /// How long a request waits for room in the budget before it is refused.
    pub admission_wait_ms: u64,
    /// How long a request's body may take to arrive once it is being read.
    pub body_timeout_ms: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_request_bytes: 64 << 20,
            shard_budget_bytes: 256 << 20,
            admission_wait_ms: 200,
            body_timeout_ms: 30_000,
        }
    }
}

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Http {
    /// Origins allowed by CORS (`*` = any); browsers post session replay to :4318.
    pub cors_origins: Vec<String>,
}

impl Default for Http {
    fn default() -> Self {
        Http {
            cors_origins: vec!["*".into()],
        }
    }
}

/// ClickStack's log processing steps (all on, as in ClickStack).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LogsProcessing {
    pub route_sessions: bool,
    pub json_body: bool,
    pub severity_from_attributes: bool,
    pub severity_from_body: bool,
    pub lowercase_severity: bool,
}

impl Default for LogsProcessing {
    fn default() -> Self {
        let d = wire::otlp::logs::LogsOptions::default();
        LogsProcessing {
            route_sessions: d.route_sessions,
            json_body: d.json_body,
            severity_from_attributes: d.severity_from_attributes,
            severity_from_body: d.severity_from_body,
            lowercase_severity: d.lowercase_severity,
        }
    }
}

impl LogsProcessing {
    pub fn options(&self) -> wire::otlp::logs::LogsOptions {
        wire::otlp::logs::LogsOptions {
            route_sessions: self.route_sessions,
            json_body: self.json_body,
            severity_from_attributes: self.severity_from_attributes,
            severity_from_body: self.severity_from_body,
            lowercase_severity: self.lowercase_severity,
        }
    }
}

/// Why the configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the config file {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid config: {0}")]
    Invalid(String),
}

/// The environment variable prefix.
pub const ENV_PREFIX: &str = "SLUICE_";

/// ClickStack's variables and the keys they set, applied before the `SLUICE_` ones.
const CLICKSTACK_ENV: [(&str, &str); 3] = [
    ("CLICKHOUSE_ENDPOINT", "clickhouse.url"),
    ("CLICKHOUSE_USER", "clickhouse.user"),
    ("CLICKHOUSE_PASSWORD", "clickhouse.password"),
];

/// Reads the file (if any) and the environment.
pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
    let text = match path {
        Some(p) => std::fs::read_to_string(p).map_err(|source| ConfigError::Read {
            path: p.display().to_string(),
            source,
        })?,
        None => String::new(),
    };
    load_from(&text, |k| std::env::var(k).ok())
}

/// [`load`] with the file's text and the environment given (for tests).
pub fn load_from(text: &str, env: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
    let mut table: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| ConfigError::Invalid(e.message().to_owned()))?;
    // Check the file alone first, so that an unknown key names the file's key.
    Config::deserialize(toml::Value::Table(table.clone()))
        .map_err(|e| ConfigError::Invalid(e.to_string()))?;

    let defaults = toml::Table::try_from(Config::default()).expect("the defaults serialise");
    for (var, key) in CLICKSTACK_ENV {
        if let Some(v) = env(var).filter(|v| !v.is_empty()) {
            set(&mut table, key, toml::Value::String(v));
        }
    }
    for (key, default) in leaves(&defaults, String::new()) {
        let var = format!("{ENV_PREFIX}{}", key.replace('.', "_").to_uppercase());
        if let Some(v) = env(&var) {
            set(&mut table, &key, env_value(&v, &default));
        }
    }
    let config = Config::deserialize(toml::Value::Table(table))
        .map_err(|e| ConfigError::Invalid(e.to_string()))?;
    config.validate()?;
    Ok(config)
}

/// Every leaf key of a table, as a dotted path, with its value.
fn leaves(t: &toml::Table, prefix: String) -> Vec<(String, toml::Value)> {
    let mut out = Vec::new();
    for (k, v) in t {
        let path = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            toml::Value::Table(sub) => out.extend(leaves(sub, path)),
            _ => out.push((path, v.clone())),
        }
    }
    out
}

/// Sets a dotted key in a table, creating the sections on the way.
fn set(t: &mut toml::Table, key: &str, value: toml::Value) {
    let mut parts: Vec<&str> = key.split('.').collect();
    let last = parts.pop().expect("keys are not empty");
    let mut cur = t;
    for p in parts {
        let entry = cur
            .entry(p.to_owned())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        if !entry.is_table() {
            *entry = toml::Value::Table(toml::Table::new());
        }
        cur = entry.as_table_mut().expect("made a table above");
    }
    cur.insert(last.to_owned(), value);
}

/// An environment value, typed like the key's default.
fn env_value(raw: &str, default: &toml::Value) -> toml::Value {
    match default {
        toml::Value::String(_) => toml::Value::String(raw.to_owned()),
        toml::Value::Array(_) => match format!("v = {raw}").parse::<toml::Table>() {
            Ok(mut t) if t["v"].is_array() => t.remove("v").expect("parsed"),
            _ => toml::Value::Array(
                raw.split(',')
                    .map(|s| toml::Value::String(s.trim().to_owned()))
                    .collect(),
            ),
        },
        _ => match format!("v = {raw}").parse::<toml::Table>() {
            Ok(mut t) => t.remove("v").expect("parsed"),
            Err(_) => toml::Value::String(raw.to_owned()),
        },
    }
}

impl Config {
    /// Checks what types alone cannot.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |m: String| Err(ConfigError::Invalid(m));
        for (key, addr) in [
            ("listen.grpc", &self.listen.grpc),
            ("listen.http", &self.listen.http),
        ] {
            if addr.parse::<std::net::SocketAddr>().is_err() {
                return bad(format!("{key} = {addr:?} is not an IP:port address"));
            }
        }
        if !["lz4", "zstd", "none"].contains(&self.clickhouse.compression.as_str()) {
            return bad(format!(
                "clickhouse.compression = {:?}: expected lz4, zstd or none",
                self.clickhouse.compression
            ));
        }
        if self.batch.max_rows == 0 || self.batch.max_bytes == 0 || self.batch.max_age_ms == 0 {
            return bad("batch.max_rows, max_bytes and max_age_ms must be positive".into());
        }
        if self.limits.max_request_bytes == 0 || self.limits.shard_budget_bytes == 0 {
            return bad("limits.max_request_bytes and shard_budget_bytes must be positive".into());
        }
        if self.sink.max_insert_bytes == 0 || self.sink.max_insert_rows == 0 {
            return bad("sink.max_insert_bytes and max_insert_rows must be positive".into());
        }
        let ack = self.ack_mode()?;
        if ack == AckMode::Wal && self.wal.dir.is_empty() {
            return bad("ack = \"wal\" needs a data directory: set wal.dir".into());
        }
        if self.wal.segment_bytes < 4096 {
            return bad("wal.segment_bytes must be at least 4096".into());
        }
        Ok(())
    }

    /// The ack mode: as set, else `wal` with a data directory, else `clickhouse`.
    pub fn ack_mode(&self) -> Result<AckMode, ConfigError> {
        match self.ack.as_str() {
            "" if !self.wal.dir.is_empty() => Ok(AckMode::Wal),
            "" | "clickhouse" => Ok(AckMode::ClickHouse),
            "wal" => Ok(AckMode::Wal),
            "memory" => Ok(AckMode::Memory),
            other => Err(ConfigError::Invalid(format!(
                "ack = {other:?}: expected clickhouse, wal or memory"
            ))),
        }
    }

    /// The number of shards to run.
    pub fn shard_count(&self) -> usize {
        if self.shards > 0 {
            self.shards
        } else {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        }
    }
}

#[cfg(test)]
mod tests;
