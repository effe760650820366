//! What the run counts: per-connection [`Recorder`]s (HDR latency histogram, counts,
//! errors, acknowledged sequence ranges), merged at the end, and the shared [`Live`]
//! counters the progress line reads once a second.
//!
//! Latencies are recorded in microseconds, 1 µs to [`MAX_LATENCY_US`] with three
//! significant digits (HdrHistogram's usual precision: 0.1% error); slower answers
//! count as the maximum.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use hdrhistogram::Histogram;

use super::cli::Signal;
use super::client::Failure;
use super::pace::Slot;

/// Largest latency the histogram tells apart: one hour.
pub const MAX_LATENCY_US: u64 = 3_600_000_000;
/// Significant digits of the histogram.
const SIGFIG: u8 = 3;
/// Distinct error messages kept; later ones are counted under one key.
pub const MAX_ERROR_KINDS: usize = 64;
/// Characters of an error message kept.
const MAX_MESSAGE: usize = 300;

/// How one error is grouped: its kind, its status code, its message.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ErrorKey {
    /// `grpc`, `http`, `transport`, `timeout` or `connect`.
    pub kind: &'static str,
    /// The gRPC status or HTTP status code.
    pub code: Option<u32>,
    pub message: String,
    /// The answer said when to retry (gRPC `RetryInfo`, HTTP `Retry-After`).
    pub retry_info: bool,
}

impl ErrorKey {
    pub fn of(f: &Failure) -> ErrorKey {
        let (kind, code, message, retry_info) = match f {
            Failure::Grpc {
                code,
                message,
                retry,
            } => ("grpc", Some(*code), message.as_str(), *retry),
            Failure::Http {
                status,
                message,
                retry,
            } => ("http", Some(u32::from(*status)), message.as_str(), *retry),
            Failure::Transport(m) | Failure::Closed(m) => ("transport", None, m.as_str(), false),
            Failure::Timeout => ("timeout", None, "no answer within --timeout", false),
        };
        ErrorKey {
            kind,
            code,
            message: truncate(message, MAX_MESSAGE),
            retry_info,
        }
    }

    pub fn connect(message: &str) -> ErrorKey {
        ErrorKey {
            kind: "connect",
            code: None,
            message: truncate(message, MAX_MESSAGE),
            retry_info: false,
        }
    }

    /// The gRPC status name (`UNAVAILABLE`), for gRPC errors.
    pub fn grpc_name(&self) -> Option<&'static str> {
        match (self.kind, self.code) {
            ("grpc", Some(c)) => Some(super::grpc::code_name(c)),
            _ => None,
        }
    }
}

