//! sluice's engine: configuration, shards, batching, acknowledgement and the
//! ClickHouse sink around the pure functions of the `wire` crate.
//!
//! # Layout
//!
//! | module | what it does |
//! |---|---|
//! In the order a record travels:
//!
//! | module | what it does |
//! |---|---|
//! | [`config`] | the TOML file and `SLUICE_…` environment, resolved and validated |
//! | [`run`] | `sluice run`: sinks, listeners, shards, shutdown |
//! | [`grpc`], [`http`] | OTLP/gRPC (on `h2`) and OTLP/HTTP (on `hyper`) transports |
//! | [`shard`] | one thread per core: admission, decode into the batch, wait for the ack |
//! | [`batch`] | a shard's column batches: seal, encode, compress |
//! | [`sink`] | the inserters: one INSERT per table per interval, acks on commit |
//! | [`clickhouse`] | where ClickHouse is and how to log in |
//! | [`log`] | plain log lines on stderr |
//! | [`schema`] | the ClickStack schema: DDL templates, rendering, `schema apply` |
//!
//! Planned: `admission` (byte budgets), `ack` modes and `wal`, `telemetry`.

pub mod batch;
pub mod clickhouse;
pub mod config;
pub mod grpc;
pub mod http;
pub mod log;
pub mod run;
pub mod schema;
pub mod shard;
pub mod sink;
