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
//!
//! Payloads are built with the `opentelemetry-proto` (prost) types, the reference
//! encoder, so every bench and every load test sends bytes a real exporter could have
//! sent.

pub mod generate;
pub mod loadgen;
pub mod payload;
