//! The inserter of one table, fed by every shard.
//!
//! # Lifecycle
//!
//! One thread per table (`sink-<table>`), one current-thread runtime, two tasks that
//! share the table's [`Queue`]:
//!
//! 1. **Intake** takes the chunks the shards seal (over a channel; CPU work stays on
//!    the shards) and queues them, each with a number (its id, counting up for the
//!    table). With the write-ahead log (`ack = "wal"`) it first appends them to the
//!    table's outbox on disk and fsyncs it, then tells each chunk's shard that those
//!    log records are safe, and lets the bytes go from memory: the outbox holds them.
//! 2. **Delivery** takes the queued chunks from the front, at most one INSERT per
//!    flush interval (an idle table sends at once), up to `max_insert_bytes` /
//!    `max_insert_rows`, and inserts them with a deterministic deduplication token
//!    derived from what the INSERT holds: `sluice-<generation>-<table>-<first
//!    id>-<last id>-<crc of the chunks>`. The generation is the data directory's (or,
//!    without one, this process's), so a token is never reused for other rows.
//!
//! A failed INSERT is classified ([`super::error`]): transient and structural
//! failures are retried, with the same bytes and token, after a backoff
//! ([`super::retry`]); so an INSERT that did commit but whose answer was lost is
//! deduplicated by ClickHouse, not stored twice. Rows ClickHouse refuses as data go
//! to the dead-letter directory ([`super::deadletter`]), counted.
//!
//! # Invariants
//!
//! - Nothing leaves the queue before its INSERT committed (or its rows were written
//!   to the dead-letter directory). With `ack = "memory"` and `"wal"` an INSERT is
//!   retried until it commits; with `ack = "clickhouse"` for `sink.retry_window_ms`,
//!   after which its requests are told to retry (UNAVAILABLE / 503) and the rows are
//!   dropped here: the clients still have them.
//! - With the outbox, an INSERT's chunk range is written to the outbox manifest
//!   before it is sent, so after a crash the same range is sent again with the same
//!   token; its commit is written after.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::sync::{Notify, mpsc, watch};

use super::clickhouse::{self, InsertTarget};
use super::deadletter::DeadLetter;
use super::deliver::deliver;
use super::error::Class;
use super::retry::Backoff;
use super::{Ack, Chunk, SinkError};
use crate::ack::AckMode;
use crate::admission::Held;
use crate::wal::outbox::{Outbox, Stored};

/// Chunks waiting between the shards and the intake (a hand-over, not a buffer: the
/// shards' budgets bound what waits).
pub const CHANNEL_CHUNKS: usize = 64;

/// How often an idle inserter tries to put back the write-ahead log's reserve.
const RESERVE_RETRY: Duration = Duration::from_secs(1);

/// The sending side of a table's inserter, cloned into every shard.
pub type ChunkSender = mpsc::Sender<Chunk>;

/// How one inserter behaves.
#[derive(Debug)]
pub struct Settings {
    pub target: InsertTarget,
    pub ack: AckMode,
    /// `ack = "clickhouse"`: how long an INSERT is retried before its requests are
    /// told to retry.
    pub retry_window: Duration,
    pub max_insert_bytes: usize,
    pub max_insert_rows: usize,
    /// Part of every deduplication token (see the module doc).
    pub generation: String,
    pub dead_letter: Arc<DeadLetter>,
    /// How bodies are compressed (to compress the halves of a refused INSERT alike).
    pub codec: Option<wire::compress::BlockCodec>,
    /// The write-ahead log's disk (with the outbox): its reserve is released when
    /// the outbox cannot write, and put back once INSERTs have freed room.
    pub disk: Option<Arc<crate::wal::DiskUse>>,
}

/// A queued chunk.
#[derive(Debug)]
struct Entry {
    id: u64,
    rows: usize,
    len: usize,
    crc: u32,
    /// In memory (without the outbox), or read back from the outbox when sent.
    body: Option<Bytes>,
    stored: Option<Stored>,
    acks: Vec<Ack>,
    _held: Option<Held>,
}

