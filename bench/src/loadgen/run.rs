//! The run: build the pool, open the connections, let the workers send until the
//! plan ends, gather the counts, check with ClickHouse.
//!
//! # Lifecycle
//!
//! 1. [`Pool::build`] (timed, not counted as sending CPU); the endpoint is resolved
//!    and one TCP connect tried, so an endpoint that is down fails at once.
//! 2. One task per connection (`--connections`; HTTP/1.1: connections × streams). It
//!    connects, spawns a worker per stream, and reconnects when its workers report a
//!    broken connection; it gives up after failing to connect for `--timeout`.
//! 3. A worker loops: [`Plan::claim`] a request, sleep until its intended time when
//!    paced, build its body ([`BodyWriter`]), send, record the answer in the
//!    connection's [`Recorder`] (a mutex only the connection's workers share, taken
//!    once per request) and the shared [`Live`] counters. A request the connection
//!    refused before sending it (closing: `Connection: close`, GOAWAY) waits for the
//!    next connection of the task instead of counting as failed.
//! 4. The main task prints progress once a second until every worker is done, stops
//!    the plan on Ctrl-C, then merges the recorders and samples the CPU time.
//! 5. With `--verify`, the acknowledged ranges are compared with ClickHouse; a
//!    ClickHouse that cannot be asked fails the check, not the report.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use tokio::task::JoinSet;

use super::body::BodyWriter;
use super::cli::{Config, Signal};
use super::client::{self, Failure, Kind, Stream, Target};
use super::cpu::process_cpu;
use super::pace::{Plan, Slot};
use super::pool::Pool;
use super::progress::Progress;
use super::report::{Report, RunFacts, SignalCheck, VerifyOutcome};
use super::stats::{ErrorKey, Live, Recorder, Sent};
use super::verify::AckedSet;
use super::verify::clickhouse::{ClickHouse, table};
use crate::generate::Stamps;

/// Pause before reconnecting after a failed connect.
const RECONNECT_PAUSE: Duration = Duration::from_millis(100);

/// Why the run could not be made (failed requests are results, not errors).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("building the request pool: {0}")]
    Pool(#[from] super::pool::PoolError),
    #[error("endpoint {authority}: {message}")]
    Endpoint { authority: String, message: String },
}

/// What every worker shares.
#[derive(Debug)]
struct Ctx {
    cfg: Config,
    kind: Kind,
    target: Arc<Target>,
    pool: Pool,
    plan: Plan,
    live: Live,
}

fn lock(r: &Mutex<Recorder>) -> MutexGuard<'_, Recorder> {
    // A worker that panicked holding the lock leaves counts that are still counts.
    r.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Runs the load as `cfg` says and returns the report.
