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
use wire::rowbinary::read::Type;
use wire::rowbinary::traces::TraceColumn;
use wire::tables::Table;

use crate::ack::AckMode;
use crate::batch::{BatchPolicy, PerTable};
use crate::clickhouse::{Endpoint, describe};
use crate::config::Config;
use crate::shard::{Listeners, Shared};
use crate::sink::clickhouse::InsertTarget;
use crate::sink::deadletter::DeadLetter;
use crate::sink::inserter::{Settings, spawn};
use crate::wal::outbox::Outbox;
use crate::wal::shard_log::ShardLog;
use crate::wal::{DataDir, DiskUse, recover};

#[derive(Debug, Row, Deserialize)]
struct ColumnRow {
    name: String,
    #[serde(rename = "type")]
    type_name: String,
    default_kind: String,
}

/// A stored column of a table: its name and ClickHouse type.
#[derive(Debug)]
struct Stored {
    name: String,
    type_name: String,
}

/// The stored columns of a table (`system.columns`, as `DESCRIBE TABLE` lists them).
async fn stored_columns(
    endpoint: &Endpoint,
    database: &str,
    table: &str,
) -> anyhow::Result<Vec<Stored>> {
    let rows = endpoint
        .client()
        .query("SELECT name, type, default_kind FROM system.columns WHERE database = ? AND table = ? ORDER BY position")
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
        .map(|r| Stored {
            name: r.name,
            type_name: r.type_name,
        })
        .collect())
}

/// The columns sluice writes that the table stores, in sluice's order.
fn pick<C: Copy>(all: &[C], name: fn(C) -> &'static str, stored: &[Stored]) -> Vec<C> {
    all.iter()
        .copied()
        .filter(|&c| stored.iter().any(|s| s.name == name(c)))
        .collect()
}

