//! `--verify`: was every acknowledged record stored, and stored once?
//!
//! During the run each record carries the run id (resource attribute
//! `loadgen.run_id`) and a sequence number unique across the run (`loadgen.seq`);
//! every OK answer adds its request's range of sequence numbers to the acknowledged
//! set. Afterwards [`clickhouse`] asks ClickHouse, per signal, how often each sequence
//! number of the run is stored, and [`compare`] — a pure function — finds:
//!
//! | finding | meaning | fails the run |
//! |---|---|---|
//! | `missing` | acknowledged, not stored: loss | yes |
//! | `duplicates` | stored more than once (`duplicate_rows`: the extra rows) | yes |
//! | `unacked_stored` | stored, but its request failed or timed out (at-least-once: fine) | no |
//! | `malformed_rows` | rows of the run whose `loadgen.seq` is not a number | yes |

pub mod clickhouse;

use serde::Serialize;

/// Missing ranges and duplicate sequence numbers listed in the report, at most.
pub const SAMPLE: usize = 20;

/// Sorted, disjoint, non-adjacent ranges `[start, end)` of sequence numbers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AckedSet {
    ranges: Vec<(u64, u64)>,
}

impl AckedSet {
    /// Normalises ranges in any order, overlapping or not; empty ones are dropped.
    pub fn from_ranges(mut ranges: Vec<(u64, u64)>) -> AckedSet {
        ranges.retain(|(a, b)| a < b);
        ranges.sort_unstable();
        let mut out: Vec<(u64, u64)> = Vec::with_capacity(ranges.len());
        for (a, b) in ranges {
            match out.last_mut() {
                Some(last) if a <= last.1 => last.1 = last.1.max(b),
                _ => out.push((a, b)),
            }
        }
        AckedSet { ranges: out }
    }

    /// Sequence numbers in the set.
    pub fn len(&self) -> u64 {
        self.ranges.iter().map(|(a, b)| b - a).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    pub fn ranges(&self) -> &[(u64, u64)] {
        &self.ranges
    }
}

/// What [`compare`] found for one signal.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Findings {
    /// Records acknowledged by the endpoint.
    pub acked: u64,
    /// Rows of the run in the table.
    pub stored_rows: u64,
    /// Distinct sequence numbers among them.
    pub stored_distinct: u64,
    /// Acknowledged but not stored.
    pub missing: u64,
    /// Sequence numbers stored more than once.
    pub duplicates: u64,
    /// Rows beyond the first of each duplicate.
    pub duplicate_rows: u64,
    /// Stored although their request was not acknowledged.
    pub unacked_stored: u64,
    /// Rows whose `loadgen.seq` is not a number.
    pub malformed_rows: u64,
    /// Up to [`SAMPLE`] missing ranges `[start, end)`.
    pub missing_sample: Vec<(u64, u64)>,
    /// Up to [`SAMPLE`] duplicated sequence numbers.
    pub duplicate_sample: Vec<u64>,
}

impl Findings {
    /// No loss, no duplicates, no malformed rows.
    pub fn ok(&self) -> bool {
        self.missing == 0 && self.duplicates == 0 && self.malformed_rows == 0
    }
}