fn truncate(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// Counts of one connection (all its reconnects), merged into the run's at the end.
#[derive(Debug)]
pub struct Recorder {
    /// Latency of measured requests, ok or not, in µs.
    pub latency: Histogram<u64>,
    /// Measured requests answered OK / failed.
    pub ok: u64,
    pub failed: u64,
    pub records_ok: u64,
    pub records_failed: u64,
    /// Measured bytes sent: on the wire (compressed, with gRPC framing) and encoded.
    pub wire_bytes: u64,
    pub raw_bytes: u64,
    /// Time spent compressing measured requests.
    pub compress: Duration,
    /// Warm-up requests: answered OK, failed; records.
    pub warmup_ok: u64,
    pub warmup_failed: u64,
    pub warmup_records: u64,
    /// Every error, warm-up included, by kind and message.
    pub errors: BTreeMap<ErrorKey, u64>,
    /// Connections opened, and attempts that failed.
    pub connects: u64,
    pub connect_errors: u64,
    /// Sequence ranges `[start, end)` the endpoint acknowledged, per signal
    /// ([`Signal::index`]); warm-up included.
    pub acked: [Vec<(u64, u64)>; 3],
}

impl Default for Recorder {
    fn default() -> Recorder {
        Recorder::new()
    }
}

impl Recorder {
    pub fn new() -> Recorder {
        Recorder {
            latency: Histogram::new_with_bounds(1, MAX_LATENCY_US, SIGFIG)
                .expect("constant histogram bounds are valid"),
            ok: 0,
            failed: 0,
            records_ok: 0,
            records_failed: 0,
            wire_bytes: 0,
            raw_bytes: 0,
            compress: Duration::ZERO,
            warmup_ok: 0,
            warmup_failed: 0,
            warmup_records: 0,
            errors: BTreeMap::new(),
            connects: 0,
            connect_errors: 0,
            acked: Default::default(),
        }
    }

    /// Records one answered (or failed) request.
    pub fn request(&mut self, sent: &Sent, result: Result<(), &Failure>) {
        if result.is_ok() && sent.seq_base.is_some() {
            let start = sent.seq_base.unwrap_or(0);
            self.acked[sent.signal.index()].push((start, start + sent.records));
        }
        if let Err(f) = result {
            self.error(ErrorKey::of(f));
        }
        if !sent.slot.measured {
            self.warmup_records += sent.records;
            match result {
                Ok(()) => self.warmup_ok += 1,
                Err(_) => self.warmup_failed += 1,
            }
            return;
        }
        self.latency.saturating_record(
            u64::try_from(sent.latency.as_micros())
                .unwrap_or(u64::MAX)
                .max(1),
        );
        self.wire_bytes += sent.wire_bytes;
        self.raw_bytes += sent.raw_bytes;
        self.compress += sent.compress;
        match result {
            Ok(()) => {
                self.ok += 1;
                self.records_ok += sent.records;
            }
            Err(_) => {
                self.failed += 1;
                self.records_failed += sent.records;
            }
        }
    }

    pub fn error(&mut self, key: ErrorKey) {
        if let Some(n) = self.errors.get_mut(&key) {
            *n += 1;
        } else if self.errors.len() < MAX_ERROR_KINDS {
            self.errors.insert(key, 1);
        } else {
            let other = ErrorKey {
                kind: key.kind,
                code: None,
                message: "(more distinct errors than the report keeps)".into(),
                retry_info: false,
            };
            *self.errors.entry(other).or_insert(0) += 1;
        }
    }

    pub fn merge(&mut self, o: Recorder) {
        // Both histograms have the same bounds, so adding cannot fail.
        let _ = self.latency.add(&o.latency);
        self.ok += o.ok;
        self.failed += o.failed;
        self.records_ok += o.records_ok;
        self.records_failed += o.records_failed;
        self.wire_bytes += o.wire_bytes;
        self.raw_bytes += o.raw_bytes;
        self.compress += o.compress;
        self.warmup_ok += o.warmup_ok;
        self.warmup_failed += o.warmup_failed;
        self.warmup_records += o.warmup_records;
        self.connects += o.connects;
        self.connect_errors += o.connect_errors;
        for (k, n) in o.errors {
            *self.errors.entry(k).or_insert(0) += n;
        }
        for (mine, theirs) in self.acked.iter_mut().zip(o.acked) {
            mine.extend(theirs);
        }
    }

    /// Requests that failed, warm-up included.
    pub fn all_failed(&self) -> u64 {
        self.failed + self.warmup_failed
    }
}

/// What was sent for one request, handed to [`Recorder::request`].
#[derive(Debug)]
pub struct Sent {
    pub slot: Slot,
    pub signal: Signal,
    pub records: u64,
    /// First sequence number, with `--verify`.
    pub seq_base: Option<u64>,
    pub wire_bytes: u64,
    pub raw_bytes: u64,
    pub compress: Duration,
    pub latency: Duration,
}

/// Latency percentiles in microseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize)]
pub struct LatencySummary {
    pub count: u64,
    pub min: u64,
    pub mean: f64,
    pub p50: u64,
    pub p90: u64,
    pub p99: u64,
    pub p999: u64,
    pub max: u64,
}

impl LatencySummary {
    pub fn of(h: &Histogram<u64>) -> LatencySummary {
        if h.is_empty() {
            return LatencySummary::default();
        }
        LatencySummary {
            count: h.len(),
            min: h.min(),
            mean: h.mean(),
            p50: h.value_at_quantile(0.50),
            p90: h.value_at_quantile(0.90),
            p99: h.value_at_quantile(0.99),
            p999: h.value_at_quantile(0.999),
            max: h.max(),
        }
    }
}

/// Counters the workers bump on every answer and the progress line reads.
#[derive(Debug, Default)]
pub struct Live {
    pub ok: AtomicU64,
    pub failed: AtomicU64,
    pub records_ok: AtomicU64,
    pub wire_bytes: AtomicU64,
}

impl Live {
    pub fn add(&self, ok: bool, records: u64, wire_bytes: u64) {
        if ok {
            self.ok.fetch_add(1, Ordering::Relaxed);
            self.records_ok.fetch_add(records, Ordering::Relaxed);
        } else {
            self.failed.fetch_add(1, Ordering::Relaxed);
        }
        self.wire_bytes.fetch_add(wire_bytes, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> LiveSnapshot {
        LiveSnapshot {
            ok: self.ok.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            records_ok: self.records_ok.load(Ordering::Relaxed),
            wire_bytes: self.wire_bytes.load(Ordering::Relaxed),
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LiveSnapshot {
    pub ok: u64,
    pub failed: u64,
    pub records_ok: u64,
    pub wire_bytes: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sent(measured: bool, micros: u64, seq: u64) -> Sent {
        Sent {
            slot: Slot {
                index: 0,
                intended: None,
                measured,
            },
            signal: Signal::Traces,
            records: 10,
            seq_base: Some(seq),
            wire_bytes: 100,
            raw_bytes: 400,
            compress: Duration::from_micros(5),
            latency: Duration::from_micros(micros),
        }
    }

    #[test]
    fn percentiles_of_a_known_distribution() {
        let mut r = Recorder::new();
        // 1..=10000 µs, once each.
        for us in 1..=10_000 {
            r.request(&sent(true, us, 0), Ok(()));
        }
        let s = LatencySummary::of(&r.latency);
        assert_eq!(s.count, 10_000);
        assert_eq!(s.min, 1);
        // Three significant digits: within 0.1% of the exact quantile.
        for (got, want) in [
            (s.p50, 5_000),
            (s.p90, 9_000),
            (s.p99, 9_900),
            (s.p999, 9_990),
            (s.max, 10_000),
        ] {
            assert!(got.abs_diff(want) * 1000 <= want, "{got} vs {want}");
        }
        assert!((s.mean - 5_000.5).abs() < 5.0, "{}", s.mean);
        assert_eq!(
            LatencySummary::of(&Recorder::new().latency),
            LatencySummary::default()
        );
    }

    #[test]
    fn warmup_is_counted_apart_and_acks_kept_for_all() {
        let mut r = Recorder::new();
        r.request(&sent(false, 50, 0), Ok(()));
        r.request(&sent(true, 70, 10), Ok(()));
        let fail = Failure::Grpc {
            code: 14,
            message: "overloaded".into(),
            retry: true,
        };
        r.request(&sent(true, 90, 20), Err(&fail));
        r.request(&sent(false, 90, 30), Err(&fail));
        assert_eq!(
            (r.ok, r.failed, r.records_ok, r.records_failed),
            (1, 1, 10, 10)
        );
        assert_eq!((r.warmup_ok, r.warmup_failed, r.warmup_records), (1, 1, 20));
        assert_eq!(r.all_failed(), 2);
        assert_eq!(r.latency.len(), 2);
        assert_eq!((r.wire_bytes, r.raw_bytes), (200, 800));
        assert_eq!(r.acked[Signal::Traces.index()], vec![(0, 10), (10, 20)]);
        let key = ErrorKey::of(&fail);
        assert_eq!(r.errors.get(&key), Some(&2));
        assert_eq!(key.grpc_name(), Some("UNAVAILABLE"));

        let mut total = Recorder::new();
        total.merge(r);
        let mut other = Recorder::new();
        other.request(&sent(true, 3_000, 40), Ok(()));
        total.merge(other);
        assert_eq!(total.ok, 2);
        assert_eq!(total.latency.len(), 3);
        assert_eq!(total.acked[Signal::Traces.index()].len(), 3);
    }

    #[test]
    fn distinct_errors_are_bounded() {
        let mut r = Recorder::new();
        for i in 0..(MAX_ERROR_KINDS + 10) {
            r.error(ErrorKey::of(&Failure::Transport(format!("error {i}"))));
        }
        assert_eq!(r.errors.len(), MAX_ERROR_KINDS + 1);
        assert_eq!(r.errors.values().sum::<u64>(), MAX_ERROR_KINDS as u64 + 10);
        assert_eq!(truncate("éé", 1), "é…");
    }
}
