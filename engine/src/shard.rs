//! Shards: one OS thread each, one current-thread tokio runtime, its own listeners
//! (`SO_REUSEPORT`: the kernel spreads connections over the shards) and its own
//! batches. Shard state is `!Send` (`Rc`, `RefCell`): nothing on the request path is
//! shared between cores except the inserters' channels and the budgets' counters.
//!
//! # Request lifecycle
//!
//! A transport (`grpc`, `http`) reads the body, counting it against the shard's
//! [`Budget`] as it arrives, then calls [`Shard::ingest`]: admission (room in the
//! budget, and in the write-ahead log), decompress, decode straight into the shard's
//! batch, then answer per the ack mode ([`AckMode`]): after decoding (`memory`),
//! after the request is fsynced in the shard's log (`wal`), or after ClickHouse
//! committed its rows (`clickhouse`). Errors come back typed ([`IngestError`]); each
//! transport maps them to its status codes once.
//!
//! When the batch is full or old enough it is sealed: one chunk per table, handed to
//! the table's inserter in order (a table's chunks from one shard never overtake each
//! other, which the write-ahead log's recovery relies on).

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::net::TcpListener;
use tokio::sync::watch;
use wire::compress::{DecompressError, Encoding};
use wire::otlp::logs::LogsOptions;
use wire::proto::DecodeError;
use wire::tables::Table;

use crate::ack::AckMode;
use crate::admission::{Budget, Held};
use crate::batch::{BatchPolicy, PerTable, ShardBatches};
use crate::sink::inserter::ChunkSender;
use crate::sink::{Chunk, SinkError};
use crate::wal::DiskUse;
use crate::wal::shard_log::{Request, ShardLog, WalError};

/// How long a stopping shard, its requests answered, waits for clients to close
/// the connections it sent GOAWAY on before it closes them itself.
pub const CLOSE_GRACE: Duration = Duration::from_millis(200);

/// How long a client refused for overload is told to wait.
pub const RETRY_AFTER: Duration = Duration::from_secs(1);

/// What is shared by all shards, read-only.
#[derive(Debug)]
pub struct Shared {
    pub policy: BatchPolicy,
    pub logs: LogsOptions,
    pub ack: AckMode,
    pub max_request_bytes: usize,
    /// Bytes a shard may hold (see [`crate::admission`]).
    pub shard_budget: usize,
    /// How long a request waits for room before it is refused.
    pub admission_wait: Duration,
    /// How long a body may take to arrive once it is being read.
    pub body_timeout: Duration,
    /// How long a stopping shard waits for its connections to finish.
    pub shutdown_timeout: Duration,
    pub cors_origins: Vec<String>,
    /// The inserter of each table.
    pub sinks: PerTable<Option<ChunkSender>>,
    /// The write-ahead log's disk use (`ack = "wal"`).
    pub disk: Option<Arc<DiskUse>>,
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

impl Signal {
    pub const fn name(self) -> &'static str {
        match self {
            Signal::Logs => "logs",
            Signal::Traces => "traces",
            Signal::Metrics => "metrics",
        }
    }
}

