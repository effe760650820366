//! `--malformed DIR`: replays a fuzz corpus, and mutations of it, at an OTLP endpoint
//! and reports every request that got no answer or a server error, and whether the
//! endpoint was still up at the end. Useful against sluice and against any other
//! OTLP receiver: bad input must get a 4xx / an error status naming the problem,
//! nothing worse.
//!
//! `DIR` is laid out as `fuzz/corpus/` is, a folder per target, and the folder's
//! name says what its files are:
//!
//! | folder | sent as |
//! |---|---|
//! | `<signal>_protobuf` | an `Export` request of that signal: gRPC, or OTLP/HTTP protobuf |
//! | `<signal>_json` | OTLP/HTTP JSON (skipped over gRPC) |
//! | `decompress` | OTLP/HTTP protobuf logs whose `Content-Encoding` the first byte picks (gzip, zstd, deflate), as the fuzz target reads it (skipped over gRPC) |
//!
//! Other folders are skipped. Each file is sent as it is and `--mutations` times
//! changed (bytes flipped, cut short, replaced by noise, framed wrongly for gRPC,
//! labelled with the other content type for HTTP), from `--seed`, so a run is
//! repeatable. Requests go one at a time, on one connection, opened again when
//! the endpoint closes it.
//!
//! | answer | counted as |
//! |---|---|
//! | success, a 4xx, a gRPC status other than below | answered |
//! | HTTP 503 with `Retry-After`, gRPC `UNAVAILABLE` with `RetryInfo` | refused for now (not a problem) |
//! | any other 5xx; gRPC `UNKNOWN`, `INTERNAL`, `DATA_LOSS`, or `UNAVAILABLE` without `RetryInfo` | **problem**: a server error |
//! | no answer within `--timeout`, a broken connection, a reset stream | **problem**: no answer |
//! | the endpoint no longer accepts connections | **problem**: it is down (the run stops) |

use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use serde::Serialize;

use super::cli::{Config, Protocol, Signal};
use super::client::{Failure, Kind, Stream, Target, connect};

/// Problems listed in the report (all are counted).
const MAX_LISTED: usize = 50;

/// One request to send.
#[derive(Debug)]
struct Payload {
    /// The corpus file it came from.
    source: String,
    mutation: &'static str,
    signal: Signal,
    json: bool,
    /// `Content-Encoding` / `grpc-encoding`.
    encoding: Option<&'static str>,
    /// The body as sent (for gRPC, framed).
    body: Bytes,
}

/// What `--malformed` found.
#[derive(Debug, Default, Serialize)]
pub struct MalformedReport {
    pub endpoint: String,
    pub sent: u64,
    /// Answered with success.
    pub ok: u64,
    /// Answered with a client error (4xx, or a gRPC status naming the input).
    pub refused_as_bad: u64,
    /// Refused for now, with retry information.
    pub refused_for_now: u64,
    pub problem_count: u64,
    pub problems: Vec<Problem>,
    /// Whether the endpoint took a connection after the last request.
    pub alive: bool,
    pub ok_verdict: bool,
}

#[derive(Debug, Serialize)]
pub struct Problem {
    pub source: String,
    pub mutation: &'static str,
    pub what: String,
}