/// The table's queue, shared by intake and delivery.
#[derive(Debug)]
struct Queue {
    entries: VecDeque<Entry>,
    next_id: u64,
    outbox: Option<Outbox>,
    /// Every shard hung up: deliver what is left, then end.
    closed: bool,
    /// An INSERT range the outbox says was being sent when sluice stopped.
    pending: Option<(u64, u64)>,
}

/// Starts a table's inserter. `abort` turning true ends it at once (the shutdown
/// deadline passed); otherwise it ends when every sender is gone and the queue is
/// delivered.
pub fn spawn(
    settings: Settings,
    outbox: Option<Outbox>,
    abort: watch::Receiver<bool>,
) -> std::io::Result<(ChunkSender, std::thread::JoinHandle<()>)> {
    let (tx, rx) = mpsc::channel(CHANNEL_CHUNKS);
    let handle = std::thread::Builder::new()
        .name(format!("sink-{}", settings.target.table))
        .spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a current-thread runtime starts");
            let local = tokio::task::LocalSet::new();
            local.block_on(&rt, run(settings, outbox, rx, abort));
        })?;
    Ok((tx, handle))
}

async fn run(
    settings: Settings,
    outbox: Option<Outbox>,
    rx: mpsc::Receiver<Chunk>,
    mut abort: watch::Receiver<bool>,
) {
    let mut entries = VecDeque::new();
    let mut next_id = 1;
    let mut pending = None;
    if let Some(o) = &outbox {
        next_id = o.next_id();
        pending = o.pending();
        for s in o.recovered() {
            entries.push_back(Entry {
                id: s.id,
                rows: s.rows,
                len: s.len,
                crc: s.crc,
                body: None,
                stored: Some(s.clone()),
                acks: Vec::new(),
                _held: None,
            });
        }
        if !entries.is_empty() {
            crate::log::info(format_args!(
                "{}: {} chunks ({} rows) from the outbox to deliver",
                settings.target.table,
                entries.len(),
                entries.iter().map(|e| e.rows).sum::<usize>()
            ));
        }
    }
    let queue = Rc::new(RefCell::new(Queue {
        entries,
        next_id,
        outbox,
        closed: false,
        pending,
    }));
    let changed = Rc::new(Notify::new());
    let settings = Rc::new(settings);
    let intake = tokio::task::spawn_local(intake(
        Rc::clone(&settings),
        Rc::clone(&queue),
        Rc::clone(&changed),
        rx,
    ));
    tokio::select! {
        _ = deliver_all(Rc::clone(&settings), Rc::clone(&queue), Rc::clone(&changed)) => {}
        _ = abort.wait_for(|a| *a) => {
            let q = queue.borrow();
            let rows: usize = q.entries.iter().map(|e| e.rows).sum();
            if rows > 0 {
                let kept = if q.outbox.is_some() {
                    "kept in the outbox for the next start"
                } else {
                    "lost: sluice runs without a write-ahead log"
                };
                crate::log::warn(format_args!(
                    "{}: stopped with {rows} rows not inserted ({kept})",
                    settings.target.table
                ));
            }
        }
    }
    intake.abort();
}

/// Takes chunks from the shards into the queue (through the outbox, with one).
async fn intake(
    settings: Rc<Settings>,
    queue: Rc<RefCell<Queue>>,
    changed: Rc<Notify>,
    mut rx: mpsc::Receiver<Chunk>,
) {
    let mut backoff = Backoff::default();
    let mut waiting: Vec<Chunk> = Vec::new();
    loop {
        if waiting.is_empty() {
            match rx.recv().await {
                Some(c) => waiting.push(c),
                None => break,
            }
        }
        // Everything already queued joins: one fsync for all of it.
        while let Ok(c) = rx.try_recv() {
            waiting.push(c);
        }
        let added = queue.borrow_mut().add(&mut waiting);
        match added {
            Ok(()) => {
                backoff = Backoff::default();
                changed.notify_one();
            }
            Err(e) => {
                // A full disk: the reserve makes room for these (see `wal::DiskUse`).
                if e.kind() == std::io::ErrorKind::StorageFull
                    && settings.disk.as_ref().is_some_and(|d| d.release_reserve())
                {
                    continue;
                }
                // The outbox could not take them (disk full, I/O error): they stay in
                // memory, counted against their shards' budgets, and are offered again.
                crate::log::warn(format_args!(
                    "{}: cannot write {} chunks to the outbox ({e}); retrying",
                    settings.target.table,
                    waiting.len()
                ));
                tokio::time::sleep(backoff.delay(Class::Transient)).await;
            }
        }
    }
    queue.borrow_mut().closed = true;
    changed.notify_one();
}