/// The ClickHouse types of `columns`, in their order.
fn types_of(columns: &[&'static str], stored: &[Stored]) -> anyhow::Result<Vec<Type>> {
    columns
        .iter()
        .map(|&c| {
            let s = stored
                .iter()
                .find(|s| s.name == c)
                .expect("picked from the stored columns");
            Type::parse(&s.type_name).map_err(|e| anyhow::anyhow!("column {c}: {e}"))
        })
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
    let ack = config.ack_mode()?;
    let policy = BatchPolicy {
        max_rows: config.batch.max_rows,
        max_bytes: config.batch.max_bytes,
        max_age: interval,
        logs_columns,
        sessions_columns,
        traces_columns,
        metrics_columns,
        codec,
    };

    // The write-ahead log: lock the data directory, open the outboxes, replay what
    // the shard logs hold into them (see `wal::recover`).
    let data =
        match ack {
            AckMode::Wal => {
                let path = std::path::Path::new(&config.wal.dir);
                Some(DataDir::open(path).with_context(|| {
                    format!("cannot open the data directory {}", path.display())
                })?)
            }
            _ => None,
        };
    let disk = match &data {
        Some(d) => {
            let disk = DiskUse::new(config.wal.max_bytes);
            disk.set_reserve(d.path.join("RESERVE"), config.wal.reserve_bytes)
                .with_context(|| format!("cannot keep a reserve in {}", d.path.display()))?;
            Some(disk)
        }
        None => None,
    };
    let generation = data.as_ref().map_or_else(
        || format!("{:016x}", fastrand::u64(..)),
        |d| d.generation.clone(),
    );
    let dead_letter_dir = match (&config.sink.dead_letter_dir, &config.wal.dir) {
        (d, _) if !d.is_empty() => std::path::PathBuf::from(d),
        (_, w) if !w.is_empty() => std::path::Path::new(w).join("dead-letter"),
        _ => std::path::PathBuf::from("sluice-dead-letter"),
    };
    let dead_letter = Arc::new(DeadLetter::new(dead_letter_dir));

    let log_names = |cols: &[LogColumn]| cols.iter().map(|c| c.name()).collect();
    let mut targets: Vec<(Table, &'static str, Vec<&'static str>)> = vec![
        (Table::Logs, "otel_logs", log_names(&policy.logs_columns)),
        (
            Table::Sessions,
            "hyperdx_sessions",
            log_names(&policy.sessions_columns),
        ),
        (
            Table::Traces,
            "otel_traces",
            policy.traces_columns.iter().map(|c| c.name()).collect(),
        ),
    ];
    for (t, table) in METRIC_TABLES.into_iter().enumerate() {
        let names = policy.metrics_columns[t].iter().map(|c| c.name()).collect();
        targets.push((table, table.default_name(), names));
    }
    let stored_of = |table: Table| -> &[Stored] {
        match table {
            Table::Logs => &logs,
            Table::Sessions => &sessions,
            Table::Traces => &traces,
            _ => {
                &metrics[METRIC_TABLES
                    .iter()
                    .position(|&t| t == table)
                    .expect("a metric table")]
            }
        }
    };

    let mut outboxes: PerTable<Option<Outbox>> = PerTable::default();
    let mut next_seq = vec![0u64; shards];
    if let (Some(data), Some(disk)) = (&data, &disk) {
        let seg = config.wal.segment_bytes;
        for &(table, name, _) in &targets {
            let outbox = Outbox::open(&data.outbox(name), seg, Arc::clone(disk))
                .with_context(|| format!("cannot open the {name} outbox"))?;
            report_damage(&format!("outbox {name}"), outbox.damage);
            outboxes[table] = Some(outbox);
        }
        let logs_options = config.logs.options();
        let replay = recover::Replay {
            data,
            segment_bytes: seg,
            disk,
            policy: &policy,
            logs: &logs_options,
            max_request_bytes: config.limits.max_request_bytes,
        };
        for log in data.shard_logs().context("cannot list the shard logs")? {
            let r = recover::replay(&replay, log, &mut outboxes)
                .with_context(|| format!("cannot replay shard log {log}"))?;
            report_damage(&format!("shard log {log}"), r.damage);
            if r.requests > 0 {
                crate::log::info(format_args!(
                    "shard log {log}: replayed {} requests: {} chunks to the outboxes, {} already there{}",
                    r.requests,
                    r.chunks,
                    r.skipped,
                    if r.failed > 0 {
                        format!(", {} that no longer decode (skipped)", r.failed)
                    } else {
                        String::new()
                    }
                ));
            }
            if let Some(n) = next_seq.get_mut(log as usize) {
                *n = r.next_seq;
            }
        }
        // A shard's sequence numbers never go back, even when its log is gone.
        for (id, n) in next_seq.iter_mut().enumerate() {
            for (_, o) in outboxes.iter_mut() {
                if let Some(o) = o {
                    *n = (*n).max(o.received(id as u32));
                }
            }
        }
    }

    // One inserter per table, each on its own thread.
    let (abort_tx, abort_rx) = watch::channel(false);
    let mut sinks = PerTable::default();
    let mut sink_threads = Vec::new();
    for (table, name, columns) in targets {
        let types = types_of(&columns, stored_of(table))?;
        let settings = Settings {
            target: InsertTarget {
                endpoint: endpoint.clone(),
                database: database.clone(),
                table: name.to_owned(),
                columns,
                types,
                compressed,
                interval,
                timeout: Duration::from_millis(config.clickhouse.timeout_ms),
            },
            ack,
            retry_window: Duration::from_millis(config.sink.retry_window_ms),
            max_insert_bytes: config.sink.max_insert_bytes,
            max_insert_rows: config.sink.max_insert_rows,
            generation: generation.clone(),
            dead_letter: Arc::clone(&dead_letter),
            codec,
            disk: disk.clone(),
        };
        let (sink, thread) = spawn(settings, outboxes[table].take(), abort_rx.clone())
            .with_context(|| format!("cannot start the {name} inserter"))?;
        sinks[table] = Some(sink);
        sink_threads.push(thread);
    }

    let shutdown_timeout = Duration::from_millis(config.shutdown_timeout_ms);
    let shared = Arc::new(Shared {
        policy,
        logs: config.logs.options(),
        ack,
        max_request_bytes: config.limits.max_request_bytes,
        shard_budget: config.limits.shard_budget_bytes,
        admission_wait: Duration::from_millis(config.limits.admission_wait_ms),
        body_timeout: Duration::from_millis(config.limits.body_timeout_ms),
        shutdown_timeout,
        cors_origins: config.http.cors_origins.clone(),
        sinks,
        disk: disk.clone(),
    });

    let telemetry_listeners =
        crate::telemetry::Listeners::bind(&config.telemetry.metrics, &config.telemetry.health)
            .context("cannot listen for telemetry (telemetry.metrics, telemetry.health)")?;
    if let Some(disk) = &disk {
        crate::telemetry::get().watch_disk(Arc::clone(disk));
    }
    let grpc_addr: SocketAddr = config.listen.grpc.parse().context("listen.grpc")?;
    let http_addr: SocketAddr = config.listen.http.parse().context("listen.http")?;
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut threads = Vec::with_capacity(shards);
    let (mut grpc_bound, mut http_bound) = (grpc_addr, http_addr);
    for (id, &first_seq) in next_seq.iter().enumerate() {
        let grpc = crate::shard::reuseport_listener(grpc_bound)
            .with_context(|| format!("cannot listen on {grpc_bound} (gRPC)"))?;
        let http = crate::shard::reuseport_listener(http_bound)
            .with_context(|| format!("cannot listen on {http_bound} (HTTP)"))?;
        // Port 0: every further shard binds the port the first one got.
        grpc_bound = grpc.local_addr()?;
        http_bound = http.local_addr()?;
        let log = match (&data, &disk) {
            (Some(data), Some(disk)) => Some(
                ShardLog::start(
                    id as u32,
                    &data.shard_log(id as u32),
                    first_seq,
                    config.wal.segment_bytes,
                    Duration::from_millis(config.wal.group_commit_ms),
                    Arc::clone(disk),
                )
                .with_context(|| format!("cannot start shard {id}'s write-ahead log"))?,
            ),
            _ => None,
        };
        let (shared, stop) = (Arc::clone(&shared), stop_rx.clone());
        let thread = std::thread::Builder::new()
            .name(format!("shard-{id}"))
            .spawn(move || crate::shard::run(id, shared, log, Listeners { grpc, http }, stop))
            .context("cannot start a shard thread")?;
        threads.push(thread);
    }
    let wal_note = match &data {
        Some(d) => format!(" wal={}", d.path.display()),
        None => String::new(),
    };
    eprintln!(
        "sluice: ready grpc={grpc_bound} http={http_bound} {} shards={shards} clickhouse={} database={database} ack={}{wal_note} shard_budget={}",
        telemetry_listeners.describe(),
        endpoint.url,
        ack.name(),
        config.limits.shard_budget_bytes
    );

    telemetry_listeners
        .spawn()
        .context("cannot start the telemetry thread")?;
    main_rt.block_on(wait_for_signal())?;
    crate::telemetry::get().set_stopping();
    let deadline = std::time::Instant::now() + shutdown_timeout;
    eprintln!(
        "sluice: stopping: finishing the requests in progress, sealing the batches, finishing the inserts"
    );
    let _ = stop_tx.send(true);
    for t in threads {
        let _ = t.join();
    }
    // The last senders go with `shared`: the inserters deliver what is queued and end.
    drop(shared);
    while sink_threads.iter().any(|t| !t.is_finished()) && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    if sink_threads.iter().any(|t| !t.is_finished()) {
        let _ = abort_tx.send(true);
    }
    for t in sink_threads {
        let _ = t.join();
    }
    eprintln!("sluice: stopped");
    Ok(())
}

/// Says what was wrong in a log that was read on start (and counts it).
fn report_damage(what: &str, d: crate::wal::segment::Damage) {
    let t = crate::telemetry::get();
    let damaged = |what| {
        t.wal_damaged
            .get_or_create(&crate::telemetry::WhatLabel { what })
    };
    damaged("corrupt_records").inc_by(d.corrupt as u64);
    damaged("torn_bytes").inc_by(d.torn_bytes);
    if d.corrupt > 0 {
        crate::log::warn(format_args!(
            "{what}: skipped {} corrupt records (their data is lost; the rest is delivered)",
            d.corrupt
        ));
    }
    if d.torn_bytes > 0 {
        crate::log::info(format_args!(
            "{what}: cut a torn tail of {} bytes (a write a crash interrupted; never acknowledged)",
            d.torn_bytes
        ));
    }
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