/// Reads the corpus and sends it; the report says what went wrong.
pub async fn run(
    cfg: &Config,
    dir: &Path,
    mutations: usize,
    seed: u64,
) -> Result<MalformedReport, String> {
    let grpc = cfg.protocol == Protocol::Grpc;
    let mut payloads = load(dir, grpc, mutations, seed)?;
    if let super::cli::Limit::Requests(n) = cfg.limit {
        payloads.truncate(usize::try_from(n).unwrap_or(usize::MAX));
    }
    if payloads.is_empty() {
        return Err(format!("{}: no corpus files to send", dir.display()));
    }
    let addr = tokio::net::lookup_host(cfg.authority.as_str())
        .await
        .map_err(|e| format!("{}: {e}", cfg.authority))?
        .next()
        .ok_or_else(|| format!("{}: resolves to no address", cfg.authority))?;
    let kind = Kind::of(cfg);
    let target_for = |p: &Payload| {
        let mut t = Target::new(cfg, addr).expect("URIs made from a checked endpoint");
        t.json = p.json;
        t.compression = p.encoding;
        Arc::new(t)
    };
    let mut report = MalformedReport {
        endpoint: cfg.endpoint.to_string(),
        ..Default::default()
    };
    let mut stream: Option<Stream> = None;
    for p in &payloads {
        let target = target_for(p);
        let mut result = Err(Failure::Closed(String::new()));
        // A connection the endpoint closed before the request was sent is opened again.
        for _ in 0..2 {
            let s = match stream.as_mut() {
                Some(s) => s,
                None => match connect(kind, &target, 1).await {
                    Ok(mut v) => stream.insert(v.remove(0)),
                    Err(e) => {
                        report.problem(p, format!("the endpoint is down: {e}"));
                        report.alive = false;
                        report.finish();
                        return Ok(report);
                    }
                },
            };
            result =
                match tokio::time::timeout(cfg.timeout, s.send(&target, p.signal, p.body.clone()))
                    .await
                {
                    Ok(r) => r,
                    Err(_) => Err(Failure::Timeout),
                };
            if !matches!(result, Err(Failure::Closed(_))) {
                break;
            }
            stream = None;
        }
        report.sent += 1;
        match classify(&result) {
            Outcome::Ok => report.ok += 1,
            Outcome::Bad => report.refused_as_bad += 1,
            Outcome::ForNow => report.refused_for_now += 1,
            Outcome::Problem(what) => report.problem(p, what),
        }
        if result.as_ref().is_err_and(Failure::breaks_connection)
            || matches!(result, Err(Failure::Timeout))
        {
            stream = None;
        }
    }
    let probe = target_for(&payloads[0]);
    report.alive = connect(kind, &probe, 1).await.is_ok();
    if !report.alive {
        report.problem(
            &payloads[payloads.len() - 1],
            "the endpoint is down after the run".into(),
        );
    }
    report.finish();
    Ok(report)
}

impl MalformedReport {
    fn problem(&mut self, p: &Payload, what: String) {
        self.problem_count += 1;
        if self.problems.len() < MAX_LISTED {
            self.problems.push(Problem {
                source: p.source.clone(),
                mutation: p.mutation,
                what,
            });
        }
    }

    fn finish(&mut self) {
        self.ok_verdict = self.problem_count == 0 && self.alive;
    }

    pub fn write_json(&self, out: &mut impl std::io::Write) -> std::io::Result<()> {
        serde_json::to_writer_pretty(&mut *out, self).map_err(std::io::Error::other)?;
        writeln!(out)
    }

    pub fn write_text(&self, out: &mut impl std::io::Write) -> std::io::Result<()> {
        writeln!(out, "sluice-loadgen --malformed → {}", self.endpoint)?;
        writeln!(
            out,
            "  sent {}: {} ok, {} refused as bad input, {} refused for now (retry)",
            self.sent, self.ok, self.refused_as_bad, self.refused_for_now
        )?;
        writeln!(
            out,
            "  endpoint alive at the end: {}",
            if self.alive { "yes" } else { "NO" }
        )?;
        if self.problem_count == 0 {
            writeln!(out, "  problems    none")?;
        } else {
            writeln!(out, "  problems    {}", self.problem_count)?;
            for p in &self.problems {
                writeln!(out, "    {} ({}): {}", p.source, p.mutation, p.what)?;
            }
        }
        Ok(())
    }
}

enum Outcome {
    Ok,
    Bad,
    ForNow,
    Problem(String),
}

fn classify(result: &Result<(), Failure>) -> Outcome {
    use wire::grpc::Code;
    match result {
        Ok(()) => Outcome::Ok,
        Err(Failure::Grpc {
            code, retry: true, ..
        }) if *code == Code::Unavailable as u32 => Outcome::ForNow,
        // A stream reset (h2 reports it as CANCELLED): no answer.
        Err(Failure::Grpc { code, message, .. }) if *code == Code::Cancelled as u32 => {
            Outcome::Problem(format!("no answer: {message}"))
        }
        Err(Failure::Grpc { code, message, .. })
            if [
                Code::Unknown,
                Code::Internal,
                Code::DataLoss,
                Code::Unavailable,
            ]
            .iter()
            .any(|c| *c as u32 == *code) =>
        {
            Outcome::Problem(format!(
                "server error: gRPC {} {message:?}",
                super::grpc::code_name(*code)
            ))
        }
        Err(Failure::Grpc { .. }) => Outcome::Bad,
        Err(Failure::Http {
            status: 503,
            retry: true,
            ..
        }) => Outcome::ForNow,
        Err(Failure::Http {
            status, message, ..
        }) if *status >= 500 => {
            Outcome::Problem(format!("server error: HTTP {status} {message:?}"))
        }
        Err(Failure::Http { .. }) => Outcome::Bad,
        Err(Failure::Timeout) => Outcome::Problem("no answer within --timeout".into()),
        Err(Failure::Transport(e) | Failure::Closed(e)) => {
            Outcome::Problem(format!("no answer: {e}"))
        }
    }
}