impl Queue {
    /// Queues `chunks` (emptied on success; left as they were on failure).
    fn add(&mut self, chunks: &mut Vec<Chunk>) -> std::io::Result<()> {
        let first_id = self.next_id;
        let stored = match &mut self.outbox {
            Some(outbox) => Some(outbox.append(first_id, chunks)?),
            None => None,
        };
        let mut stored = stored.map(Vec::into_iter);
        for c in chunks.drain(..) {
            let id = self.next_id;
            self.next_id += 1;
            let entry = match stored.as_mut().and_then(Iterator::next) {
                // On disk now: the shard's log records are safe, the memory is free.
                Some(s) => {
                    if let Some(origin) = c.origin {
                        origin.durable();
                    }
                    Entry {
                        id,
                        rows: c.rows,
                        len: c.body.len(),
                        crc: s.crc,
                        body: None,
                        stored: Some(s),
                        acks: c.acks,
                        _held: None,
                    }
                }
                None => Entry {
                    id,
                    rows: c.rows,
                    len: c.body.len(),
                    // The outbox computed it when it wrote the chunk; here it is new.
                    crc: crc32c::crc32c(&c.body),
                    body: Some(c.body),
                    stored: None,
                    acks: c.acks,
                    _held: c.held,
                },
            };
            self.entries.push_back(entry);
        }
        Ok(())
    }

    /// The ids of the next INSERT: a recovered pending range first, else from the
    /// front up to the limits (at least one chunk).
    fn next_insert(&self, max_bytes: usize, max_rows: usize) -> Option<(u64, u64)> {
        let front = self.entries.front()?;
        // The range as it was recorded, even when its first chunks are no longer
        // queued (damaged on disk): the token is derived from it, and must be the one
        // the INSERT had before the restart.
        if let Some((first, last)) = self.pending
            && front.id <= last
        {
            return Some((first, last));
        }
        let (mut bytes, mut rows, mut last) = (0, 0, front.id);
        for e in &self.entries {
            if e.id != front.id && (bytes + e.len > max_bytes || rows + e.rows > max_rows) {
                break;
            }
            bytes += e.len;
            rows += e.rows;
            last = e.id;
        }
        Some((front.id, last))
    }
}

