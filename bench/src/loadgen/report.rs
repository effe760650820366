//! The result of a run: one [`Report`], printed for people ([`Report::write_text`])
//! or as one JSON object (`--json`; its fields are documented in `bench/README.md`
//! and on the structs below).
//!
//! Rates are over the measured window: from the end of the warm-up to the last
//! answer. MB are 10^6 bytes. Latencies are microseconds, measured from each request's
//! intended send time (see `pace`).

use std::io::{self, Write};
use std::time::Duration;

use serde::Serialize;

use super::cli::{Compression, Config, Encoding, Limit, Protocol, Signal};
use super::stats::{LatencySummary, Recorder};
use super::verify::Findings;

/// What the run knows besides the recorders.
#[derive(Debug)]
pub struct RunFacts {
    /// From the end of the warm-up to the last answer.
    pub measured: Duration,
    /// Stopped by Ctrl-C.
    pub interrupted: bool,
    /// Process CPU time over the measured window (None off Linux).
    pub cpu: Option<Duration>,
    pub pool_requests: usize,
    pub pool_bytes: usize,
    pub pool_build: Duration,
}

/// What `--verify` found, handed to [`Report::new`].
#[derive(Debug)]
pub struct VerifyOutcome {
    pub run_id: String,
    /// The signals checked (all sent, unless `error` cut the check short).
    pub checks: Vec<SignalCheck>,
    /// Why ClickHouse could not be asked.
    pub error: Option<String>,
}

/// One signal's `--verify` result.
#[derive(Debug, Serialize)]
pub struct SignalCheck {
    pub signal: Signal,
    pub table: &'static str,
    #[serde(flatten)]
    pub findings: Findings,
}

#[derive(Debug, Serialize)]
pub struct Report {
    /// No failed request (or `--allow-errors`) and, with `--verify`, no loss and no
    /// duplicates: the exit status is 0 exactly when this is true.
    pub ok: bool,
    pub interrupted: bool,
    pub config: ConfigSummary,
    /// Seconds from the end of the warm-up to the last answer.
    pub elapsed_s: f64,
    /// Measured requests.
    pub requests: Counts,
    /// Measured records (log records, spans, metric data points).
    pub records: Counts,
    pub bytes: Bytes,
    pub throughput: Throughput,
    pub latency_us: LatencySummary,
    /// Every error, warm-up included, most frequent first.
    pub errors: Vec<ErrorEntry>,
    pub connections: Connections,
    pub warmup: Warmup,
    pub generator: Generator,
    /// Present with `--verify`.
    pub verify: Option<Verify>,
}

#[derive(Debug, Serialize)]
pub struct ConfigSummary {
    pub endpoint: String,
    pub protocol: Protocol,
    /// `h2c` (gRPC, or HTTP with --http2) or `http/1.1`.
    pub transport: &'static str,
    pub signals: Vec<Signal>,
    pub encoding: Encoding,
    pub compression: Compression,
    pub connections: usize,
    pub streams: usize,
    pub records_per_request: usize,
    pub resources: usize,
    pub scopes: usize,
    pub attributes: usize,
    pub body_size: usize,
    pub cardinality: usize,
    pub seed: u64,
    /// Target records a second; null when as fast as possible.
    pub rate: Option<u64>,
    pub warmup_s: f64,
    /// Seconds of sending after the warm-up, for timed runs.
    pub duration_s: Option<f64>,
    /// Measured requests to send, for counted runs.
    pub limit_requests: Option<u64>,
}

#[derive(Debug, Serialize)]
pub struct Counts {
    pub sent: u64,
    pub ok: u64,
    pub failed: u64,
}

#[derive(Debug, Serialize)]
pub struct Bytes {
    /// As sent: compressed, with gRPC framing.
    pub wire: u64,
    /// The encoded requests before compression.
    pub uncompressed: u64,
}