/// Why a request was not stored.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("{0}")]
    Decode(#[from] DecodeError),
    #[error("invalid OTLP JSON: {0}")]
    Json(String),
    #[error("{0}")]
    Decompress(#[from] DecompressError),
    #[error(
        "sluice is overloaded: shard {shard} holds {used} of its {limit} bytes (ClickHouse is behind); retry in {}s",
        RETRY_AFTER.as_secs()
    )]
    Overloaded {
        shard: usize,
        used: usize,
        limit: usize,
    },
    #[error(
        "the write-ahead log is full ({used} of {limit} bytes, or the disk is full): ClickHouse is behind; retry in {}s",
        RETRY_AFTER.as_secs()
    )]
    WalFull { used: u64, limit: u64 },
    #[error("{0}")]
    Wal(#[from] WalError),
    #[error("{0}")]
    Sink(#[from] SinkError),
}

impl IngestError {
    /// Whether the client should send the request again later (with retry info).
    pub fn retryable(&self) -> bool {
        matches!(
            self,
            IngestError::Overloaded { .. }
                | IngestError::WalFull { .. }
                | IngestError::Wal(_)
                | IngestError::Sink(_)
        )
    }
}

/// One shard's state.
#[derive(Debug)]
pub struct Shard {
    pub id: usize,
    pub shared: Arc<Shared>,
    pub budget: Arc<Budget>,
    batches: RefCell<ShardBatches>,
    /// The batch's bytes in the budget.
    batch_held: RefCell<Option<Held>>,
    log: Option<ShardLog>,
    /// Per table, sealed chunks waiting for room in the inserter's channel, in order.
    waiting: RefCell<PerTable<VecDeque<Chunk>>>,
    flushing: Cell<bool>,
    /// Open connections and requests being served.
    pub connections: Cell<usize>,
    in_flight: Cell<usize>,
    /// Metrics that wrote no row (no data points, or a data kind sluice does not
    /// know): counted, not errors; reported when the shard stops.
    skipped_metrics: Cell<u64>,
    /// `sluice_received_rows_total` per table, looked up once.
    received_rows: PerTable<prometheus_client::metrics::counter::Counter>,
    refused: Cell<u64>,
    last_refusal_warning: Cell<Option<Instant>>,
}

/// A request's claim on the shard until it is answered ([`Shard::request`]).
#[derive(Debug)]
pub struct InFlight(Rc<Shard>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.set(self.0.in_flight.get() - 1);
    }
}

impl Shard {
    pub fn new(id: usize, shared: Arc<Shared>, log: Option<ShardLog>) -> Rc<Shard> {
        let budget = Budget::new(shared.shard_budget);
        let telemetry = crate::telemetry::get();
        telemetry.watch_budget(id as u32, Arc::clone(&budget));
        let mut received_rows = PerTable::default();
        for (table, counter) in received_rows.iter_mut() {
            *counter = telemetry
                .received_rows
                .get_or_create(&telemetry.table(table.default_name()))
                .clone();
        }
        Rc::new(Shard {
            id,
            budget,
            shared,
            batches: RefCell::new(ShardBatches::default()),
            batch_held: RefCell::new(None),
            log,
            waiting: RefCell::new(PerTable::default()),
            flushing: Cell::new(false),
            connections: Cell::new(0),
            in_flight: Cell::new(0),
            skipped_metrics: Cell::new(0),
            received_rows,
            refused: Cell::new(0),
            last_refusal_warning: Cell::new(None),
        })
    }

    /// Counts a request as in progress until the guard is dropped (a stopping shard
    /// waits for them).
    pub fn request(self: &Rc<Self>) -> InFlight {
        self.in_flight.set(self.in_flight.get() + 1);
        InFlight(Rc::clone(self))
    }

    /// Waits briefly for room in the budget and the log; refuses with retry
    /// information when there is none.
    pub async fn admit(&self) -> Result<(), IngestError> {
        self.admit_besides(0).await
    }

    /// [`admit`](Self::admit) for a request being read, which holds `own` bytes
    /// already: it waits only while the others fill the budget.
    pub async fn admit_besides(&self, own: usize) -> Result<(), IngestError> {
        let wait = self.shared.admission_wait;
        if let Err(full) = self.budget.wait_for_room_besides(own, wait).await {
            return Err(self.refuse(IngestError::Overloaded {
                shard: self.id,
                used: full.used,
                limit: full.limit,
            }));
        }
        if let Some(disk) = &self.shared.disk
            && !disk.has_room()
        {
            return Err(self.refuse(IngestError::WalFull {
                used: disk.used(),
                limit: disk.limit(),
            }));
        }
        Ok(())
    }

    /// Counts a refusal and says so in the log, at most every few seconds.
    fn refuse(&self, e: IngestError) -> IngestError {
        self.refused.set(self.refused.get() + 1);
        let reason = match e {
            IngestError::WalFull { .. } => "wal_full",
            _ => "overloaded",
        };
        crate::telemetry::get()
            .admission_refusals
            .get_or_create(&crate::telemetry::ReasonLabel { reason })
            .inc();
        let now = Instant::now();
        if self
            .last_refusal_warning
            .get()
            .is_none_or(|t| now.duration_since(t) >= Duration::from_secs(5))
        {
            self.last_refusal_warning.set(Some(now));
            crate::log::warn(format_args!(
                "shard {}: refusing requests ({} so far): {e}",
                self.id,
                self.refused.get()
            ));
        }
        e
    }