/// Sends INSERTs until the queue is closed and empty.
async fn deliver_all(settings: Rc<Settings>, queue: Rc<RefCell<Queue>>, changed: Rc<Notify>) {
    let client = clickhouse::client();
    let statement = settings.target.statement();
    let table = settings.target.table.clone();
    let mut last_insert: Option<tokio::time::Instant> = None;
    loop {
        // Wait for work.
        loop {
            let (empty, closed) = {
                let q = queue.borrow();
                (q.entries.is_empty(), q.closed)
            };
            if !empty {
                break;
            }
            if closed {
                return;
            }
            // Idle: a reserve released on a full disk is put back from here too once
            // there is room (a refusing sluice makes no INSERTs to trigger it).
            if tokio::time::timeout(RESERVE_RETRY, changed.notified())
                .await
                .is_err()
                && let Some(disk) = &settings.disk
            {
                disk.restore_reserve();
            }
        }
        // At most one INSERT per interval (ClickHouse makes a part of each); once
        // every shard has hung up, the rest goes without waiting.
        if !queue.borrow().closed
            && let Some(t) = last_insert
        {
            tokio::time::sleep_until(t + settings.target.interval).await;
        }
        let Some((first, last)) = queue
            .borrow()
            .next_insert(settings.max_insert_bytes, settings.max_insert_rows)
        else {
            continue;
        };
        last_insert = Some(tokio::time::Instant::now());
        let (parts, rows, token) = match prepare(&settings, &queue, first, last) {
            Ok(p) => p,
            Err(e) => {
                crate::log::warn(format_args!(
                    "{table}: cannot read chunks {first}-{last} back from the outbox: {e}; retrying"
                ));
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        let started = Instant::now();
        let table_ctx = super::deliver::Table {
            settings: &settings,
            client: &client,
            statement: &statement,
        };
        // Every chunk of the range was damaged on disk: nothing to send.
        let outcome = if parts.is_empty() {
            Ok(())
        } else {
            deliver(table_ctx, &token, &parts, rows).await
        };
        let answer = match &outcome {
            Ok(()) => {
                crate::log::debug(format_args!(
                    "inserted {rows} rows into {table} in {:?}",
                    started.elapsed()
                ));
                Ok(())
            }
            Err(e) => Err(SinkError::Failed {
                table: table.clone(),
                cause: e.clone(),
            }),
        };
        // Done with [first, last]: committed, dead-lettered, or given up (clickhouse).
        let mut q = queue.borrow_mut();
        if let Some(outbox) = &mut q.outbox
            && let Err(e) = outbox.commit(last)
        {
            crate::log::warn(format_args!(
                "{table}: cannot record the commit of chunks {first}-{last} in the outbox manifest: {e} \
                 (they will be sent again after a restart, and deduplicated)"
            ));
        }
        q.pending = None;
        if let Some(disk) = &settings.disk {
            disk.restore_reserve();
        }
        while q.entries.front().is_some_and(|e| e.id <= last) {
            let e = q.entries.pop_front().expect("checked");
            for ack in e.acks {
                // A request that gave up waiting dropped its receiver: nothing to tell.
                let _ = ack.send(answer.clone());
            }
        }
    }
}

/// The bodies, row count and token of INSERT [first, last]; with the outbox, the
/// range is recorded as pending before anything is sent.
fn prepare(
    settings: &Settings,
    queue: &Rc<RefCell<Queue>>,
    first: u64,
    last: u64,
) -> std::io::Result<(Vec<Bytes>, usize, String)> {
    let mut q = queue.borrow_mut();
    let mut parts = Vec::new();
    let mut rows = 0;
    let mut crcs = Vec::new();
    for e in q.entries.iter().take_while(|e| e.id <= last) {
        let body = match (&e.body, &e.stored, &q.outbox) {
            (Some(b), _, _) => b.clone(),
            (None, Some(s), Some(outbox)) => match outbox.read(s) {
                Ok(body) => body,
                // Damaged on disk since it was written: its rows cannot be sent, and
                // the requests they came from are gone. Counted and left out; a
                // restart reads past it the same way (so the token stays the same).
                Err(err) if err.kind() == std::io::ErrorKind::InvalidData => {
                    let t = crate::telemetry::get();
                    t.wal_damaged
                        .get_or_create(&crate::telemetry::WhatLabel {
                            what: "outbox_chunks",
                        })
                        .inc();
                    crate::log::error(format_args!(
                        "{}: chunk {} in the outbox is damaged ({err}): its {} rows are lost",
                        settings.target.table, e.id, e.rows
                    ));
                    continue;
                }
                Err(err) => return Err(err),
            },
            _ => Bytes::new(),
        };
        rows += e.rows;
        crcs.extend_from_slice(&e.crc.to_le_bytes());
        parts.push(body);
    }
    let token = format!(
        "sluice-{}-{}-{first}-{last}-{:08x}",
        settings.generation,
        settings.target.table,
        crc32c::crc32c(&crcs)
    );
    if let Some(outbox) = &mut q.outbox {
        outbox.begin(first, last)?;
    }
    Ok((parts, rows, token))
}