/// What a corpus folder holds.
fn folder_kind(name: &str, grpc: bool) -> Option<(Signal, bool, bool)> {
    let (signal, format) = name.split_once('_')?;
    let signal = Signal::ALL.into_iter().find(|s| s.name() == signal);
    match (name, signal, format) {
        ("decompress", _, _) if !grpc => Some((Signal::Logs, false, true)),
        (_, Some(s), "protobuf") => Some((s, false, false)),
        (_, Some(s), "json") if !grpc => Some((s, true, false)),
        _ => None,
    }
}

fn load(dir: &Path, grpc: bool, mutations: usize, seed: u64) -> Result<Vec<Payload>, String> {
    let read_dir = |d: &Path| -> Result<Vec<PathBuf>, String> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(d)
            .map_err(|e| format!("{}: {e}", d.display()))?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .collect();
        v.sort();
        Ok(v)
    };
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut out = Vec::new();
    for folder in read_dir(dir)? {
        let name = folder.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let Some((signal, json, decompress)) = folder_kind(name, grpc) else {
            continue;
        };
        if !folder.is_dir() {
            continue;
        }
        for file in read_dir(&folder)? {
            let Ok(mut bytes) = std::fs::read(&file) else {
                continue;
            };
            let mut encoding = None;
            if decompress {
                let Some((&which, rest)) = bytes.split_first() else {
                    continue;
                };
                encoding = Some(["gzip", "zstd", "deflate"][usize::from(which) % 3]);
                bytes = rest.to_vec();
            }
            let source = format!(
                "{name}/{}",
                file.file_name().and_then(|n| n.to_str()).unwrap_or("?")
            );
            let base = Payload {
                source,
                mutation: "as is",
                signal,
                json,
                encoding,
                body: Bytes::new(),
            };
            out.push(finish(&base, "as is", bytes.clone(), grpc, false));
            for _ in 0..mutations {
                let (what, body, bad_frame) = mutate(&mut rng, &bytes, grpc);
                out.push(finish(&base, what, body, grpc, bad_frame));
            }
        }
    }
    Ok(out)
}

/// The payload to send: for gRPC, the body framed (or framed wrongly).
fn finish(
    base: &Payload,
    mutation: &'static str,
    body: Vec<u8>,
    grpc: bool,
    bad_frame: bool,
) -> Payload {
    let body = if grpc {
        let mut framed = Vec::with_capacity(body.len() + 5);
        let len = body.len() as u32;
        if bad_frame {
            // The compressed flag set without a grpc-encoding, and a length one past the body.
            framed.push(1);
            framed.extend_from_slice(&(len + 1).to_be_bytes());
        } else {
            framed.push(0);
            framed.extend_from_slice(&len.to_be_bytes());
        }
        framed.extend_from_slice(&body);
        framed
    } else {
        body
    };
    Payload {
        source: base.source.clone(),
        mutation,
        signal: base.signal,
        json: base.json ^ (mutation == "other content type"),
        encoding: base.encoding,
        body: Bytes::from(body),
    }
}

/// One mutation of `bytes`: its name, the new body, and (gRPC) whether to frame it wrongly.
fn mutate(rng: &mut fastrand::Rng, bytes: &[u8], grpc: bool) -> (&'static str, Vec<u8>, bool) {
    let mut b = bytes.to_vec();
    match rng.u8(0..5) {
        0 if !b.is_empty() => {
            for _ in 0..rng.usize(1..=8) {
                let i = rng.usize(0..b.len());
                b[i] ^= rng.u8(1..=255);
            }
            ("bytes flipped", b, false)
        }
        1 if !b.is_empty() => {
            b.truncate(rng.usize(0..b.len()));
            ("cut short", b, false)
        }
        2 => {
            let n = b.len().max(1);
            ("noise", (0..n).map(|_| rng.u8(..)).collect(), false)
        }
        3 if grpc => ("framed wrongly", b, true),
        3 => ("other content type", b, false),
        _ => {
            // A length prefix or varint made huge: decoders must not trust it.
            b.splice(0..0, [0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]);
            ("huge length", b, false)
        }
    }
}
