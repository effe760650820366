//! A shard's request log and its writer thread (`wal-<k>`), with group commit.
//!
//! # Lifecycle
//!
//! The shard decodes a request into its batch, then [`ShardLog::append`]s the request
//! as it came (signal, format, encoding, body) under the next sequence number and
//! waits for the answer. The writer takes every operation that arrives within
//! `wal.group_commit_ms` of the first, writes the records, fsyncs once and answers
//! them all. When the shard seals a batch it tells the writer the batch's sequence
//! range and how many chunks it made ([`ShardLog::seal`]); as each chunk is fsynced
//! in its outbox the inserter says so ([`super::Origin::durable`]); once every batch
//! in a segment is in the outboxes, the segment is deleted.
//!
//! A request is decoded into the batch before it is logged (the log takes only what
//! decodes), so when its record cannot be written (a full disk) its rows are in the
//! batch all the same. Refusing it then would have the client send rows that are
//! already on their way: instead it is parked until its batch is fsynced in the
//! outboxes (which the reserve keeps room for, see [`super::DiskUse`]) and answered
//! then. A failed fsync parks its whole group: a segment is started only between
//! groups, so the failure cuts off exactly that group's records.
//!
//! # Record payload
//!
//! ```text
//! signal u8 | format u8 | encoding u8 | 0 u8 | body (as received: compressed when the request was)
//! ```

use std::cell::Cell;
use std::collections::VecDeque;
use std::io;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use crossbeam_channel::{Receiver, Sender};
use tokio::sync::oneshot;
use wire::compress::Encoding;

use super::segment::{Kind, SegmentLog};
use super::{DiskUse, Origin};
use crate::shard::{Format, Signal};

/// Why a request could not be logged (it is not acknowledged; the client retries).
#[derive(Clone, Debug, thiserror::Error)]
#[error("cannot write the write-ahead log: {0}")]
pub struct WalError(pub String);

/// What the writer thread is asked to do.
#[derive(Debug)]
pub enum Op {
    Append {
        seq: u64,
        head: [u8; 4],
        body: Bytes,
        done: Answer,
    },
    /// A batch of requests `[first, end)` was sealed into `chunks` chunks.
    Sealed { first: u64, end: u64, chunks: usize },
    /// One chunk of the batch starting at `first` is fsynced in its outbox.
    Durable { first: u64 },
}

/// A shard's handle on its log.
#[derive(Debug)]
pub struct ShardLog {
    pub id: u32,
    tx: Sender<Op>,
    next_seq: Cell<u64>,
    /// The first sequence number of the batch being filled.
    batch_first: Cell<Option<u64>>,
}

/// A request as the log keeps it.
#[derive(Debug)]
pub struct Request {
    pub signal: Signal,
    pub format: Format,
    pub encoding: Encoding,
    pub body: Bytes,
}

impl ShardLog {
    /// Starts the writer of log `id` in `dir` (already replayed and emptied), with
    /// sequence numbers from `next_seq`.
    pub fn start(
        id: u32,
        dir: &Path,
        next_seq: u64,
        segment_bytes: u64,
        group_commit: Duration,
        disk: Arc<DiskUse>,
    ) -> io::Result<ShardLog> {
        let (log, _) = SegmentLog::open(
            dir,
            Kind::Requests,
            segment_bytes,
            Arc::clone(&disk),
            |_, _, _| {},
        )?;
        let (tx, rx) = crossbeam_channel::unbounded();
        std::thread::Builder::new()
            .name(format!("wal-{id}"))
            .spawn(move || writer(log, rx, group_commit, disk))?;
        Ok(ShardLog {
            id,
            tx,
            next_seq: Cell::new(next_seq),
            batch_first: Cell::new(None),
        })
    }

    /// Logs a request; the receiver answers once it is fsynced.
    pub fn append(&self, request: Request) -> oneshot::Receiver<Result<(), WalError>> {
        let seq = self.next_seq.get();
        self.next_seq.set(seq + 1);
        if self.batch_first.get().is_none() {
            self.batch_first.set(Some(seq));
        }
        let (done, rx) = oneshot::channel();
        let op = Op::Append {
            seq,
            head: encode_head(request.signal, request.format, request.encoding),
            body: request.body,
            done,
        };
        if let Err(crossbeam_channel::SendError(Op::Append { done, .. })) = self.tx.send(op) {
            let _ = done.send(Err(WalError("the log writer has stopped".into())));
        }
        rx
    }

    /// The batch being sealed holds requests `[first, end)` and makes `chunks` chunks:
    /// the origin each chunk carries, or none when no request was logged since the
    /// last seal.
    pub fn seal(&self, chunks: usize) -> Option<(u64, u64)> {
        let first = self.batch_first.take()?;
        let end = self.next_seq.get();
        let _ = self.tx.send(Op::Sealed { first, end, chunks });
        Some((first, end))
    }

    pub fn origin(&self, (first, end): (u64, u64)) -> Origin {
        Origin {
            log: self.id,
            first,
            end,
            notify: Some(self.tx.clone()),
        }
    }
}

fn encode_head(signal: Signal, format: Format, encoding: Encoding) -> [u8; 4] {
    let s = match signal {
        Signal::Logs => 0,
        Signal::Traces => 1,
        Signal::Metrics => 2,
    };
    let f = match format {
        Format::Protobuf => 0,
        Format::Json => 1,
    };
    let e = match encoding {
        Encoding::Identity => 0,
        Encoding::Gzip => 1,
        Encoding::Zstd => 2,
        Encoding::Deflate => 3,
    };
    [s, f, e, 0]
}

