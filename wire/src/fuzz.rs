//! Bridges for the fuzz targets in `fuzz/` (compiled only with `cfg(fuzzing)`).
//!
//! Each target is a one-liner into a function here, which checks what must hold for
//! any input:
//!
//! - nothing panics, and whatever was decoded encodes to RowBinary;
//! - a request that fails leaves the batch it was decoded into exactly as it was;
//! - differentially, against `prost` with the `opentelemetry-proto` types: when prost
//!   accepts the bytes, sluice accepts them too unless they break one of sluice's
//!   documented limits (trace / span ids of the wrong length, which pdata refuses too;
//!   values nested deeper than `value::MAX_DEPTH`), and both see the same records
//!   (for metrics: the same points in each table, the same metrics skipped).

use prost::Message;

use crate::columns::logs::LogsBatch;
use crate::columns::metrics::MetricsBatch;
use crate::columns::traces::TracesBatch;
use crate::otlp::logs::{LogsOptions, decode_logs};
use crate::otlp::metrics::{MetricsDecoded, decode_metrics};
use crate::otlp::traces::decode_traces;
use crate::proto::{DecodeError, ErrorKind};
use crate::rowbinary::logs::{LogColumn, encode_logs};
use crate::rowbinary::metrics::{TABLES, columns_of, encode_table};
use crate::rowbinary::traces::{TraceColumn, encode_traces};

/// Whether a refusal is one of sluice's documented limits (prost has none of them).
fn documented_limit(e: &DecodeError) -> bool {
    matches!(e.kind, ErrorKind::BadLength { .. } | ErrorKind::TooDeep)
}

/// A request to fill the batch with first, so a failure has something to leave alone.
fn seed_logs() -> LogsBatch {
    let mut b = LogsBatch::default();
    // resource_logs { scope_logs { log_records { body { string_value: "x" } } } }
    let seed = [
        0x0a, 0x09, 0x12, 0x07, 0x12, 0x05, 0x2a, 0x03, 0x0a, 0x01, 0x78,
    ];
    decode_logs(&seed, &mut b, &LogsOptions::default()).expect("the seed decodes");
    b
}

/// `ExportLogsServiceRequest` protobuf.
pub fn logs_protobuf(data: &[u8]) {
    let mut batch = seed_logs();
    let before = (batch.mark(), batch.byte_len());
    let reference =
        opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest::decode(data);
    match decode_logs(data, &mut batch, &LogsOptions::default()) {
        Ok(n) => {
            if let Ok(r) = &reference {
                let records: usize = r
                    .resource_logs
                    .iter()
                    .flat_map(|rl| &rl.scope_logs)
                    .map(|sl| sl.log_records.len())
                    .sum();
                assert_eq!(
                    n.logs + n.sessions,
                    records,
                    "record count differs from prost"
                );
            }
            let mut out = Vec::new();
            let b = &batch;
            encode_logs(
                &b.logs,
                &b.resources,
                &b.scopes,
                &LogColumn::ALL,
                0..b.logs.len(),
                &mut out,
            );
            encode_logs(
                &b.sessions,
                &b.resources,
                &b.scopes,
                &LogColumn::ALL,
                0..b.sessions.len(),
                &mut out,
            );
        }
        Err(e) => {
            assert_eq!(
                (batch.mark(), batch.byte_len()),
                before,
                "a failed request changed the batch"
            );
            assert!(
                reference.is_err() || documented_limit(&e),
                "prost accepts what sluice refuses: {e}"
            );
        }
    }
}

/// `ExportTraceServiceRequest` protobuf.
pub fn traces_protobuf(data: &[u8]) {
    let mut batch = TracesBatch::default();
    let reference =
        opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest::decode(data);
    match decode_traces(data, &mut batch) {
        Ok(n) => {
            if let Ok(r) = &reference {
                let spans: usize = r
                    .resource_spans
                    .iter()
                    .flat_map(|rs| &rs.scope_spans)
                    .map(|ss| ss.spans.len())
                    .sum();
                assert_eq!(n.spans, spans, "span count differs from prost");
            }
            let mut out = Vec::new();
            encode_traces(&batch, &TraceColumn::ALL, 0..batch.rows(), &mut out);
        }
        Err(e) => {
            assert_eq!(
                (batch.rows(), batch.byte_len()),
                (0, 0),
                "a failed request changed the batch"
            );
            assert!(
                reference.is_err() || documented_limit(&e),
                "prost accepts what sluice refuses: {e}"
            );
        }
    }
}

/// A request to fill the metrics batch with first: one gauge point with an exemplar.
fn seed_metrics() -> MetricsBatch {
    let mut b = MetricsBatch::default();
    // resource_metrics { scope_metrics { metrics { name: "m" gauge { data_points {
    //   as_double: 1.0 exemplars { as_int: 2 } } } } } }
    let seed = [
        0x0a, 0x1f, 0x12, 0x1d, 0x12, 0x1b, 0x0a, 0x01, 0x6d, 0x2a, 0x16, 0x0a, 0x14, 0x21, 0, 0,
        0, 0, 0, 0, 0xf0, 0x3f, 0x2a, 0x09, 0x31, 2, 0, 0, 0, 0, 0, 0, 0,
    ];
    let n = decode_metrics(&seed, &mut b).expect("the seed decodes");
    assert_eq!(n.points, [1, 0, 0, 0, 0]);
    b
}

