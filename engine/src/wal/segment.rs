//! A log of records in segment files: append, fsync, read back, delete what is done.
//!
//! Both of sluice's logs are one of these: a shard's request log and a table's outbox.
//!
//! # Format
//!
//! ```text
//! <dir>/<first id, 20 digits>.wal     one segment: its first record's id names it
//!   header   "SLUICEWL" (8 bytes) | version u32 = 1 | kind u32    16 bytes
//!   record   magic u32 = "SLWR"  | len u32 | crc u32 | id u64 | payload (len - 8 bytes)
//! ```
//!
//! Little-endian. `crc` is CRC32C (Castagnoli) over `len`, `id` and the payload, so a
//! damaged length is caught like damaged data. Ids increase through the log.
//!
//! # Groups
//!
//! Records are [`append`](SegmentLog::append)ed to a buffer and written by one
//! [`sync`](SegmentLog::sync): a group. A new segment is started only between
//! groups, so a segment holds at most `segment_bytes` plus one group, and a failed
//! sync loses exactly the records of its group (none of them was answered), never
//! one of an earlier group.
//!
//! # Reading a damaged log
//!
//! A record that does not check out is followed by a scan for the next one that does
//! (the magic, a plausible length and a matching CRC). If one is found, the damaged
//! span is counted as a corrupt record and skipped; if none is, the rest of the
//! segment is cut off: in the last segment it is a torn tail (a write cut short by a
//! crash: it was never fsynced, so never acknowledged); in an earlier one, which was
//! fsynced whole before the next was started, it is counted as corrupt. A damaged
//! segment header is counted as corrupt and written again; the records after it
//! are read as usual. None of this stops sluice from starting.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read as _, Seek as _, SeekFrom, Write as _};
use std::os::unix::fs::FileExt as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::DiskUse;

const HEADER: &[u8; 8] = b"SLUICEWL";
const VERSION: u32 = 1;
pub const HEADER_LEN: u64 = 16;
const MAGIC: u32 = u32::from_le_bytes(*b"SLWR");
/// magic + len + crc.
const RECORD_HEAD: usize = 12;
/// Largest record accepted when reading (a request is at most 64 MiB by default;
/// an outbox chunk is a sealed batch, compressed).
pub const MAX_RECORD: usize = 1 << 30;

/// Which log a segment belongs to (written in its header).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Requests = 1,
    Outbox = 2,
}

/// Where a record is, to read it back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Loc {
    /// The segment's first id (its name).
    pub segment: u64,
    /// Offset of the record's payload in the segment, and its length.
    pub offset: u64,
    pub len: u32,
}

#[derive(Debug)]
struct Segment {
    first: u64,
    /// The last id in it (`first - 1` while empty).
    last: u64,
    len: u64,
    path: PathBuf,
}

/// What reading a log found wrong.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Damage {
    /// Damaged spans skipped between good records.
    pub corrupt: usize,
    /// Bytes cut off the end of segments (torn writes).
    pub torn_bytes: u64,
}

/// A directory of segments.
#[derive(Debug)]
pub struct SegmentLog {
    dir: PathBuf,
    kind: Kind,
    segments: Vec<Segment>,
    /// The last segment, open for appending (`None` until the first append, and after
    /// it was deleted).
    active: Option<File>,
    segment_bytes: u64,
    /// Records framed but not yet written.
    buf: Vec<u8>,
    /// Length of the active segment as written (without `buf`), and as fsynced.
    written: u64,
    synced: u64,
    disk: Arc<DiskUse>,
}

