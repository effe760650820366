//! `sluice-loadgen`: the OTLP load generator (see `bench/README.md`).
//!
//! Exit status: 0 when every request succeeded (or `--allow-errors`) and `--verify`
//! found no loss and no duplicates; 1 otherwise or when the run could not be made;
//! 2 for usage errors.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use sluice_bench::loadgen::{self, Args, Config};

fn main() -> ExitCode {
    let cfg = match Config::from_args(Args::parse()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("sluice-loadgen: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cfg.threads)
        .thread_name("loadgen")
        .enable_all()
        .build();
    let runtime = match runtime {
        Ok(r) => r,
        Err(e) => {
            eprintln!("sluice-loadgen: starting the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let json = cfg.json;
    let report = match runtime.block_on(loadgen::run(cfg)) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("sluice-loadgen: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut out = std::io::stdout().lock();
    let written = if json {
        report.write_json(&mut out)
    } else {
        report.write_text(&mut out)
    };
    if written.and_then(|()| out.flush()).is_err() {
        return ExitCode::FAILURE;
    }
    if report.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