#[derive(Debug, Serialize)]
pub struct Throughput {
    /// Answered requests (ok or not) a second.
    pub requests_per_s: f64,
    /// Acknowledged records a second.
    pub records_per_s: f64,
    pub wire_mb_per_s: f64,
    pub uncompressed_mb_per_s: f64,
}

#[derive(Debug, Serialize)]
pub struct ErrorEntry {
    /// `grpc`, `http`, `transport`, `timeout` or `connect`.
    pub kind: &'static str,
    /// gRPC status or HTTP status code.
    pub code: Option<u32>,
    /// gRPC status name (`UNAVAILABLE`).
    pub name: Option<&'static str>,
    pub message: String,
    /// The answers said when to retry (gRPC `RetryInfo`, HTTP `Retry-After`).
    pub retry_info: bool,
    pub count: u64,
}

#[derive(Debug, Serialize)]
pub struct Connections {
    /// TCP connections opened (more than configured when the server closed some).
    pub opened: u64,
    /// Connection attempts that failed.
    pub failed: u64,
}

#[derive(Debug, Serialize)]
pub struct Warmup {
    pub requests: u64,
    pub failed: u64,
    pub records: u64,
}

#[derive(Debug, Serialize)]
pub struct Generator {
    /// Process CPU seconds (all threads: generation, compression, I/O) over the
    /// measured window; null where /proc is missing.
    pub cpu_s: Option<f64>,
    pub cpu_us_per_record: Option<f64>,
    /// Seconds spent compressing measured requests (part of `cpu_s`).
    pub compress_s: f64,
    pub compress_us_per_request: f64,
    pub pool_requests: usize,
    pub pool_bytes: usize,
    pub pool_build_s: f64,
    pub threads: usize,
}

#[derive(Debug, Serialize)]
pub struct Verify {
    pub run_id: String,
    /// Every signal checked, none with loss, duplicates or malformed rows.
    pub ok: bool,
    /// Why ClickHouse could not be asked (then `ok` is false).
    pub error: Option<String>,
    pub signals: Vec<SignalCheck>,
}

impl Report {
    pub fn new(
        cfg: &Config,
        r: &Recorder,
        facts: &RunFacts,
        verify: Option<VerifyOutcome>,
    ) -> Report {
        let secs = facts.measured.as_secs_f64();
        let per_s = |n: f64| if secs > 0.0 { n / secs } else { 0.0 };
        let requests = r.ok + r.failed;
        let records = r.records_ok + r.records_failed;
        let mut errors: Vec<ErrorEntry> = r
            .errors
            .iter()
            .map(|(k, &count)| ErrorEntry {
                kind: k.kind,
                code: k.code,
                name: k.grpc_name(),
                message: k.message.clone(),
                retry_info: k.retry_info,
                count,
            })
            .collect();
        errors.sort_by_key(|e| std::cmp::Reverse(e.count));
        let verify = verify.map(|v| Verify {
            run_id: v.run_id,
            ok: v.error.is_none() && v.checks.iter().all(|s| s.findings.ok()),
            error: v.error,
            signals: v.checks,
        });
        let ok = (errors.is_empty() || cfg.allow_errors) && verify.as_ref().is_none_or(|v| v.ok);
        Report {
            ok,
            interrupted: facts.interrupted,
            config: ConfigSummary {
                endpoint: cfg.endpoint.to_string(),
                protocol: cfg.protocol,
                transport: if cfg.multiplexed() { "h2c" } else { "http/1.1" },
                signals: cfg.signals.clone(),
                encoding: cfg.encoding,
                compression: cfg.compression,
                connections: cfg.connections,
                streams: cfg.streams,
                records_per_request: cfg.shape.records,
                resources: cfg.shape.resources,
                scopes: cfg.shape.scopes,
                attributes: cfg.shape.attributes,
                body_size: cfg.shape.body_size,
                cardinality: cfg.shape.cardinality,
                seed: cfg.shape.seed,
                rate: cfg.rate,
                warmup_s: cfg.warmup.as_secs_f64(),
                duration_s: match cfg.limit {
                    Limit::Duration(d) => Some(d.as_secs_f64()),
                    Limit::Requests(_) => None,
                },
                limit_requests: match cfg.limit {
                    Limit::Duration(_) => None,
                    Limit::Requests(n) => Some(n),
                },
            },
            elapsed_s: secs,
            requests: Counts {
                sent: requests,
                ok: r.ok,
                failed: r.failed,
            },
            records: Counts {
                sent: records,
                ok: r.records_ok,
                failed: r.records_failed,
            },
            bytes: Bytes {
                wire: r.wire_bytes,
                uncompressed: r.raw_bytes,
            },
            throughput: Throughput {
                requests_per_s: per_s(requests as f64),
                records_per_s: per_s(r.records_ok as f64),
                wire_mb_per_s: per_s(r.wire_bytes as f64) / 1e6,
                uncompressed_mb_per_s: per_s(r.raw_bytes as f64) / 1e6,
            },
            latency_us: LatencySummary::of(&r.latency),
            errors,
            connections: Connections {
                opened: r.connects,
                failed: r.connect_errors,
            },
            warmup: Warmup {
                requests: r.warmup_ok + r.warmup_failed,
                failed: r.warmup_failed,
                records: r.warmup_records,
            },
            generator: Generator {
                cpu_s: facts.cpu.map(|c| c.as_secs_f64()),
                cpu_us_per_record: facts
                    .cpu
                    .filter(|_| records > 0)
                    .map(|c| c.as_secs_f64() * 1e6 / records as f64),
                compress_s: r.compress.as_secs_f64(),
                compress_us_per_request: if requests > 0 {
                    r.compress.as_secs_f64() * 1e6 / requests as f64
                } else {
                    0.0
                },
                pool_requests: facts.pool_requests,
                pool_bytes: facts.pool_bytes,
                pool_build_s: facts.pool_build.as_secs_f64(),
                threads: cfg.threads,
            },
            verify,
        }
    }

