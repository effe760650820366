//! The write-ahead log: what `ack = "wal"` promises rests on this.
//!
//! # Design
//!
//! Two logs, both [`segment::SegmentLog`]s (append-only segment files of CRC32C-checked
//! records), hand the data on:
//!
//! 1. **A request log per shard** ([`shard_log`]): every request the shard accepted,
//!    as it came over the wire (body, encoding, format, signal), under a sequence
//!    number. A writer thread per shard group-commits: one fsync serves every request
//!    that arrived within `wal.group_commit_ms`; then the requests are answered.
//! 2. **An outbox per table** ([`outbox`]): the sealed chunks (compressed RowBinary,
//!    about a tenth of the requests' size) that wait for their INSERT. The table's
//!    inserter appends and fsyncs them, then tells each chunk's shard that the request
//!    records behind it are safe; a shard deletes a request segment once every batch
//!    in it is in the outboxes. A backlog (ClickHouse away) lives in the outboxes, on
//!    disk, not in memory.
//!
//! An outbox's `MANIFEST` records what has been committed to ClickHouse, which INSERT
//! (range of chunk ids) was being sent, and, for each shard log, the end of the last
//! batch the outbox took from it.
//!
//! # Invariants
//!
//! - A request is acknowledged only after its record is fsynced in its shard's log
//!   or, when the record could not be written, after the chunks holding its rows are
//!   fsynced in their outboxes: a request told to retry is not in any batch (but
//!   for one whose wait a shutdown cut short).
//! - A request record is deleted only after every chunk made from it is fsynced in its
//!   table's outbox; an outbox chunk only after the INSERT holding it committed (or
//!   its rows were dead-lettered).
//! - An INSERT's chunk range is in the manifest before the INSERT is sent, and its
//!   token is derived from the range and the chunks' CRCs: after a crash the same
//!   rows go out with the same token, and ClickHouse deduplicates them.
//! - On start, [`recover`] replays the shard logs into batches that end exactly where
//!   each outbox's last batch from that log ended, and gives each outbox only the
//!   batches it does not have: a request's rows reach each table once.
//! - Damage never stops a start: a torn tail is cut off, a corrupt record is counted,
//!   skipped and reported.
//! - When the data directory holds `wal.max_bytes`, or a write fails (disk full),
//!   shards refuse new requests with retry information until there is room again.
//!
//! # Layout on disk
//!
//! ```text
//! <wal.dir>/LOCK                      held (flock) by the running sluice
//! <wal.dir>/GENERATION                random; part of every deduplication token
//! <wal.dir>/RESERVE                   wal.reserve_bytes kept free for the outboxes (see DiskUse)
//! <wal.dir>/shards/<k>/<seq>.wal      shard k's request log (segment format: segment.rs)
//! <wal.dir>/outbox/<table>/<id>.wal   the table's outbox
//! <wal.dir>/outbox/<table>/MANIFEST   two in-place slots of JSON: committed, pending, received
//! <wal.dir>/dead-letter/              rows ClickHouse refused as data
//! ```

pub mod manifest;
pub mod outbox;
pub mod recover;
pub mod segment;
pub mod shard_log;

