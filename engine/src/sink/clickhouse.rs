//! The ClickHouse sink: one inserter per table, fed by every shard.
//!
//! # Request lifecycle
//!
//! 1. A shard seals its batch of a table, encodes it to RowBinary and compresses it
//!    (CPU work stays on the shards), and sends the [`Chunk`] to the table's inserter
//!    over a bounded channel, with the acknowledgements of the requests it holds.
//! 2. The inserter takes the first chunk, then every chunk that arrives until one
//!    flush interval has passed since its last INSERT began (or until the INSERT is
//!    big enough), so ClickHouse sees at most one INSERT per table per interval
//!    whatever the number of shards, and a chunk reaching an idle inserter is sent
//!    at once with whatever else is queued.
//! 3. It POSTs `INSERT INTO db.table (columns) FORMAT RowBinary` with the chunks as
//!    the body (ClickHouse's compressed blocks concatenate) and a deterministic
//!    `insert_deduplication_token`, then answers every acknowledgement: committed, or
//!    the error. Nothing is acknowledged before ClickHouse has committed the rows.
//!
//! # Invariants
//!
//! - A request is answered success only after the INSERT holding all its rows returned
//!   200 with no exception (`ack = "clickhouse"`).
//! - A failed INSERT fails every request in it; clients retry (they got UNAVAILABLE /
//!   503 with retry information). The write-ahead log and sink-side retries come later.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use tokio::sync::{mpsc, oneshot};

use crate::clickhouse::Endpoint;

/// Chunks that may wait for an inserter before shards feel backpressure.
pub const CHANNEL_CHUNKS: usize = 64;

/// An INSERT stops taking chunks past this many bytes (compressed) and is sent.
pub const MAX_INSERT_BYTES: usize = 256 << 20;

/// What a request is told once its rows are stored (or not).
pub type Ack = oneshot::Sender<Result<(), SinkError>>;

/// A sealed, encoded, compressed piece of one table's batch.
#[derive(Debug)]
pub struct Chunk {
    /// RowBinary, in ClickHouse's compressed-block format when the sink compresses.
    pub body: Vec<u8>,
    pub rows: usize,
    /// The requests whose rows are in this chunk.
    pub acks: Vec<Ack>,
}

/// Why an INSERT did not commit.
#[derive(Clone, Debug, thiserror::Error)]
pub enum SinkError {
    #[error("ClickHouse is unreachable: {0}")]
    Network(String),
    #[error("ClickHouse refused the insert into {table}: {message}")]
    Refused {
        table: String,
        /// `X-ClickHouse-Exception-Code`, when ClickHouse sent one.
        code: Option<u32>,
        message: String,
    },
    #[error("the insert into {0} timed out")]
    Timeout(String),
    #[error("sluice is shutting down")]
    Closed,
}

/// How one table's inserter writes.
#[derive(Clone, Debug)]
pub struct InsertTarget {
    pub endpoint: Endpoint,
    pub database: String,
    pub table: String,
    /// The INSERT's column list (stored columns sluice writes, from `DESCRIBE TABLE`).
    pub columns: Vec<&'static str>,
    /// Whether bodies are in ClickHouse's compressed-block format (`decompress=1`).
    pub compressed: bool,
    /// How long the inserter gathers chunks for one INSERT.
    pub interval: Duration,
    pub timeout: Duration,
}

impl InsertTarget {
    /// The INSERT statement.
    pub fn statement(&self) -> String {
        format!(
            "INSERT INTO `{}`.`{}` ({}) FORMAT RowBinary",
            self.database,
            self.table,
            self.columns
                .iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    }
}

/// The sending side of a table's inserter, cloned into every shard.
pub type ChunkSender = mpsc::Sender<Chunk>;

/// Starts a table's inserter on its own thread (`sink-<table>`).
pub fn spawn(target: InsertTarget) -> std::io::Result<(ChunkSender, std::thread::JoinHandle<()>)> {
    let (tx, rx) = mpsc::channel(CHANNEL_CHUNKS);
    let handle = std::thread::Builder::new()
        .name(format!("sink-{}", target.table))
        .spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a current-thread runtime starts");
            rt.block_on(run(target, rx));
        })?;
    Ok((tx, handle))
}

