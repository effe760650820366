//! One INSERT, from first attempt to an outcome.
//!
//! [`deliver`] sends the INSERT and retries it, same bytes and token, after each
//! transient or structural failure ([`attempt`]). When ClickHouse refuses it as data,
//! the rows it refuses are found by bisection ([`isolate`]): the INSERT's RowBinary
//! is split into its rows ([`wire::rowbinary::read::row_ends`], from the table's
//! column types), each half is sent on its own with a token derived from the
//! INSERT's (`<token>-rows-<first>-<end>`, so a retry after a crash deduplicates
//! too), and a half that is refused again is split again, down to single rows. The
//! rows ClickHouse refuses go to the dead-letter directory with its error; the rest
//! are delivered. At most [`MAX_ISOLATING_INSERTS`] INSERTs are spent on one refused
//! INSERT (each makes a part): what is still refused after that is dead-lettered in
//! the ranges it was left in.

use std::time::Instant;

use bytes::Bytes;

use super::clickhouse::{self, Parts};
use super::error::{Class, InsertError};
use super::inserter::Settings;
use super::retry::Backoff;
use crate::ack::AckMode;

/// INSERTs one refused INSERT may take to isolate the rows ClickHouse refuses.
pub const MAX_ISOLATING_INSERTS: usize = 64;

/// What every INSERT of one table is sent with.
#[derive(Clone, Copy, Debug)]
pub struct Table<'a> {
    pub settings: &'a Settings,
    pub client: &'a clickhouse::Client,
    pub statement: &'a str,
}

/// Sends an INSERT until it commits, its refused rows are dead-lettered, or (`ack =
/// "clickhouse"`) the retry window passes.
pub async fn deliver(
    t: Table<'_>,
    token: &str,
    parts: &[Bytes],
    rows: usize,
) -> Result<(), InsertError> {
    match attempt(t, token, parts, rows).await {
        Err(e) if e.class == Class::Data => {
            isolate(t, token, parts, rows, e).await;
            Ok(())
        }
        other => other,
    }
}

/// Sends an INSERT until it commits or ClickHouse refuses it as data; transient and
/// structural failures are retried after a backoff (with `ack = "clickhouse"` only
/// for `sink.retry_window_ms`).
async fn attempt(
    t: Table<'_>,
    token: &str,
    parts: &[Bytes],
    rows: usize,
) -> Result<(), InsertError> {
    let Table {
        settings,
        client,
        statement,
    } = t;
    let table = &settings.target.table;
    let metrics = crate::telemetry::get();
    let label = metrics.table(table);
    let mut backoff = Backoff::default();
    let started = Instant::now();
    let mut attempts = 0u32;
    let mut paused = false;
    let unpause = |paused: bool| {
        if paused {
            metrics.sink_paused.get_or_create(&label).set(0);
        }
    };
    loop {
        attempts += 1;
        let body = Parts::new(parts.iter().cloned());
        let err = match clickhouse::insert(client, &settings.target, statement, token, body).await {
            Ok(()) => {
                metrics
                    .inserted_rows
                    .get_or_create(&label)
                    .inc_by(rows as u64);
                unpause(paused);
                if attempts > 1 {
                    crate::log::info(format_args!(
                        "{table}: inserted {rows} rows after {attempts} attempts ({:.1} s)",
                        started.elapsed().as_secs_f64()
                    ));
                }
                return Ok(());
            }
            Err(e) => e,
        };
        metrics
            .insert_failures
            .get_or_create(&crate::telemetry::FailureLabels {
                table: table.clone(),
                class: err.class.name(),
            })
            .inc();
        if err.class == Class::Data {
            unpause(paused);
            return Err(err);
        }
        if settings.ack == AckMode::ClickHouse && started.elapsed() >= settings.retry_window {
            unpause(paused);
            crate::log::warn(format_args!(
                "{table}: {err}; gave up after {attempts} attempts: {rows} rows' requests are told to retry"
            ));
            return Err(err);
        }
        let delay = backoff.delay(err.class);
        if err.class == Class::Structural && !paused {
            paused = true;
            metrics.sink_paused.get_or_create(&label).set(1);
            crate::log::warn(format_args!(
                "{table}: sink paused: {err}; holding {rows} rows, probing every {:?} until it is fixed",
                super::retry::STRUCTURAL_PROBE
            ));
        } else if attempts == 1 || attempts.is_power_of_two() {
            let maybe = if err.ambiguous {
                " (it may have committed: the retry is deduplicated)"
            } else {
                ""
            };
            crate::log::warn(format_args!(
                "{table}: {err}{maybe}; attempt {attempts}, retrying in {} ms",
                delay.as_millis()
            ));
        }
        tokio::time::sleep(delay).await;
    }
}