    /// Decodes a request into the shard's batch and answers per the ack mode.
    /// `body` is as received (compressed with `encoding`); `held` is its bytes in
    /// the budget, given back when the request is done.
    pub async fn ingest(
        self: &Rc<Self>,
        signal: Signal,
        format: Format,
        encoding: Encoding,
        body: Bytes,
        held: Held,
    ) -> Result<(), IngestError> {
        // Admitted by the transport, before it read the body.
        let mut decompressed = Vec::new();
        let bytes: &[u8] = if encoding == Encoding::Identity {
            &body
        } else {
            wire::compress::decompress(
                encoding,
                &body,
                self.shared.max_request_bytes,
                &mut decompressed,
            )?;
            &decompressed
        };
        let _decompressed = self.budget.hold(decompressed.capacity());
        enum Wait {
            Nothing,
            Commit(crate::batch::Waits),
            Logged(tokio::sync::oneshot::Receiver<Result<(), WalError>>),
        }
        let (wait, due) = {
            let mut b = self.batches.borrow_mut();
            let added = b.decode(signal, format, bytes, &self.shared.logs)?;
            for &(table, n) in &added.rows {
                self.received_rows[table].inc_by(n as u64);
            }
            if added.skipped_metrics > 0 {
                self.skipped_metrics
                    .set(self.skipped_metrics.get() + added.skipped_metrics as u64);
            }
            let mut held_batch = self.batch_held.borrow_mut();
            match held_batch.as_mut() {
                Some(h) => h.resize(b.byte_len()),
                None => *held_batch = Some(self.budget.hold(b.byte_len())),
            }
            let wrote = added.rows.iter().any(|&(_, n)| n > 0);
            let wait = match (self.shared.ack, &self.log) {
                _ if !wrote => Wait::Nothing,
                (AckMode::ClickHouse, _) => Wait::Commit(b.wait_for_commit(&added)),
                (AckMode::Wal, Some(log)) => Wait::Logged(log.append(Request {
                    signal,
                    format,
                    encoding,
                    body: body.clone(),
                })),
                _ => Wait::Nothing,
            };
            (wait, b.due(&self.shared.policy, Instant::now()))
        };
        drop(held);
        if due {
            self.seal();
        }
        match wait {
            Wait::Nothing => Ok(()),
            Wait::Commit(waits) => {
                for w in waits {
                    w.await.map_err(|_| SinkError::Closed)??;
                }
                Ok(())
            }
            Wait::Logged(rx) => rx
                .await
                .map_err(|_| WalError("the log writer has stopped".into()))?
                .map_err(IngestError::from),
        }
    }

    /// Seals the batch (if it holds anything) and hands its chunks to the inserters.
    pub fn seal(self: &Rc<Self>) {
        let sealed = {
            let mut b = self.batches.borrow_mut();
            if b.rows() == 0 {
                return;
            }
            b.seal(&self.shared.policy)
        };
        self.batch_held.borrow_mut().take();
        let range = self.log.as_ref().and_then(|l| l.seal(sealed.len()));
        for (table, mut chunk) in sealed {
            chunk.held = Some(self.budget.hold(chunk.body.len()));
            if let (Some(log), Some(range)) = (&self.log, range) {
                chunk.origin = Some(log.origin(range));
            }
            self.hand_over(table, chunk);
        }
    }

    /// Gives a chunk to its table's inserter now if it may (its channel has room and
    /// no older chunk of the table waits); else queues it behind them.
    fn hand_over(self: &Rc<Self>, table: Table, chunk: Chunk) {
        use tokio::sync::mpsc::error::TrySendError;
        let mut waiting = self.waiting.borrow_mut();
        if waiting[table].is_empty() {
            match &self.shared.sinks[table] {
                Some(sink) => match sink.try_send(chunk) {
                    Ok(()) => return,
                    Err(TrySendError::Full(chunk)) => waiting[table].push_back(chunk),
                    Err(TrySendError::Closed(chunk)) => closed(chunk),
                },
                None => closed(chunk),
            }
        } else {
            waiting[table].push_back(chunk);
        }
        drop(waiting);
        if !self.flushing.get() {
            self.flushing.set(true);
            let shard = Rc::clone(self);
            tokio::task::spawn_local(async move {
                shard.flush().await;
                shard.flushing.set(false);
            });
        }
    }

