//! Where sealed batches go: ClickHouse.
//!
//! | module | what |
//! |---|---|
//! | [`inserter`] | one inserter per table: takes the shards' chunks, coalesces them into one INSERT per interval, retries, answers |
//! | [`deliver`] | one INSERT from first attempt to outcome: retries, and the rows ClickHouse refuses found by bisection |
//! | [`clickhouse`] | one INSERT over ClickHouse's HTTP interface, its answer parsed |
//! | [`error`] | what a failed INSERT means: transient, structural or data ([`error::Class`]) |
//! | [`retry`] | capped, jittered exponential backoff |
//! | [`deadletter`] | where rows ClickHouse refuses as data are kept |

pub mod clickhouse;
pub mod deadletter;
pub mod deliver;
pub mod error;
pub mod inserter;
pub mod retry;

use bytes::Bytes;
use tokio::sync::oneshot;

use crate::admission::Held;

/// What a request waiting for the commit (`ack = "clickhouse"`) is told.
pub type Ack = oneshot::Sender<Result<(), SinkError>>;

/// A sealed, encoded, compressed piece of one table's batch, from one shard.
#[derive(Debug)]
pub struct Chunk {
    /// RowBinary, in ClickHouse's compressed-block format when the sink compresses.
    pub body: Bytes,
    pub rows: usize,
    /// The requests waiting for these rows to commit (`ack = "clickhouse"` only).
    pub acks: Vec<Ack>,
    /// The bytes this chunk counts against its shard's budget, until it is dropped.
    pub held: Option<Held>,
    /// Which records of a shard's write-ahead log the chunk holds (`ack = "wal"`).
    pub origin: Option<crate::wal::Origin>,
}

/// Why a request's rows were not stored.
#[derive(Clone, Debug, thiserror::Error)]
pub enum SinkError {
    #[error("the insert into {table} failed: {cause}")]
    Failed {
        table: String,
        cause: error::InsertError,
    },
    #[error("sluice is shutting down")]
    Closed,
}