/// The inserter loop: gather, insert, answer; until every shard has hung up.
async fn run(target: InsertTarget, mut rx: mpsc::Receiver<Chunk>) {
    let client: Client<HttpConnector, Full<Bytes>> =
        Client::builder(TokioExecutor::new()).build_http();
    let statement = target.statement();
    // Tokens are unique per process start and insert; deterministic retries across
    // restarts come with the write-ahead log.
    let run_id = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let mut seq = 0u64;
    let mut last_insert: Option<tokio::time::Instant> = None;
    while let Some(first) = rx.recv().await {
        // At most one INSERT per interval (ClickHouse makes a part of each): gather
        // until an interval after the last INSERT began. When that is past, only the
        // chunks already queued join, so an idle table adds no wait to a request.
        let now = tokio::time::Instant::now();
        let deadline = last_insert.map_or(now, |t| t + target.interval).max(now);
        let mut body = first.body;
        let mut acks = first.acks;
        let mut rows = first.rows;
        while body.len() < MAX_INSERT_BYTES {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(c)) => {
                    body.extend_from_slice(&c.body);
                    acks.extend(c.acks);
                    rows += c.rows;
                }
                Ok(None) | Err(_) => break,
            }
        }
        seq += 1;
        last_insert = Some(tokio::time::Instant::now());
        let token = format!("sluice-{}-{run_id}-{seq}", target.table);
        let started = Instant::now();
        let result = insert(&client, &target, &statement, &token, body).await;
        match &result {
            Ok(()) => crate::log::debug(format_args!(
                "inserted {rows} rows into {} in {:?}",
                target.table,
                started.elapsed()
            )),
            Err(e) => crate::log::warn(format_args!(
                "{e} ({rows} rows, {} requests told to retry)",
                acks.len()
            )),
        }
        for ack in acks {
            // A request that gave up waiting has dropped its receiver: nothing to tell.
            let _ = ack.send(result.clone());
        }
    }
}

/// One INSERT over ClickHouse's HTTP interface.
async fn insert(
    client: &Client<HttpConnector, Full<Bytes>>,
    target: &InsertTarget,
    statement: &str,
    token: &str,
    body: Vec<u8>,
) -> Result<(), SinkError> {
    let mut uri = format!("{}/?query=", target.endpoint.url);
    percent_encode(statement, &mut uri);
    uri.push_str("&insert_deduplication_token=");
    percent_encode(token, &mut uri);
    if target.compressed {
        uri.push_str("&decompress=1");
    }
    let request = hyper::Request::post(uri)
        .header("X-ClickHouse-User", &target.endpoint.user)
        .header("X-ClickHouse-Key", &target.endpoint.password)
        .header("Content-Type", "application/octet-stream")
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| SinkError::Network(e.to_string()))?;
    let exchange = async {
        let response = client
            .request(request)
            .await
            .map_err(|e| SinkError::Network(crate::clickhouse::describe(&e)))?;
        let status = response.status();
        let code = response
            .headers()
            .get("X-ClickHouse-Exception-Code")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok());
        let text = response
            .into_body()
            .collect()
            .await
            .map_err(|e| SinkError::Network(e.to_string()))?
            .to_bytes();
        // ClickHouse reports an exception after a 200 at the end of the body.
        let exception = text.windows(15).any(|w| w == b"DB::Exception: ");
        if status.is_success() && code.is_none() && !exception {
            return Ok(());
        }
        Err(SinkError::Refused {
            table: target.table.clone(),
            code,
            message: String::from_utf8_lossy(&text).trim().to_owned(),
        })
    };
    tokio::time::timeout(target.timeout, exchange)
        .await
        .map_err(|_| SinkError::Timeout(target.table.clone()))?
}

/// Percent-encodes a URL query value (RFC 3986 unreserved characters stay).
fn percent_encode(s: &str, out: &mut String) {
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_quote_names_and_queries_are_percent_encoded() {
        let t = InsertTarget {
            endpoint: Endpoint::resolve(Some("http://ch:8123".into()), "u".into(), String::new())
                .unwrap(),
            database: "db".into(),
            table: "otel_logs".into(),
            columns: vec!["Timestamp", "Body"],
            compressed: true,
            interval: Duration::from_secs(1),
            timeout: Duration::from_secs(1),
        };
        assert_eq!(
            t.statement(),
            "INSERT INTO `db`.`otel_logs` (`Timestamp`, `Body`) FORMAT RowBinary"
        );
        let mut q = String::new();
        percent_encode("INSERT INTO `a` (x) FORMAT RowBinary", &mut q);
        assert_eq!(q, "INSERT%20INTO%20%60a%60%20%28x%29%20FORMAT%20RowBinary");
    }
}
