//! Bridges for the fuzz targets in `fuzz/` (compiled only with `cfg(fuzzing)`): each
//! target is a one-liner into a function here.
//!
//! # Layout
//!
//! | module | targets | what is checked |
//! |---|---|---|
//! | `signal` | `{logs,traces,metrics}_{protobuf,json}` | against a reference reader, field by field: prost for protobuf, opentelemetry-proto's serde for OTLP/JSON; rollback on refusal; RowBinary read back |
//! | `structured` | `{logs,traces,metrics}_structured` | the same, on requests built from the fuzzer's bytes (`arbitrary`), encoded, mutated |
//! | `transport` | `grpc_framing`, `decompress` | gRPC message framing across frames; bounded decompression |
//! | `alloc` | — | the bytes one decode allocates, for the bound below |
//!
//! What the reference mapping, the documented divergences from prost and the stored
//! form are: `otlp::reference` (shared with the property tests).

mod alloc;
mod signal;
mod structured;
mod transport;

use signal::{Logs, Metrics, Traces};

/// What one decode may allocate: this many bytes per input byte, plus
/// [`ALLOC_BASE`]. A row's fixed columns cost about a hundred bytes however small
/// its message (an empty log record is 2 bytes), and column vectors grow by
/// doubling; values written as text (JSON of a kvlist, escaped control characters,
/// base64, digits of a double) grow a few times at most; flattened keys repeat a
/// prefix at most `value::MAX_DEPTH` deep.
const ALLOC_PER_INPUT_BYTE: usize = 512;
/// Allocation any decode may make whatever its input: the first capacity of every
/// column vector and arena.
const ALLOC_BASE: usize = 1 << 20;

fn within_alloc_bound(peak: usize, input: usize) {
    let bound = ALLOC_PER_INPUT_BYTE * input + ALLOC_BASE;
    assert!(
        peak <= bound,
        "a decode of {input} bytes allocated {peak} bytes (bound {bound})"
    );
}

pub fn logs_protobuf(data: &[u8]) {
    signal::protobuf::<Logs>(data);
}

pub fn traces_protobuf(data: &[u8]) {
    signal::protobuf::<Traces>(data);
}

pub fn metrics_protobuf(data: &[u8]) {
    signal::protobuf::<Metrics>(data);
}

pub fn logs_json(data: &[u8]) {
    signal::json::<Logs>(data);
}

pub fn traces_json(data: &[u8]) {
    signal::json::<Traces>(data);
}

pub fn metrics_json(data: &[u8]) {
    signal::json::<Metrics>(data);
}

pub fn logs_structured(data: &[u8]) {
    structured::logs(data);
}

pub fn traces_structured(data: &[u8]) {
    structured::traces(data);
}

pub fn metrics_structured(data: &[u8]) {
    structured::metrics(data);
}

pub fn grpc_framing(data: &[u8]) {
    transport::grpc_framing(data);
}

pub fn decompress(data: &[u8]) {
    transport::decompress(data);
}
