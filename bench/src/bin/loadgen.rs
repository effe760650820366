//! `sluice-loadgen`: the OTLP load generator.
//!
//! Not built yet: its issue (sluice-loadgen and the benchmark suite) needs the OTLP
//! logs path first. Until then the binary says so and exits non-zero, so no script
//! can mistake it for a measurement.

use std::process::ExitCode;

use clap::Parser;

#[derive(Parser, Debug)]
#[command(
    name = "sluice-loadgen",
    version,
    about = "OTLP load generator (not built yet)"
)]
struct Cli {}

fn main() -> ExitCode {
    let _ = Cli::parse();
    eprintln!("sluice-loadgen: not built yet; see the loadgen issue");
    ExitCode::FAILURE
}
