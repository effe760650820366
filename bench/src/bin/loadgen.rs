//! `sluice-loadgen`: the OTLP load generator (see `bench/README.md`).
//!
//! Exit status: 0 when every request succeeded (or `--allow-errors`) and `--verify`
//! found no loss and no duplicates (with `--malformed`: no request went unanswered or
//! got a server error, and the endpoint stayed up); 1 otherwise or when the run could
//! not be made; 2 for usage errors.

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
    if let Some((dir, mutations)) = cfg.malformed.clone() {
        let seed = cfg.shape.seed;
        return match runtime.block_on(loadgen::malformed::run(&cfg, &dir, mutations, seed)) {
            Ok(report) => output(
                report.ok_verdict,
                |out| report.write_json(out),
                |out| report.write_text(out),
                json,
            ),
            Err(e) => {
                eprintln!("sluice-loadgen: {e}");
                ExitCode::FAILURE
            }
        };
    }
    match runtime.block_on(loadgen::run(cfg)) {
        Ok(report) => output(
            report.ok,
            |out| report.write_json(out),
            |out| report.write_text(out),
            json,
        ),
        Err(e) => {
            eprintln!("sluice-loadgen: {e}");
            ExitCode::FAILURE
        }
    }
}

type Out<'a> = std::io::StdoutLock<'a>;

/// Writes a report on stdout (`json` or text); the exit status says whether it is `ok`.
fn output(
    ok: bool,
    write_json: impl FnOnce(&mut Out<'_>) -> std::io::Result<()>,
    write_text: impl FnOnce(&mut Out<'_>) -> std::io::Result<()>,
    json: bool,
) -> ExitCode {
    let mut out = std::io::stdout().lock();
    let written = if json {
        write_json(&mut out)
    } else {
        write_text(&mut out)
    };
    if written.and_then(|()| out.flush()).is_err() {
        return ExitCode::FAILURE;
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
