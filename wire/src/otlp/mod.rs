//! OTLP decoding: protobuf (and JSON) requests straight into column buffers.
//!
//! | module | what |
//! |---|---|
//! | [`clickstack`] | ClickStack's log processing: JSON bodies merged and flattened, severity inferred |
//! | `common` | `Resource`, `InstrumentationScope` and ids: the rows every signal shares |
//! | [`json`] | OTLP/JSON → the same columns as the protobuf decoders |
//! | [`logs`] | `ExportLogsServiceRequest` protobuf → `otel_logs` / `hyperdx_sessions` columns |
//! | [`metrics`] | `ExportMetricsServiceRequest` protobuf → the five `otel_metrics_*` tables' columns |
//! | [`traces`] | `ExportTraceServiceRequest` protobuf → `otel_traces` columns |
//! | [`value`] | `AnyValue` as the OTel collector stringifies it (`pcommon.Value.AsString`) |
//! | `reference` | tests and fuzzing only: the rows a prost-read request must decode to, a Go model of `AsString` |
//! | `testgen` | tests only: prost strategies for OTLP messages, damage to encoded ones |

pub mod clickstack;
pub(crate) mod common;
pub mod json;
pub mod logs;
pub mod metrics;
#[cfg(any(test, fuzzing))]
pub(crate) mod reference;
#[cfg(test)]
pub(crate) mod testgen;
pub mod traces;
pub mod value;
