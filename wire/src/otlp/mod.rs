//! OTLP decoding: protobuf (and JSON) requests straight into column buffers.
//!
//! | module | what |
//! |---|---|
//! | [`clickstack`] | ClickStack's log processing: JSON bodies merged and flattened, severity inferred |
//! | [`logs`] | `ExportLogsServiceRequest` protobuf → `otel_logs` / `hyperdx_sessions` columns |
//! | [`value`] | `AnyValue` as the OTel collector stringifies it (`pcommon.Value.AsString`) |

pub mod clickstack;
pub mod json;
pub mod logs;
pub mod value;
