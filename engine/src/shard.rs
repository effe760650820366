//! Shards: one OS thread each, one current-thread tokio runtime, its own listeners
//! (`SO_REUSEPORT`: the kernel spreads connections over the shards) and its own
//! batches. Shard state is `!Send` (`Rc`, `RefCell`): nothing on the request path is
//! shared between cores except the inserters' channels.
//!
//! # Request lifecycle
//!
//! A transport (`grpc`, `http`) reads and decompresses the body, then calls
//! [`Shard::ingest`]: admission, decode straight into the shard's batch, seal when
//! full, and wait until ClickHouse has committed the request's rows. Errors come back
//! typed ([`IngestError`]); each transport maps them to its status codes once.

use std::cell::{Cell, RefCell};
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::net::TcpListener;
use tokio::sync::watch;
use wire::otlp::logs::LogsOptions;
use wire::proto::DecodeError;

use crate::batch::{BatchPolicy, PerTable, ShardBatches};
use crate::sink::clickhouse::{Chunk, ChunkSender, SinkError};
use wire::tables::Table;

/// Sealed batches a shard may have waiting for room in an inserter's channel (which
/// holds `CHANNEL_CHUNKS` chunks already); past this it refuses new requests with
/// retry information (backpressure, never unbounded memory).
pub const MAX_SEALED_IN_FLIGHT: usize = 4;

/// How long a client refused for overload is told to wait.
pub const RETRY_AFTER: Duration = Duration::from_secs(1);

/// What is shared by all shards, read-only.
#[derive(Debug)]
pub struct Shared {
    pub policy: BatchPolicy,
    pub logs: LogsOptions,
    pub max_request_bytes: usize,
    pub cors_origins: Vec<String>,
    /// The inserter of each table.
    pub sinks: PerTable<Option<ChunkSender>>,
}

/// The body encodings OTLP allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Protobuf,
    Json,
}

/// The OTLP signals.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signal {
    Logs,
    Traces,
    Metrics,
}

