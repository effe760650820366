//! A shard's batches: records wait here, in columns, until they are sealed.
//!
//! # Lifecycle
//!
//! Requests decode straight into the shard's batch of their signal and leave an
//! [`Ack`] per table they wrote to. When the shard's batches are full (rows or bytes)
//! or old enough, the shard [`seal`](ShardBatches::seal)s them: each table's rows are
//! encoded to RowBinary and compressed here, on the shard's core, and leave as one
//! [`Chunk`] per table with the acks of the requests whose rows it holds. The column
//! buffers are cleared and keep their capacity for the next batch.

use std::ops::{Index, IndexMut};
use std::time::Instant;

use bytes::Bytes;
use tokio::sync::oneshot;
use wire::columns::logs::LogsBatch;
use wire::columns::metrics::MetricsBatch;
use wire::columns::traces::TracesBatch;
use wire::compress::BlockCodec;
use wire::otlp::logs::LogsOptions;
use wire::rowbinary::logs::{LogColumn, encode_logs};
use wire::rowbinary::metrics::MetricColumn;
use wire::rowbinary::traces::{TraceColumn, encode_traces};
use wire::tables::Table;

use crate::shard::{Format, IngestError, Signal};
use crate::sink::{Ack, Chunk, SinkError};

/// One value per ClickHouse table sluice writes.
#[derive(Clone, Debug)]
pub struct PerTable<T>([T; Table::COUNT]);

impl<T: Default> Default for PerTable<T> {
    fn default() -> Self {
        PerTable(std::array::from_fn(|_| T::default()))
    }
}

impl<T> Index<Table> for PerTable<T> {
    type Output = T;
    fn index(&self, t: Table) -> &T {
        &self.0[t.index()]
    }
}

impl<T> PerTable<T> {
    /// Every table's value, with the table.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (Table, &mut T)> {
        self.0
            .iter_mut()
            .enumerate()
            .map(|(i, v)| (Table::ALL[i], v))
    }
}

impl<T> IndexMut<Table> for PerTable<T> {
    fn index_mut(&mut self, t: Table) -> &mut T {
        &mut self.0[t.index()]
    }
}

/// How a shard seals and encodes.
#[derive(Clone, Debug)]
pub struct BatchPolicy {
    pub max_rows: usize,
    pub max_bytes: usize,
    pub max_age: std::time::Duration,
    /// Columns of the `otel_logs` INSERT, from the table.
    pub logs_columns: Vec<LogColumn>,
    /// Columns of the `hyperdx_sessions` INSERT.
    pub sessions_columns: Vec<LogColumn>,
    /// Columns of the `otel_traces` INSERT.
    pub traces_columns: Vec<TraceColumn>,
    /// Columns of each metric table's INSERT (in the order of
    /// [`wire::rowbinary::metrics::TABLES`]).
    pub metrics_columns: [Vec<MetricColumn>; 5],
    pub codec: Option<BlockCodec>,
}

/// The batches of one shard and the requests waiting on them.
#[derive(Debug, Default)]
pub struct ShardBatches {
    pub logs: LogsBatch,
    pub traces: TracesBatch,
    pub metrics: MetricsBatch,
    acks: PerTable<Vec<Ack>>,
    /// RowBinary of the table being sealed, reused seal after seal (it would grow
    /// from nothing each time otherwise: a tenth of a shard's time went to growing
    /// and copying it).
    rowbinary: Vec<u8>,
    /// When the oldest record now in the batches arrived.
    oldest: Option<Instant>,
}

/// What a request waits for: one receiver per table it wrote to.
pub type Waits = Vec<oneshot::Receiver<Result<(), SinkError>>>;

/// The rows a request added to each table it wrote to.
#[derive(Debug, Default)]
pub struct Added {
    pub rows: Vec<(Table, usize)>,
    /// Metrics that wrote no row (no data points, or a data kind sluice does not know).
    pub skipped_metrics: usize,
}