/// Compares the acknowledged set with `stored`: `(sequence number, rows)` pairs in any
/// order (a number may appear more than once; its rows add up).
pub fn compare(acked: &AckedSet, mut stored: Vec<(u64, u64)>, malformed_rows: u64) -> Findings {
    stored.sort_unstable_by_key(|&(seq, _)| seq);
    stored.dedup_by(|later, first| {
        let same = later.0 == first.0;
        if same {
            first.1 += later.1;
        }
        same
    });
    stored.retain(|&(_, rows)| rows > 0);
    let mut f = Findings {
        acked: acked.len(),
        stored_rows: stored.iter().map(|&(_, n)| n).sum::<u64>() + malformed_rows,
        stored_distinct: stored.len() as u64,
        malformed_rows,
        ..Findings::default()
    };
    let mut acked_stored = 0;
    for &(a, b) in acked.ranges() {
        let lo = stored.partition_point(|&(s, _)| s < a);
        let hi = stored.partition_point(|&(s, _)| s < b);
        let present = (hi - lo) as u64;
        acked_stored += present;
        if present == b - a {
            continue;
        }
        f.missing += b - a - present;
        let mut at = a;
        for &(s, _) in stored[lo..hi].iter().chain([(b, 0)].iter()) {
            if f.missing_sample.len() == SAMPLE {
                break;
            }
            if s > at {
                f.missing_sample.push((at, s));
            }
            at = s + 1;
        }
    }
    f.unacked_stored = f.stored_distinct - acked_stored;
    for &(seq, rows) in &stored {
        if rows > 1 {
            f.duplicates += 1;
            f.duplicate_rows += rows - 1;
            if f.duplicate_sample.len() < SAMPLE {
                f.duplicate_sample.push(seq);
            }
        }
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(seqs: impl IntoIterator<Item = u64>) -> Vec<(u64, u64)> {
        seqs.into_iter().map(|s| (s, 1)).collect()
    }

    #[test]
    fn ranges_normalise() {
        let set = AckedSet::from_ranges(vec![
            (20, 30),
            (0, 10),
            (10, 15),
            (5, 8),
            (40, 40),
            (29, 35),
        ]);
        assert_eq!(set.ranges(), &[(0, 15), (20, 35)]);
        assert_eq!(set.len(), 30);
        assert!(AckedSet::from_ranges(vec![(3, 3)]).is_empty());
    }

    #[test]
    fn everything_stored_once() {
        let acked = AckedSet::from_ranges(vec![(0, 100), (200, 300)]);
        let f = compare(&acked, stored((0..100).chain(200..300).rev()), 0);
        assert!(f.ok(), "{f:?}");
        assert_eq!((f.acked, f.stored_rows, f.stored_distinct), (200, 200, 200));
        assert_eq!((f.missing, f.duplicates, f.unacked_stored), (0, 0, 0));
    }

    #[test]
    fn loss_is_found_with_its_ranges() {
        let acked = AckedSet::from_ranges(vec![(0, 10), (20, 30)]);
        // 3 and 4 lost, 20 lost, 29 lost; 15 stored though its request failed.
        let s = stored([0, 1, 2, 5, 6, 7, 8, 9, 15, 21, 22, 23, 24, 25, 26, 27, 28]);
        let f = compare(&acked, s, 0);
        assert!(!f.ok());
        assert_eq!(f.missing, 4);
        assert_eq!(f.missing_sample, vec![(3, 5), (20, 21), (29, 30)]);
        assert_eq!(f.unacked_stored, 1);
        assert_eq!(f.duplicates, 0);
    }

    #[test]
    fn a_whole_request_lost() {
        let acked = AckedSet::from_ranges(vec![(0, 10), (10, 20), (20, 30)]);
        let f = compare(&acked, stored((0..10).chain(20..30)), 0);
        assert_eq!(f.missing, 10);
        assert_eq!(f.missing_sample, vec![(10, 20)]);
    }

    #[test]
    fn duplicates_are_found_whether_counted_or_repeated() {
        let acked = AckedSet::from_ranges(vec![(0, 5)]);
        // 1 stored twice (one row of count 2), 3 three times (as separate rows of the
        // answer, e.g. "3" and "0003"), 4 stored twice but never acknowledged.
        let s = vec![(0, 1), (1, 2), (2, 1), (3, 1), (3, 2), (4, 1), (7, 2)];
        let f = compare(&acked, s, 0);
        assert!(!f.ok());
        assert_eq!(f.missing, 0);
        assert_eq!(f.duplicates, 3);
        assert_eq!(f.duplicate_rows, 1 + 2 + 1);
        assert_eq!(f.duplicate_sample, vec![1, 3, 7]);
        assert_eq!(f.unacked_stored, 1);
        assert_eq!(f.stored_rows, 10);
    }

    #[test]
    fn nothing_stored_and_nothing_acked() {
        let f = compare(&AckedSet::default(), Vec::new(), 0);
        assert!(f.ok());
        let f = compare(&AckedSet::from_ranges(vec![(0, 1000)]), Vec::new(), 0);
        assert_eq!(f.missing, 1000);
        assert_eq!(f.missing_sample, vec![(0, 1000)]);
        let f = compare(&AckedSet::default(), Vec::new(), 2);
        assert!(!f.ok());
        assert_eq!(f.stored_rows, 2);
    }

    #[test]
    fn samples_are_bounded() {
        let acked = AckedSet::from_ranges(vec![(0, 1000)]);
        // Every other number lost: 500 missing ranges, 20 shown.
        let f = compare(&acked, stored((0..1000).step_by(2)), 0);
        assert_eq!(f.missing, 500);
        assert_eq!(f.missing_sample.len(), SAMPLE);
        assert_eq!(f.missing_sample[0], (1, 2));
    }
}
