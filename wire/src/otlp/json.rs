//! OTLP/JSON requests into columns (being written: see the logs issue).

use crate::columns::logs::LogsBatch;
use crate::otlp::logs::{LogsDecoded, LogsOptions};

/// Why an OTLP/JSON request was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError(pub String);

impl core::fmt::Display for JsonError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for JsonError {}

/// Decodes one OTLP/JSON `ExportLogsServiceRequest` into `out`; on error `out` is unchanged.
pub fn decode_logs_json(
    _request: &[u8],
    _out: &mut LogsBatch,
    _opts: &LogsOptions,
) -> Result<LogsDecoded, JsonError> {
    Err(JsonError("OTLP/JSON logs are not supported yet".into()))
}
