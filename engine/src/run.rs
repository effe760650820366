//! `sluice run`: start the sinks, the shards and their listeners; stop on a signal.
//!
//! # Start
//!
//! 1. Load the configuration (file + environment) and resolve it.
//! 2. Ask ClickHouse which columns each table stores (`system.columns`, like
//!    `DESCRIBE TABLE`): the INSERTs list exactly those that sluice writes, so an older
//!    table (say, without `EventName`) keeps working. A missing table is an error that
//!    says how to create it.
//! 3. Start one inserter per table, then bind the listeners (with `SO_REUSEPORT`, so
//!    every shard has its own; port 0 is resolved once, by the first), then one thread
//!    per shard. Print `sluice: ready …` on stderr.
//!
//! # Stop
//!
//! On SIGINT or SIGTERM: every shard stops accepting, seals its batch and hands it to
//! the inserters; the inserters finish their INSERTs and answer the waiting requests;
//! then the process exits.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use clickhouse::Row;
use serde::Deserialize;
use tokio::sync::watch;
use wire::compress::BlockCodec;
use wire::rowbinary::logs::LogColumn;
use wire::rowbinary::metrics::{MetricColumn, TABLES as METRIC_TABLES, columns_of};
use wire::rowbinary::traces::TraceColumn;
use wire::tables::Table;

use crate::batch::BatchPolicy;
use crate::clickhouse::{Endpoint, describe};
use crate::config::Config;
use crate::shard::{Listeners, Shared};
use crate::sink::clickhouse::{InsertTarget, spawn};

#[derive(Debug, Row, Deserialize)]
struct ColumnRow {
    name: String,
    default_kind: String,
}

/// The stored columns of a table (`system.columns`, as `DESCRIBE TABLE` lists them).
async fn stored_columns(
    endpoint: &Endpoint,
    database: &str,
    table: &str,
) -> anyhow::Result<Vec<String>> {
    let rows = endpoint
        .client()
        .query("SELECT name, default_kind FROM system.columns WHERE database = ? AND table = ? ORDER BY position")
        .bind(database)
        .bind(table)
        .fetch_all::<ColumnRow>()
        .await
        .map_err(|e| anyhow::anyhow!("cannot read the columns of {database}.{table} from {}: {}", endpoint.url, describe(&e)))?;
    if rows.is_empty() {
        bail!(
            "table {database}.{table} does not exist at {}: create the schema with `sluice schema apply --clickhouse {} --database {database}`",
            endpoint.url,
            endpoint.url
        );
    }
    Ok(rows
        .into_iter()
        .filter(|r| r.default_kind.is_empty())
        .map(|r| r.name)
        .collect())
}

/// The columns sluice writes that the table stores, in sluice's order.
fn pick<C: Copy>(all: &[C], name: fn(C) -> &'static str, stored: &[String]) -> Vec<C> {
    all.iter()
        .copied()
        .filter(|&c| stored.iter().any(|s| s == name(c)))
        .collect()
}

