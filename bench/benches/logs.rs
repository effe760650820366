//! Logs: our decoder into columns vs prost into `opentelemetry-proto` types, on the
//! same bytes; and the RowBinary encoder. Run with `cargo bench -p sluice-bench`.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use prost::Message;
use std::hint::black_box;
use wire::columns::logs::LogsBatch;
use wire::otlp::logs::{LogsOptions, decode_logs};
use wire::rowbinary::logs::{LogColumn, encode_logs};

const RECORDS: usize = 1_000;

fn decode(c: &mut Criterion) {
    let request = sluice_bench::payload::logs_request(RECORDS).encode_to_vec();
    let mut g = c.benchmark_group("logs_decode");
    g.throughput(Throughput::Elements(RECORDS as u64));
    eprintln!(
        "logs_decode: {RECORDS} records, {} bytes ({} bytes a record)",
        request.len(),
        request.len() / RECORDS
    );
    let mut batch = LogsBatch::default();
    let processing = LogsOptions::default();
    let raw = LogsOptions {
        route_sessions: false,
        json_body: false,
        severity_from_attributes: false,
        severity_from_body: false,
        lowercase_severity: false,
    };
    for (name, opts) in [("sluice", processing), ("sluice_no_processing", raw)] {
        g.bench_function(BenchmarkId::new(name, RECORDS), |b| {
            b.iter(|| {
                batch.clear();
                decode_logs(black_box(&request), &mut batch, &opts).unwrap()
            })
        });
    }
    g.bench_function(BenchmarkId::new("prost", RECORDS), |b| {
        b.iter(|| {
            opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest::decode(
                black_box(&request[..]),
            )
            .unwrap()
        })
    });
    g.finish();

    let mut g = c.benchmark_group("logs_decode_bytes");
    g.throughput(Throughput::Bytes(request.len() as u64));
    g.bench_function("sluice", |b| {
        b.iter(|| {
            batch.clear();
            decode_logs(black_box(&request), &mut batch, &processing).unwrap()
        })
    });
    g.bench_function("prost", |b| {
        b.iter(|| {
            opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest::decode(
                black_box(&request[..]),
            )
            .unwrap()
        })
    });
    g.finish();
}

fn encode(c: &mut Criterion) {
    let request = sluice_bench::payload::logs_request(RECORDS).encode_to_vec();
    let mut batch = LogsBatch::default();
    decode_logs(&request, &mut batch, &LogsOptions::default()).unwrap();
    let mut out = Vec::new();
    encode_logs(
        &batch.logs,
        &batch.resources,
        &batch.scopes,
        &LogColumn::ALL,
        0..RECORDS,
        &mut out,
    );
    let mut g = c.benchmark_group("logs_rowbinary_encode");
    g.throughput(Throughput::Elements(RECORDS as u64));
    eprintln!(
        "logs_rowbinary_encode: {} bytes of RowBinary for {RECORDS} records",
        out.len()
    );
    g.bench_function(BenchmarkId::new("sluice", RECORDS), |b| {
        b.iter(|| {
            out.clear();
            encode_logs(
                &batch.logs,
                &batch.resources,
                &batch.scopes,
                &LogColumn::ALL,
                0..RECORDS,
                &mut out,
            );
            black_box(out.len())
        })
    });
    g.finish();
}

criterion_group!(benches, decode, encode);
criterion_main!(benches);
