//! Rate control and the run's plan: which request goes next, when it is meant to be
//! sent, and whether it is measured.
//!
//! With `--rate R` request `i` is *intended* to start at `start + i × n / R` seconds
//! (`n` records a request), computed from `i` each time so rounding never drifts.
//! Latency is measured from that intended time, not from when a worker got round to
//! sending: when the endpoint stalls and requests fall behind the schedule, the wait
//! counts (no coordinated omission, as wrk2 and HdrHistogram's docs describe). Without
//! a rate, a request is intended to start when its body is ready.
//!
//! Workers claim requests from one atomic counter; the plan ends the run at the
//! deadline (`--warmup` + `--duration`), after `--requests` measured requests, or when
//! asked to stop (Ctrl-C).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::cli::Limit;

/// Nanoseconds after the start at which request `i` is intended to be sent, at
/// `rate` records a second and `records` records a request.
pub fn offset_ns(i: u64, records: u64, rate: u64) -> u128 {
    u128::from(i) * u128::from(records) * 1_000_000_000 / u128::from(rate.max(1))
}

/// Requests a second that `rate` records a second makes.
pub fn requests_per_second(records: u64, rate: u64) -> f64 {
    rate as f64 / records.max(1) as f64
}

/// One claimed request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Slot {
    /// The request's number (0, 1, …); its pool entry is `index % pool`.
    pub index: u64,
    /// When it is meant to start (paced runs only).
    pub intended: Option<Instant>,
    /// Counted in the statistics (started after the warm-up).
    pub measured: bool,
}

/// The run's plan, shared by every worker.
#[derive(Debug)]
pub struct Plan {
    pub start: Instant,
    pub warmup_end: Instant,
    deadline: Option<Instant>,
    max_measured: Option<u64>,
    records: u64,
    rate: Option<u64>,
    next: AtomicU64,
    measured: AtomicU64,
    stop: AtomicBool,
    interrupted: AtomicBool,
}

impl Plan {
    pub fn new(
        start: Instant,
        warmup: Duration,
        limit: Limit,
        records: u64,
        rate: Option<u64>,
    ) -> Plan {
        let warmup_end = start + warmup;
        let (deadline, max_measured) = match limit {
            Limit::Duration(d) => (Some(warmup_end + d), None),
            Limit::Requests(n) => (None, Some(n)),
        };
        Plan {
            start,
            warmup_end,
            deadline,
            max_measured,
            records,
            rate,
            next: AtomicU64::new(0),
            measured: AtomicU64::new(0),
            stop: AtomicBool::new(false),
            interrupted: AtomicBool::new(false),
        }
    }

    /// The next request to send, or `None` when the run is over.
    pub fn claim(&self) -> Option<Slot> {
        self.claim_at(Instant::now())
    }

    fn claim_at(&self, now: Instant) -> Option<Slot> {
        if self.stopped() {
            return None;
        }
        let index = self.next.fetch_add(1, Ordering::Relaxed);
        let intended = self.rate.map(|rate| {
            let ns = offset_ns(index, self.records, rate);
            self.start + Duration::from_nanos(u64::try_from(ns).unwrap_or(u64::MAX))
        });
        let at = intended.unwrap_or(now);
        if self.deadline.is_some_and(|d| at >= d) {
            self.stop();
            return None;
        }
        let measured = at >= self.warmup_end;
        if measured
            && let Some(max) = self.max_measured
            && self.measured.fetch_add(1, Ordering::Relaxed) >= max
        {
            self.stop();
            return None;
        }
        Some(Slot {
            index,
            intended,
            measured,
        })
    }

    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }

    /// Stops the run at once: paced requests still waiting for their time are not sent
    /// (Ctrl-C, or a worker that cannot build bodies).
    pub fn interrupt(&self) {
        self.interrupted.store(true, Ordering::Relaxed);
        self.stop();
    }

    pub fn interrupted(&self) -> bool {
        self.interrupted.load(Ordering::Relaxed)
    }

    pub fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    /// Requests claimed so far.
    pub fn claimed(&self) -> u64 {
        self.next.load(Ordering::Relaxed)
    }

    /// When the sending ends, if the run is timed.
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// Measured requests the run sends, if counted.
    pub fn max_measured(&self) -> Option<u64> {
        self.max_measured
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_are_exact_and_even() {
        // 1000 records a request at 10k records/s: one request every 100 ms.
        assert_eq!(offset_ns(0, 1000, 10_000), 0);
        assert_eq!(offset_ns(1, 1000, 10_000), 100_000_000);
        assert_eq!(offset_ns(25, 1000, 10_000), 2_500_000_000);
        // A rate that does not divide evenly never drifts: request i is at i/3 s.
        assert_eq!(offset_ns(3_000_000, 1, 3), 1_000_000_000_000_000);
        assert_eq!(offset_ns(1, 1, 3), 333_333_333);
        // Large runs do not overflow.
        assert_eq!(
            offset_ns(u64::MAX, 1000, 1),
            u128::from(u64::MAX) * 1000 * 1_000_000_000
        );
        assert!((requests_per_second(1000, 250_000) - 250.0).abs() < 1e-9);
    }

    #[test]
    fn paced_slots_follow_the_schedule_and_the_warmup() {
        let t0 = Instant::now();
        let plan = Plan::new(
            t0,
            Duration::from_millis(250),
            Limit::Duration(Duration::from_secs(1)),
            100,
            Some(1000),
        );
        // 100 records at 1000/s: a request every 100 ms; the first three are warm-up.
        let slots: Vec<Slot> = std::iter::from_fn(|| plan.claim_at(t0)).collect();
        assert_eq!(
            slots.len(),
            13,
            "0 ms .. 1200 ms, before the 1250 ms deadline"
        );
        for (i, s) in slots.iter().enumerate() {
            assert_eq!(s.index, i as u64);
            assert_eq!(s.intended, Some(t0 + Duration::from_millis(100 * i as u64)));
            assert_eq!(s.measured, i >= 3, "{i}");
        }
        assert!(plan.stopped());
    }

    #[test]
    fn request_limits_count_measured_requests_only() {
        let t0 = Instant::now();
        let plan = Plan::new(t0, Duration::from_secs(1), Limit::Requests(2), 10, None);
        // During the warm-up nothing is measured and nothing counts toward the limit.
        assert!(!plan.claim_at(t0).unwrap().measured);
        assert!(!plan.claim_at(t0).unwrap().measured);
        let later = t0 + Duration::from_secs(2);
        assert!(plan.claim_at(later).unwrap().measured);
        assert!(plan.claim_at(later).unwrap().measured);
        assert_eq!(plan.claim_at(later), None);
        assert_eq!(plan.claim_at(later), None);
    }

    #[test]
    fn stop_ends_the_run() {
        let t0 = Instant::now();
        let plan = Plan::new(t0, Duration::ZERO, Limit::Requests(100), 10, None);
        assert!(plan.claim_at(t0).is_some());
        plan.stop();
        assert_eq!(plan.claim_at(t0), None);
    }
}
