//! Shared code of `sluice-loadgen` and the criterion benches: the payloads.
//!
//! Payloads are built with the `opentelemetry-proto` (prost) types, the reference
//! encoder, so every bench decodes bytes a real exporter could have sent.

pub mod payload;
