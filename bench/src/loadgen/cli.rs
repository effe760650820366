//! The command line, in two stages (as ripgrep does): [`Args`] holds the flags as clap
//! read them, [`Config::from_args`] checks them and resolves defaults into the one
//! [`Config`] the run is handed.

use std::time::Duration;

use clap::{Parser, ValueEnum};
use http::Uri;

use crate::generate::{STAMP_MAX, Shape};

/// Default OTLP/gRPC endpoint (the collector's and sluice's port).
pub const DEFAULT_GRPC_ENDPOINT: &str = "http://127.0.0.1:4317";
/// Default OTLP/HTTP endpoint.
pub const DEFAULT_HTTP_ENDPOINT: &str = "http://127.0.0.1:4318";
/// Default ClickHouse HTTP interface for `--verify`.
pub const DEFAULT_CLICKHOUSE_URL: &str = "http://127.0.0.1:8123";

#[derive(Parser, Debug)]
#[command(
    name = "sluice-loadgen",
    version,
    about = "OTLP load generator: logs, traces and metrics over OTLP/gRPC or OTLP/HTTP, \
             with latency percentiles and an optional end-to-end loss check against ClickHouse"
)]
pub struct Args {
    /// Endpoint URL (http:// only). Default: http://127.0.0.1:4317 for grpc,
    /// http://127.0.0.1:4318 for http (whose path, if any, prefixes /v1/<signal>).
    #[arg(long)]
    pub endpoint: Option<String>,
    /// What to send: logs, traces, metrics, or mix (the three in turn).
    #[arg(long, value_enum, default_value_t = SignalArg::Logs)]
    pub signal: SignalArg,
    #[arg(long, value_enum, default_value_t = Protocol::Grpc)]
    pub protocol: Protocol,
    /// Body encoding for --protocol http (gRPC is always protobuf).
    #[arg(long, value_enum, default_value_t = Encoding::Protobuf)]
    pub encoding: Encoding,
    /// OTLP/HTTP over h2c (prior knowledge) instead of HTTP/1.1.
    #[arg(long)]
    pub http2: bool,
    #[arg(long, value_enum, default_value_t = Compression::None)]
    pub compression: Compression,
    /// TCP connections.
    #[arg(long, default_value_t = 2)]
    pub connections: usize,
    /// Concurrent requests on each connection (HTTP/2 streams). HTTP/1.1 cannot
    /// multiplex: there each stream is a connection of its own.
    #[arg(long, default_value_t = 8)]
    pub streams: usize,
    /// Extra request header NAME:VALUE (e.g. authorization:KEY); repeatable.
    #[arg(long = "header", value_name = "NAME:VALUE")]
    pub headers: Vec<String>,
    /// Records (log records, spans, metric data points) in each request.
    #[arg(long, default_value_t = 1000)]
    pub records_per_request: usize,
    /// Resources in each request.
    #[arg(long, default_value_t = 1)]
    pub resources: usize,
    /// Scopes under each resource.
    #[arg(long, default_value_t = 1)]
    pub scopes: usize,
    /// Attributes on each record (besides loadgen's own).
    #[arg(long, default_value_t = 5)]
    pub attributes: usize,
    /// Bytes in each log record's body.
    #[arg(long, default_value_t = 120)]
    pub body_size: usize,
    /// Distinct values each attribute takes.
    #[arg(long, default_value_t = 100)]
    pub cardinality: usize,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Requests generated and encoded up front, then re-sent in turn.
    #[arg(long, default_value_t = 64)]
    pub pool: usize,
    /// Records a second, spread evenly (default: as fast as possible). Suffixes k, M.
    #[arg(long, value_parser = parse_count)]
    pub rate: Option<u64>,
    /// How long to send after the warm-up (e.g. 10s, 500ms, 2m).
    #[arg(long, value_parser = parse_duration, conflicts_with_all = ["requests", "records"])]
    pub duration: Option<Duration>,
    /// Send this many requests after the warm-up, then stop. Suffixes k, M.
    #[arg(long, value_parser = parse_count, conflicts_with = "records")]
    pub requests: Option<u64>,
    /// Send this many records (rounded up to whole requests) after the warm-up.
    #[arg(long, value_parser = parse_count)]
    pub records: Option<u64>,
    /// Sending time before the measurement starts, left out of the statistics.
    #[arg(long, value_parser = parse_duration, default_value = "0s")]
    pub warmup: Duration,
    /// Limit on one request, from send to answer.
    #[arg(long, value_parser = parse_duration, default_value = "10s")]
    pub timeout: Duration,
    /// Runtime worker threads (default: the machine's cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Print one JSON object with the results on stdout (see bench/README.md).
    #[arg(long)]
    pub json: bool,
    /// No live progress on stderr.
    #[arg(long)]
    pub quiet: bool,
    /// Exit 0 even when requests failed.
    #[arg(long)]
    pub allow_errors: bool,
    /// Stamp every record, then check in ClickHouse that every acknowledged record
    /// was stored exactly once.
    #[arg(long)]
    pub verify: bool,
    /// Run id stamped on every resource with --verify (default: random).
    #[arg(long)]
    pub run_id: Option<String>,
    #[arg(long, env = "CLICKHOUSE_URL", default_value = DEFAULT_CLICKHOUSE_URL)]
    pub clickhouse_url: String,
    #[arg(long, default_value = "default")]
    pub database: String,
    #[arg(long, env = "CLICKHOUSE_USER", default_value = "default")]
    pub clickhouse_user: String,
    #[arg(
        long,
        env = "CLICKHOUSE_PASSWORD",
        default_value = "",
        hide_env_values = true
    )]
    pub clickhouse_password: String,
    /// How long --verify waits for the acknowledged rows to appear.
    #[arg(long, value_parser = parse_duration, default_value = "30s")]
    pub verify_timeout: Duration,
    /// Instead of load: replay the fuzz corpus in DIR (a folder per target, as
    /// fuzz/corpus/), and mutations of it, one request at a time, and report every
    /// request that got no answer or a server error (see bench/README.md).
    /// --requests caps how many are sent; --seed picks the mutations.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["verify", "rate", "duration", "records"])]
    pub malformed: Option<std::path::PathBuf>,
    /// With --malformed: mutations sent per corpus file (besides the file as is).
    #[arg(long, default_value_t = 3)]
    pub mutations: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SignalArg {
    Logs,
    Traces,
    Metrics,
    Mix,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    Grpc,
    Http,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Encoding {
    Protobuf,
    Json,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

impl Protocol {
    pub const fn name(self) -> &'static str {
        match self {
            Protocol::Grpc => "grpc",
            Protocol::Http => "http",
        }
    }
}

impl Encoding {
    pub const fn name(self) -> &'static str {
        match self {
            Encoding::Protobuf => "protobuf",
            Encoding::Json => "json",
        }
    }
}

