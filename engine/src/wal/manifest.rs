//! A small file rewritten in place: recording progress never needs new disk space.
//!
//! An outbox records each INSERT before and after it is sent. When the disk is full
//! those writes must still work, or nothing could be committed and deleted to free
//! space. So the manifest is a file of two fixed slots, allocated when it is created,
//! written alternately in place and fsynced:
//!
//! ```text
//! slot (16 KiB) := magic u32 = "SLMF" | seq u64 | len u32 | crc u32 | bytes [len] | zeros
//! ```
//!
//! `crc` is CRC32C over `seq`, `len` and the bytes. Reading takes the valid slot with
//! the higher `seq`; a write torn by a crash leaves the other slot, one step older.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt as _;
use std::path::Path;

/// Bytes of one slot.
pub const SLOT: usize = 16 << 10;
const MAGIC: u32 = u32::from_le_bytes(*b"SLMF");
const HEAD: usize = 4 + 8 + 4 + 4;

/// The manifest file.
#[derive(Debug)]
pub struct ManifestFile {
    file: File,
    seq: u64,
}

impl ManifestFile {
    /// Opens (creating, with both slots allocated) the file; the newest content.
    pub fn open(path: &Path) -> io::Result<(ManifestFile, Option<Vec<u8>>)> {
        let exists = path.exists();
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)?;
        if !exists || file.metadata()?.len() < (2 * SLOT) as u64 {
            file.write_all_at(&vec![0; 2 * SLOT], 0)?;
            file.sync_all()?;
            if let Some(dir) = path.parent() {
                File::open(dir)?.sync_all()?;
            }
        }
        let mut best: Option<(u64, Vec<u8>)> = None;
        for slot in 0..2 {
            let mut buf = vec![0; SLOT];
            file.read_exact_at(&mut buf, (slot * SLOT) as u64)?;
            if let Some((seq, bytes)) = parse(&buf)
                && best.as_ref().is_none_or(|(s, _)| seq > *s)
            {
                best = Some((seq, bytes.to_vec()));
            }
        }
        let seq = best.as_ref().map_or(0, |(s, _)| *s);
        Ok((ManifestFile { file, seq }, best.map(|(_, b)| b)))
    }

    /// Replaces the content with `bytes` (at most [`SLOT`] less 20 bytes), durably.
    pub fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        if bytes.len() + HEAD > SLOT {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "a manifest of {} bytes does not fit its {SLOT}-byte slot",
                    bytes.len()
                ),
            ));
        }
        let seq = self.seq + 1;
        let mut buf = Vec::with_capacity(HEAD + bytes.len());
        buf.extend_from_slice(&MAGIC.to_le_bytes());
        buf.extend_from_slice(&seq.to_le_bytes());
        buf.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
        let crc = crc32c::crc32c_append(crc32c::crc32c(&buf[4..16]), bytes);
        buf.extend_from_slice(&crc.to_le_bytes());
        buf.extend_from_slice(bytes);
        let slot = (seq % 2) as usize;
        self.file.write_all_at(&buf, (slot * SLOT) as u64)?;
        self.file.sync_data()?;
        self.seq = seq;
        Ok(())
    }
}

fn parse(slot: &[u8]) -> Option<(u64, &[u8])> {
    if u32::from_le_bytes(slot[0..4].try_into().ok()?) != MAGIC {
        return None;
    }
    let seq = u64::from_le_bytes(slot[4..12].try_into().ok()?);
    let len = u32::from_le_bytes(slot[12..16].try_into().ok()?) as usize;
    let crc = u32::from_le_bytes(slot[16..20].try_into().ok()?);
    let bytes = slot.get(HEAD..HEAD + len)?;
    (crc32c::crc32c_append(crc32c::crc32c(&slot[4..16]), bytes) == crc).then_some((seq, bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_newest_whole_slot_wins_and_a_torn_write_falls_back_one_step() {
        let dir = std::env::temp_dir().join(format!("sluice-manifest-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("MANIFEST");
        let (mut m, content) = ManifestFile::open(&path).unwrap();
        assert_eq!(content, None);
        m.write(b"one").unwrap();
        m.write(b"two").unwrap();
        m.write(b"three").unwrap();
        assert_eq!(
            ManifestFile::open(&path).unwrap().1.as_deref(),
            Some(&b"three"[..])
        );
        // Tear the newest write (seq 3 is in slot 1): the one before it is read.
        let f = OpenOptions::new().write(true).open(&path).unwrap();
        f.write_all_at(b"XX", (SLOT + HEAD) as u64).unwrap();
        let (mut m, content) = ManifestFile::open(&path).unwrap();
        assert_eq!(content.as_deref(), Some(&b"two"[..]));
        // Writing goes on from there, into the torn slot.
        m.write(b"four").unwrap();
        assert_eq!(
            ManifestFile::open(&path).unwrap().1.as_deref(),
            Some(&b"four"[..])
        );
        assert_eq!(std::fs::metadata(&path).unwrap().len(), (2 * SLOT) as u64);
        assert!(m.write(&vec![b'x'; SLOT]).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
