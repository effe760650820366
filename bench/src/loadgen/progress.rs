//! Live progress on stderr, once a second: an indicatif bar on a terminal, plain lines
//! otherwise (CI logs, pipes), nothing with `--quiet`. Counts include the warm-up.

use std::io::IsTerminal;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::cli::{Config, Limit};
use super::pace::Plan;
use super::report::{human_count, human_rate};
use super::stats::LiveSnapshot;

#[derive(Debug)]
enum Out {
    Off,
    Lines,
    Bar(ProgressBar),
}

/// The progress display.
#[derive(Debug)]
pub struct Progress {
    out: Out,
    /// The bar counts seconds of a timed run, or requests of a counted one.
    timed: bool,
    last: LiveSnapshot,
    last_at: Instant,
    start: Instant,
}

impl Progress {
    pub fn new(cfg: &Config, plan: &Plan) -> Progress {
        let timed = matches!(cfg.limit, Limit::Duration(_));
        let out = if cfg.quiet {
            Out::Off
        } else if std::io::stderr().is_terminal() {
            let len = match cfg.limit {
                Limit::Duration(d) => (d + cfg.warmup).as_secs(),
                Limit::Requests(n) => n,
            };
            let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
            if let Ok(style) =
                ProgressStyle::with_template("{elapsed_precise} [{wide_bar}] {pos}/{len} {msg}")
            {
                bar.set_style(style);
            }
            Out::Bar(bar)
        } else {
            Out::Lines
        };
        Progress {
            out,
            timed,
            last: LiveSnapshot::default(),
            last_at: plan.start,
            start: plan.start,
        }
    }

    pub fn tick(&mut self, now: &LiveSnapshot, plan: &Plan) {
        let at = Instant::now();
        let secs = at.duration_since(self.last_at).as_secs_f64().max(1e-9);
        let records = (now.records_ok - self.last.records_ok) as f64 / secs;
        let bytes = (now.wire_bytes - self.last.wire_bytes) as f64 / secs;
        let requests = (now.ok + now.failed - self.last.ok - self.last.failed) as f64 / secs;
        self.last = *now;
        self.last_at = at;
        let warm = if at < plan.warmup_end {
            " (warm-up)"
        } else {
            ""
        };
        let msg = format!(
            "{} req/s, {} records/s, {:.1} MB/s; {} ok, {} failed{warm}",
            human_rate(requests),
            human_rate(records),
            bytes / 1e6,
            human_count(now.ok),
            human_count(now.failed),
        );
        match &self.out {
            Out::Off => {}
            Out::Lines => eprintln!(
                "sluice-loadgen: {:>6.1}s {msg}",
                at.duration_since(self.start).as_secs_f64()
            ),
            Out::Bar(bar) => {
                bar.set_position(if self.timed {
                    at.duration_since(self.start).as_secs()
                } else {
                    now.ok + now.failed
                });
                bar.set_message(msg);
            }
        }
    }

    pub fn finish(self) {
        if let Out::Bar(bar) = self.out {
            bar.finish_and_clear();
        }
    }
}
