//! A shard's batches: records wait here, in columns, until they are sealed.
//!
//! # Lifecycle
//!
//! Requests decode straight into the shard's [`LogsBatch`] and leave an [`Ack`] per
//! table they wrote to. When the batch is full (rows or bytes) or old enough, the
//! shard [`seal`](ShardBatches::seal)s it: each table's rows are encoded to RowBinary
//! and compressed here, on the shard's core, and leave as one [`Chunk`] per table
//! with the acks of the requests whose rows it holds. The column buffers are cleared
//! and keep their capacity for the next batch.

use std::time::Instant;

use tokio::sync::oneshot;
use wire::columns::logs::{LogRows, LogsBatch};
use wire::compress::BlockCodec;
use wire::rowbinary::logs::{LogColumn, encode_logs};

use crate::sink::clickhouse::{Ack, Chunk, SinkError};

/// How a shard seals and encodes.
#[derive(Clone, Debug)]
pub struct BatchPolicy {
    pub max_rows: usize,
    pub max_bytes: usize,
    pub max_age: std::time::Duration,
    /// Columns of the `otel_logs` INSERT, from `DESCRIBE TABLE`.
    pub logs_columns: Vec<LogColumn>,
    /// Columns of the `hyperdx_sessions` INSERT.
    pub sessions_columns: Vec<LogColumn>,
    pub codec: Option<BlockCodec>,
}

/// The batches of one shard and the requests waiting on them.
#[derive(Debug, Default)]
pub struct ShardBatches {
    pub logs: LogsBatch,
    logs_acks: Vec<Ack>,
    sessions_acks: Vec<Ack>,
    /// When the oldest record now in the batch arrived.
    oldest: Option<Instant>,
}

/// A sealed batch, ready for the inserters.
#[derive(Debug)]
pub struct Sealed {
    pub logs: Option<Chunk>,
    pub sessions: Option<Chunk>,
}

/// What a request waits for: one receiver per table it wrote to.
pub type Waits = Vec<oneshot::Receiver<Result<(), SinkError>>>;

impl ShardBatches {
    /// Registers a request that just added `logs` and `sessions` rows.
    pub fn added(&mut self, logs: usize, sessions: usize) -> Waits {
        let mut waits = Vec::new();
        for (n, acks) in [
            (logs, &mut self.logs_acks),
            (sessions, &mut self.sessions_acks),
        ] {
            if n > 0 {
                let (tx, rx) = oneshot::channel();
                acks.push(tx);
                waits.push(rx);
            }
        }
        if logs + sessions > 0 {
            self.oldest.get_or_insert_with(Instant::now);
        }
        waits
    }

    /// Whether the batch must be sealed now (size), or at `now` (age).
    pub fn due(&self, policy: &BatchPolicy, now: Instant) -> bool {
        let b = &self.logs;
        b.rows() >= policy.max_rows
            || b.byte_len() >= policy.max_bytes
            || self
                .oldest
                .is_some_and(|t| now.duration_since(t) >= policy.max_age)
    }

    /// Encodes and empties the batch.
    pub fn seal(&mut self, policy: &BatchPolicy) -> Sealed {
        let b = &self.logs;
        let logs = chunk(
            b,
            &b.logs,
            &policy.logs_columns,
            policy.codec,
            &mut self.logs_acks,
        );
        let sessions = chunk(
            b,
            &b.sessions,
            &policy.sessions_columns,
            policy.codec,
            &mut self.sessions_acks,
        );
        self.logs.clear();
        self.oldest = None;
        Sealed { logs, sessions }
    }
}

fn chunk(
    batch: &LogsBatch,
    rows: &LogRows,
    columns: &[LogColumn],
    codec: Option<BlockCodec>,
    acks: &mut Vec<Ack>,
) -> Option<Chunk> {
    if rows.is_empty() {
        return None;
    }
    let mut rowbinary = Vec::with_capacity(batch.byte_len() / 2);
    encode_logs(
        rows,
        &batch.resources,
        &batch.scopes,
        columns,
        0..rows.len(),
        &mut rowbinary,
    );
    let body = match codec {
        Some(codec) => {
            let mut out = Vec::with_capacity(rowbinary.len() / 3);
            wire::compress::compress_blocks(codec, &rowbinary, &mut out);
            out
        }
        None => rowbinary,
    };
    Some(Chunk {
        body,
        rows: rows.len(),
        acks: std::mem::take(acks),
    })
}
