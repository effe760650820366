//! A table's outbox: sealed chunks on disk until their INSERT commits.
//!
//! # Format
//!
//! Records of a [`SegmentLog`] whose id is the chunk's id (counting up for the table)
//! and whose payload is
//!
//! ```text
//! log u32 | first u64 | end u64 | rows u32 | body
//! ```
//!
//! where `[first, end)` are the request sequence numbers of shard log `log` the chunk
//! was made from (`log = u32::MAX`: none) and `body` is what the INSERT sends. The
//! `MANIFEST` beside the segments is JSON:
//!
//! ```text
//! {"committed": id, "pending": [first, last] | null, "received": {"<log>": end, …}}
//! ```
//!
//! `committed`: every chunk up to this id is in ClickHouse. `pending`: the INSERT
//! being sent (written before it is sent). `received`: per shard log, the end of
//! the last batch taken from it, kept after its chunks are deleted.

use std::collections::BTreeMap;
use std::io;
use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::DiskUse;
use super::manifest::ManifestFile;
use super::segment::{Damage, Kind, Loc, SegmentLog};
use crate::sink::Chunk;

/// Chunk header: log, first, end, rows.
const HEAD: usize = 4 + 8 + 8 + 4;

/// A chunk in the outbox.
#[derive(Clone, Debug)]
pub struct Stored {
    pub id: u64,
    pub loc: Loc,
    pub rows: usize,
    pub len: usize,
    /// CRC32C of the body (part of the INSERT's token).
    pub crc: u32,
}

#[derive(Debug, Default, Deserialize, Serialize)]
struct Manifest {
    committed: u64,
    pending: Option<(u64, u64)>,
    received: BTreeMap<u32, u64>,
}

/// One table's outbox.
#[derive(Debug)]
pub struct Outbox {
    log: SegmentLog,
    manifest: Manifest,
    manifest_file: ManifestFile,
    /// Chunks found on open that are not committed.
    recovered: Vec<Stored>,
    next_id: u64,
    pub damage: Damage,
}

impl Outbox {
    /// Opens (creating) the outbox in `dir` and reads what it holds.
    pub fn open(dir: &Path, segment_bytes: u64, disk: Arc<DiskUse>) -> io::Result<Outbox> {
        std::fs::create_dir_all(dir)?;
        let manifest_path = dir.join("MANIFEST");
        let (manifest_file, content) = ManifestFile::open(&manifest_path)?;
        let mut manifest: Manifest = match content {
            Some(bytes) => serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                crate::log::warn(format_args!(
                    "{}: unreadable ({e}); everything in the outbox will be sent again (deduplicated)",
                    manifest_path.display()
                ));
                Manifest::default()
            }),
            None => Manifest::default(),
        };
        let mut recovered = Vec::new();
        let mut max_id = manifest.committed;
        let committed = manifest.committed;
        let received = &mut manifest.received;
        let (log, damage) =
            SegmentLog::open(dir, Kind::Outbox, segment_bytes, disk, |id, loc, p| {
                let Some((origin_log, _first, end, rows)) = header(p) else {
                    return;
                };
                max_id = max_id.max(id);
                if origin_log != u32::MAX {
                    let r = received.entry(origin_log).or_insert(0);
                    *r = (*r).max(end);
                }
                if id > committed {
                    let body = &p[HEAD..];
                    recovered.push(Stored {
                        id,
                        loc,
                        rows: rows as usize,
                        len: body.len(),
                        crc: crc32c::crc32c(body),
                    });
                }
            })?;
        Ok(Outbox {
            log,
            manifest,
            manifest_file,
            recovered,
            next_id: max_id + 1,
            damage,
        })
    }

    /// The id the next chunk gets.
    pub fn next_id(&self) -> u64 {
        self.next_id
    }

    /// The INSERT that was being sent when sluice stopped, if it did not commit.
    pub fn pending(&self) -> Option<(u64, u64)> {
        self.manifest.pending
    }

    /// Chunks that still wait for their INSERT: found on open, and appended by
    /// [`recover`](super::recover) before the inserter started.
    pub fn recovered(&self) -> &[Stored] {
        &self.recovered
    }

    /// Appends chunks before the inserter runs (replay): they join
    /// [`recovered`](Self::recovered).
    pub fn append_recovered(&mut self, chunks: &[Chunk]) -> io::Result<()> {
        let stored = self.append(self.next_id, chunks)?;
        self.recovered.extend(stored);
        Ok(())
    }

    /// The end of the last batch this outbox took from shard log `log`.
    pub fn received(&self, log: u32) -> u64 {
        self.manifest.received.get(&log).copied().unwrap_or(0)
    }

    /// Appends `chunks` as ids `first_id..` and fsyncs them: all of them, or (on an
    /// error) none, so that the same ids can be offered again. The chunks are one
    /// group of the segment log: only the first can start a segment (and fail before
    /// anything is buffered), and a failed sync drops them all.
    pub fn append(&mut self, first_id: u64, chunks: &[Chunk]) -> io::Result<Vec<Stored>> {
        let mut stored = Vec::with_capacity(chunks.len());
        for (i, c) in chunks.iter().enumerate() {
            let id = first_id + i as u64;
            let (log, first, end) = c
                .origin
                .as_ref()
                .map_or((u32::MAX, 0, 0), |o| (o.log, o.first, o.end));
            let mut head = [0u8; HEAD];
            head[0..4].copy_from_slice(&log.to_le_bytes());
            head[4..12].copy_from_slice(&first.to_le_bytes());
            head[12..20].copy_from_slice(&end.to_le_bytes());
            head[20..24].copy_from_slice(&(c.rows as u32).to_le_bytes());
            let loc = self.log.append(id, &[&head, &c.body])?;
            stored.push(Stored {
                id,
                loc,
                rows: c.rows,
                len: c.body.len(),
                crc: crc32c::crc32c(&c.body),
            });
        }
        self.log.sync()?;
        for c in chunks {
            if let Some(o) = &c.origin {
                let r = self.manifest.received.entry(o.log).or_insert(0);
                *r = (*r).max(o.end);
            }
        }
        self.next_id = first_id + chunks.len() as u64;
        Ok(stored)
    }

    /// A chunk's body, read back.
    pub fn read(&self, s: &Stored) -> io::Result<Bytes> {
        let mut p = self.log.read(s.loc)?;
        p.drain(..HEAD);
        Ok(Bytes::from(p))
    }

    /// Records that INSERT `[first, last]` is about to be sent.
    pub fn begin(&mut self, first: u64, last: u64) -> io::Result<()> {
        self.manifest.pending = Some((first, last));
        self.save()
    }

    /// Records that every chunk up to `last` is done, and deletes what it can.
    pub fn commit(&mut self, last: u64) -> io::Result<()> {
        self.manifest.committed = self.manifest.committed.max(last);
        self.manifest.pending = None;
        self.save()?;
        self.log.delete_through(last);
        Ok(())
    }

    fn save(&mut self) -> io::Result<()> {
        let bytes = serde_json::to_vec(&self.manifest).map_err(io::Error::other)?;
        self.manifest_file.write(&bytes)
    }
}