impl SegmentLog {
    /// Opens (creating) the log in `dir` and reads every record in it, in id order,
    /// into `each(id, loc, payload)`. Torn tails are cut off; appends go to a new
    /// segment.
    pub fn open(
        dir: &Path,
        kind: Kind,
        segment_bytes: u64,
        disk: Arc<DiskUse>,
        mut each: impl FnMut(u64, Loc, &[u8]),
    ) -> io::Result<(SegmentLog, Damage)> {
        fs::create_dir_all(dir)?;
        let mut names: Vec<(u64, PathBuf)> = fs::read_dir(dir)?
            .filter_map(Result::ok)
            .filter_map(|e| {
                let name = e.file_name().into_string().ok()?;
                let first = name.strip_suffix(".wal")?.parse().ok()?;
                Some((first, e.path()))
            })
            .collect();
        names.sort();
        let mut damage = Damage::default();
        let mut segments = Vec::new();
        let count = names.len();
        for (n, (first, path)) in names.into_iter().enumerate() {
            let mut bytes = Vec::new();
            File::open(&path)?.read_to_end(&mut bytes)?;
            let header = segment_header(kind);
            let header_ok = bytes.starts_with(&header);
            let mut last = first.saturating_sub(1);
            let mut records = 0usize;
            let (good, corrupt) = scan(&bytes, |id, offset, payload| {
                last = id;
                records += 1;
                let loc = Loc {
                    segment: first,
                    offset,
                    len: payload.len() as u32,
                };
                each(id, loc, payload);
            });
            let last_segment = n + 1 == count;
            let len = bytes.len() as u64;
            damage.corrupt += corrupt;
            if records == 0 {
                // Nothing to keep: a segment a crash caught being started (the last one),
                // or one damaged whole. It is removed, so that a new segment of its name
                // is not mistaken for it (and deleted with it).
                let header = if header_ok { HEADER_LEN } else { 0 };
                if last_segment {
                    damage.torn_bytes += len - header;
                } else if len > header {
                    damage.corrupt += 1;
                }
                fs::remove_file(&path)?;
                continue;
            }
            if !header_ok {
                damage.corrupt += 1;
            }
            if good < len {
                if last_segment {
                    damage.torn_bytes += len - good;
                } else {
                    damage.corrupt += 1;
                }
            }
            if good < len || !header_ok {
                let f = OpenOptions::new().write(true).open(&path)?;
                f.set_len(good)?;
                f.write_all_at(&header, 0)?;
                f.sync_data()?;
            }
            disk.add(good);
            segments.push(Segment {
                first,
                last,
                len: good,
                path,
            });
        }
        let log = SegmentLog {
            dir: dir.to_owned(),
            kind,
            segments,
            active: None,
            segment_bytes,
            buf: Vec::new(),
            written: 0,
            synced: 0,
            disk,
        };
        Ok((log, damage))
    }

    /// Frames a record into the write buffer; [`sync`](Self::sync) writes it. Ids
    /// must increase. The payload is the concatenation of `parts`.
    ///
    /// The first record of a group may start a new segment (see the module doc); if
    /// that fails, nothing was buffered and the log is as it was.
    pub fn append(&mut self, id: u64, parts: &[&[u8]]) -> io::Result<Loc> {
        let payload_len: usize = parts.iter().map(|p| p.len()).sum();
        if self.active.is_none() || (self.buf.is_empty() && self.written >= self.segment_bytes) {
            self.rotate(id)?;
        }
        let len = (8 + payload_len) as u32;
        let mut crc = crc32c::crc32c(&len.to_le_bytes());
        crc = crc32c::crc32c_append(crc, &id.to_le_bytes());
        for p in parts {
            crc = crc32c::crc32c_append(crc, p);
        }
        let start = self.written + self.buf.len() as u64;
        self.buf.extend_from_slice(&MAGIC.to_le_bytes());
        self.buf.extend_from_slice(&len.to_le_bytes());
        self.buf.extend_from_slice(&crc.to_le_bytes());
        self.buf.extend_from_slice(&id.to_le_bytes());
        for p in parts {
            self.buf.extend_from_slice(p);
        }
        let seg = self.segments.last_mut().expect("rotate made one");
        seg.last = id;
        Ok(Loc {
            segment: seg.first,
            offset: start + RECORD_HEAD as u64 + 8,
            len: payload_len as u32,
        })
    }

    /// Writes what was appended and fsyncs it. On failure the segment is cut back to
    /// what was synced before, so the log stays readable; the records appended since
    /// are gone (their requests were not acknowledged).
    pub fn sync(&mut self) -> io::Result<()> {
        let Some(f) = self.active.as_mut() else {
            return Ok(());
        };
        if self.buf.is_empty() && self.written == self.synced {
            return Ok(());
        }
        let result = f.write_all(&self.buf).and_then(|()| f.sync_data());
        match result {
            Ok(()) => {
                let n = self.buf.len() as u64;
                self.written += n;
                self.synced = self.written;
                self.disk.add(n);
                if let Some(seg) = self.segments.last_mut() {
                    seg.len = self.written;
                }
                self.buf.clear();
                Ok(())
            }
            Err(e) => {
                self.buf.clear();
                let _ = f.set_len(self.synced);
                let _ = f.seek(SeekFrom::Start(self.synced));
                let _ = f.sync_data();
                self.written = self.synced;
                if let Some(seg) = self.segments.last_mut() {
                    seg.len = self.synced;
                }
                Err(e)
            }
        }
    }

