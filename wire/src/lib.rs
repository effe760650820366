//! sluice's wire layer: bytes in, columns out; columns in, bytes out.
//!
//! Everything here is a plain function over buffers: no threads, no runtime, no
//! ClickHouse client. That keeps every decoder and encoder fuzzable and
//! benchmarkable on its own (see `fuzz/` and `bench/`).
//!
//! # Layout
//!
//! The modules follow a record's trip through sluice (see `ARCHITECTURE.md`):
//!
//! | module | what it does |
//! |---|---|
//! | [`grpc`] | gRPC message framing over HTTP/2 DATA frames, status details |
//! | [`compress`] | bounded body decompression; ClickHouse compressed blocks |
//! | [`proto`] | protobuf varint / tag / length-delimited primitives, typed errors |
//! | [`otlp`] | OTLP protobuf (and JSON) straight into columns; value stringification; ClickStack processing |
//! | [`columns`] | per-table column buffers (`Strings`, `Maps`, `Resources`, `Scopes`, the log tables, `otel_traces`) |
//! | [`rowbinary`] | columns → ClickHouse RowBinary |
//! | [`tables`] | the ClickHouse tables sluice writes |

pub mod columns;
pub mod compress;
#[cfg(fuzzing)]
pub mod fuzz;
pub mod grpc;
pub mod otlp;
pub mod proto;
pub mod rowbinary;
pub mod tables;
