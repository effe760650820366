//! When a client is told its records are stored: the `ack` setting.
//!
//! | mode | a success answer means | what it does not promise |
//! |---|---|---|
//! | `clickhouse` | the INSERT holding every row of the request committed | a client that gives up before the answer and sends again may have its records stored twice (the first copy may still commit); while ClickHouse is away, requests are refused with retry information |
//! | `wal` | the request is in the shard's write-ahead log and fsynced (group commit); it is inserted later, after a crash too | the disk itself: a lost or corrupted data directory loses what it held (corrupt records are skipped and reported) |
//! | `memory` | the request was decoded into memory | anything across a crash or `kill -9`: what was not yet inserted is lost |
//!
//! The default is `wal` when `wal.dir` is set, else `clickhouse`.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AckMode {
    #[serde(rename = "clickhouse")]
    ClickHouse,
    Wal,
    Memory,
}

impl AckMode {
    pub fn name(self) -> &'static str {
        match self {
            AckMode::ClickHouse => "clickhouse",
            AckMode::Wal => "wal",
            AckMode::Memory => "memory",
        }
    }
}
