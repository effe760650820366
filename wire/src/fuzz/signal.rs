//! One check per wire format, the same for every signal: the [`Signal`] trait holds
//! what differs (batch, decoders, reference, seed), [`protobuf`] and [`json`] what
//! does not.
//!
//! For an input, with ClickStack processing off (the raw mapping):
//!
//! 1. the reference reads it: prost for protobuf, opentelemetry-proto's serde reader
//!    for OTLP/JSON;
//! 2. sluice decodes it into a batch that already holds a request (the seed), within
//!    the allocation bound ([`super::ALLOC_PER_INPUT_BYTE`]);
//! 3. if sluice accepts: the batch's columns agree with each other, the records per
//!    table are the reference's, every cell of every new row is the reference
//!    mapping's (`otlp::reference`, but for the documented divergences), and every
//!    table encodes to RowBinary that reads back as the reference says
//!    (`otlp::reference::stored`);
//! 4. if sluice refuses: the batch is exactly as before, and the reference refuses
//!    too, or the input breaks one of sluice's documented limits.
//!
//! Then, for logs, the same input with ClickStack processing on: no panic, a
//! consistent batch that encodes, or a refusal that leaves the batch as it was.

use std::fmt::Debug;

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, any_value::Value};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::metrics::v1::{
    Gauge, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, metric::Data, number_data_point,
};
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use prost::Message;

use super::alloc;
use crate::columns::logs::LogsBatch;
use crate::columns::metrics::MetricsBatch;
use crate::columns::traces::TracesBatch;
use crate::otlp::json::{JsonErrorKind, decode_logs_json, decode_metrics_json, decode_traces_json};
use crate::otlp::logs::{LogsOptions, decode_logs};
use crate::otlp::metrics::decode_metrics;
use crate::otlp::reference::{self, divergence, json_reader};
use crate::otlp::traces::decode_traces;
use crate::proto::{DecodeError, ErrorKind};

/// Why sluice refused an input: whether for one of its documented limits, and the
/// error as text.
#[derive(Debug)]
pub(super) struct Refusal {
    limit: bool,
    message: String,
}

impl From<DecodeError> for Refusal {
    fn from(e: DecodeError) -> Refusal {
        Refusal {
            // Ids of the wrong length (pdata refuses them too), values nested deeper
            // than `value::MAX_DEPTH`.
            limit: matches!(e.kind, ErrorKind::BadLength { .. } | ErrorKind::TooDeep),
            message: e.to_string(),
        }
    }
}

impl From<crate::otlp::json::JsonError> for Refusal {
    fn from(e: crate::otlp::json::JsonError) -> Refusal {
        Refusal {
            limit: matches!(
                e.kind(),
                JsonErrorKind::BadId { .. } | JsonErrorKind::TooDeep
            ),
            message: e.to_string(),
        }
    }
}

/// Records added per table (and, for metrics, the metrics skipped).
pub(super) type Counts = Vec<usize>;

/// A signal's decoder of one format; `bool`: ClickStack processing on.
type Decode<B> = fn(&[u8], &mut B, bool) -> Result<Counts, Refusal>;

/// What differs between the signals.
pub(super) trait Signal {
    /// The request, as opentelemetry-proto types (prost and serde).
    type Request: Message + Default + serde::de::DeserializeOwned + serde::Serialize;
    type Batch: Debug;
    /// What a request must add to a batch (the reference mapping's rows).
    type Want;

    /// A batch holding one small request already.
    fn seed() -> Self::Batch;
    fn decode(data: &[u8], b: &mut Self::Batch, processing: bool) -> Result<Counts, Refusal>;
    fn decode_json(data: &[u8], b: &mut Self::Batch, processing: bool) -> Result<Counts, Refusal>;
    /// The reference's rows for `r`, added to `b` as it is now.
    fn expected(r: &Self::Request, b: &Self::Batch) -> Self::Want;
    fn counts(want: &Self::Want) -> Counts;
    fn check(b: &Self::Batch, want: &Self::Want) -> Result<(), String>;
    fn consistent(b: &Self::Batch) -> Result<(), String>;
    /// Every table of `b` encoded and read back, against `want` for the new rows.
    fn round_trip(b: &Self::Batch, want: Option<&Self::Want>) -> Result<(), String>;
    /// Whether the protobuf `data` holds one of the documented divergences.
    fn divergent(data: &[u8]) -> bool;
    /// Whether what the serde reader made of an OTLP/JSON request can be trusted.
    fn serde_read_whole(_: &Self::Request) -> bool {
        true
    }
    /// Whether the signal has processing to run (logs: ClickStack's).
    const PROCESSING: bool = false;
}

