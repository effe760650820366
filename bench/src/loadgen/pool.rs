//! The request pool: requests generated and encoded once, then re-sent with a fresh
//! identity patched into their bytes.
//!
//! # Lifecycle
//!
//! 1. [`Pool::build`] generates `--pool` requests ([`crate::generate`]) with stamp
//!    placeholders, encodes each (protobuf with prost, or OTLP/JSON with
//!    opentelemetry-proto's `with-serde`), and [`Template::new`] finds every
//!    placeholder's offset and zeroes it.
//! 2. Each send copies a template's bytes and [`Template::patch`] overwrites the
//!    16-digit stamps: the request's number on every resource, and with `--verify`
//!    each record's sequence number. Nothing else is touched, so the cost of a send
//!    is one copy of the request plus 16 bytes per record, whatever the shape.
//!
//! # Invariants
//!
//! - A template has exactly one request site per resource and, with `--verify`, one
//!   sequence site per record, in record order; [`Template::new`] refuses bytes with
//!   any other count.
//! - Request `i` carries records `i × records_per_request ..` (each template has exactly
//!   `records_per_request` records), so sequence numbers are unique across the run.

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::metrics::v1::metric::Data;
use prost::Message;

use crate::generate::{self, PLACEHOLDER_PREFIX, STAMP_MAX, STAMP_WIDTH, Shape, StampKind, Stamps};

use super::cli::{Encoding, Signal};

/// Why a pool could not be built.
#[derive(Debug, thiserror::Error)]
pub enum PoolError {
    #[error("request {entry}: found {found} {kind:?} placeholders, expected {expected}")]
    Placeholders {
        entry: usize,
        kind: StampKind,
        found: usize,
        expected: usize,
    },
    #[error("request {entry}: JSON encoding failed: {source}")]
    Json {
        entry: usize,
        source: serde_json::Error,
    },
}

/// One encoded request and where its stamps are.
#[derive(Debug, Clone)]
pub struct Template {
    pub signal: Signal,
    /// The encoded request, placeholders zeroed.
    pub bytes: Vec<u8>,
    /// Records in the request.
    pub records: u64,
    request_sites: Vec<usize>,
    seq_sites: Vec<usize>,
}

impl Template {
    /// Finds the placeholders in `bytes` (see [`crate::generate`]): `resources` request
    /// sites and `seqs` sequence sites, each kind numbered from 0 in order.
    pub fn new(
        signal: Signal,
        mut bytes: Vec<u8>,
        records: u64,
        resources: usize,
        seqs: usize,
        entry: usize,
    ) -> Result<Template, PoolError> {
        let mut request_sites = Vec::with_capacity(resources);
        let mut seq_sites = Vec::with_capacity(seqs);
        let mut at = 0;
        while at + STAMP_WIDTH <= bytes.len() {
            let Some(found) = find(&bytes[at..], PLACEHOLDER_PREFIX) else {
                break;
            };
            let site = at + found;
            at = site + 1;
            let Some(token) = bytes.get(site..site + STAMP_WIDTH) else {
                break;
            };
            let letter = token[PLACEHOLDER_PREFIX.len()];
            let sites = if letter == StampKind::Request.letter() {
                &mut request_sites
            } else if letter == StampKind::Seq.letter() {
                &mut seq_sites
            } else {
                continue;
            };
            // The ordinal must be the next one: anything else is not a placeholder.
            if parse_digits(&token[PLACEHOLDER_PREFIX.len() + 1..]) != Some(sites.len() as u64) {
                continue;
            }
            sites.push(site);
            write_stamp(&mut bytes[site..site + STAMP_WIDTH], 0);
            at = site + STAMP_WIDTH;
        }
        for (kind, sites, expected) in [
            (StampKind::Request, &request_sites, resources),
            (StampKind::Seq, &seq_sites, seqs),
        ] {
            if sites.len() != expected {
                return Err(PoolError::Placeholders {
                    entry,
                    kind,
                    found: sites.len(),
                    expected,
                });
            }
        }
        Ok(Template {
            signal,
            bytes,
            records,
            request_sites,
            seq_sites,
        })
    }

