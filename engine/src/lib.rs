//! sluice's engine: configuration, shards, batching, acknowledgement and the
//! ClickHouse sink around the pure functions of the `wire` crate.
//!
//! # Layout
//!
//! | module | what it does |
//! |---|---|
//! | [`clickhouse`] | where ClickHouse is and how to log in; error classification |
//! | [`schema`] | the ClickStack schema: DDL templates, rendering, `schema apply` |
//!
//! Planned, in the order a record travels (see `ARCHITECTURE.md`): `config`,
//! `shard`, `batch`, `admission`, `ack`, `wal`, `sink::clickhouse`, `telemetry`.

pub mod clickhouse;
pub mod schema;