impl Compression {
    pub const fn name(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        }
    }

    /// The `grpc-encoding` / `Content-Encoding` token.
    pub const fn token(self) -> Option<&'static str> {
        match self {
            Compression::None => None,
            Compression::Gzip => Some("gzip"),
            Compression::Zstd => Some("zstd"),
        }
    }
}

/// One OTLP signal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Signal {
    Logs,
    Traces,
    Metrics,
}

impl Signal {
    pub const ALL: [Signal; 3] = [Signal::Logs, Signal::Traces, Signal::Metrics];

    pub const fn index(self) -> usize {
        self as usize
    }

    pub const fn name(self) -> &'static str {
        match self {
            Signal::Logs => "logs",
            Signal::Traces => "traces",
            Signal::Metrics => "metrics",
        }
    }

    /// The gRPC method path (opentelemetry-proto's collector services).
    pub const fn grpc_path(self) -> &'static str {
        match self {
            Signal::Logs => "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
            Signal::Traces => "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
            Signal::Metrics => "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
        }
    }

    /// The OTLP/HTTP path (OTLP spec, "OTLP/HTTP Request").
    pub const fn http_path(self) -> &'static str {
        match self {
            Signal::Logs => "/v1/logs",
            Signal::Traces => "/v1/traces",
            Signal::Metrics => "/v1/metrics",
        }
    }
}