pub async fn run(cfg: Config) -> Result<Report, RunError> {
    let stamps = Stamps {
        request: true,
        seq: cfg.verify.is_some(),
        run_id: cfg.verify.as_ref().map(|v| v.run_id.clone()),
        sums_only: cfg.verify.is_some(),
    };
    let built = Instant::now();
    let pool = Pool::build(&cfg.signals, &cfg.shape, &stamps, cfg.encoding, cfg.pool)?;
    let pool_build = built.elapsed();

    let endpoint = |message: String| RunError::Endpoint {
        authority: cfg.authority.clone(),
        message,
    };
    let addr = tokio::net::lookup_host(cfg.authority.as_str())
        .await
        .map_err(|e| endpoint(e.to_string()))?
        .next()
        .ok_or_else(|| endpoint("resolves to no address".into()))?;
    tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|e| endpoint(format!("connect {addr}: {e}")))?;
    let target = Target::new(&cfg, addr).map_err(|e| endpoint(e.to_string()))?;

    let kind = Kind::of(&cfg);
    let (tasks, streams) = if cfg.multiplexed() {
        (cfg.connections, cfg.streams)
    } else {
        (cfg.concurrency(), 1)
    };
    let start = Instant::now();
    let plan = Plan::new(
        start,
        cfg.warmup,
        cfg.limit,
        cfg.shape.records as u64,
        cfg.rate,
    );
    let ctx = Arc::new(Ctx {
        kind,
        target: Arc::new(target),
        pool,
        plan,
        live: Live::default(),
        cfg,
    });
    let cpu_at_start = process_cpu();
    let cpu_measured_from = Arc::new(Mutex::new(cpu_at_start));
    if !ctx.cfg.warmup.is_zero() {
        let slot = Arc::clone(&cpu_measured_from);
        let at = ctx.plan.warmup_end;
        tokio::spawn(async move {
            tokio::time::sleep_until(at.into()).await;
            *slot
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = process_cpu();
        });
    }

    let mut connections = JoinSet::new();
    for _ in 0..tasks {
        connections.spawn(connection(Arc::clone(&ctx), streams));
    }
    let mut progress = Progress::new(&ctx.cfg, &ctx.plan);
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.tick().await;
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    let mut interrupted = false;
    let mut total = Recorder::new();
    loop {
        tokio::select! {
            joined = connections.join_next() => match joined {
                Some(Ok(rec)) => total.merge(rec),
                Some(Err(e)) => total.error(ErrorKey::of(&Failure::Transport(format!("worker: {e}")))),
                None => break,
            },
            _ = tick.tick() => progress.tick(&ctx.live.snapshot(), &ctx.plan),
            _ = &mut ctrl_c, if !interrupted => {
                interrupted = true;
                ctx.plan.interrupt();
            }
        }
    }
    let end = Instant::now();
    progress.finish();
    let cpu_end = process_cpu();
    let cpu_from = *cpu_measured_from
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let cpu = match (cpu_from, cpu_end) {
        (Some(a), Some(b)) => Some(b.saturating_sub(a)),
        _ => None,
    };

    let verify = match &ctx.cfg.verify {
        None => None,
        Some(v) => {
            let ch = ClickHouse::new(v);
            let deadline = Instant::now() + v.timeout;
            let mut checks = Vec::new();
            let mut error = None;
            for signal in Signal::ALL {
                if !ctx.cfg.signals.contains(&signal) {
                    continue;
                }
                let acked = AckedSet::from_ranges(std::mem::take(&mut total.acked[signal.index()]));
                match ch.check(signal, &acked, deadline).await {
                    Ok(findings) => checks.push(SignalCheck {
                        signal,
                        table: table(signal).0,
                        findings,
                    }),
                    Err(e) => {
                        error = Some(e.to_string());
                        break;
                    }
                }
            }
            Some(VerifyOutcome {
                run_id: v.run_id.clone(),
                checks,
                error,
            })
        }
    };
    let facts = RunFacts {
        measured: end.saturating_duration_since(ctx.plan.warmup_end),
        interrupted,
        cpu,
        pool_requests: ctx.pool.templates.len(),
        pool_bytes: ctx.pool.bytes(),
        pool_build,
    };
    Ok(Report::new(&ctx.cfg, &total, &facts, verify))
}

/// A request a closing connection refused before sending it: sent again on the next
/// connection, at most [`MAX_RESENDS`] times.
#[derive(Clone, Copy, Debug)]
struct Refused {
    slot: Slot,
    /// When the first attempt started (latency counts from there).
    started: Instant,
    times: u32,
}

/// Times one request is offered to new connections before it counts as failed.
const MAX_RESENDS: u32 = 8;

/// The requests refused on one connection task's connections.
type Pending = Mutex<Vec<Refused>>;