    /// Starts a new segment whose first record will be `id`. Only between groups:
    /// everything appended before is synced.
    fn rotate(&mut self, id: u64) -> io::Result<()> {
        debug_assert!(self.buf.is_empty() && self.written == self.synced);
        let path = self.dir.join(format!("{id:020}.wal"));
        let mut f = OpenOptions::new()
            .create(true)
            .truncate(true)
            .write(true)
            .open(&path)?;
        f.write_all(&segment_header(self.kind))?;
        f.sync_data()?;
        // The new name must survive a crash too.
        File::open(&self.dir)?.sync_all()?;
        self.disk.add(HEADER_LEN);
        // A segment of this name the log still knows (it failed to start before, or
        // held nothing) was just replaced by this one.
        if let Some(old) = self.segments.iter().position(|s| s.first == id) {
            let old = self.segments.remove(old);
            self.disk.sub(old.len);
        }
        self.segments.push(Segment {
            first: id,
            last: id.saturating_sub(1),
            len: HEADER_LEN,
            path,
        });
        self.active = Some(f);
        self.written = HEADER_LEN;
        self.synced = HEADER_LEN;
        Ok(())
    }

    /// Deletes the segments whose every record has an id ≤ `id`.
    pub fn delete_through(&mut self, id: u64) {
        let n = self.segments.len();
        let mut keep = Vec::with_capacity(n);
        for (i, seg) in std::mem::take(&mut self.segments).into_iter().enumerate() {
            let is_active = i + 1 == n && self.active.is_some();
            let unflushed = is_active && !self.buf.is_empty();
            if seg.last <= id && !unflushed && (seg.last >= seg.first || !is_active) {
                if is_active {
                    self.active = None;
                }
                if fs::remove_file(&seg.path).is_ok() {
                    self.disk.sub(seg.len);
                }
            } else {
                keep.push(seg);
            }
        }
        self.segments = keep;
    }

    /// Deletes every segment there was when the log was opened (they were read and
    /// their records are now elsewhere).
    pub fn delete_old(&mut self) {
        if self.active.is_none() {
            for seg in self.segments.drain(..) {
                if fs::remove_file(&seg.path).is_ok() {
                    self.disk.sub(seg.len);
                }
            }
        }
    }

    /// Reads a record's payload back (it must have been synced).
    pub fn read(&self, loc: Loc) -> io::Result<Vec<u8>> {
        let seg = self
            .segments
            .iter()
            .find(|s| s.first == loc.segment)
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "segment deleted"))?;
        let mut head = [0u8; RECORD_HEAD + 8];
        let start = loc.offset - (RECORD_HEAD as u64 + 8);
        let f = File::open(&seg.path)?;
        f.read_exact_at(&mut head, start)?;
        let mut payload = vec![0u8; loc.len as usize];
        f.read_exact_at(&mut payload, loc.offset)?;
        let len = u32::from_le_bytes(head[4..8].try_into().expect("4 bytes"));
        let crc = u32::from_le_bytes(head[8..12].try_into().expect("4 bytes"));
        let mut want = crc32c::crc32c(&len.to_le_bytes());
        want = crc32c::crc32c_append(want, &head[12..20]);
        want = crc32c::crc32c_append(want, &payload);
        if want != crc {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "record at {}:{} fails its checksum",
                    seg.path.display(),
                    start
                ),
            ));
        }
        Ok(payload)
    }
}

/// A segment's first bytes.
fn segment_header(kind: Kind) -> [u8; HEADER_LEN as usize] {
    let mut header = [0u8; HEADER_LEN as usize];
    header[..8].copy_from_slice(HEADER);
    header[8..12].copy_from_slice(&VERSION.to_le_bytes());
    header[12..16].copy_from_slice(&(kind as u32).to_le_bytes());
    header
}

/// Reads the records of one segment's bytes into `each(id, payload offset,
/// payload)`; returns where the good data ends and how many damaged spans were
/// skipped before that.
pub fn scan(bytes: &[u8], mut each: impl FnMut(u64, u64, &[u8])) -> (u64, usize) {
    let mut pos = HEADER_LEN as usize;
    let mut corrupt = 0;
    while pos < bytes.len() {
        if let Some((id, payload)) = record_at(bytes, pos) {
            each(id, (pos + RECORD_HEAD + 8) as u64, payload);
            pos += RECORD_HEAD + 8 + payload.len();
            continue;
        }
        // Damaged here: is there a good record further on?
        match (pos + 1..bytes.len()).find(|&p| record_at(bytes, p).is_some()) {
            Some(next) => {
                corrupt += 1;
                pos = next;
            }
            None => return (pos as u64, corrupt),
        }
    }
    (pos as u64, corrupt)
}