/// When the run stops.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Limit {
    Duration(Duration),
    Requests(u64),
}

/// The resolved, checked configuration of one run.
#[derive(Clone, Debug)]
pub struct Config {
    pub endpoint: Uri,
    /// `host:port` to connect to.
    pub authority: String,
    /// OTLP/HTTP: the endpoint's path, prefixed to `/v1/<signal>` (no trailing `/`).
    pub path_prefix: String,
    pub signals: Vec<Signal>,
    pub protocol: Protocol,
    pub encoding: Encoding,
    pub http2: bool,
    pub compression: Compression,
    pub connections: usize,
    pub streams: usize,
    pub headers: Vec<(http::HeaderName, http::HeaderValue)>,
    pub shape: Shape,
    pub pool: usize,
    pub rate: Option<u64>,
    pub limit: Limit,
    pub warmup: Duration,
    pub timeout: Duration,
    pub threads: usize,
    pub json: bool,
    pub quiet: bool,
    pub allow_errors: bool,
    pub verify: Option<VerifyConfig>,
    /// `--malformed`: the corpus and how many mutations of each file.
    pub malformed: Option<(std::path::PathBuf, usize)>,
}

/// `--verify`'s settings.
#[derive(Clone, Debug)]
pub struct VerifyConfig {
    pub run_id: String,
    pub clickhouse: Uri,
    pub database: String,
    pub user: String,
    pub password: String,
    pub timeout: Duration,
}

/// A flag combination or value the run cannot use.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

fn usage(msg: impl Into<String>) -> UsageError {
    UsageError(msg.into())
}

/// Default run length when neither --duration, --requests nor --records is given.
pub const DEFAULT_DURATION: Duration = Duration::from_secs(10);

