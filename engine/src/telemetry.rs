//! Self-metrics and health, on the ports ClickStack's collector uses.
//!
//! `GET /metrics` on `telemetry.metrics` (`127.0.0.1:8888`) answers in the
//! OpenMetrics text format (`prometheus-client`), which Prometheus scrapes; `GET /` on
//! `telemetry.health` (`127.0.0.1:13133`) answers 200 `{"status":"Server available"}`
//! while sluice takes requests, as the collector's `health_check` extension does, and
//! 503 once it is stopping. An empty address turns either off.
//!
//! The metrics live in one process-wide [`Telemetry`] ([`get`]): the counters are
//! atomics the shards and inserters add to where things happen; the gauges of byte
//! use are read from the shards' budgets and the data directory when scraped.
//!
//! | metric | type | labels | what |
//! |---|---|---|---|
//! | `sluice_requests_total` | counter | `signal`, `result` | OTLP export requests answered: `ok`; `refused` with retry information (overload, a full write-ahead log, a ClickHouse failure in `clickhouse` mode); `timeout` (`grpc-timeout` passed, the body did not arrive in time); `rejected` (bad input: a 4xx, a status naming the input) |
//! | `sluice_received_rows_total` | counter | `table` | rows decoded from accepted requests |
//! | `sluice_admission_refusals_total` | counter | `reason` | requests refused for want of room, before or while their body was read: `overloaded` (a shard's budget), `wal_full` |
//! | `sluice_shard_budget_bytes`, `sluice_shard_held_bytes` | gauge | `shard` | a shard's bound, and what it holds now |
//! | `sluice_wal_bytes`, `sluice_wal_max_bytes` | gauge | | the data directory's use and bound |
//! | `sluice_wal_parked_requests_total` | counter | | requests whose record could not be written, answered once their rows were in the outboxes |
//! | `sluice_wal_damaged_total` | counter | `what` | damage found: `corrupt_records`, `torn_bytes` (on start), `outbox_chunks` (read back) |
//! | `sluice_inserted_rows_total` | counter | `table` | rows ClickHouse committed |
//! | `sluice_insert_failures_total` | counter | `table`, `class` | failed INSERT attempts: `transient`, `structural`, `data` |
//! | `sluice_sink_paused` | gauge | `table` | 1 while a structural error (unknown table, credentials) holds the table's rows |
//! | `sluice_dead_letter_rows_total` | counter | `table` | rows ClickHouse refused as data, written to the dead-letter directory |

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock, Mutex};

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use tokio::net::TcpListener;

