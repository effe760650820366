//! sluice's engine: configuration, shards, batching, acknowledgement and the
//! ClickHouse sink around the pure functions of the `wire` crate.
//!
//! # Layout
//!
//! In the order a record travels:
//!
//! | module | what it does |
//! |---|---|
//! | [`config`] | the TOML file and `SLUICE_…` environment, resolved and validated |
//! | [`run`] | `sluice run`: sinks, listeners, shards, shutdown |
//! | [`grpc`], [`http`] | OTLP/gRPC (on `h2`) and OTLP/HTTP (on `hyper`) transports |
//! | [`shard`] | one thread per core: admission, decode into the batch, answer per the ack mode |
//! | [`admission`] | a shard's byte budget: wait briefly, then refuse with retry information |
//! | [`ack`] | the ack modes (`clickhouse`, `wal`, `memory`) and what each promises |
//! | [`batch`] | a shard's column batches: decode, seal, encode, compress |
//! | [`wal`] | the write-ahead log: shard request logs, table outboxes, recovery on start |
//! | [`sink`] | the inserters: one INSERT per table per interval, retries, dead letters |
//! | [`clickhouse`] | where ClickHouse is and how to log in |
//! | [`log`] | plain log lines on stderr |
//! | [`schema`] | the ClickStack schema: DDL templates, rendering, `schema apply` |
//! | [`telemetry`] | self-metrics (`/metrics` on :8888) and health (:13133) |

pub mod ack;
pub mod admission;
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
pub mod telemetry;
pub mod wal;
