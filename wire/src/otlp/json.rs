//! OTLP/JSON `ExportLogsServiceRequest` → the `otel_logs` / `hyperdx_sessions` columns,
//! `ExportTraceServiceRequest` → the `otel_traces` columns, and
//! `ExportMetricsServiceRequest` → the five `otel_metrics_*` tables' columns.
//!
//! OTLP/HTTP clients that post `application/json` (the JavaScript SDKs' HTTP
//! exporters, browsers, Vector, Fluent Bit) send the protobuf JSON mapping of the
//! request, with OTLP's rules (<https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding>):
//! lowerCamelCase field names, hex trace and span ids, 64-bit integers as numbers or
//! decimal strings, enums as numbers or names, base64 bytes. The rows are exactly
//! those [`decode_logs`](super::logs::decode_logs),
//! [`decode_traces`](super::traces::decode_traces) and
//! [`decode_metrics`](super::metrics::decode_metrics) write for the same message: the
//! row writers are shared ([`super::logs`]'s `write_record`, [`super::traces`]' span
//! writers, [`super::metrics`]' point and metric rows), only reading differs.
//!
//! # Request lifecycle
//!
//! [`decode_logs_json`] (and [`decode_traces_json`], [`decode_metrics_json`] alike)
//! runs serde_json once over the body, with seeds that write as they read (`read`):
//! each resource, scope and record row is written when its object closes. Fields come
//! in any order, so a record's body and attributes wait on a flat tape (`tape`) until
//! its object closes; the tape is reused record to record. (A span's attributes,
//! events and links need no wait: each goes to its own column arena as it closes; so
//! do a data point's attributes, exemplars and buckets. A metric's row is written
//! when the `Metric` closes, after its points.) A string
//! without escapes goes from the request straight to its column; one with escapes is
//! unescaped once onto the tape first. On any error the batch is rolled back, as for
//! protobuf.
//!
//! # Leniency
//!
//! As the OTel collector's unmarshalers (pdata `plog.JSONUnmarshaler`, and its
//! `ptrace` and `pmetric` siblings, on `pdata/internal/json.Iterator`):
//!
//! - field names in lowerCamelCase or the proto's snake_case; unknown keys, at any
//!   level, skipped (however deeply they nest);
//! - integers as JSON integers or decimal strings, enums as numbers or names, the
//!   forms of `scalar`'s table;
//! - `null` for a message (a list element too) is an empty message, `null` for a list
//!   an empty list (a `null` element of a list of numbers, `bucketCounts`, is refused);
//! - a repeated key: the last scalar wins, lists append, messages merge; of a `oneof`
//!   (a metric's data kind, a point's `asDouble` / `asInt`) the last field wins, and
//!   a metric's kind twice merges, as protobuf merges it;
//! - anything after the request object is ignored.
//!
//! Refused, as pdata refuses them: wrong JSON types, ids that are not empty or 32 / 16
//! hex digits, integers out of their type's range or with a fraction or exponent,
//! enum strings (`SeverityNumber`, `SpanKind`, `AggregationTemporality`, …) that are
//! not names, invalid base64.
//!
//! Where sluice differs from pdata, on purpose:
//!
//! - `null` for a scalar field is the field left out (protojson's rule): pdata refuses
//!   `null` for numbers, booleans, bytes and ids, and reads `{"stringValue": null}` as
//!   `""` where this reads an empty `AnyValue`;
//! - `bytesValue` may be URL-safe or unpadded base64 (protojson accepts both; pdata
//!   takes standard padded base64 only);
//! - invalid UTF-8 is refused, as the protobuf path refuses it (pdata passes it on);
//! - `AnyValue`s nest at most [`MAX_DEPTH`](super::value::MAX_DEPTH) deep, as in the
//!   protobuf path (pdata has no limit). The limit is checked while reading, so an
//!   array or kvlist too deep is refused even when a later field of its `AnyValue`
//!   replaces it. serde_json's own recursion limit is off: the reader bounds its
//!   recursion itself, and serde_json skips unknown values without recursing.
//!
//! # Layout
//!
//! | module | what |
//! |---|---|
//! | `read` | the reading machinery: serde seeds over the signal's batch ([`LogsBatch`], [`TracesBatch`], [`MetricsBatch`]), field paths |
//! | `request` | `Export*ServiceRequest`, `Resource*`, `Scope*` for every signal (`request::Signal`): rows written as objects close |
//! | `logs` | `LogRecord`, and the logs request's field names |
//! | `traces` | `Span`, `Event`, `Link`, `Status`, and the traces request's field names |
//! | `metrics` | `Metric` and its data kinds, and the metrics request's field names |
//! | `metrics/point` | the four data point messages, `Exemplar`, `Buckets`, `ValueAtQuantile` |
//! | `any_value` | `KeyValue` and `AnyValue` onto the tape |
//! | `scalar` | numbers, ids, bytes, strings in their JSON spellings |
//! | `tape` | the current record's values, and their [`ValueView`](super::value::ValueView) |
//! | `error` | [`JsonError`]: kind, field path, line and column |