    /// Sends the waiting chunks, oldest first per table, as the channels make room.
    async fn flush(&self) {
        loop {
            let next = {
                let mut waiting = self.waiting.borrow_mut();
                waiting
                    .iter_mut()
                    .find_map(|(t, q)| q.pop_front().map(|c| (t, c)))
            };
            let Some((table, chunk)) = next else {
                return;
            };
            let sent = match &self.shared.sinks[table] {
                Some(sink) => sink.send(chunk).await.map_err(|e| e.0),
                None => Err(chunk),
            };
            if let Err(chunk) = sent {
                closed(chunk);
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
    }

    /// Whether chunks still wait to be handed over.
    fn flushed(&self) -> bool {
        !self.flushing.get()
    }
}

/// A chunk whose inserter is gone (shutting down): its requests hear so.
fn closed(chunk: Chunk) {
    for ack in chunk.acks {
        let _ = ack.send(Err(SinkError::Closed));
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

/// Runs one shard until `stop` turns true; then stops gracefully: the listeners
/// close, every connection is asked to finish (HTTP/2 GOAWAY, HTTP/1.1 `Connection:
/// close`), in-flight requests are answered (up to `shutdown_timeout`), the last
/// batch is sealed and handed to the inserters.
pub fn run(
    shard_id: usize,
    shared: Arc<Shared>,
    log: Option<ShardLog>,
    listeners: Listeners,
    stop: watch::Receiver<bool>,
) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread runtime starts");
    let local = tokio::task::LocalSet::new();
    local.block_on(&rt, async move {
        let shard = Shard::new(shard_id, shared, log);
        let grpc = TcpListener::from_std(listeners.grpc).expect("a non-blocking listener");
        let http = TcpListener::from_std(listeners.http).expect("a non-blocking listener");
        let timer = tokio::task::spawn_local(Rc::clone(&shard).age_timer(stop.clone()));
        let accept_grpc = accept_loop(grpc, stop.clone(), {
            let (shard, stop) = (Rc::clone(&shard), stop.clone());
            move |stream| crate::grpc::serve(Rc::clone(&shard), stream, stop.clone())
        });
        let accept_http = accept_loop(http, stop.clone(), {
            let (shard, stop) = (Rc::clone(&shard), stop.clone());
            move |stream| crate::http::serve(Rc::clone(&shard), stream, stop.clone())
        });
        tokio::join!(accept_grpc, accept_http);
        // Stopping: the connections were told to go; wait for the requests in progress
        // (answered as usual, so batches keep sealing by age meanwhile), then briefly
        // for the clients to close their connections.
        let deadline = Instant::now() + shard.shared.shutdown_timeout;
        let mut idle_since: Option<Instant> = None;
        while Instant::now() < deadline {
            if shard.in_flight.get() == 0 {
                let idle = *idle_since.get_or_insert_with(Instant::now);
                if shard.connections.get() == 0 || idle.elapsed() >= CLOSE_GRACE {
                    break;
                }
            } else {
                idle_since = None;
            }
            let due = shard.batches.borrow().due(&shard.shared.policy, Instant::now());
            if due {
                shard.seal();
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let _ = timer.await;
        shard.seal();
        while !shard.flushed() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let skipped = shard.skipped_metrics.get();
        if skipped > 0 {
            crate::log::info(format_args!(
                "shard {shard_id}: skipped {skipped} metrics without data points or with an unknown data kind"
            ));
        }
        if shard.in_flight.get() > 0 {
            crate::log::warn(format_args!(
                "shard {shard_id}: {} requests still in progress after the shutdown timeout; closing their connections",
                shard.in_flight.get()
            ));
        }
    });
}

/// A connection's claim on its shard: counted while it is served.
#[derive(Debug)]
pub struct Connection(Rc<Shard>);

impl Connection {
    pub fn new(shard: &Rc<Shard>) -> Connection {
        shard.connections.set(shard.connections.get() + 1);
        Connection(Rc::clone(shard))
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.0.connections.set(self.0.connections.get() - 1);
    }
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