/// Runs sluice until SIGINT or SIGTERM.
pub fn run(config: Config) -> anyhow::Result<()> {
    let shards = config.shard_count();
    let endpoint = Endpoint::resolve(
        Some(config.clickhouse.url.clone()),
        config.clickhouse.user.clone(),
        config.clickhouse.password.clone(),
    )?;
    let database = config.clickhouse.database.clone();
    let main_rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;

    let (logs, sessions, traces, metrics) = main_rt.block_on(async {
        let logs = stored_columns(&endpoint, &database, "otel_logs").await?;
        let sessions = stored_columns(&endpoint, &database, "hyperdx_sessions").await?;
        let traces = stored_columns(&endpoint, &database, "otel_traces").await?;
        let mut metrics = Vec::with_capacity(METRIC_TABLES.len());
        for table in METRIC_TABLES {
            metrics.push(stored_columns(&endpoint, &database, table.default_name()).await?);
        }
        anyhow::Ok((logs, sessions, traces, metrics))
    })?;
    let logs_columns = pick(&LogColumn::ALL, LogColumn::name, &logs);
    let sessions_columns = pick(&LogColumn::ALL, LogColumn::name, &sessions);
    let traces_columns = pick(&TraceColumn::ALL, TraceColumn::name, &traces);
    let metrics_columns: [Vec<MetricColumn>; 5] = std::array::from_fn(|t| {
        pick(
            columns_of(METRIC_TABLES[t]),
            MetricColumn::name,
            &metrics[t],
        )
    });

    let interval = Duration::from_millis(config.batch.max_age_ms);
    let (codec, compressed) = match config.clickhouse.compression.as_str() {
        "lz4" => (Some(BlockCodec::Lz4), true),
        "zstd" => (Some(BlockCodec::Zstd { level: 1 }), true),
        _ => (None, false),
    };
    let target = |table: &str, columns: Vec<&'static str>| InsertTarget {
        endpoint: endpoint.clone(),
        database: database.clone(),
        table: table.to_owned(),
        columns,
        compressed,
        interval,
        timeout: Duration::from_millis(config.clickhouse.timeout_ms),
    };
    // One inserter per table, each on its own thread.
    let log_names = |cols: &[LogColumn]| cols.iter().map(|c| c.name()).collect();
    let trace_names = traces_columns.iter().map(|c| c.name()).collect();
    let mut sinks = crate::batch::PerTable::default();
    let mut sink_threads = Vec::new();
    let metric_names = |t: usize| metrics_columns[t].iter().map(|c| c.name()).collect();
    let mut targets = vec![
        (Table::Logs, "otel_logs", log_names(&logs_columns)),
        (
            Table::Sessions,
            "hyperdx_sessions",
            log_names(&sessions_columns),
        ),
        (Table::Traces, "otel_traces", trace_names),
    ];
    for (t, table) in METRIC_TABLES.into_iter().enumerate() {
        targets.push((table, table.default_name(), metric_names(t)));
    }
    for (table, name, columns) in targets {
        let (sink, thread) = spawn(target(name, columns))
            .with_context(|| format!("cannot start the {name} inserter"))?;
        sinks[table] = Some(sink);
        sink_threads.push(thread);
    }

    let shared = Arc::new(Shared {
        policy: BatchPolicy {
            max_rows: config.batch.max_rows,
            max_bytes: config.batch.max_bytes,
            max_age: interval,
            logs_columns,
            sessions_columns,
            traces_columns,
            metrics_columns,
            codec,
        },
        logs: config.logs.options(),
        max_request_bytes: config.limits.max_request_bytes,
        cors_origins: config.http.cors_origins.clone(),
        sinks,
    });

    let grpc_addr: SocketAddr = config.listen.grpc.parse().context("listen.grpc")?;
    let http_addr: SocketAddr = config.listen.http.parse().context("listen.http")?;
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut threads = Vec::with_capacity(shards);
    let (mut grpc_bound, mut http_bound) = (grpc_addr, http_addr);
    for id in 0..shards {
        let grpc = crate::shard::reuseport_listener(grpc_bound)
            .with_context(|| format!("cannot listen on {grpc_bound} (gRPC)"))?;
        let http = crate::shard::reuseport_listener(http_bound)
            .with_context(|| format!("cannot listen on {http_bound} (HTTP)"))?;
        // Port 0: every further shard binds the port the first one got.
        grpc_bound = grpc.local_addr()?;
        http_bound = http.local_addr()?;
        let (shared, stop) = (Arc::clone(&shared), stop_rx.clone());
        let thread = std::thread::Builder::new()
            .name(format!("shard-{id}"))
            .spawn(move || crate::shard::run(id, shared, Listeners { grpc, http }, stop))
            .context("cannot start a shard thread")?;
        threads.push(thread);
    }
    eprintln!(
        "sluice: ready grpc={grpc_bound} http={http_bound} shards={shards} clickhouse={} database={database}",
        endpoint.url
    );

    main_rt.block_on(wait_for_signal())?;
    eprintln!("sluice: stopping: sealing the batches and finishing the inserts");
    let _ = stop_tx.send(true);
    for t in threads {
        let _ = t.join();
    }
    // The last senders go with `shared`: the inserters drain their channels and end.
    drop(shared);
    for t in sink_threads {
        let _ = t.join();
    }
    eprintln!("sluice: stopped");
    Ok(())
}

async fn wait_for_signal() -> anyhow::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).context("cannot watch SIGTERM")?;
    tokio::select! {
        r = tokio::signal::ctrl_c() => r.context("cannot watch SIGINT")?,
        _ = term.recv() => {}
    }
    Ok(())
}
