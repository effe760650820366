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
//! | module | what it does | status |
//! |---|---|---|
//! | `grpc` | gRPC message framing over HTTP/2 DATA frames | planned (OTLP logs issue) |
//! | `http` | OTLP/HTTP request classification | planned |
//! | `proto` | protobuf varint / tag primitives | planned |
//! | `otlp::{logs,traces,metrics}` | OTLP protobuf and JSON straight into columns | planned |
//! | `columns` | per-table column buffers | planned |
//! | `rowbinary` | columns → ClickHouse RowBinary | planned |
//! | `compress` | gzip / zstd / deflate bodies, ClickHouse LZ4 blocks | planned |
//!
//! Only [`tables`] exists so far: the names of the ClickHouse tables sluice writes,
//! shared by the engine's schema management and, later, the column buffers.

pub mod tables;
