//! The ClickStack schema: DDL templates, rendering, and `sluice schema apply`.
//!
//! # What is created
//!
//! The tables ClickStack's collector creates (`wire::tables::Table`), plus the
//! 15-minute key/value rollup tables and their materialized views that HyperDX reads.
//! The templates in `sql/` are transcribed from HyperDX's seed schema; each file's
//! first line names its source and any change. Their column lists equal
//! `shared/schema/clickstack-columns.tsv` exactly (an integration test checks this
//! against a real ClickHouse engine).
//!
//! # Rendering
//!
//! Templates use plain placeholders, substituted as text:
//!
//! | placeholder | becomes |
//! |---|---|
//! | `${DATABASE}` | the database, back-quoted |
//! | `${T_<default name>}` | the configured name of that table or view, back-quoted |
//! | `${ON_CLUSTER}` | ` ON CLUSTER `name`` or nothing |
//! | `${TTL}` | the TTL interval of the table's signal, e.g. `toIntervalDay(30)` |
//!
//! Each file holds one or more statements, each ending in `;` at the end of a line.
//!
//! # Index variants
//!
//! ClickHouse 26.2 made the `text` index generally available; HyperDX's newest seed
//! uses it for `otel_logs` and `otel_traces`, and keeps a `_compat` seed with
//! bloom-filter indexes for older servers. `schema apply` asks the server its
//! version and picks the variant ([`IndexVariant::for_version`]).
//!
//! # Invariants
//!
//! - Every statement is `CREATE … IF NOT EXISTS`: applying twice changes nothing.
//! - Every table sluice inserts into sets `non_replicated_deduplication_window`, so
//!   a retried INSERT with the same `insert_deduplication_token` is not stored twice.

mod apply;
mod options;
mod templates;

pub use apply::{ApplyReport, apply};
pub use options::{IndexChoice, SchemaOptions, Ttl};
pub use templates::{IndexVariant, ServerVersion, Statement, render};

/// Why the schema could not be rendered or applied.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    #[error("invalid {what} {value:?}: {why}")]
    InvalidOption {
        what: &'static str,
        value: String,
        why: &'static str,
    },
    #[error("unknown table {0:?} in --table (known: {1})")]
    UnknownTable(String, String),
    #[error("cannot reach ClickHouse at {url}: {reason}")]
    Connect { url: String, reason: String },
    #[error("ClickHouse at {url} answered with an error: {reason}")]
    Answered { url: String, reason: String },
    #[error("ClickHouse at {url} did not answer within {secs} s")]
    Timeout { url: String, secs: u64 },
    #[error("ClickHouse answered an unreadable version {0:?}")]
    Version(String),
    #[error("ClickHouse refused the DDL for {object}: {reason}")]
    Refused { object: String, reason: String },
}
