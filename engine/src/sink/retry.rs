//! How long the sink waits before trying a failed INSERT again.
//!
//! Capped exponential backoff with "equal jitter" (half the delay fixed, half random):
//! many sluice replicas that lost ClickHouse at the same moment do not come back in
//! step, and no failure is retried in a tight loop. A structural failure (a missing
//! table, a wrong password) is probed at a slower, fixed pace, so that it is found
//! fixed within [`STRUCTURAL_PROBE`] of the fix.

use std::time::Duration;

use super::error::Class;

/// The first wait after a transient failure.
pub const FIRST_DELAY: Duration = Duration::from_millis(100);
/// The longest wait between two attempts of a transient failure.
pub const MAX_DELAY: Duration = Duration::from_secs(5);
/// The wait between two probes of a structural failure.
pub const STRUCTURAL_PROBE: Duration = Duration::from_secs(2);

/// The delays of one INSERT's attempts.
#[derive(Debug)]
pub struct Backoff {
    next: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff { next: FIRST_DELAY }
    }
}

impl Backoff {
    /// The wait before the next attempt after a failure of `class`.
    pub fn delay(&mut self, class: Class) -> Duration {
        if class == Class::Structural {
            return jitter(STRUCTURAL_PROBE);
        }
        let d = self.next;
        self.next = (self.next * 2).min(MAX_DELAY);
        jitter(d)
    }
}

/// Between half of `d` and `d`.
fn jitter(d: Duration) -> Duration {
    let half = d / 2;
    half + half.mul_f64(fastrand::f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_to_the_cap_with_jitter_and_never_reach_zero() {
        let mut b = Backoff::default();
        let delays: Vec<Duration> = (0..12).map(|_| b.delay(Class::Transient)).collect();
        assert!(delays[0] >= FIRST_DELAY / 2 && delays[0] <= FIRST_DELAY);
        assert!(delays[3] >= FIRST_DELAY * 4 && delays[3] <= FIRST_DELAY * 8);
        for d in &delays[8..] {
            assert!(*d >= MAX_DELAY / 2 && *d <= MAX_DELAY, "{d:?}");
        }
        let probe = b.delay(Class::Structural);
        assert!(probe >= STRUCTURAL_PROBE / 2 && probe <= STRUCTURAL_PROBE);
    }
}