fn ok(result: Result<(), String>, data: &[u8]) {
    if let Err(why) = result {
        panic!("{why}\n  input: {:?}", String::from_utf8_lossy(data));
    }
}

/// Decodes `data` with `decode` into `S::seed()` and checks it against `want`.
fn run<S: Signal>(
    data: &[u8],
    decode: Decode<S::Batch>,
    reference: Option<&S::Request>,
    divergent: bool,
) {
    let mut batch = S::seed();
    let before = format!("{batch:?}");
    let want = reference.map(|r| S::expected(r, &batch));
    let (decoded, peak) = alloc::peak_during(|| decode(data, &mut batch, false));
    super::within_alloc_bound(peak, data.len());
    match decoded {
        Ok(counts) => {
            ok(S::consistent(&batch), data);
            let mut compared = None;
            if let Some(want) = &want {
                assert_eq!(
                    counts,
                    S::counts(want),
                    "records per table differ from the reference"
                );
                if !divergent {
                    ok(S::check(&batch, want), data);
                    compared = Some(want);
                }
            }
            ok(S::round_trip(&batch, compared), data);
        }
        Err(refusal) => {
            assert!(
                format!("{batch:?}") == before,
                "a failed request changed the batch"
            );
            assert!(
                reference.is_none() || refusal.limit,
                "the reference accepts what sluice refuses: {}",
                refusal.message
            );
        }
    }
    if S::PROCESSING {
        let mut batch = S::seed();
        let before = format!("{batch:?}");
        match decode(data, &mut batch, true) {
            Ok(_) => {
                ok(S::consistent(&batch), data);
                ok(S::round_trip(&batch, None), data);
            }
            Err(_) => assert!(
                format!("{batch:?}") == before,
                "a failed request changed the batch (processing on)"
            ),
        }
    }
}

/// The protobuf check of the module doc.
pub(super) fn protobuf<S: Signal>(data: &[u8]) {
    let reference = S::Request::decode(data).ok();
    let divergent = reference.is_some() && S::divergent(data);
    run::<S>(data, S::decode, reference.as_ref(), divergent);
}

/// The OTLP/JSON check of the module doc. sluice's reader is the more lenient (it
/// also takes snake_case field names, enum names, hex or base64 ids), so only what
/// the serde reader accepts is compared, and only where serde reads it as OTLP/JSON
/// (`otlp::reference::json_reader`).
pub(super) fn json<S: Signal>(data: &[u8]) {
    let reference = serde_json::from_slice::<S::Request>(data)
        .ok()
        .filter(S::serde_read_whole)
        .filter(|_| json_reader::reads_as_otlp(data));
    run::<S>(data, S::decode_json, reference.as_ref(), false);
}

fn string_value(s: &str) -> Option<AnyValue> {
    Some(AnyValue {
        value: Some(Value::StringValue(s.into())),
    })
}

// ---- logs ----

pub(super) struct Logs;

impl Signal for Logs {
    type Request = ExportLogsServiceRequest;
    type Batch = LogsBatch;
    type Want = reference::logs::Expected;
    const PROCESSING: bool = true;