use std::fs::File;
use std::io::{self, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

/// After a failed write (disk full), how long shards refuse every request before
/// letting one through to find out whether there is room again.
pub const PROBE_AFTER_FAILURE: Duration = Duration::from_millis(250);

/// Bytes of the data directory in use, against `wal.max_bytes`; whether the last
/// write failed (disk full), until one succeeds again; and the reserve.
///
/// The reserve is a file of `wal.reserve_bytes` kept in the data directory. When the
/// disk fills, the shards' request logs are refused first; an outbox that cannot
/// take a chunk deletes the reserve and tries again, so the chunks that free the
/// request logs always find room, and INSERTs go on and free the outboxes. Requests
/// are taken again once the reserve could be put back.
#[derive(Debug)]
pub struct DiskUse {
    limit: u64,
    used: AtomicU64,
    failing: AtomicBool,
    /// Milliseconds since `since` of the last failure.
    failed_at: AtomicU64,
    since: std::time::Instant,
    reserve: std::sync::Mutex<Option<(PathBuf, u64)>>,
    reserve_present: AtomicBool,
}

impl DiskUse {
    pub fn new(limit: u64) -> Arc<DiskUse> {
        Arc::new(DiskUse {
            limit,
            used: AtomicU64::new(0),
            failing: AtomicBool::new(false),
            failed_at: AtomicU64::new(0),
            since: std::time::Instant::now(),
            reserve: std::sync::Mutex::new(None),
            reserve_present: AtomicBool::new(true),
        })
    }

    /// Keeps a reserve of `bytes` at `path` (see the type's doc).
    pub fn set_reserve(&self, path: PathBuf, bytes: u64) -> io::Result<()> {
        *self.reserve.lock().unwrap_or_else(|p| p.into_inner()) = Some((path, bytes));
        self.reserve_present.store(false, Ordering::Relaxed);
        if self.restore_reserve() {
            Ok(())
        } else {
            Err(io::Error::other(format!(
                "no room for the write-ahead log's reserve of {bytes} bytes"
            )))
        }
    }

    /// Deletes the reserve, if it is there; whether it was.
    pub fn release_reserve(&self) -> bool {
        let reserve = self.reserve.lock().unwrap_or_else(|p| p.into_inner());
        let Some((path, _)) = reserve.as_ref() else {
            return false;
        };
        if !self.reserve_present.swap(false, Ordering::Relaxed) {
            return false;
        }
        let _ = std::fs::remove_file(path);
        crate::log::warn(format_args!(
            "the disk of the write-ahead log is full: released its reserve for the outboxes; requests are refused until it can be put back"
        ));
        true
    }

    /// Puts the reserve back if it is not there; whether it is there now.
    pub fn restore_reserve(&self) -> bool {
        if self.reserve_present.load(Ordering::Relaxed) {
            return true;
        }
        let reserve = self.reserve.lock().unwrap_or_else(|p| p.into_inner());
        let Some((path, bytes)) = reserve.as_ref() else {
            return true;
        };
        let made = (|| {
            let mut f = File::create(path)?;
            let zeros = vec![0u8; 1 << 20];
            let mut left = *bytes;
            while left > 0 {
                let n = left.min(zeros.len() as u64) as usize;
                f.write_all(&zeros[..n])?;
                left -= n as u64;
            }
            f.sync_all()
        })();
        match made {
            Ok(()) => {
                self.reserve_present.store(true, Ordering::Relaxed);
                true
            }
            Err(_) => {
                let _ = std::fs::remove_file(path);
                false
            }
        }
    }

    pub fn add(&self, n: u64) {
        self.used.fetch_add(n, Ordering::Relaxed);
    }

    pub fn sub(&self, n: u64) {
        self.used.fetch_sub(n, Ordering::Relaxed);
    }

    pub fn used(&self) -> u64 {
        self.used.load(Ordering::Relaxed)
    }

    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// Whether a new request may be taken: below the limit, and either the last
    /// write went well or the last failure is old enough to try again.
    pub fn has_room(&self) -> bool {
        if self.used() >= self.limit || !self.reserve_present.load(Ordering::Relaxed) {
            return false;
        }
        if !self.failing.load(Ordering::Relaxed) {
            return true;
        }
        // Past the pause, requests go through again; the next failed write (if the
        // disk is still full) refuses them and starts another pause.
        let now = self.since.elapsed().as_millis() as u64;
        let last = self.failed_at.load(Ordering::Relaxed);
        now.saturating_sub(last) >= PROBE_AFTER_FAILURE.as_millis() as u64
    }

    pub fn set_failing(&self, failing: bool) {
        if failing {
            self.failed_at
                .store(self.since.elapsed().as_millis() as u64, Ordering::Relaxed);
        }
        self.failing.store(failing, Ordering::Relaxed);
    }
}

/// The requests of a shard's log that a chunk was made from: `[first, end)`.
#[derive(Debug)]
pub struct Origin {
    pub log: u32,
    pub first: u64,
    pub end: u64,
    /// Tells the shard's log writer when the chunk is safe in its outbox.
    pub notify: Option<crossbeam_channel::Sender<shard_log::Op>>,
}

impl Origin {
    /// The chunk is fsynced in its outbox.
    pub fn durable(self) {
        if let Some(tx) = self.notify {
            let _ = tx.send(shard_log::Op::Durable { first: self.first });
        }
    }
}

/// The data directory, locked for this process.
#[derive(Debug)]
pub struct DataDir {
    pub path: PathBuf,
    pub generation: String,
    _lock: File,
}

impl DataDir {
    /// Opens (creating) `path`: takes its lock, reads or makes its generation.
    pub fn open(path: &Path) -> io::Result<DataDir> {
        std::fs::create_dir_all(path)?;
        let lock = File::create(path.join("LOCK"))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(io::Error::other(format!(
                    "{} is in use by another sluice process",
                    path.display()
                )));
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(e),
        }
        let gen_path = path.join("GENERATION");
        let mut generation = String::new();
        if let Ok(mut f) = File::open(&gen_path) {
            f.read_to_string(&mut generation)?;
        }
        let generation = generation.trim().to_owned();
        let generation =
            if generation.len() == 16 && generation.bytes().all(|b| b.is_ascii_hexdigit()) {
                generation
            } else {
                let g = format!("{:016x}", fastrand::u64(..));
                write_durably(&gen_path, g.as_bytes())?;
                g
            };
        Ok(DataDir {
            path: path.to_owned(),
            generation,
            _lock: lock,
        })
    }

    pub fn shard_log(&self, shard: u32) -> PathBuf {
        self.path.join("shards").join(shard.to_string())
    }

    pub fn outbox(&self, table: &str) -> PathBuf {
        self.path.join("outbox").join(table)
    }

    /// The shard logs there are, by number.
    pub fn shard_logs(&self) -> io::Result<Vec<u32>> {
        let dir = self.path.join("shards");
        let mut logs: Vec<u32> = match std::fs::read_dir(&dir) {
            Ok(rd) => rd
                .filter_map(Result::ok)
                .filter_map(|e| e.file_name().to_str()?.parse().ok())
                .collect(),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(e),
        };
        logs.sort_unstable();
        Ok(logs)
    }
}

/// Replaces `path` with `bytes`, durably: a temporary file, fsync, rename, fsync of
/// the directory.
pub fn write_durably(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let tmp = path.with_extension("tmp");
    let mut f = File::create(&tmp)?;
    f.write_all(bytes)?;
    f.sync_data()?;
    std::fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent() {
        File::open(dir)?.sync_all()?;
    }
    Ok(())
}
