//! The rest of a request's path, each beside a baseline in the same run: OTLP/JSON
//! decode (sluice's reader vs serde into the `opentelemetry-proto` types), the
//! compression of a sealed batch's RowBinary (LZ4 and ZSTD blocks vs a plain copy),
//! and gRPC message framing over DATA frames (vs a plain copy). Run with
//! `cargo bench -p sluice-bench --bench pipeline`.

use bytes::Bytes;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;
use std::hint::black_box;
use wire::columns::logs::LogsBatch;
use wire::columns::metrics::MetricsBatch;
use wire::columns::traces::TracesBatch;
use wire::compress::{BlockCodec, compress_blocks};
use wire::grpc::{DEFAULT_MAX_MESSAGE, MessageReader, PREFIX_LEN};
use wire::otlp::json::{decode_logs_json, decode_metrics_json, decode_traces_json};
use wire::otlp::logs::{LogsOptions, decode_logs};
use wire::rowbinary::logs::{LogColumn, encode_logs};

use sluice_bench::payload::{logs_request, metrics_request, traces_request};

/// OTLP/JSON of each signal: sluice's reader into columns vs serde_json into the
/// prost types (opentelemetry-proto's `with-serde`), on the same bytes.
fn json_decode(c: &mut Criterion) {
    let logs = serde_json::to_vec(&logs_request(1_000)).unwrap();
    let traces = serde_json::to_vec(&traces_request(1_000)).unwrap();
    let metrics = serde_json::to_vec(&metrics_request(100, 10)).unwrap();
    let (mut lb, mut tb, mut mb) = (
        LogsBatch::default(),
        TracesBatch::default(),
        MetricsBatch::default(),
    );
    let opts = LogsOptions::default();
    for (signal, body, items) in [
        ("logs", &logs, 1_000u64),
        ("traces", &traces, 1_000),
        ("metrics", &metrics, 1_000),
    ] {
        eprintln!("json_decode_{signal}: {} bytes, {items} items", body.len());
        let mut g = c.benchmark_group(format!("json_decode_{signal}"));
        g.throughput(Throughput::Bytes(body.len() as u64));
        g.bench_function(BenchmarkId::new("sluice", items), |b| match signal {
            "logs" => b.iter(|| {
                lb.clear();
                decode_logs_json(black_box(body), &mut lb, &opts).unwrap()
            }),
            "traces" => b.iter(|| {
                tb.clear();
                decode_traces_json(black_box(body), &mut tb).unwrap()
            }),
            _ => b.iter(|| {
                mb.clear();
                decode_metrics_json(black_box(body), &mut mb).unwrap()
            }),
        });
        g.bench_function(BenchmarkId::new("serde", items), |b| match signal {
            "logs" => b.iter(|| {
                serde_json::from_slice::<ExportLogsServiceRequest>(black_box(body)).unwrap()
            }),
            "traces" => b.iter(|| {
                serde_json::from_slice::<ExportTraceServiceRequest>(black_box(body)).unwrap()
            }),
            _ => b.iter(|| {
                serde_json::from_slice::<ExportMetricsServiceRequest>(black_box(body)).unwrap()
            }),
        });
        g.finish();
    }
}

/// A sealed batch of 10,000 log records as RowBinary, compressed into ClickHouse's
/// blocks as the shard does before an INSERT.
fn seal_compression(c: &mut Criterion) {
    const RECORDS: usize = 10_000;
    let request = logs_request(RECORDS).encode_to_vec();
    let mut batch = LogsBatch::default();
    decode_logs(&request, &mut batch, &LogsOptions::default()).unwrap();
    let mut rowbinary = Vec::new();
    let b = &batch;
    encode_logs(
        &b.logs,
        &b.resources,
        &b.scopes,
        &LogColumn::ALL,
        0..RECORDS,
        &mut rowbinary,
    );
    let mut out = Vec::with_capacity(rowbinary.len());
    for (name, codec) in [
        ("lz4", BlockCodec::Lz4),
        ("zstd1", BlockCodec::Zstd { level: 1 }),
    ] {
        out.clear();
        compress_blocks(codec, &rowbinary, &mut out);
        eprintln!(
            "seal_compression: {RECORDS} records, {} bytes of RowBinary → {} bytes {name} ({:.1}×)",
            rowbinary.len(),
            out.len(),
            rowbinary.len() as f64 / out.len() as f64
        );
    }
    let mut g = c.benchmark_group("seal_compression");
    g.throughput(Throughput::Bytes(rowbinary.len() as u64));
    for (name, codec) in [
        ("lz4", BlockCodec::Lz4),
        ("zstd1", BlockCodec::Zstd { level: 1 }),
    ] {
        g.bench_function(BenchmarkId::new(name, RECORDS), |bn| {
            bn.iter(|| {
                out.clear();
                compress_blocks(codec, black_box(&rowbinary), &mut out);
                out.len()
            })
        });
    }
    g.bench_function(BenchmarkId::new("copy", RECORDS), |bn| {
        bn.iter(|| {
            out.clear();
            out.extend_from_slice(black_box(&rowbinary));
            out.len()
        })
    });
    g.finish();
}

/// A 1,000-record logs request as one gRPC message arriving in 16 KiB DATA frames
/// (h2's default frame size), reassembled by `MessageReader`.
fn grpc_framing(c: &mut Criterion) {
    let msg = logs_request(1_000).encode_to_vec();
    let mut framed = Vec::with_capacity(PREFIX_LEN + msg.len());
    framed.push(0);
    framed.extend_from_slice(&(msg.len() as u32).to_be_bytes());
    framed.extend_from_slice(&msg);
    let framed = Bytes::from(framed);
    let frames: Vec<Bytes> = (0..framed.len())
        .step_by(16 << 10)
        .map(|at| framed.slice(at..(at + (16 << 10)).min(framed.len())))
        .collect();
    let mut g = c.benchmark_group("grpc_framing");
    g.throughput(Throughput::Bytes(framed.len() as u64));
    g.bench_function(BenchmarkId::new("sluice", frames.len()), |b| {
        b.iter(|| {
            let mut r = MessageReader::new(DEFAULT_MAX_MESSAGE);
            for f in &frames {
                r.push(f.clone()).unwrap();
            }
            r.finish().unwrap().body.len()
        })
    });
    g.bench_function(BenchmarkId::new("copy", frames.len()), |b| {
        b.iter(|| {
            let mut body = Vec::new();
            for f in &frames {
                body.extend_from_slice(black_box(f));
            }
            body.len()
        })
    });
    g.finish();
}

criterion_group!(benches, json_decode, seal_compression, grpc_framing);
criterion_main!(benches);