/// A chunk record's header: log, first, end, rows.
fn header(p: &[u8]) -> Option<(u32, u64, u64, u32)> {
    if p.len() < HEAD {
        return None;
    }
    Some((
        u32::from_le_bytes(p[0..4].try_into().ok()?),
        u64::from_le_bytes(p[4..12].try_into().ok()?),
        u64::from_le_bytes(p[12..20].try_into().ok()?),
        u32::from_le_bytes(p[20..24].try_into().ok()?),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wal::Origin;

    fn chunk(body: &'static [u8], rows: usize, origin: Option<(u32, u64, u64)>) -> Chunk {
        Chunk {
            body: Bytes::from_static(body),
            rows,
            acks: Vec::new(),
            held: None,
            origin: origin.map(|(log, first, end)| Origin {
                log,
                first,
                end,
                notify: None,
            }),
        }
    }

    #[test]
    fn an_outbox_remembers_what_is_uncommitted_pending_and_received() {
        let dir = std::env::temp_dir().join(format!("sluice-outbox-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let disk = DiskUse::new(u64::MAX);
        let mut o = Outbox::open(&dir, 1 << 20, Arc::clone(&disk)).unwrap();
        assert_eq!(o.next_id(), 1);
        let s = o
            .append(
                1,
                &[
                    chunk(b"aaa", 3, Some((0, 1, 5))),
                    chunk(b"bb", 2, Some((1, 7, 9))),
                ],
            )
            .unwrap();
        let s2 = o.append(3, &[chunk(b"c", 1, Some((0, 5, 8)))]).unwrap();
        assert_eq!(o.read(&s[1]).unwrap(), &b"bb"[..]);
        o.begin(1, 2).unwrap();
        o.commit(2).unwrap();
        o.begin(3, 3).unwrap();
        drop(o);
        let o = Outbox::open(&dir, 1 << 20, disk).unwrap();
        assert_eq!(o.pending(), Some((3, 3)));
        assert_eq!(o.next_id(), 4);
        let rec: Vec<u64> = o.recovered().iter().map(|s| s.id).collect();
        assert_eq!(rec, vec![3]);
        assert_eq!(o.recovered()[0].crc, s2[0].crc);
        assert_eq!(o.read(&o.recovered()[0]).unwrap(), &b"c"[..]);
        assert_eq!((o.received(0), o.received(1), o.received(2)), (8, 9, 0));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn an_append_is_all_or_nothing_and_its_chunks_share_a_segment() {
        let dir = std::env::temp_dir().join(format!("sluice-outbox-fail-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let disk = DiskUse::new(u64::MAX);
        // Segments of 20 bytes: any chunk fills one.
        let mut o = Outbox::open(&dir, 20, Arc::clone(&disk)).unwrap();
        let chunks = [chunk(b"one", 1, None), chunk(b"two", 1, None)];
        let segment = |id: u64| dir.join(format!("{id:020}.wal"));
        // The segment the append starts is a disk that is always full: nothing stored.
        std::os::unix::fs::symlink("/dev/full", segment(1)).unwrap();
        assert!(o.append(1, &chunks).is_err());
        assert_eq!(o.next_id(), 1);
        std::fs::remove_file(segment(1)).unwrap();
        // A segment started between the two chunks would be that disk: there is none.
        std::os::unix::fs::symlink("/dev/full", segment(2)).unwrap();
        o.append(1, &chunks).unwrap();
        drop(o);
        std::fs::remove_file(segment(2)).unwrap();
        let o = Outbox::open(&dir, 20, disk).unwrap();
        let ids: Vec<u64> = o.recovered().iter().map(|s| s.id).collect();
        assert_eq!(ids, vec![1, 2], "each chunk once");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