mod any_value;
mod error;
mod logs;
mod metrics;
mod read;
mod request;
mod scalar;
mod tape;
mod traces;

pub use error::{JsonError, JsonErrorKind};

use crate::columns::logs::LogsBatch;
use crate::columns::metrics::MetricsBatch;
use crate::columns::traces::TracesBatch;
use crate::otlp::logs::{LogsDecoded, LogsOptions};
use crate::otlp::metrics::MetricsDecoded;
use crate::otlp::traces::TracesDecoded;

/// Decodes one OTLP/JSON `ExportLogsServiceRequest` into `out`; on error `out` is unchanged.
pub fn decode_logs_json(
    request: &[u8],
    out: &mut LogsBatch,
    opts: &LogsOptions,
) -> Result<LogsDecoded, JsonError> {
    let mark = out.mark();
    let before = (out.logs.len(), out.sessions.len());
    let mut ctx = read::Ctx::new(read::Out::Logs(out, opts));
    let mut de = serde_json::Deserializer::from_slice(request);
    // The reader bounds its own recursion (see the module doc).
    de.disable_recursion_limit();
    match request::request::<logs::Logs>(&mut ctx, &mut de) {
        Ok(()) => Ok(LogsDecoded::since(ctx.out.logs().0, before)),
        Err(e) => {
            let error = ctx.error(e);
            ctx.out.logs().0.rollback(mark);
            Err(error)
        }
    }
}

/// Decodes one OTLP/JSON `ExportTraceServiceRequest` into `out`; on error `out` is
/// unchanged. The rows are those [`decode_traces`](super::traces::decode_traces)
/// writes for the same message.
pub fn decode_traces_json(
    request: &[u8],
    out: &mut TracesBatch,
) -> Result<TracesDecoded, JsonError> {
    let mark = out.mark();
    let before = out.rows();
    let mut ctx = read::Ctx::new(read::Out::Traces(out));
    let mut de = serde_json::Deserializer::from_slice(request);
    // The reader bounds its own recursion (see the module doc).
    de.disable_recursion_limit();
    match request::request::<traces::Traces>(&mut ctx, &mut de) {
        Ok(()) => Ok(TracesDecoded {
            spans: ctx.out.traces().rows() - before,
        }),
        Err(e) => {
            let error = ctx.error(e);
            ctx.out.traces().rollback(mark);
            Err(error)
        }
    }
}

/// Decodes one OTLP/JSON `ExportMetricsServiceRequest` into `out`; on error `out` is
/// unchanged. The rows are those [`decode_metrics`](super::metrics::decode_metrics)
/// writes for the same message.
pub fn decode_metrics_json(
    request: &[u8],
    out: &mut MetricsBatch,
) -> Result<MetricsDecoded, JsonError> {
    let mark = out.mark();
    let mut ctx = read::Ctx::new(read::Out::Metrics(out, 0));
    let mut de = serde_json::Deserializer::from_slice(request);
    // The reader bounds its own recursion (see the module doc).
    de.disable_recursion_limit();
    match request::request::<metrics::Metrics>(&mut ctx, &mut de) {
        Ok(()) => {
            let (out, skipped) = ctx.out.metrics_and_skipped();
            let points = out.points();
            Ok(MetricsDecoded {
                points: core::array::from_fn(|t| points[t] - mark.points[t]),
                skipped: *skipped,
            })
        }
        Err(e) => {
            let error = ctx.error(e);
            ctx.out.metrics().rollback(mark);
            Err(error)
        }
    }
}

#[cfg(test)]
mod tests;
