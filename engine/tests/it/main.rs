//! sluice's integration tests: the `sluice` binary and the engine against a real
//! ClickHouse engine.
//!
//! They need a ClickHouse server named by `CLICKHOUSE_URL`. `scripts/test` starts the
//! local one (`scripts/clickhouse`, chDB behind ClickHouse's HTTP interface) and sets
//! it; to run them by hand:
//!
//! ```sh
//! scripts/clickhouse start --port 0 && export CLICKHOUSE_URL=$(scripts/clickhouse url)
//! cargo test -p sluice-engine --test it
//! ```

mod cli;
mod gateway;
mod ingest;
mod metrics;
mod schema;
mod sink;
mod support;
mod telemetry;
mod traces;
