//! Traces: our decoder into columns vs prost into `opentelemetry-proto` types, on the
//! same bytes; and the RowBinary encoder. Run with
//! `cargo bench -p sluice-bench --bench traces`.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;
use std::hint::black_box;
use wire::columns::traces::TracesBatch;
use wire::otlp::traces::decode_traces;
use wire::rowbinary::traces::{TraceColumn, encode_traces};

const SPANS: usize = 1_000;

fn decode(c: &mut Criterion) {
    let request = sluice_bench::payload::traces_request(SPANS).encode_to_vec();
    eprintln!(
        "traces_decode: {SPANS} spans, {} bytes ({} bytes a span)",
        request.len(),
        request.len() / SPANS
    );
    let mut batch = TracesBatch::default();
    for (group, throughput) in [
        ("traces_decode", Throughput::Elements(SPANS as u64)),
        (
            "traces_decode_bytes",
            Throughput::Bytes(request.len() as u64),
        ),
    ] {
        let mut g = c.benchmark_group(group);
        g.throughput(throughput);
        g.bench_function(BenchmarkId::new("sluice", SPANS), |b| {
            b.iter(|| {
                batch.clear();
                decode_traces(black_box(&request), &mut batch).unwrap()
            })
        });
        g.bench_function(BenchmarkId::new("prost", SPANS), |b| {
            b.iter(|| ExportTraceServiceRequest::decode(black_box(&request[..])).unwrap())
        });
        g.finish();
    }
}

fn encode(c: &mut Criterion) {
    let request = sluice_bench::payload::traces_request(SPANS).encode_to_vec();
    let mut batch = TracesBatch::default();
    decode_traces(&request, &mut batch).unwrap();
    let mut out = Vec::new();
    encode_traces(&batch, &TraceColumn::ALL, 0..SPANS, &mut out);
    eprintln!(
        "traces_rowbinary_encode: {} bytes of RowBinary for {SPANS} spans",
        out.len()
    );
    let mut g = c.benchmark_group("traces_rowbinary_encode");
    g.throughput(Throughput::Elements(SPANS as u64));
    g.bench_function(BenchmarkId::new("sluice", SPANS), |b| {
        b.iter(|| {
            out.clear();
            encode_traces(&batch, &TraceColumn::ALL, 0..SPANS, &mut out);
            black_box(out.len())
        })
    });
    g.finish();
}

criterion_group!(benches, decode, encode);
criterion_main!(benches);