impl ShardBatches {
    /// Decodes one request into the batch of its signal; on failure the batch is left
    /// as it was. The one decode path of live requests and of write-ahead log replay.
    pub fn decode(
        &mut self,
        signal: Signal,
        format: Format,
        body: &[u8],
        logs: &LogsOptions,
    ) -> Result<Added, IngestError> {
        let json = |e: wire::otlp::json::JsonError| IngestError::Json(e.to_string());
        let added = match signal {
            Signal::Logs => {
                let n = match format {
                    Format::Protobuf => wire::otlp::logs::decode_logs(body, &mut self.logs, logs)?,
                    Format::Json => wire::otlp::json::decode_logs_json(body, &mut self.logs, logs)
                        .map_err(json)?,
                };
                Added {
                    rows: vec![(Table::Logs, n.logs), (Table::Sessions, n.sessions)],
                    skipped_metrics: 0,
                }
            }
            Signal::Traces => {
                let n = match format {
                    Format::Protobuf => wire::otlp::traces::decode_traces(body, &mut self.traces)?,
                    Format::Json => wire::otlp::json::decode_traces_json(body, &mut self.traces)
                        .map_err(json)?,
                };
                Added {
                    rows: vec![(Table::Traces, n.spans)],
                    skipped_metrics: 0,
                }
            }
            Signal::Metrics => {
                let n = match format {
                    Format::Protobuf => {
                        wire::otlp::metrics::decode_metrics(body, &mut self.metrics)?
                    }
                    Format::Json => wire::otlp::json::decode_metrics_json(body, &mut self.metrics)
                        .map_err(json)?,
                };
                let tables = wire::rowbinary::metrics::TABLES;
                Added {
                    rows: (0..tables.len())
                        .map(|t| (tables[t], n.points[t]))
                        .collect(),
                    skipped_metrics: n.skipped,
                }
            }
        };
        if added.rows.iter().any(|&(_, n)| n > 0) {
            self.oldest.get_or_insert_with(Instant::now);
        }
        Ok(added)
    }

    /// Registers a request waiting for the commit of the rows it added.
    pub fn wait_for_commit(&mut self, added: &Added) -> Waits {
        let mut waits = Vec::new();
        for &(table, n) in &added.rows {
            if n > 0 {
                let (tx, rx) = oneshot::channel();
                self.acks[table].push(tx);
                waits.push(rx);
            }
        }
        waits
    }

    /// Approximate bytes held by the batch's columns.
    pub fn byte_len(&self) -> usize {
        self.logs.byte_len() + self.traces.byte_len() + self.metrics.byte_len()
    }

    /// Records waiting, all signals.
    pub fn rows(&self) -> usize {
        self.logs.rows() + self.traces.rows() + self.metrics.rows()
    }

    /// Whether the batches must be sealed now (size), or at `now` (age).
    pub fn due(&self, policy: &BatchPolicy, now: Instant) -> bool {
        self.rows() >= policy.max_rows
            || self.byte_len() >= policy.max_bytes
            || self
                .oldest
                .is_some_and(|t| now.duration_since(t) >= policy.max_age)
    }

    /// Encodes and empties the batches: one chunk per table that has rows.
    pub fn seal(&mut self, policy: &BatchPolicy) -> Vec<(Table, Chunk)> {
        let mut sealed = Vec::new();
        let out = &mut self.rowbinary;
        let b = &self.logs;
        for (table, rows, columns) in [
            (Table::Logs, &b.logs, &policy.logs_columns),
            (Table::Sessions, &b.sessions, &policy.sessions_columns),
        ] {
            if !rows.is_empty() {
                out.clear();
                encode_logs(rows, &b.resources, &b.scopes, columns, 0..rows.len(), out);
                let acks = &mut self.acks[table];
                sealed.push((table, chunk(out, rows.len(), policy.codec, acks)));
            }
        }
        let spans = self.traces.rows();
        if spans > 0 {
            out.clear();
            encode_traces(&self.traces, &policy.traces_columns, 0..spans, out);
            let acks = &mut self.acks[Table::Traces];
            sealed.push((Table::Traces, chunk(out, spans, policy.codec, acks)));
        }
        let points = self.metrics.points();
        for (t, &table) in wire::rowbinary::metrics::TABLES.iter().enumerate() {
            if points[t] > 0 {
                out.clear();
                let columns = &policy.metrics_columns[t];
                wire::rowbinary::metrics::encode_table(&self.metrics, table, columns, out);
                let acks = &mut self.acks[table];
                sealed.push((table, chunk(out, points[t], policy.codec, acks)));
            }
        }
        self.logs.clear();
        self.traces.clear();
        self.metrics.clear();
        self.oldest = None;
        sealed
    }
}

/// Compresses a table's RowBinary into a chunk and takes the acks of the requests in
/// it. Uncompressed, the chunk takes the buffer and leaves one of the same capacity.
fn chunk(
    rowbinary: &mut Vec<u8>,
    rows: usize,
    codec: Option<BlockCodec>,
    acks: &mut Vec<Ack>,
) -> Chunk {
    let body = match codec {
        Some(codec) => {
            // Room for incompressible input, so the output never grows (and copies);
            // only the pages written are touched.
            let mut out = Vec::with_capacity(rowbinary.len() + rowbinary.len() / 64 + 64);
            wire::compress::compress_blocks(codec, rowbinary, &mut out);
            out
        }
        None => std::mem::replace(rowbinary, Vec::with_capacity(rowbinary.capacity())),
    };
    Chunk {
        body: Bytes::from(body),
        rows,
        acks: std::mem::take(acks),
        held: None,
        origin: None,
    }
}
