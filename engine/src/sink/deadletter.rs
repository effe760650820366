//! Rows ClickHouse refused as data: kept in files, counted, never dropped silently.
//!
//! For every range of rows ClickHouse refused (the sink isolates them first, see
//! [`super::deliver`]) the directory gets `<table>-<token>.rowbinary`, the rows as
//! they were sent (ClickHouse's compressed blocks when `compressed`, which an INSERT
//! with `decompress=1` reads), and a line in `dead-letter.jsonl` saying what it is:
//! time, table, statement, rows, compression, token and ClickHouse's error. After
//! fixing the cause, an operator re-inserts a file with the line's statement.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;

use super::error::InsertError;

/// The dead-letter directory and its counter.
#[derive(Debug)]
pub struct DeadLetter {
    dir: PathBuf,
    rows: AtomicU64,
    /// Serialises appends to the index from several inserter threads.
    index: Mutex<()>,
}

impl DeadLetter {
    pub fn new(dir: PathBuf) -> DeadLetter {
        DeadLetter {
            dir,
            rows: AtomicU64::new(0),
            index: Mutex::new(()),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Rows dead-lettered since start.
    pub fn rows(&self) -> u64 {
        self.rows.load(Ordering::Relaxed)
    }

    /// Keeps a refused INSERT; the file's path.
    #[allow(clippy::too_many_arguments)]
    pub fn write(
        &self,
        table: &str,
        statement: &str,
        token: &str,
        error: &InsertError,
        parts: &[Bytes],
        rows: usize,
        compressed: bool,
    ) -> std::io::Result<PathBuf> {
        std::fs::create_dir_all(&self.dir)?;
        let path = self.dir.join(format!("{table}-{token}.rowbinary"));
        let mut f = std::fs::File::create(&path)?;
        for p in parts {
            f.write_all(p)?;
        }
        f.sync_data()?;
        let line = serde_json::json!({
            "time": crate::log::now_rfc3339(),
            "table": table,
            "file": path.file_name().map(|n| n.to_string_lossy().into_owned()),
            "statement": statement,
            "rows": rows,
            "compressed": compressed,
            "token": token,
            "code": error.code,
            "error": error.message,
        });
        let _guard = self.index.lock().unwrap_or_else(|p| p.into_inner());
        let mut index = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("dead-letter.jsonl"))?;
        writeln!(index, "{line}")?;
        index.sync_data()?;
        self.rows.fetch_add(rows as u64, Ordering::Relaxed);
        Ok(path)
    }
}