    fn seed() -> LogsBatch {
        let seed = ExportLogsServiceRequest {
            resource_logs: vec![ResourceLogs {
                scope_logs: vec![ScopeLogs {
                    log_records: vec![LogRecord {
                        body: string_value("x"),
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        };
        let mut b = LogsBatch::default();
        decode_logs(&seed.encode_to_vec(), &mut b, &LogsOptions::default()).expect("the seed");
        b
    }

    fn decode(data: &[u8], b: &mut LogsBatch, processing: bool) -> Result<Counts, Refusal> {
        let n = decode_logs(data, b, &logs_options(processing))?;
        Ok(vec![n.logs, n.sessions])
    }

    fn decode_json(data: &[u8], b: &mut LogsBatch, processing: bool) -> Result<Counts, Refusal> {
        let n = decode_logs_json(data, b, &logs_options(processing))?;
        Ok(vec![n.logs, n.sessions])
    }

    fn expected(r: &ExportLogsServiceRequest, b: &LogsBatch) -> Self::Want {
        reference::logs::expected(r, reference::logs::Base::of(b))
    }

    fn counts(want: &Self::Want) -> Counts {
        vec![want.logs.len(), 0]
    }

    fn check(b: &LogsBatch, want: &Self::Want) -> Result<(), String> {
        reference::logs::check(b, want)
    }

    fn consistent(b: &LogsBatch) -> Result<(), String> {
        reference::logs::consistent(b)
    }

    fn round_trip(b: &LogsBatch, want: Option<&Self::Want>) -> Result<(), String> {
        reference::stored::logs(b, want)
    }

    fn divergent(data: &[u8]) -> bool {
        divergence::in_logs(data)
    }
}

fn logs_options(processing: bool) -> LogsOptions {
    if processing {
        LogsOptions::default()
    } else {
        reference::logs::raw()
    }
}

// ---- traces ----

pub(super) struct Traces;

impl Signal for Traces {
    type Request = ExportTraceServiceRequest;
    type Batch = TracesBatch;
    /// The first new row, and the rows.
    type Want = (usize, Vec<reference::Row<reference::Want>>);

    fn seed() -> TracesBatch {
        let seed = ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                scope_spans: vec![ScopeSpans {
                    spans: vec![Span {
                        name: "x".into(),
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        };
        let mut b = TracesBatch::default();
        decode_traces(&seed.encode_to_vec(), &mut b).expect("the seed");
        b
    }

    fn decode(data: &[u8], b: &mut TracesBatch, _: bool) -> Result<Counts, Refusal> {
        Ok(vec![decode_traces(data, b)?.spans])
    }

    fn decode_json(data: &[u8], b: &mut TracesBatch, _: bool) -> Result<Counts, Refusal> {
        Ok(vec![decode_traces_json(data, b)?.spans])
    }

    fn expected(r: &ExportTraceServiceRequest, b: &TracesBatch) -> Self::Want {
        (b.rows(), reference::traces::expected(r))
    }

    fn counts(want: &Self::Want) -> Counts {
        vec![want.1.len()]
    }

    fn check(b: &TracesBatch, (first, rows): &Self::Want) -> Result<(), String> {
        reference::traces::check(b, *first, rows)
    }

    fn consistent(b: &TracesBatch) -> Result<(), String> {
        reference::traces::consistent(b)
    }

    fn round_trip(b: &TracesBatch, want: Option<&Self::Want>) -> Result<(), String> {
        reference::stored::traces(b, want.map(|(first, rows)| (*first, &rows[..])))
    }

    fn divergent(data: &[u8]) -> bool {
        divergence::in_traces(data)
    }
}

// ---- metrics ----

pub(super) struct Metrics;

impl Signal for Metrics {
    type Request = ExportMetricsServiceRequest;
    type Batch = MetricsBatch;
    type Want = reference::metrics::Expected;

    fn seed() -> MetricsBatch {
        let seed = ExportMetricsServiceRequest {
            resource_metrics: vec![ResourceMetrics {
                scope_metrics: vec![ScopeMetrics {
                    metrics: vec![Metric {
                        name: "m".into(),
                        data: Some(Data::Gauge(Gauge {
                            data_points: vec![NumberDataPoint {
                                value: Some(number_data_point::Value::AsDouble(1.0)),
                                ..Default::default()
                            }],
                        })),
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        };
        let mut b = MetricsBatch::default();
        decode_metrics(&seed.encode_to_vec(), &mut b).expect("the seed");
        b
    }

    fn decode(data: &[u8], b: &mut MetricsBatch, _: bool) -> Result<Counts, Refusal> {
        let n = decode_metrics(data, b)?;
        Ok(n.points.iter().copied().chain([n.skipped]).collect())
    }

    fn decode_json(data: &[u8], b: &mut MetricsBatch, _: bool) -> Result<Counts, Refusal> {
        let n = decode_metrics_json(data, b)?;
        Ok(n.points.iter().copied().chain([n.skipped]).collect())
    }

    fn expected(r: &ExportMetricsServiceRequest, b: &MetricsBatch) -> Self::Want {
        reference::metrics::expected(r, reference::metrics::Base::of(b))
    }

    fn counts(want: &Self::Want) -> Counts {
        want.points()
            .iter()
            .copied()
            .chain([want.skipped])
            .collect()
    }

    fn check(b: &MetricsBatch, want: &Self::Want) -> Result<(), String> {
        reference::metrics::check(b, want)
    }

    fn consistent(b: &MetricsBatch) -> Result<(), String> {
        reference::metrics::consistent(b)
    }

    fn round_trip(b: &MetricsBatch, want: Option<&Self::Want>) -> Result<(), String> {
        reference::stored::metric_tables(b, want)
    }

    fn divergent(data: &[u8]) -> bool {
        divergence::in_metrics(data)
    }

    fn serde_read_whole(r: &ExportMetricsServiceRequest) -> bool {
        json_reader::metrics_read_whole(r)
    }
}