/// A logged request's payload, read back.
pub fn decode_record(payload: &[u8]) -> Option<(Signal, Format, Encoding, &[u8])> {
    let head = payload.get(..4)?;
    let signal = match head[0] {
        0 => Signal::Logs,
        1 => Signal::Traces,
        2 => Signal::Metrics,
        _ => return None,
    };
    let format = match head[1] {
        0 => Format::Protobuf,
        1 => Format::Json,
        _ => return None,
    };
    let encoding = match head[2] {
        0 => Encoding::Identity,
        1 => Encoding::Gzip,
        2 => Encoding::Zstd,
        3 => Encoding::Deflate,
        _ => return None,
    };
    Some((signal, format, encoding, &payload[4..]))
}

/// How a logged request is answered.
type Answer = oneshot::Sender<Result<(), WalError>>;

/// Largest group written before an fsync, whatever the interval.
const MAX_GROUP_BYTES: usize = 8 << 20;

fn writer(mut log: SegmentLog, rx: Receiver<Op>, group: Duration, disk: Arc<DiskUse>) {
    // Batches sealed and not yet all in the outboxes: (first, end, chunks to go).
    let mut sealed: VecDeque<(u64, u64, usize)> = VecDeque::new();
    // Requests appended since the last sync: the group the next fsync answers.
    let mut waiting: Vec<(u64, Answer)> = Vec::new();
    // Requests whose record could not be written: their rows are in the shard's
    // batch all the same, so they are answered once that batch is in the outboxes.
    let mut parked: Vec<(u64, Answer)> = Vec::new();
    while let Ok(first) = rx.recv() {
        let deadline = Instant::now() + group;
        let mut ops = vec![first];
        let mut bytes = 0;
        while bytes < MAX_GROUP_BYTES {
            match rx.recv_deadline(deadline) {
                Ok(op) => {
                    if let Op::Append { body, .. } = &op {
                        bytes += body.len();
                    }
                    ops.push(op);
                }
                Err(_) => break,
            }
        }
        let parked_before = parked.len();
        let mut failure = None;
        let mut wrote = false;
        for op in ops {
            match op {
                Op::Append {
                    seq,
                    head,
                    body,
                    done,
                } => {
                    wrote = true;
                    match log.append(seq, &[&head, &body]) {
                        Ok(_) => waiting.push((seq, done)),
                        // Starting a segment failed: nothing of it was buffered.
                        Err(e) => {
                            failure = Some(e);
                            parked.push((seq, done));
                        }
                    }
                }
                Op::Sealed { first, end, chunks } => sealed.push_back((first, end, chunks)),
                Op::Durable { first } => {
                    if let Some(s) = sealed.iter_mut().find(|s| s.0 == first) {
                        s.2 = s.2.saturating_sub(1);
                    }
                }
            }
        }
        if !waiting.is_empty() {
            match log.sync() {
                Ok(()) => {
                    for (_, done) in waiting.drain(..) {
                        let _ = done.send(Ok(()));
                    }
                }
                // The whole group is lost (the segment was cut back to before it).
                Err(e) => {
                    failure = Some(e);
                    parked.append(&mut waiting);
                }
            }
        }
        // Only a write says whether the disk takes writes again (seals and durable
        // notices come all the time and write nothing).
        if wrote {
            disk.set_failing(failure.is_some());
        }
        if let Some(e) = failure {
            crate::telemetry::get()
                .wal_parked
                .inc_by((parked.len() - parked_before) as u64);
            crate::log::warn(format_args!(
                "cannot write the write-ahead log ({e}): {} requests wait for their rows to reach the outboxes before they are answered",
                parked.len() - parked_before
            ));
        }
        let mut through = None;
        while sealed.front().is_some_and(|s| s.2 == 0) {
            through = sealed.pop_front().map(|s| s.1);
        }
        if let Some(end) = through {
            // Everything before `end` is in the outboxes, parked requests included.
            let (ready, still): (Vec<_>, Vec<_>) =
                parked.drain(..).partition(|(seq, _)| *seq < end);
            parked = still;
            for (_, done) in ready {
                let _ = done.send(Ok(()));
            }
            log.delete_through(end.saturating_sub(1));
        }
    }
    let _ = log.sync();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> Request {
        Request {
            signal: Signal::Logs,
            format: Format::Protobuf,
            encoding: Encoding::Identity,
            body: Bytes::from_static(b"rows"),
        }
    }

    #[test]
    fn a_request_whose_record_cannot_be_written_is_answered_once_its_batch_is_in_the_outboxes() {
        let dir = std::env::temp_dir().join(format!("sluice-shardlog-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let disk = DiskUse::new(u64::MAX);
        let group = Duration::from_millis(1);
        let log = ShardLog::start(0, &dir, 1, 1 << 20, group, Arc::clone(&disk)).unwrap();
        // The segment the first record would start is a disk that is always full.
        std::os::unix::fs::symlink("/dev/full", dir.join(format!("{:020}.wal", 1))).unwrap();
        let mut first = log.append(request());
        std::thread::sleep(Duration::from_millis(100));
        assert!(
            first.try_recv().is_err(),
            "not answered while its rows are only in memory"
        );
        assert!(!disk.has_room(), "new requests are refused meanwhile");
        let range = log.seal(1).expect("a batch was started");
        assert_eq!(range, (1, 2));
        log.origin(range).durable();
        let answer = first.blocking_recv().expect("answered");
        assert!(answer.is_ok(), "{answer:?}");

        // The disk has room again: the next request is logged and answered at once.
        std::fs::remove_file(dir.join(format!("{:020}.wal", 1))).unwrap();
        std::thread::sleep(super::super::PROBE_AFTER_FAILURE);
        let second = log.append(request());
        assert!(second.blocking_recv().expect("answered").is_ok());
        assert!(disk.has_room());
        drop(log);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