/// The record starting at `pos`, if one checks out there.
fn record_at(bytes: &[u8], pos: usize) -> Option<(u64, &[u8])> {
    let head = bytes.get(pos..pos + RECORD_HEAD + 8)?;
    if u32::from_le_bytes(head[0..4].try_into().ok()?) != MAGIC {
        return None;
    }
    let len = u32::from_le_bytes(head[4..8].try_into().ok()?) as usize;
    if !(8..=MAX_RECORD).contains(&len) {
        return None;
    }
    let body = bytes.get(pos + RECORD_HEAD..pos + RECORD_HEAD + len)?;
    let crc = u32::from_le_bytes(head[8..12].try_into().ok()?);
    let mut want = crc32c::crc32c(&(len as u32).to_le_bytes());
    want = crc32c::crc32c_append(want, body);
    if want != crc {
        return None;
    }
    let id = u64::from_le_bytes(body[..8].try_into().ok()?);
    Some((id, &body[8..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(dir: &Path) -> (SegmentLog, Vec<(u64, Vec<u8>)>, Damage) {
        let mut got = Vec::new();
        let (log, damage) = SegmentLog::open(
            dir,
            Kind::Requests,
            200,
            DiskUse::new(u64::MAX),
            |id, _, p| got.push((id, p.to_vec())),
        )
        .unwrap();
        (log, got, damage)
    }

    /// A log in `dir` holding records 1..=n (`payload(id)`) in one segment, closed;
    /// that segment's path.
    fn one_segment(dir: &Path, n: u64, payload: impl Fn(u64) -> String) -> PathBuf {
        let (mut log, _, _) = open(dir);
        for id in 1..=n {
            log.append(id, &[payload(id).as_bytes()]).unwrap();
        }
        log.sync().unwrap();
        drop(log);
        fs::read_dir(dir).unwrap().next().unwrap().unwrap().path()
    }

    fn tmp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("sluice-seg-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn records_survive_reopening_across_segments_and_read_back_by_location() {
        let dir = tmp("reopen");
        let (mut log, got, _) = open(&dir);
        assert!(got.is_empty());
        let mut locs = Vec::new();
        for id in 1..=20u64 {
            let payload = format!("record {id}");
            locs.push(log.append(id, &[b"<", payload.as_bytes(), b">"]).unwrap());
            if id % 3 == 0 {
                log.sync().unwrap();
            }
        }
        log.sync().unwrap();
        assert_eq!(log.read(locs[6]).unwrap(), b"<record 7>");
        assert!(log.segments.len() > 2, "200-byte segments rotate");
        drop(log);
        let (mut log, got, damage) = open(&dir);
        assert_eq!(damage, Damage::default());
        let ids: Vec<u64> = got.iter().map(|r| r.0).collect();
        assert_eq!(ids, (1..=20).collect::<Vec<_>>());
        assert_eq!(got[19].1, b"<record 20>");
        // Delete what is done: segments wholly at or below 12 go.
        log.delete_through(12);
        drop(log);
        let (_, got, _) = open(&dir);
        assert!(got[0].0 > 1 && got[0].0 <= 13, "{:?}", got[0].0);
        assert_eq!(got.last().unwrap().0, 20);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_torn_tail_is_cut_and_a_corrupt_record_skipped_and_counted() {
        let dir = tmp("damage");
        let seg = one_segment(&dir, 5, |id| format!("payload number {id}"));
        let mut bytes = fs::read(&seg).unwrap();
        // Overwrite a byte inside record 2, and cut record 5 in half.
        let rec = RECORD_HEAD + 8 + "payload number 1".len();
        bytes[HEADER_LEN as usize + rec + 25] ^= 0xff;
        let cut = bytes.len() - 7;
        bytes.truncate(cut);
        fs::write(&seg, &bytes).unwrap();
        let (_, got, damage) = open(&dir);
        let ids: Vec<u64> = got.iter().map(|r| r.0).collect();
        assert_eq!(ids, vec![1, 3, 4]);
        assert_eq!(damage.corrupt, 1);
        assert_eq!(damage.torn_bytes, (rec as u64) - 7);
        // The tail was cut: reopening finds nothing more wrong.
        let (_, got, damage) = open(&dir);
        assert_eq!(got.len(), 3);
        assert_eq!(
            damage,
            Damage {
                corrupt: 1,
                torn_bytes: 0
            }
        );
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_group_stays_in_one_segment_and_the_next_group_starts_a_new_one() {
        let dir = tmp("groups");
        let (mut log, _, _) = open(&dir);
        // 200-byte segments; one group of 10 records of 40 bytes goes to one segment.
        for id in 1..=10u64 {
            log.append(id, &[&[b'g'; 20]]).unwrap();
        }
        log.sync().unwrap();
        assert_eq!(log.segments.len(), 1);
        log.append(11, &[b"next group"]).unwrap();
        log.sync().unwrap();
        assert_eq!(log.segments.len(), 2);
        assert_eq!(log.segments[1].first, 11);
        drop(log);
        let (_, got, damage) = open(&dir);
        assert_eq!(damage, Damage::default());
        assert_eq!(got.len(), 11);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_segment_that_cannot_be_started_leaves_the_log_as_it_was() {
        let dir = tmp("cannot-start");
        let (mut log, _, _) = open(&dir);
        log.append(1, &[b"first"]).unwrap();
        log.sync().unwrap();
        // One group past the segment size, then the next segment's file is a disk
        // that is always full.
        for id in 2..=5u64 {
            log.append(id, &[&[b'x'; 200]]).unwrap();
        }
        log.sync().unwrap();
        std::os::unix::fs::symlink("/dev/full", dir.join(format!("{:020}.wal", 6))).unwrap();
        let e = log.append(6, &[b"lost"]).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::StorageFull, "{e}");
        assert!(log.buf.is_empty(), "nothing was buffered");
        fs::remove_file(dir.join(format!("{:020}.wal", 6))).unwrap();
        log.append(6, &[b"six"]).unwrap();
        log.sync().unwrap();
        drop(log);
        let (_, got, damage) = open(&dir);
        let ids: Vec<u64> = got.iter().map(|r| r.0).collect();
        assert_eq!(ids, vec![1, 2, 3, 4, 5, 6]);
        assert_eq!(got[5].1, b"six");
        assert_eq!(damage, Damage::default());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_damaged_header_is_counted_and_mended_and_the_records_after_it_read() {
        let dir = tmp("header");
        let seg = one_segment(&dir, 3, |id| format!("record {id}"));
        let mut bytes = fs::read(&seg).unwrap();
        bytes[..8].copy_from_slice(b"garbage!");
        fs::write(&seg, &bytes).unwrap();
        let (_, got, damage) = open(&dir);
        assert_eq!(got.len(), 3);
        assert_eq!(
            damage,
            Damage {
                corrupt: 1,
                torn_bytes: 0
            }
        );
        let (_, got, damage) = open(&dir);
        assert_eq!((got.len(), damage), (3, Damage::default()));
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn damage_at_the_end_of_an_earlier_segment_is_corrupt_not_torn() {
        let dir = tmp("earlier");
        let (mut log, _, _) = open(&dir);
        for id in 1..=8u64 {
            log.append(id, &[&[b'r'; 120]]).unwrap();
            log.sync().unwrap();
        }
        assert!(log.segments.len() >= 3);
        let first = log.segments[0].path.clone();
        drop(log);
        let mut bytes = fs::read(&first).unwrap();
        let n = bytes.len();
        bytes[n - 5] ^= 0xff;
        fs::write(&first, &bytes).unwrap();
        let (_, got, damage) = open(&dir);
        assert_eq!(got.len(), 7);
        assert_eq!(
            damage,
            Damage {
                corrupt: 1,
                torn_bytes: 0
            }
        );
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn an_empty_last_segment_is_removed_so_a_new_one_of_its_name_is_not_deleted_with_it() {
        let dir = tmp("empty-last");
        let (mut log, _, _) = open(&dir);
        log.append(1, &[b"one"]).unwrap();
        log.sync().unwrap();
        drop(log);
        // A crash right after the next segment was started: a header, no record.
        let second = dir.join(format!("{:020}.wal", 2));
        fs::write(&second, segment_header(Kind::Requests)).unwrap();
        let (mut log, got, damage) = open(&dir);
        assert_eq!((got.len(), damage), (1, Damage::default()));
        assert!(!second.exists(), "the empty segment is gone");
        // The next record starts segment 2 afresh; deleting through 1 keeps it.
        log.append(2, &[&[b'x'; 300]]).unwrap();
        log.sync().unwrap();
        log.delete_through(1);
        assert!(second.exists());
        drop(log);
        let (_, got, _) = open(&dir);
        let ids: Vec<u64> = got.iter().map(|r| r.0).collect();
        assert_eq!(ids, vec![2]);
        fs::remove_dir_all(&dir).unwrap();
    }
}