/// One connection task: connect, run the workers, reconnect while the run goes on
/// (or refused requests wait).
async fn connection(ctx: Arc<Ctx>, streams: usize) -> Recorder {
    let rec = Arc::new(Mutex::new(Recorder::new()));
    let pending: Arc<Pending> = Arc::default();
    let target = Arc::clone(&ctx.target);
    let mut failing_since: Option<Instant> = None;
    let has_pending = |p: &Pending| !p.lock().unwrap_or_else(PoisonError::into_inner).is_empty();
    while !ctx.plan.interrupted() && (!ctx.plan.stopped() || has_pending(&pending)) {
        let handles = match client::connect(ctx.kind, &target, streams).await {
            Ok(h) => {
                failing_since = None;
                lock(&rec).connects += 1;
                h
            }
            Err(e) => {
                {
                    let mut r = lock(&rec);
                    r.connect_errors += 1;
                    r.error(ErrorKey::connect(&e));
                }
                let since = *failing_since.get_or_insert_with(Instant::now);
                if since.elapsed() >= ctx.cfg.timeout {
                    break;
                }
                tokio::time::sleep(RECONNECT_PAUSE).await;
                continue;
            }
        };
        let mut workers = JoinSet::new();
        for stream in handles {
            workers.spawn(worker(
                Arc::clone(&ctx),
                Arc::clone(&target),
                stream,
                Arc::clone(&rec),
                Arc::clone(&pending),
            ));
        }
        while workers.join_next().await.is_some() {}
    }
    // Requests no connection took: failed.
    let left = std::mem::take(&mut *pending.lock().unwrap_or_else(PoisonError::into_inner));
    let mut r = lock(&rec);
    for p in left {
        let t = ctx.pool.get(p.slot.index);
        let sent = Sent {
            slot: p.slot,
            signal: t.signal,
            records: t.records,
            seq_base: None,
            wire_bytes: 0,
            raw_bytes: 0,
            compress: Duration::ZERO,
            latency: p.started.elapsed(),
        };
        r.request(
            &sent,
            Err(&Failure::Closed("no connection took the request".into())),
        );
    }
    std::mem::take(&mut *r)
}

/// Sends requests on one stream until the plan ends or the connection breaks.
async fn worker(
    ctx: Arc<Ctx>,
    target: Arc<Target>,
    mut stream: Stream,
    rec: Arc<Mutex<Recorder>>,
    pending: Arc<Pending>,
) {
    let mut body = match BodyWriter::new(ctx.cfg.compression, ctx.kind == Kind::Grpc) {
        Ok(b) => b,
        Err(e) => {
            lock(&rec).error(ErrorKey::of(&Failure::Transport(e.to_string())));
            ctx.plan.interrupt();
            return;
        }
    };
    let verify = ctx.cfg.verify.is_some();
    loop {
        let refused = pending.lock().unwrap_or_else(PoisonError::into_inner).pop();
        let (slot, first_start, times) = match refused {
            Some(r) => (r.slot, Some(r.started), r.times),
            None => match ctx.plan.claim() {
                Some(slot) => (slot, None, 0),
                None => return,
            },
        };
        if let (Some(at), None) = (slot.intended, first_start) {
            tokio::time::sleep_until(at.into()).await;
            if ctx.plan.interrupted() {
                return;
            }
        }
        let t = ctx.pool.get(slot.index);
        let seq_base = verify.then(|| slot.index * t.records);
        let built = match body.build(t, slot.index, seq_base.unwrap_or(0)) {
            Ok(b) => b,
            Err(e) => {
                lock(&rec).error(ErrorKey::of(&Failure::Transport(e.to_string())));
                continue;
            }
        };
        let wire_bytes = built.bytes.len() as u64;
        let started = first_start.or(slot.intended).unwrap_or_else(Instant::now);
        let result = match tokio::time::timeout(
            ctx.cfg.timeout,
            stream.send(&target, t.signal, built.bytes),
        )
        .await
        {
            Ok(r) => r,
            Err(_) => Err(Failure::Timeout),
        };
        if let Err(Failure::Closed(_)) = &result
            && times < MAX_RESENDS
        {
            pending
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(Refused {
                    slot,
                    started,
                    times: times + 1,
                });
            return;
        }
        let latency = started.elapsed();
        ctx.live.add(result.is_ok(), t.records, wire_bytes);
        let sent = Sent {
            slot,
            signal: t.signal,
            records: t.records,
            seq_base,
            wire_bytes,
            raw_bytes: built.raw_len as u64,
            compress: built.compress,
            latency,
        };
        lock(&rec).request(&sent, result.as_ref().map(|_| ()));
        if let Err(f) = result {
            // An HTTP/1.1 connection whose request timed out is in an unknown state.
            if f.breaks_connection() || (f == Failure::Timeout && !ctx.cfg.multiplexed()) {
                return;
            }
        }
    }
}
