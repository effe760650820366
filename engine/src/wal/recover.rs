//! On start: what the shard logs hold goes to the outboxes, once per table.
//!
//! Each shard log is read in sequence order and its requests decoded into batches
//! again, exactly as live requests are ([`ShardBatches::decode`]). For each table the
//! outbox knows where the last batch it took from this log ended (`received`). The
//! replayed batches are sealed at each of those points, so that every replayed batch
//! lies wholly before or wholly after each table's point: before, the table already
//! has its rows and the chunk is skipped; after, the chunk goes to the outbox. The
//! log's segments are deleted once every outbox has fsynced what it took.

use std::io;

use wire::otlp::logs::LogsOptions;
use wire::tables::Table;

use super::outbox::Outbox;
use super::segment::{Damage, Kind, SegmentLog};
use super::shard_log::decode_record;
use super::{DataDir, DiskUse, Origin};
use crate::batch::{BatchPolicy, PerTable, ShardBatches};

/// What replaying one shard log did.
#[derive(Debug, Default)]
pub struct Replayed {
    pub requests: u64,
    /// Chunks given to the outboxes, and chunks skipped (the outbox had them).
    pub chunks: usize,
    pub skipped: usize,
    /// Requests that did not decode again (counted and reported, not retried).
    pub failed: u64,
    pub damage: Damage,
    /// The first sequence number the shard may use next.
    pub next_seq: u64,
}

/// What a replay decodes and seals with: the settings live requests use.
#[derive(Debug)]
pub struct Replay<'a> {
    pub data: &'a DataDir,
    pub segment_bytes: u64,
    pub disk: &'a std::sync::Arc<DiskUse>,
    pub policy: &'a BatchPolicy,
    pub logs: &'a LogsOptions,
    pub max_request_bytes: usize,
}

/// Replays shard log `log_id` into `outboxes` and deletes its segments.
pub fn replay(
    ctx: &Replay<'_>,
    log_id: u32,
    outboxes: &mut PerTable<Option<Outbox>>,
) -> io::Result<Replayed> {
    let Replay {
        data,
        segment_bytes,
        disk,
        policy,
        logs,
        max_request_bytes,
    } = *ctx;
    let received: PerTable<u64> = {
        let mut r = PerTable::<u64>::default();
        for (t, v) in r.iter_mut() {
            *v = outboxes[t].as_ref().map_or(0, |o| o.received(log_id));
        }
        r
    };
    let mut points: Vec<u64> = Table::ALL.iter().map(|&t| received[t]).collect();
    points.sort_unstable();
    points.dedup();
    let mut next_point = 0;
    let mut out = Replayed {
        next_seq: points.last().copied().unwrap_or(0),
        ..Replayed::default()
    };
    let mut batches = ShardBatches::default();
    let mut first: Option<u64> = None;
    let mut last = 0;
    let mut error: Option<io::Error> = None;
    let mut scratch = Vec::new();

    let mut seal = |batches: &mut ShardBatches,
                    first: &mut Option<u64>,
                    end: u64,
                    out: &mut Replayed,
                    error: &mut Option<io::Error>| {
        let Some(start) = first.take() else {
            return;
        };
        if batches.rows() == 0 {
            return;
        }
        for (table, mut chunk) in batches.seal(policy) {
            if end <= received[table] {
                out.skipped += 1;
                continue;
            }
            chunk.origin = Some(Origin {
                log: log_id,
                first: start,
                end,
                notify: None,
            });
            if let Some(outbox) = outboxes[table].as_mut() {
                match outbox.append_recovered(std::slice::from_ref(&chunk)) {
                    Ok(_) => out.chunks += 1,
                    Err(e) => *error = Some(e),
                }
            }
        }
    };

    let dir = data.shard_log(log_id);
    let (mut log, damage) = SegmentLog::open(
        &dir,
        Kind::Requests,
        segment_bytes,
        std::sync::Arc::clone(disk),
        |seq, _, payload| {
            if error.is_some() {
                return;
            }
            // A table's point lies at or before this request: the batch ends before it.
            while next_point < points.len() && points[next_point] <= seq {
                seal(&mut batches, &mut first, last + 1, &mut out, &mut error);
                next_point += 1;
            }
            out.requests += 1;
            let Some((signal, format, encoding, body)) = decode_record(payload) else {
                out.failed += 1;
                return;
            };
            let bytes: &[u8] = if encoding == wire::compress::Encoding::Identity {
                body
            } else {
                scratch.clear();
                // It was accepted once: a lowered limit does not refuse it now.
                let limit = max_request_bytes.max(super::segment::MAX_RECORD);
                if wire::compress::decompress(encoding, body, limit, &mut scratch).is_err() {
                    out.failed += 1;
                    return;
                }
                &scratch
            };
            if batches.decode(signal, format, bytes, logs).is_err() {
                out.failed += 1;
                return;
            }
            first.get_or_insert(seq);
            last = seq;
            out.next_seq = out.next_seq.max(seq + 1);
            if batches.rows() >= policy.max_rows || batches.byte_len() >= policy.max_bytes {
                seal(&mut batches, &mut first, seq + 1, &mut out, &mut error);
            }
        },
    )?;
    seal(&mut batches, &mut first, last + 1, &mut out, &mut error);
    if let Some(e) = error {
        return Err(e);
    }
    out.damage = damage;
    // Everything it held is in the outboxes now (fsynced by `append`).
    log.delete_old();
    Ok(out)
}
