//! Metrics: our decoder into columns vs prost into `opentelemetry-proto` types, on the
//! same bytes; and the RowBinary encoder of the five tables. Run with
//! `cargo bench -p sluice-bench --bench metrics`.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use prost::Message;
use std::hint::black_box;
use wire::columns::metrics::MetricsBatch;
use wire::otlp::metrics::decode_metrics;
use wire::rowbinary::metrics::{TABLES, columns_of, encode_table};

const METRICS: usize = 1_000;
const POINTS: usize = 10;

fn decode(c: &mut Criterion) {
    let request = sluice_bench::payload::metrics_request(METRICS, POINTS).encode_to_vec();
    let points = METRICS * POINTS;
    eprintln!(
        "metrics_decode: {METRICS} metrics × {POINTS} points, {} bytes ({} bytes a point)",
        request.len(),
        request.len() / points
    );
    let mut batch = MetricsBatch::default();
    for (group, throughput) in [
        ("metrics_decode", Throughput::Elements(points as u64)),
        (
            "metrics_decode_bytes",
            Throughput::Bytes(request.len() as u64),
        ),
    ] {
        let mut g = c.benchmark_group(group);
        g.throughput(throughput);
        g.bench_function(BenchmarkId::new("sluice", points), |b| {
            b.iter(|| {
                batch.clear();
                decode_metrics(black_box(&request), &mut batch).unwrap()
            })
        });
        g.bench_function(BenchmarkId::new("prost", points), |b| {
            b.iter(|| ExportMetricsServiceRequest::decode(black_box(&request[..])).unwrap())
        });
        g.finish();
    }
}

fn encode(c: &mut Criterion) {
    let request = sluice_bench::payload::metrics_request(METRICS, POINTS).encode_to_vec();
    let points = METRICS * POINTS;
    let mut batch = MetricsBatch::default();
    decode_metrics(&request, &mut batch).unwrap();
    let mut out = Vec::new();
    let encode_all = |out: &mut Vec<u8>| {
        for table in TABLES {
            encode_table(&batch, table, columns_of(table), out);
        }
    };
    encode_all(&mut out);
    eprintln!(
        "metrics_rowbinary_encode: {} bytes of RowBinary for {points} points",
        out.len()
    );
    let mut g = c.benchmark_group("metrics_rowbinary_encode");
    g.throughput(Throughput::Elements(points as u64));
    g.bench_function(BenchmarkId::new("sluice", points), |b| {
        b.iter(|| {
            out.clear();
            encode_all(&mut out);
            black_box(out.len())
        })
    });
    g.finish();
}

criterion_group!(benches, decode, encode);
criterion_main!(benches);
