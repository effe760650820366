//! `sluice-loadgen`, the OTLP load generator, and the payloads of the criterion
//! benches.
//!
//! # Layout
//!
//! | module | what |
//! |---|---|
//! | [`payload`] | the fixed requests the criterion benches decode (`benches/`) |
//! | [`generate`] | requests of any shape (records, resources, scopes, attributes, body size, cardinality, seed) |
//! | [`loadgen`] | the load generator behind `src/bin/loadgen.rs` |
//! | [`discard`] | `sluice-discard` (`src/bin/discard.rs`): a ClickHouse endpoint that drops INSERTs and forwards the rest, for benchmarks |
//!
//! Payloads are built with the `opentelemetry-proto` (prost) types, the reference
//! encoder, so every bench and every load test sends bytes a real exporter could have
//! sent.

pub mod discard;
pub mod generate;
pub mod loadgen;
pub mod payload;
