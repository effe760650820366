//! `sluice-loadgen`: an OTLP load generator for sluice or any OTLP endpoint.
//!
//! It sends logs, traces or metrics over OTLP/gRPC (its own client on `h2`) or
//! OTLP/HTTP (`hyper`, HTTP/1.1 or h2c; protobuf or JSON), re-sending a pool of
//! pre-encoded requests with a per-send identity patched into their bytes, so the
//! generator spends little CPU per record; it paces the sending or goes as fast as the
//! endpoint allows, measures latency without coordinated omission, and with
//! `--verify` checks in ClickHouse that every acknowledged record was stored once.
//! `bench/README.md` is the user's guide.
//!
//! # Layout
//!
//! The modules follow a request's trip:
//!
//! | module | what |
//! |---|---|
//! | [`cli`] | flags ([`cli::Args`]) → one checked [`cli::Config`] |
//! | [`crate::generate`] | requests of any shape, with stamp placeholders |
//! | [`pool`] | encoded requests, their stamp sites, patching |
//! | [`body`] | per send: copy, patch, compress, gRPC framing |
//! | [`pace`] | the plan: which request next, when (rate), measured or warm-up |
//! | [`client`], [`grpc`], [`http`] | connections and one request on them; failures |
//! | [`status`] | `google.rpc.Status` error answers and their retry information |
//! | [`stats`] | per-connection recorders (HDR histogram, errors, acknowledged ranges) |
//! | [`run`] | connection tasks and workers; the run from start to report |
//! | [`progress`] | the once-a-second line |
//! | [`verify`] | acknowledged set vs ClickHouse: loss and duplicates |
//! | [`malformed`] | `--malformed`: the fuzz corpus, mutated, replayed at an endpoint |
//! | [`report`] | the results, as text or JSON |
//! | [`cpu`] | the process's CPU time |

pub mod body;
pub mod cli;
pub mod client;
pub mod cpu;
pub mod grpc;
pub mod http;
pub mod malformed;
pub mod pace;
pub mod pool;
pub mod progress;
pub mod report;
pub mod run;
pub mod stats;
pub mod status;
pub mod verify;

pub use cli::{Args, Config, UsageError};
pub use report::Report;
pub use run::{RunError, run};