/// The points of every metric table encode to RowBinary.
fn encode_metrics(batch: &MetricsBatch) {
    let mut out = Vec::new();
    for table in TABLES {
        encode_table(batch, table, columns_of(table), &mut out);
    }
}

/// What prost's reading of a request must decode to: the points per table (in the
/// order of [`MetricsBatch::points`]) and the metrics with none.
fn metrics_of(
    r: &opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest,
) -> MetricsDecoded {
    use opentelemetry_proto::tonic::metrics::v1::metric::Data;
    let mut want = MetricsDecoded::default();
    let metrics = r
        .resource_metrics
        .iter()
        .flat_map(|rm| &rm.scope_metrics)
        .flat_map(|sm| &sm.metrics);
    for m in metrics {
        let (table, points) = match &m.data {
            None => (0, 0),
            Some(Data::Gauge(g)) => (0, g.data_points.len()),
            Some(Data::Sum(s)) => (1, s.data_points.len()),
            Some(Data::Histogram(h)) => (2, h.data_points.len()),
            Some(Data::ExponentialHistogram(h)) => (3, h.data_points.len()),
            Some(Data::Summary(s)) => (4, s.data_points.len()),
        };
        want.points[table] += points;
        want.skipped += usize::from(points == 0);
    }
    want
}

/// `ExportMetricsServiceRequest` protobuf.
pub fn metrics_protobuf(data: &[u8]) {
    let mut batch = seed_metrics();
    let before = (batch.mark(), batch.byte_len());
    let reference =
        opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest::decode(
            data,
        );
    match decode_metrics(data, &mut batch) {
        Ok(n) => {
            if let Ok(r) = &reference {
                assert_eq!(
                    n,
                    metrics_of(r),
                    "points or skipped metrics differ from prost"
                );
            }
            encode_metrics(&batch);
        }
        Err(e) => {
            assert_eq!(
                (batch.mark(), batch.byte_len()),
                before,
                "a failed request changed the batch"
            );
            assert!(
                reference.is_err() || documented_limit(&e),
                "prost accepts what sluice refuses: {e}"
            );
        }
    }
}

/// OTLP/JSON logs: no panic; a failure leaves the batch as it was.
pub fn logs_json(data: &[u8]) {
    let mut batch = seed_logs();
    let before = (batch.mark(), batch.byte_len());
    if crate::otlp::json::decode_logs_json(data, &mut batch, &LogsOptions::default()).is_err() {
        assert_eq!(
            (batch.mark(), batch.byte_len()),
            before,
            "a failed request changed the batch"
        );
    }
}

/// OTLP/JSON traces: no panic; a failure leaves the batch as it was.
pub fn traces_json(data: &[u8]) {
    let mut batch = TracesBatch::default();
    if crate::otlp::json::decode_traces_json(data, &mut batch).is_err() {
        assert_eq!(
            (batch.rows(), batch.byte_len()),
            (0, 0),
            "a failed request changed the batch"
        );
    }
}

/// OTLP/JSON metrics: no panic; whatever decoded encodes; a failure leaves the batch
/// as it was.
pub fn metrics_json(data: &[u8]) {
    let mut batch = seed_metrics();
    let before = (batch.mark(), batch.byte_len());
    match crate::otlp::json::decode_metrics_json(data, &mut batch) {
        Ok(n) => {
            assert_eq!(batch.rows(), 1 + n.total());
            encode_metrics(&batch);
        }
        Err(_) => assert_eq!(
            (batch.mark(), batch.byte_len()),
            before,
            "a failed request changed the batch"
        ),
    }
}

/// gRPC framing: the body split into DATA frames at the sizes the first byte picks;
/// the message is whatever the frames hold, never more than the limit.
pub fn grpc_framing(data: &[u8]) {
    let Some((&split, body)) = data.split_first() else {
        return;
    };
    let step = usize::from(split).max(1);
    let limit = 1 << 16;
    let mut reader = crate::grpc::MessageReader::new(limit);
    for chunk in body.chunks(step) {
        if reader.push(bytes::Bytes::copy_from_slice(chunk)).is_err() {
            return;
        }
    }
    if let Ok(m) = reader.finish() {
        assert!(m.body.len() <= limit);
        assert_eq!(m.body.len() + crate::grpc::PREFIX_LEN, body.len());
    }
}

/// Body decompression with a limit: the first byte picks the encoding; the output
/// never passes the limit.
pub fn decompress(data: &[u8]) {
    use crate::compress::Encoding;
    let Some((&which, body)) = data.split_first() else {
        return;
    };
    let encoding = [Encoding::Gzip, Encoding::Zstd, Encoding::Deflate][usize::from(which) % 3];
    let limit = 1 << 20;
    let mut out = Vec::new();
    if crate::compress::decompress(encoding, body, limit, &mut out).is_ok() {
        assert!(out.len() <= limit);
    }
    assert!(
        out.capacity() <= 2 * limit + 64,
        "decompression allocated past its limit"
    );
}