    pub fn write_json(&self, out: &mut impl Write) -> io::Result<()> {
        serde_json::to_writer(&mut *out, self)?;
        writeln!(out)
    }

    pub fn write_text(&self, out: &mut impl Write) -> io::Result<()> {
        let c = &self.config;
        let signals: Vec<&str> = c.signals.iter().map(|s| s.name()).collect();
        writeln!(
            out,
            "sluice-loadgen: {} over {} ({}) to {}, {} connection(s) × {} stream(s), {}, compression {}",
            signals.join("+"),
            c.protocol.name(),
            c.transport,
            c.endpoint,
            c.connections,
            c.streams,
            c.encoding.name(),
            c.compression.name(),
        )?;
        let warm = if c.warmup_s > 0.0 {
            format!(
                " after a {:.1} s warm-up ({} requests)",
                c.warmup_s,
                human_count(self.warmup.requests)
            )
        } else {
            String::new()
        };
        let stop = if self.interrupted {
            ", interrupted"
        } else {
            ""
        };
        writeln!(out, "  elapsed     {:.2} s{warm}{stop}", self.elapsed_s)?;
        writeln!(
            out,
            "  requests    {} ok, {} failed; {} req/s",
            human_count(self.requests.ok),
            human_count(self.requests.failed),
            human_rate(self.throughput.requests_per_s)
        )?;
        writeln!(
            out,
            "  records     {} ok, {} failed; {} records/s",
            human_count(self.records.ok),
            human_count(self.records.failed),
            human_rate(self.throughput.records_per_s)
        )?;
        writeln!(
            out,
            "  bytes       {:.1} MB on the wire ({:.1} MB/s), {:.1} MB uncompressed ({:.1} MB/s)",
            self.bytes.wire as f64 / 1e6,
            self.throughput.wire_mb_per_s,
            self.bytes.uncompressed as f64 / 1e6,
            self.throughput.uncompressed_mb_per_s
        )?;
        let l = &self.latency_us;
        writeln!(
            out,
            "  latency µs  p50 {}  p90 {}  p99 {}  p99.9 {}  max {}  (mean {:.0}, {} requests)",
            human_count(l.p50),
            human_count(l.p90),
            human_count(l.p99),
            human_count(l.p999),
            human_count(l.max),
            l.mean,
            human_count(l.count)
        )?;
        let g = &self.generator;
        let cpu = match (g.cpu_s, g.cpu_us_per_record) {
            (Some(s), Some(per)) => format!("{s:.2} s CPU, {per:.3} µs a record"),
            (Some(s), None) => format!("{s:.2} s CPU"),
            _ => "CPU time unknown".into(),
        };
        writeln!(
            out,
            "  generator   {cpu}; compression {:.2} s ({:.0} µs a request); pool {} requests, {:.1} MB, built in {:.2} s",
            g.compress_s,
            g.compress_us_per_request,
            g.pool_requests,
            g.pool_bytes as f64 / 1e6,
            g.pool_build_s
        )?;
        if self.errors.is_empty() {
            writeln!(out, "  errors      none")?;
        } else {
            writeln!(out, "  errors")?;
            for e in &self.errors {
                let code = match (e.code, e.name) {
                    (Some(c), Some(n)) => format!(" {c} {n}"),
                    (Some(c), None) => format!(" {c}"),
                    _ => String::new(),
                };
                let retry = if e.retry_info {
                    " (with retry info)"
                } else {
                    ""
                };
                writeln!(
                    out,
                    "    {:>8} × {}{code}{retry}: {}",
                    human_count(e.count),
                    e.kind,
                    e.message
                )?;
            }
        }
        if let Some(v) = &self.verify {
            let verdict = match (&v.error, v.ok) {
                (Some(e), _) => format!("FAILED: {e}"),
                (None, true) => "OK".into(),
                (None, false) => "FAILED".into(),
            };
            writeln!(out, "  verify      run {}: {verdict}", v.run_id)?;
            for s in &v.signals {
                let f = &s.findings;
                writeln!(
                    out,
                    "    {:<8} {}: {} acknowledged, {} rows stored ({} distinct), {} missing, {} duplicated ({} extra rows), {} stored unacknowledged, {} malformed",
                    s.signal.name(),
                    s.table,
                    human_count(f.acked),
                    human_count(f.stored_rows),
                    human_count(f.stored_distinct),
                    human_count(f.missing),
                    human_count(f.duplicates),
                    human_count(f.duplicate_rows),
                    human_count(f.unacked_stored),
                    human_count(f.malformed_rows),
                )?;
                if !f.missing_sample.is_empty() {
                    let r: Vec<String> = f
                        .missing_sample
                        .iter()
                        .map(|(a, b)| {
                            if b - a == 1 {
                                a.to_string()
                            } else {
                                format!("{a}..{}", b - 1)
                            }
                        })
                        .collect();
                    writeln!(out, "             missing: {}", r.join(", "))?;
                }
                if !f.duplicate_sample.is_empty() {
                    let d: Vec<String> = f.duplicate_sample.iter().map(u64::to_string).collect();
                    writeln!(out, "             duplicated: {}", d.join(", "))?;
                }
            }
        }
        Ok(())
    }
}

/// `1234567` → `1,234,567`.
pub fn human_count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out
}

/// `1234567.0` → `1.23M`, `12.0` → `12.0`.
pub fn human_rate(x: f64) -> String {
    match x {
        x if x >= 1e9 => format!("{:.2}G", x / 1e9),
        x if x >= 1e6 => format!("{:.2}M", x / 1e6),
        x if x >= 1e3 => format!("{:.2}k", x / 1e3),
        x => format!("{x:.1}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_for_people() {
        assert_eq!(human_count(0), "0");
        assert_eq!(human_count(999), "999");
        assert_eq!(human_count(1000), "1,000");
        assert_eq!(human_count(1_234_567), "1,234,567");
        assert_eq!(human_rate(12.0), "12.0");
        assert_eq!(human_rate(1_500.0), "1.50k");
        assert_eq!(human_rate(2_345_678.0), "2.35M");
    }
}
