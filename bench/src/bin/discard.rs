//! `sluice-discard`: a ClickHouse HTTP endpoint that reads every INSERT body and drops
//! it, and forwards everything else to a real ClickHouse (`sluice_bench::discard`).
//! Pointed at by sluice's `clickhouse.url`, it measures sluice without ClickHouse's
//! cost; `scripts/bench` runs it.
//!
//! On start it prints `sluice-discard: ready url=http://ADDR upstream=URL` on stderr;
//! on SIGINT or SIGTERM, `sluice-discard: stopped {counts as JSON}`, and exits 0.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use sluice_bench::discard::Discard;
use tokio::net::TcpListener;
use tokio::signal::unix::{SignalKind, signal};

#[derive(Parser, Debug)]
#[command(
    name = "sluice-discard",
    version,
    about = "A ClickHouse HTTP endpoint that drops INSERT bodies (answering 200) and \
             forwards every other request to a real ClickHouse; for benchmarking sluice alone"
)]
struct Args {
    /// Address to listen on (port 0 picks a free one; the ready line says which).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// The real ClickHouse HTTP interface that answers everything but INSERTs
    /// (sluice's startup queries of system.columns, /ping).
    #[arg(long, value_name = "URL")]
    upstream: String,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let discard = match Discard::new(&args.upstream) {
        Ok(d) => Arc::new(d),
        Err(e) => {
            eprintln!("sluice-discard: {e}");
            return ExitCode::from(2);
        }
    };
    match run(&args, discard) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sluice-discard: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args, discard: Arc<Discard>) -> std::io::Result<()> {
    // One thread: reading and dropping bodies costs little, and a benchmark wants the
    // endpoint to take as little of the machine as it can.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let listener = TcpListener::bind(args.listen).await?;
        let mut term = signal(SignalKind::terminate())?;
        eprintln!(
            "sluice-discard: ready url=http://{} upstream={}",
            listener.local_addr()?,
            args.upstream
        );
        tokio::select! {
            () = Arc::clone(&discard).serve(listener) => {}
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
        eprintln!("sluice-discard: stopped {}", discard.counts.json());
        Ok(())
    })
}