use crate::admission::Budget;
use crate::wal::DiskUse;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub signal: &'static str,
    pub result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TableLabel {
    pub table: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabel {
    pub reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ShardLabel {
    pub shard: u32,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct WhatLabel {
    pub what: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct FailureLabels {
    pub table: String,
    pub class: &'static str,
}

/// Every metric of the module doc's table.
#[derive(Debug, Default)]
pub struct Telemetry {
    pub requests: Family<RequestLabels, Counter>,
    pub received_rows: Family<TableLabel, Counter>,
    pub admission_refusals: Family<ReasonLabel, Counter>,
    shard_budget: Family<ShardLabel, Gauge>,
    shard_held: Family<ShardLabel, Gauge>,
    wal_bytes: Gauge,
    wal_max_bytes: Gauge,
    pub wal_parked: Counter,
    pub wal_damaged: Family<WhatLabel, Counter>,
    pub inserted_rows: Family<TableLabel, Counter>,
    pub insert_failures: Family<FailureLabels, Counter>,
    pub sink_paused: Family<TableLabel, Gauge>,
    pub dead_letter_rows: Family<TableLabel, Counter>,
    /// Read when scraped.
    budgets: Mutex<Vec<(u32, Arc<Budget>)>>,
    disk: Mutex<Option<Arc<DiskUse>>>,
    /// Set when sluice begins to stop: health answers 503.
    stopping: AtomicBool,
}

static TELEMETRY: LazyLock<Telemetry> = LazyLock::new(Telemetry::default);

/// The process's metrics.
pub fn get() -> &'static Telemetry {
    &TELEMETRY
}

impl Telemetry {
    /// The gauges of shard `id` are read from `budget`.
    pub fn watch_budget(&self, id: u32, budget: Arc<Budget>) {
        lock(&self.budgets).push((id, budget));
    }

    /// The write-ahead log gauges are read from `disk`.
    pub fn watch_disk(&self, disk: Arc<DiskUse>) {
        *lock(&self.disk) = Some(disk);
    }

    /// An export request of `signal` was answered: `ok`, `refused` (with retry
    /// information) or `rejected` (bad input).
    pub fn answered(&self, signal: &'static str, result: &'static str) {
        self.requests
            .get_or_create(&RequestLabels { signal, result })
            .inc();
    }

    pub fn set_stopping(&self) {
        self.stopping.store(true, Ordering::Relaxed);
    }

    pub fn table(&self, table: &str) -> TableLabel {
        TableLabel {
            table: table.to_owned(),
        }
    }

    /// The metrics in the OpenMetrics text format, the gauges read now.
    pub fn render(&self) -> String {
        for (id, budget) in lock(&self.budgets).iter() {
            let shard = ShardLabel { shard: *id };
            self.shard_budget
                .get_or_create(&shard)
                .set(budget.limit() as i64);
            self.shard_held
                .get_or_create(&shard)
                .set(budget.used() as i64);
        }
        if let Some(disk) = lock(&self.disk).as_ref() {
            self.wal_bytes.set(disk.used() as i64);
            self.wal_max_bytes.set(disk.limit() as i64);
        }
        let mut r = Registry::with_prefix("sluice");
        r.register(
            "requests",
            "OTLP export requests answered, by result",
            self.requests.clone(),
        );
        r.register(
            "received_rows",
            "Rows decoded from accepted requests",
            self.received_rows.clone(),
        );
        r.register(
            "admission_refusals",
            "Requests refused for want of room",
            self.admission_refusals.clone(),
        );
        r.register(
            "shard_budget_bytes",
            "Bytes a shard may hold",
            self.shard_budget.clone(),
        );
        r.register(
            "shard_held_bytes",
            "Bytes a shard holds",
            self.shard_held.clone(),
        );
        r.register(
            "wal_bytes",
            "Bytes in the data directory",
            self.wal_bytes.clone(),
        );
        r.register(
            "wal_max_bytes",
            "Bytes the data directory may hold",
            self.wal_max_bytes.clone(),
        );
        r.register(
            "wal_parked_requests",
            "Requests answered once their rows were in the outboxes (their record could not be written)",
            self.wal_parked.clone(),
        );
        r.register(
            "wal_damaged",
            "Damage found in the write-ahead log",
            self.wal_damaged.clone(),
        );
        r.register(
            "inserted_rows",
            "Rows ClickHouse committed",
            self.inserted_rows.clone(),
        );
        r.register(
            "insert_failures",
            "Failed INSERT attempts, by class",
            self.insert_failures.clone(),
        );
        r.register(
            "sink_paused",
            "1 while a structural error holds a table's rows",
            self.sink_paused.clone(),
        );
        r.register(
            "dead_letter_rows",
            "Rows ClickHouse refused as data, in the dead-letter directory",
            self.dead_letter_rows.clone(),
        );
        let registry = r;
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &registry);
        out
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The `/metrics` and health listeners, bound (port 0 resolved) before sluice says
/// it is ready.
#[derive(Debug)]
pub struct Listeners {
    pub metrics: Option<std::net::TcpListener>,
    pub health: Option<std::net::TcpListener>,
}

impl Listeners {
    /// Binds `metrics` and `health` (empty: off).
    pub fn bind(metrics: &str, health: &str) -> std::io::Result<Listeners> {
        let bind = |addr: &str| -> std::io::Result<Option<std::net::TcpListener>> {
            if addr.is_empty() {
                return Ok(None);
            }
            let addr: SocketAddr = addr
                .parse()
                .map_err(|e| std::io::Error::other(format!("{addr}: {e}")))?;
            let l = std::net::TcpListener::bind(addr)?;
            l.set_nonblocking(true)?;
            Ok(Some(l))
        };
        Ok(Listeners {
            metrics: bind(metrics)?,
            health: bind(health)?,
        })
    }

    /// `metrics=… health=…` for the ready line.
    pub fn describe(&self) -> String {
        let addr = |l: &Option<std::net::TcpListener>| {
            l.as_ref()
                .and_then(|l| l.local_addr().ok())
                .map_or_else(|| "off".to_owned(), |a| a.to_string())
        };
        format!(
            "metrics={} health={}",
            addr(&self.metrics),
            addr(&self.health)
        )
    }

    /// Serves both from a thread of their own (`telemetry`), for the process's life:
    /// the health check answers through the shutdown too.
    pub fn spawn(self) -> std::io::Result<()> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        std::thread::Builder::new()
            .name("telemetry".into())
            .spawn(move || {
                rt.block_on(async {
                    let pages = [(self.metrics, Page::Metrics), (self.health, Page::Health)];
                    for (listener, page) in pages {
                        let Some(l) = listener else { continue };
                        match TcpListener::from_std(l) {
                            Ok(l) => {
                                tokio::spawn(accept(l, page));
                            }
                            Err(e) => crate::log::warn(format_args!(
                                "cannot serve {page:?} (telemetry): {e}"
                            )),
                        }
                    }
                    std::future::pending::<()>().await;
                });
            })?;
        Ok(())
    }
}

#[derive(Clone, Copy, Debug)]
enum Page {
    Metrics,
    Health,
}

async fn accept(listener: TcpListener, page: Page) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            continue;
        };
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| async move {
                Ok::<_, Infallible>(answer(page, &req))
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

fn answer(page: Page, req: &Request<Incoming>) -> Response<Full<Bytes>> {
    let reply = |status: StatusCode, ct: &'static str, body: String| {
        let mut r = Response::new(Full::new(Bytes::from(body)));
        *r.status_mut() = status;
        r.headers_mut()
            .insert(header::CONTENT_TYPE, http::HeaderValue::from_static(ct));
        r
    };
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return reply(
            StatusCode::METHOD_NOT_ALLOWED,
            "text/plain",
            "GET only\n".into(),
        );
    }
    match (page, req.uri().path()) {
        (Page::Metrics, "/metrics") => reply(
            StatusCode::OK,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
            get().render(),
        ),
        (Page::Health, _) if get().stopping.load(Ordering::Relaxed) => reply(
            StatusCode::SERVICE_UNAVAILABLE,
            "application/json",
            r#"{"status":"Server not available"}"#.into(),
        ),
        (Page::Health, _) => reply(
            StatusCode::OK,
            "application/json",
            r#"{"status":"Server available"}"#.into(),
        ),
        (Page::Metrics, path) => reply(
            StatusCode::NOT_FOUND,
            "text/plain",
            format!("no page at {path}; the metrics are at /metrics\n"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_and_gauges_render_with_their_labels() {
        let t = Telemetry::default();
        t.requests
            .get_or_create(&RequestLabels {
                signal: "logs",
                result: "ok",
            })
            .inc_by(3);
        t.sink_paused.get_or_create(&t.table("otel_logs")).set(1);
        let budget = Budget::new(1000);
        let _held = budget.hold(250);
        t.watch_budget(0, budget);
        let text = t.render();
        assert!(
            text.contains("sluice_requests_total{signal=\"logs\",result=\"ok\"} 3"),
            "{text}"
        );
        assert!(
            text.contains("sluice_sink_paused{table=\"otel_logs\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("sluice_shard_budget_bytes{shard=\"0\"} 1000"),
            "{text}"
        );
        assert!(
            text.contains("sluice_shard_held_bytes{shard=\"0\"} 250"),
            "{text}"
        );
        assert!(text.ends_with("# EOF\n"), "{text}");
    }
}