    /// Writes the request number and the records' sequence numbers (`seq_base`,
    /// `seq_base + 1`, …) into `dst`, a copy of [`Template::bytes`].
    pub fn patch(&self, dst: &mut [u8], request: u64, seq_base: u64) {
        debug_assert_eq!(dst.len(), self.bytes.len());
        for &site in &self.request_sites {
            write_stamp(&mut dst[site..site + STAMP_WIDTH], request);
        }
        for (i, &site) in self.seq_sites.iter().enumerate() {
            write_stamp(&mut dst[site..site + STAMP_WIDTH], seq_base + i as u64);
        }
    }

    /// Whether records carry sequence numbers.
    pub fn has_seqs(&self) -> bool {
        !self.seq_sites.is_empty()
    }
}

/// The templates, one per pool entry; entry `i` is sent as requests `i`, `i + len`, ….
#[derive(Debug)]
pub struct Pool {
    pub templates: Vec<Template>,
}

impl Pool {
    /// Generates and encodes `size` requests of `shape`, the signals in turn.
    pub fn build(
        signals: &[Signal],
        shape: &Shape,
        stamps: &Stamps,
        encoding: Encoding,
        size: usize,
    ) -> Result<Pool, PoolError> {
        let seqs = if stamps.seq { shape.records } else { 0 };
        let resources = if stamps.request { shape.resources } else { 0 };
        let templates = (0..size)
            .map(|entry| {
                let signal = signals[entry % signals.len()];
                let variant = entry as u64;
                let bytes = match signal {
                    Signal::Logs => encode(&generate::logs(shape, stamps, variant), encoding),
                    Signal::Traces => encode(&generate::traces(shape, stamps, variant), encoding),
                    Signal::Metrics => encode(&generate::metrics(shape, stamps, variant), encoding),
                }
                .map_err(|source| PoolError::Json { entry, source })?;
                Template::new(signal, bytes, shape.records as u64, resources, seqs, entry)
            })
            .collect::<Result<_, _>>()?;
        Ok(Pool { templates })
    }

    /// Encoded bytes of all templates.
    pub fn bytes(&self) -> usize {
        self.templates.iter().map(|t| t.bytes.len()).sum()
    }

    /// The template of request `i`.
    pub fn get(&self, i: u64) -> &Template {
        &self.templates[(i % self.templates.len() as u64) as usize]
    }
}

fn encode<M: Message + serde::Serialize>(
    m: &M,
    encoding: Encoding,
) -> Result<Vec<u8>, serde_json::Error> {
    match encoding {
        Encoding::Protobuf => Ok(m.encode_to_vec()),
        Encoding::Json => serde_json::to_vec(m),
    }
}

/// Data points in a metrics request (its records).
pub fn count_points(m: &ExportMetricsServiceRequest) -> usize {
    m.resource_metrics
        .iter()
        .flat_map(|r| &r.scope_metrics)
        .flat_map(|s| &s.metrics)
        .map(|m| match &m.data {
            Some(Data::Gauge(g)) => g.data_points.len(),
            Some(Data::Sum(s)) => s.data_points.len(),
            Some(Data::Histogram(h)) => h.data_points.len(),
            Some(Data::ExponentialHistogram(h)) => h.data_points.len(),
            Some(Data::Summary(s)) => s.data_points.len(),
            None => 0,
        })
        .sum()
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// `v` as [`STAMP_WIDTH`] zero-padded decimal digits. `v` ≤ [`STAMP_MAX`]; larger
/// values wrap (the configuration refuses runs that could reach them).
pub fn write_stamp(dst: &mut [u8], mut v: u64) {
    debug_assert!(v <= STAMP_MAX);
    for d in dst.iter_mut().rev() {
        *d = b'0' + (v % 10) as u8;
        v /= 10;
    }
}

/// Reads ASCII decimal digits.
pub fn parse_digits(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > 19 || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(s.iter().fold(0, |n, &d| n * 10 + u64::from(d - b'0')))
}

#[cfg(test)]
mod tests;