impl Config {
    pub fn from_args(a: Args) -> Result<Config, UsageError> {
        let endpoint_text = a.endpoint.clone().unwrap_or_else(|| {
            match a.protocol {
                Protocol::Grpc => DEFAULT_GRPC_ENDPOINT,
                Protocol::Http => DEFAULT_HTTP_ENDPOINT,
            }
            .to_string()
        });
        let (endpoint, authority) = parse_http_url(&endpoint_text, "--endpoint")?;
        let path_prefix = endpoint.path().trim_end_matches('/').to_string();
        if a.protocol == Protocol::Grpc && a.encoding == Encoding::Json {
            return Err(usage(
                "--encoding json needs --protocol http (gRPC is protobuf)",
            ));
        }
        if a.protocol == Protocol::Grpc && a.http2 {
            return Err(usage(
                "--http2 is for --protocol http (gRPC is always HTTP/2)",
            ));
        }
        for (name, v) in [
            ("--connections", a.connections),
            ("--streams", a.streams),
            ("--records-per-request", a.records_per_request),
            ("--resources", a.resources),
            ("--scopes", a.scopes),
            ("--cardinality", a.cardinality),
            ("--pool", a.pool),
        ] {
            if v == 0 {
                return Err(usage(format!("{name} must be at least 1")));
            }
        }
        if a.resources * a.scopes > a.records_per_request {
            return Err(usage(
                "--resources × --scopes must not exceed --records-per-request",
            ));
        }
        if a.rate == Some(0) {
            return Err(usage("--rate must be at least 1 record a second"));
        }
        let limit = match (a.duration, a.requests, a.records) {
            (Some(d), _, _) => Limit::Duration(d),
            (_, Some(n), _) => Limit::Requests(n),
            (_, _, Some(n)) => Limit::Requests(n.div_ceil(a.records_per_request as u64)),
            _ => Limit::Duration(DEFAULT_DURATION),
        };
        if let Limit::Requests(n) = limit
            && n.saturating_mul(a.records_per_request as u64) > STAMP_MAX
        {
            return Err(usage("too many records for the 16-digit sequence numbers"));
        }
        let signals = match a.signal {
            SignalArg::Logs => vec![Signal::Logs],
            SignalArg::Traces => vec![Signal::Traces],
            SignalArg::Metrics => vec![Signal::Metrics],
            SignalArg::Mix => Signal::ALL.to_vec(),
        };
        let headers = a
            .headers
            .iter()
            .map(|h| parse_header(h))
            .collect::<Result<Vec<_>, _>>()?;
        let verify = if a.verify {
            let run_id = a.run_id.clone().unwrap_or_else(random_run_id);
            if run_id.is_empty()
                || run_id.len() > 64
                || !run_id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            {
                return Err(usage("--run-id: 1 to 64 of A-Z a-z 0-9 - _"));
            }
            if !is_identifier(&a.database) {
                return Err(usage("--database: letters, digits and _ only"));
            }
            let (clickhouse, _) = parse_http_url(&a.clickhouse_url, "--clickhouse-url")?;
            Some(VerifyConfig {
                run_id,
                clickhouse,
                database: a.database.clone(),
                user: a.clickhouse_user.clone(),
                password: a.clickhouse_password.clone(),
                timeout: a.verify_timeout,
            })
        } else {
            if a.run_id.is_some() {
                return Err(usage("--run-id needs --verify"));
            }
            None
        };
        let threads = a.threads.unwrap_or_else(|| {
            std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get)
        });
        Ok(Config {
            endpoint,
            authority,
            path_prefix,
            signals,
            protocol: a.protocol,
            encoding: a.encoding,
            http2: a.http2,
            compression: a.compression,
            connections: a.connections,
            streams: a.streams,
            headers,
            shape: Shape {
                records: a.records_per_request,
                resources: a.resources,
                scopes: a.scopes,
                attributes: a.attributes,
                body_size: a.body_size,
                cardinality: a.cardinality,
                seed: a.seed,
            },
            pool: a.pool,
            rate: a.rate,
            limit,
            warmup: a.warmup,
            timeout: a.timeout,
            threads: threads.max(1),
            json: a.json,
            quiet: a.quiet,
            allow_errors: a.allow_errors,
            verify,
            malformed: a.malformed.clone().map(|dir| (dir, a.mutations)),
        })
    }

    /// Whether requests share connections as HTTP/2 streams.
    pub fn multiplexed(&self) -> bool {
        self.protocol == Protocol::Grpc || self.http2
    }

    /// Requests in flight at once: connections × streams.
    pub fn concurrency(&self) -> usize {
        self.connections * self.streams
    }
}

fn is_identifier(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// A random run id: 16 hex digits from the standard library's randomly keyed hasher.
fn random_run_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    h.write_u32(std::process::id());
    format!("{:016x}", h.finish())
}

fn parse_http_url(text: &str, flag: &str) -> Result<(Uri, String), UsageError> {
    let uri: Uri = text
        .parse()
        .map_err(|e| usage(format!("{flag} {text:?}: {e}")))?;
    match uri.scheme_str() {
        Some("http") => {}
        Some(other) => {
            return Err(usage(format!(
                "{flag} {text:?}: scheme {other} is not supported (http only)"
            )));
        }
        None => return Err(usage(format!("{flag} {text:?}: needs http://host:port"))),
    }
    let host = uri
        .host()
        .ok_or_else(|| usage(format!("{flag} {text:?}: no host")))?;
    let port = uri.port_u16().unwrap_or(80);
    Ok((uri.clone(), format!("{host}:{port}")))
}