/// Why a request was not stored.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("{0}")]
    Decode(#[from] DecodeError),
    #[error("invalid OTLP JSON: {0}")]
    Json(String),
    #[error("sluice is overloaded; retry in {}s", .retry_after.as_secs())]
    Overloaded { retry_after: Duration },
    #[error("{0}")]
    Sink(#[from] SinkError),
}

/// One shard's state.
#[derive(Debug)]
pub struct Shard {
    pub id: usize,
    pub shared: Arc<Shared>,
    batches: RefCell<ShardBatches>,
    sealed_in_flight: Cell<usize>,
    /// Metrics that wrote no row (no data points, or a data kind sluice does not
    /// know): counted, not errors; reported when the shard stops.
    skipped_metrics: Cell<u64>,
}

impl Shard {
    pub fn new(id: usize, shared: Arc<Shared>) -> Rc<Shard> {
        Rc::new(Shard {
            id,
            shared,
            batches: RefCell::new(ShardBatches::default()),
            sealed_in_flight: Cell::new(0),
            skipped_metrics: Cell::new(0),
        })
    }

    /// Decodes a request into the shard's batch and waits until its rows are stored.
    pub async fn ingest(
        self: &Rc<Self>,
        signal: Signal,
        format: Format,
        body: &[u8],
    ) -> Result<(), IngestError> {
        if self.sealed_in_flight.get() >= MAX_SEALED_IN_FLIGHT {
            return Err(IngestError::Overloaded {
                retry_after: RETRY_AFTER,
            });
        }
        let (waits, full) = {
            let mut b = self.batches.borrow_mut();
            // Decode into the signal's batch; wait on each table that got rows.
            let waits = match signal {
                Signal::Logs => {
                    let opts = &self.shared.logs;
                    let n = match format {
                        Format::Protobuf => wire::otlp::logs::decode_logs(body, &mut b.logs, opts)?,
                        Format::Json => wire::otlp::json::decode_logs_json(body, &mut b.logs, opts)
                            .map_err(|e| IngestError::Json(e.to_string()))?,
                    };
                    b.added(&[(Table::Logs, n.logs), (Table::Sessions, n.sessions)])
                }
                Signal::Traces => {
                    let n = match format {
                        Format::Protobuf => wire::otlp::traces::decode_traces(body, &mut b.traces)?,
                        Format::Json => wire::otlp::json::decode_traces_json(body, &mut b.traces)
                            .map_err(|e| IngestError::Json(e.to_string()))?,
                    };
                    b.added(&[(Table::Traces, n.spans)])
                }
                Signal::Metrics => {
                    let n = match format {
                        Format::Protobuf => {
                            wire::otlp::metrics::decode_metrics(body, &mut b.metrics)?
                        }
                        Format::Json => wire::otlp::json::decode_metrics_json(body, &mut b.metrics)
                            .map_err(|e| IngestError::Json(e.to_string()))?,
                    };
                    if n.skipped > 0 {
                        self.skipped_metrics
                            .set(self.skipped_metrics.get() + n.skipped as u64);
                    }
                    let tables = wire::rowbinary::metrics::TABLES;
                    let rows: [(Table, usize); 5] =
                        std::array::from_fn(|t| (tables[t], n.points[t]));
                    b.added(&rows)
                }
            };
            (waits, b.due(&self.shared.policy, Instant::now()))
        };
        if full {
            self.seal();
        }
        for w in waits {
            w.await.map_err(|_| SinkError::Closed)??;
        }
        Ok(())
    }

    /// Seals the batch (if it holds anything) and sends it to the inserters.
    pub fn seal(self: &Rc<Self>) {
        let sealed = {
            let mut b = self.batches.borrow_mut();
            if b.rows() == 0 {
                return;
            }
            b.seal(&self.shared.policy)
        };
        // Hand the chunks over now where the inserters' channels have room; only
        // what must wait for room goes to a task (which queues behind the shard's
        // connections, so it is the slow path and counts as in flight).
        let waiting: Vec<(Table, Chunk)> = sealed
            .into_iter()
            .filter_map(|(table, chunk)| self.try_send(table, chunk).map(|c| (table, c)))
            .collect();
        if waiting.is_empty() {
            return;
        }
        self.sealed_in_flight.set(self.sealed_in_flight.get() + 1);
        let shard = Rc::clone(self);
        tokio::task::spawn_local(async move {
            shard.send(waiting).await;
            shard.sealed_in_flight.set(shard.sealed_in_flight.get() - 1);
        });
    }

    /// Hands a chunk to its table's inserter if its channel has room; gives it back
    /// when the channel is full. A chunk whose inserter is gone has its requests told.
    fn try_send(&self, table: Table, chunk: Chunk) -> Option<Chunk> {
        use tokio::sync::mpsc::error::TrySendError;
        let closed = match &self.shared.sinks[table] {
            Some(sink) => match sink.try_send(chunk) {
                Ok(()) => return None,
                Err(TrySendError::Full(chunk)) => return Some(chunk),
                Err(TrySendError::Closed(chunk)) => chunk,
            },
            None => chunk,
        };
        for ack in closed.acks {
            let _ = ack.send(Err(SinkError::Closed));
        }
        None
    }

    async fn send(&self, sealed: Vec<(Table, Chunk)>) {
        for (table, chunk) in sealed {
            let sent = match &self.shared.sinks[table] {
                Some(sink) => sink.send(chunk).await.map_err(|e| e.0),
                None => Err(chunk),
            };
            // The inserter is gone (shutting down): the requests hear so.
            if let Err(chunk) = sent {
                for ack in chunk.acks {
                    let _ = ack.send(Err(SinkError::Closed));
                }
            }
        }
    }

    /// Seals by age; runs for the shard's life.
    async fn age_timer(self: Rc<Self>, mut stop: watch::Receiver<bool>) {
        let tick = (self.shared.policy.max_age / 4).max(Duration::from_millis(5));
        loop {
            tokio::select! {
                _ = tokio::time::sleep(tick) => {}
                _ = stop.changed() => break,
            }
            let due = self
                .batches
                .borrow()
                .due(&self.shared.policy, Instant::now());
            if due {
                self.seal();
            }
        }
        self.seal();
    }

    /// Sealed batches not yet handed to an inserter.
    pub fn sealed_in_flight(&self) -> usize {
        self.sealed_in_flight.get()
    }
}

/// A listener on `addr` that other shards can bind too (`SO_REUSEPORT`).
pub fn reuseport_listener(addr: SocketAddr) -> std::io::Result<std::net::TcpListener> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    socket.set_reuse_port(true)?;
    socket.set_tcp_nodelay(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    // The kernel's default backlog cap (net.core.somaxconn) limits this further.
    socket.listen(4096)?;
    Ok(socket.into())
}

/// The listeners a shard serves.
#[derive(Debug)]
pub struct Listeners {
    pub grpc: std::net::TcpListener,
    pub http: std::net::TcpListener,
}

/// Runs one shard until `stop` turns true; then seals and waits for its last batch
/// to reach the inserters.
pub fn run(
    shard_id: usize,
    shared: Arc<Shared>,
    listeners: Listeners,
    stop: watch::Receiver<bool>,
) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread runtime starts");
    let local = tokio::task::LocalSet::new();
    local.block_on(&rt, async move {
        let shard = Shard::new(shard_id, shared);
        let grpc = TcpListener::from_std(listeners.grpc).expect("a non-blocking listener");
        let http = TcpListener::from_std(listeners.http).expect("a non-blocking listener");
        tokio::task::spawn_local(Rc::clone(&shard).age_timer(stop.clone()));
        let accept_grpc = accept_loop(grpc, stop.clone(), {
            let shard = Rc::clone(&shard);
            move |stream| crate::grpc::serve(Rc::clone(&shard), stream)
        });
        let accept_http = accept_loop(http, stop.clone(), {
            let shard = Rc::clone(&shard);
            move |stream| crate::http::serve(Rc::clone(&shard), stream)
        });
        tokio::join!(accept_grpc, accept_http);
        // Stopped: the age timer sealed the last batch; wait until it is handed over.
        while shard.sealed_in_flight() > 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let skipped = shard.skipped_metrics.get();
        if skipped > 0 {
            crate::log::info(format_args!(
                "shard {shard_id}: skipped {skipped} metrics without data points or with an unknown data kind"
            ));
        }
    });
}

async fn accept_loop<F, Fut>(listener: TcpListener, mut stop: watch::Receiver<bool>, serve: F)
where
    F: Fn(tokio::net::TcpStream) -> Fut,
    Fut: std::future::Future<Output = ()> + 'static,
{
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let _ = stream.set_nodelay(true);
                    tokio::task::spawn_local(serve(stream));
                }
                // Out of file descriptors and the like: back off, keep serving.
                Err(e) => {
                    crate::log::warn(format_args!("accept failed: {e}"));
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            _ = stop.changed() => break,
        }
    }
}