/// Finds the rows ClickHouse refuses in an INSERT it refused as data (see the module
/// doc), delivers the others and dead-letters those.
async fn isolate(t: Table<'_>, token: &str, parts: &[Bytes], rows: usize, refused: InsertError) {
    let settings = t.settings;
    let table = &settings.target.table;
    let compressed = settings.target.compressed;
    // The INSERT's RowBinary, and where its rows end.
    let mut raw = Vec::new();
    let mut split = Ok(());
    for p in parts {
        if compressed {
            if let Err(e) = wire::compress::decompress_blocks(p, &mut raw) {
                split = Err(e.to_string());
                break;
            }
        } else {
            raw.extend_from_slice(p);
        }
    }
    let ends = split.and_then(|()| {
        wire::rowbinary::read::row_ends(&settings.target.types, &raw).map_err(|e| e.to_string())
    });
    let ends = match ends {
        Ok(ends) if ends.len() == rows => ends,
        other => {
            let why = match other {
                Ok(ends) => format!("found {} rows, expected {rows}", ends.len()),
                Err(e) => e,
            };
            crate::log::warn(format_args!(
                "{table}: cannot split a refused INSERT into rows ({why}): dead-lettering all {rows}"
            ));
            dead_letter(t, token, &refused, parts, rows).await;
            return;
        }
    };
    let row = |i: usize| if i == 0 { 0 } else { ends[i - 1] };
    let mut encoder = settings.codec.map(wire::compress::BlockEncoder::new);
    let mut stack = vec![(0, rows, refused)];
    let (mut inserts, mut dead) = (0, 0);
    while let Some((lo, hi, err)) = stack.pop() {
        let body = |a: usize, b: usize, encoder: &mut Option<wire::compress::BlockEncoder>| {
            let slice = &raw[row(a)..row(b)];
            match encoder {
                Some(enc) => {
                    let mut out = Vec::with_capacity(slice.len() / 4 + 64);
                    enc.encode(slice, &mut out);
                    Bytes::from(out)
                }
                None => Bytes::copy_from_slice(slice),
            }
        };
        if hi - lo == 1 || inserts + 2 > MAX_ISOLATING_INSERTS {
            let tok = format!("{token}-rows-{lo}-{hi}");
            let part = body(lo, hi, &mut encoder);
            dead_letter(t, &tok, &err, &[part], hi - lo).await;
            dead += hi - lo;
            continue;
        }
        let mid = lo + (hi - lo) / 2;
        for (a, b) in [(lo, mid), (mid, hi)] {
            inserts += 1;
            let tok = format!("{token}-rows-{a}-{b}");
            let part = body(a, b, &mut encoder);
            if let Err(e) = attempt(t, &tok, &[part], b - a).await {
                // Transient failures past the clickhouse-mode window count as refused
                // here too: the rows are kept, not dropped.
                stack.push((a, b, e));
            }
        }
    }
    crate::log::warn(format_args!(
        "{table}: ClickHouse refused {dead} of {rows} rows as data; those are in {} \
         ({} rows dead-lettered since start), the other {} are inserted ({inserts} INSERTs to find them)",
        settings.dead_letter.dir().display(),
        settings.dead_letter.rows(),
        rows - dead
    ));
}

/// Writes rows to the dead-letter directory, retrying until it can (they are never
/// dropped).
async fn dead_letter(t: Table<'_>, token: &str, err: &InsertError, parts: &[Bytes], rows: usize) {
    let (settings, statement, compressed) = (t.settings, t.statement, t.settings.target.compressed);
    let table = &settings.target.table;
    let mut backoff = Backoff::default();
    loop {
        match settings
            .dead_letter
            .write(table, statement, token, err, parts, rows, compressed)
        {
            Ok(_) => {
                let t = crate::telemetry::get();
                t.dead_letter_rows
                    .get_or_create(&t.table(table))
                    .inc_by(rows as u64);
                return;
            }
            Err(e) => {
                crate::log::warn(format_args!(
                    "{table}: cannot write {rows} refused rows to {} ({e}): holding them",
                    settings.dead_letter.dir().display()
                ));
                tokio::time::sleep(backoff.delay(Class::Structural)).await;
            }
        }
    }
}