fn parse_header(h: &str) -> Result<(http::HeaderName, http::HeaderValue), UsageError> {
    let (name, value) = h
        .split_once(':')
        .ok_or_else(|| usage(format!("--header {h:?}: NAME:VALUE")))?;
    let name = http::HeaderName::from_bytes(name.trim().as_bytes())
        .map_err(|e| usage(format!("--header {h:?}: {e}")))?;
    let value = http::HeaderValue::from_str(value.trim())
        .map_err(|e| usage(format!("--header {h:?}: {e}")))?;
    Ok((name, value))
}

/// `10s`, `1.5s`, `250ms`, `2m`, `1h`, `100us`; a bare number is seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: f64 = num
        .parse()
        .map_err(|_| format!("{s:?}: a duration like 10s, 500ms, 2m"))?;
    let secs = match unit {
        "" | "s" => n,
        "ms" => n / 1e3,
        "us" | "µs" => n / 1e6,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return Err(format!("{s:?}: unit must be h, m, s, ms or us")),
    };
    Duration::try_from_secs_f64(secs).map_err(|e| format!("{s:?}: {e}"))
}

/// `1000`, `10k`, `2.5M`, `1G`.
pub fn parse_count(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let (num, mul) = match s.as_bytes().last() {
        Some(b'k' | b'K') => (&s[..s.len() - 1], 1e3),
        Some(b'M') => (&s[..s.len() - 1], 1e6),
        Some(b'G') => (&s[..s.len() - 1], 1e9),
        _ => (s, 1.0),
    };
    if mul == 1.0 {
        return num
            .parse()
            .map_err(|_| format!("{s:?}: a count like 1000, 10k, 2M"));
    }
    let n: f64 = num
        .parse()
        .map_err(|_| format!("{s:?}: a count like 1000, 10k, 2M"))?;
    if !(n >= 0.0 && n * mul < u64::MAX as f64) {
        return Err(format!("{s:?}: out of range"));
    }
    Ok((n * mul).round() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(args: &[&str]) -> Result<Config, UsageError> {
        let args =
            Args::try_parse_from(std::iter::once("sluice-loadgen").chain(args.iter().copied()))
                .map_err(|e| UsageError(e.to_string()))?;
        Config::from_args(args)
    }

    #[test]
    fn durations_and_counts() {
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("3"), Ok(Duration::from_secs(3)));
        assert!(parse_duration("3 fortnights").is_err());
        assert_eq!(parse_count("1000"), Ok(1000));
        assert_eq!(parse_count("10k"), Ok(10_000));
        assert_eq!(parse_count("2.5M"), Ok(2_500_000));
        assert!(parse_count("lots").is_err());
    }

    #[test]
    fn defaults() {
        let c = config(&[]).unwrap();
        assert_eq!(c.authority, "127.0.0.1:4317");
        assert_eq!(c.limit, Limit::Duration(DEFAULT_DURATION));
        assert_eq!(c.signals, vec![Signal::Logs]);
        assert_eq!(c.shape.records, 1000);
        let c = config(&["--protocol", "http", "--records", "2500"]).unwrap();
        assert_eq!(c.authority, "127.0.0.1:4318");
        assert_eq!(c.limit, Limit::Requests(3));
        let c = config(&["--protocol", "http", "--endpoint", "http://h:9/otlp/"]).unwrap();
        assert_eq!(c.path_prefix, "/otlp");
    }

    #[test]
    fn refusals() {
        for bad in [
            &["--encoding", "json"][..],
            &["--http2"],
            &["--endpoint", "https://x:4317"],
            &["--connections", "0"],
            &[
                "--resources",
                "3",
                "--scopes",
                "3",
                "--records-per-request",
                "8",
            ],
            &["--run-id", "x"],
            &["--verify", "--run-id", "a'b"],
            &["--verify", "--database", "a.b"],
            &["--duration", "1s", "--requests", "3"],
            &["--header", "novalue"],
        ] {
            assert!(config(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn random_run_ids_differ() {
        assert_ne!(random_run_id(), random_run_id());
        assert_eq!(random_run_id().len(), 16);
    }
}
