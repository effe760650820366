//! Fault injection: is every acknowledged record stored, exactly once?
//!
//! Each test runs `sluice-loadgen --verify` (acknowledged sequence numbers against
//! what ClickHouse stored) against real `sluice run` processes while it breaks
//! something: `kill -9` of sluice, a ClickHouse stopped for 30 s, SIGTERM under load,
//! ClickHouse refusing with TOO_MANY_PARTS, damaged write-ahead log segments, a table
//! dropped under sluice. The ClickHouse is the real engine: the shared one at
//! `CLICKHOUSE_URL`, or a private `scripts/clickhouse` server a test can stop.
//!
//! They take minutes, so they are their own test target, run one at a time by
//! `scripts/test` (`test = false` keeps them out of `cargo test --workspace`):
//!
//! ```sh
//! scripts/clickhouse start --port 0 && export CLICKHOUSE_URL=$(scripts/clickhouse url)
//! cargo build --bin sluice && cargo test -p sluice-bench --test durability -- --test-threads 1
//! ```

// The loadgen tests' harness for a real `sluice run`, shared; this binary uses part of it.
#[path = "../loadgen/sluice.rs"]
#[allow(dead_code)]
mod sluice;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use proxy::{Fault, Proxy};
use serde_json::Value;
use sluice::{Sluice, apply_schema, clickhouse_url, fresh_database, query_at};

mod proxy;

/// A free loopback port (bound and released: sluice restarts on the same ports).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

fn scratch(name: &str) -> PathBuf {
    let root = repo().join(".build").join("durability");
    // What an earlier run of this test left.
    for old in std::fs::read_dir(&root).into_iter().flatten().flatten() {
        let file_name = old.file_name();
        let old_name = file_name.to_string_lossy();
        if old_name.strip_prefix(name).is_some_and(|rest| {
            rest.strip_prefix('-')
                .is_some_and(|pid| pid.bytes().all(|b| b.is_ascii_digit()))
        }) {
            let _ = std::fs::remove_dir_all(old.path());
        }
    }
    let d = root.join(format!("{name}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A sluice that can be killed and started again on the same ports and data.
struct Gateway {
    url: String,
    database: String,
    env: Vec<(&'static str, String)>,
    sluice: Sluice,
    /// The ClickHouse password `--verify` logs in with.
    password: String,
}

impl Gateway {
    /// Schema in a fresh database at `url`, then sluice with `env` and fixed ports.
    fn start(url: &str, purpose: &str, env: &[(&'static str, String)]) -> Gateway {
        let password = std::env::var("CLICKHOUSE_PASSWORD").unwrap_or_default();
        Gateway::start_as(url, &password, purpose, env)
    }

    /// [`start`](Gateway::start) with ClickHouse password `password`.
    fn start_as(
        url: &str,
        password: &str,
        purpose: &str,
        env: &[(&'static str, String)],
    ) -> Gateway {
        let database = fresh_database(purpose);
        sluice::apply_schema_as(url, &database, password);
        let mut env = env.to_vec();
        env.push(("SLUICE_LISTEN_GRPC", format!("127.0.0.1:{}", free_port())));
        env.push(("SLUICE_LISTEN_HTTP", format!("127.0.0.1:{}", free_port())));
        env.push(("SLUICE_CLICKHOUSE_PASSWORD", password.to_owned()));
        let sluice = Sluice::spawn(url, &database, &env);
        Gateway {
            url: url.to_owned(),
            database,
            env,
            sluice,
            password: password.to_owned(),
        }
    }

    fn restart(&mut self) {
        self.sluice = Sluice::spawn(&self.url, &self.database, &self.env);
    }

    fn endpoint(&self) -> String {
        format!("http://{}", self.sluice.grpc)
    }

    /// The load generator in the background: `args` plus `--verify` on this gateway's
    /// database.
    fn load(&self, run_id: &str, args: &str) -> Child {
        Command::new(env!("CARGO_BIN_EXE_sluice-loadgen"))
            .arg("--endpoint")
            .arg(self.endpoint())
            .args([
                "--json",
                "--quiet",
                "--threads",
                "2",
                "--verify",
                "--allow-errors",
            ])
            .args(["--run-id", run_id])
            .args(["--clickhouse-url", &self.url])
            .args(["--clickhouse-password", &self.password])
            .args(["--database", &self.database])
            .args(["--records-per-request", "100"])
            .args(args.split_whitespace())
            .args(if args.contains("--verify-timeout") {
                &[][..]
            } else {
                &["--verify-timeout", "60s"][..]
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start sluice-loadgen")
    }
}

/// The load generator's report.
fn report(child: Child) -> Value {
    let out = child.wait_with_output().expect("loadgen runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"))
}

fn n(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a count: {v}"))
}

/// Nothing acknowledged is missing, nothing is stored twice, and enough was
/// acknowledged for that to mean something.
fn assert_exactly_once(report: &Value, min_acked: u64) {
    let v = &report["verify"]["signals"][0];
    assert!(report["verify"]["error"].is_null(), "{report}");
    assert_eq!(n(&v["missing"]), 0, "acknowledged but not stored: {v}");
    assert_eq!(n(&v["duplicates"]), 0, "stored twice: {v}");
    assert_eq!(n(&v["malformed_rows"]), 0, "{v}");
    assert!(n(&v["acked"]) >= min_acked, "too little acknowledged: {v}");
}

/// The refusals among the report's errors whose message contains `about`: how many,
/// and whether every one of them said when to retry (gRPC `RetryInfo`).
fn refusals(report: &Value, about: &str) -> (u64, bool) {
    let refused: Vec<&Value> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| {
            e["name"] == "UNAVAILABLE" && e["message"].as_str().unwrap_or("").contains(about)
        })
        .collect();
    let count = refused.iter().map(|e| n(&e["count"])).sum();
    let retry_info = refused.iter().all(|e| e["retry_info"] == true);
    (count, retry_info)
}

/// Sluice's peak RSS against what its shards may hold: `shards` × the shard budget
/// plus 128 MiB for the process itself (code, runtimes, buffers outside the budget).
fn assert_rss_within_budget(pid: u32, shards: u64, budget: u64) {
    let rss_mib = peak_rss_kib(pid) / 1024;
    let bound_mib = shards * budget / (1 << 20) + 128;
    eprintln!("peak RSS {rss_mib} MiB (bound {bound_mib} MiB: {shards} shards × budget + 128 MiB)");
    assert!(
        rss_mib < bound_mib,
        "peak RSS {rss_mib} MiB ≥ {bound_mib} MiB"
    );
}

/// Peak resident memory of a process, from `/proc` (`VmHWM`, kB).
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/<pid>/status")
}

/// A local ClickHouse of the test's own (`scripts/clickhouse`), which it may stop.
struct PrivateClickHouse {
    dir: PathBuf,
    port: u16,
    password: String,
}

impl PrivateClickHouse {
    fn start(name: &str) -> PrivateClickHouse {
        let ch = PrivateClickHouse {
            dir: scratch(&format!("ch-{name}")),
            port: free_port(),
            password: String::new(),
        };
        ch.up();
        ch
    }

    /// Stops the server and starts it again on the same port and data, now with
    /// `password` for the default user.
    fn restart_with_password(&mut self, password: &str) {
        self.down();
        self.password = password.to_owned();
        self.up();
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn script(&self, command: &str) {
        let out = Command::new(repo().join("scripts/clickhouse"))
            .arg(command)
            .args(["--port", &self.port.to_string()])
            .arg("--dir")
            .arg(&self.dir)
            .args(["--password", &self.password])
            .env_remove("CLICKHOUSE_URL")
            .output()
            .expect("scripts/clickhouse runs");
        assert!(
            out.status.success(),
            "scripts/clickhouse {command}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn up(&self) {
        self.script("start");
    }

    fn down(&self) {
        self.script("stop");
    }

    /// How many lines of the server's log contain `needle`.
    fn log_lines(&self, needle: &str) -> usize {
        std::fs::read_to_string(self.dir.join("server.log"))
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains(needle))
            .count()
    }
}

impl Drop for PrivateClickHouse {
    fn drop(&mut self) {
        let _ = Command::new(repo().join("scripts/clickhouse"))
            .arg("stop")
            .arg("--dir")
            .arg(&self.dir)
            .env_remove("CLICKHOUSE_URL")
            .output();
    }
}

fn wal_env(dir: &Path) -> Vec<(&'static str, String)> {
    vec![
        ("SLUICE_WAL_DIR", dir.display().to_string()),
        ("SLUICE_BATCH_MAX_AGE_MS", "200".into()),
    ]
}

#[test]
fn kill_9_five_times_under_load_loses_and_duplicates_nothing() {
    let data = scratch("kill9");
    let mut gw = Gateway::start(&clickhouse_url(), "kill9", &wal_env(&data));
    let load = gw.load("kill9", "--rate 20k --duration 15s");
    // Random moments, different every run; the seed is printed to replay a failure
    // (`SLUICE_KILL9_SEED`).
    let mut rng = std::env::var("SLUICE_KILL9_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
                | 1
        });
    eprintln!("kill -9 moments from SLUICE_KILL9_SEED={rng}");
    for _ in 0..5 {
        // At a random moment, 0.5 to 2.5 s apart.
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        std::thread::sleep(Duration::from_millis(500 + rng % 2000));
        gw.sluice.kill();
        gw.restart();
    }
    let report = report(load);
    assert_exactly_once(&report, 50_000);
    assert!(
        n(&report["requests"]["failed"]) > 0,
        "the kills were felt by the clients: {report}"
    );
    assert!(gw.sluice.terminate().success());
}

#[test]
fn clickhouse_stopped_for_30_s_under_load_wal_mode_keeps_taking_requests() {
    let ch = PrivateClickHouse::start("stop-wal");
    let data = scratch("stop-wal");
    let mut env = wal_env(&data);
    let budget = 64u64 << 20;
    env.push(("SLUICE_SHARDS", "2".into()));
    env.push(("SLUICE_LIMITS_SHARD_BUDGET_BYTES", budget.to_string()));
    let mut gw = Gateway::start(&ch.url(), "stopwal", &env);
    let load = gw.load("stopwal", "--rate 10k --duration 40s");
    std::thread::sleep(Duration::from_secs(3));
    ch.down();
    std::thread::sleep(Duration::from_secs(30));
    ch.up();
    let report = report(load);
    // Ingest went on: every request was acknowledged from the write-ahead log.
    assert_eq!(n(&report["requests"]["failed"]), 0, "{report}");
    assert_exactly_once(&report, 350_000);
    assert_rss_within_budget(gw.sluice.pid(), 2, budget);
    assert!(gw.sluice.terminate().success());
}

#[test]
fn clickhouse_stopped_for_30_s_under_load_clickhouse_mode_refuses_with_retry_information() {
    let ch = PrivateClickHouse::start("stop-ch");
    // Rows wait in memory for ClickHouse here: the budget is what bounds them.
    let budget = 16u64 << 20;
    let env = vec![
        ("SLUICE_ACK", "clickhouse".to_owned()),
        ("SLUICE_SINK_RETRY_WINDOW_MS", "2000".to_owned()),
        ("SLUICE_SHARDS", "2".to_owned()),
        ("SLUICE_LIMITS_SHARD_BUDGET_BYTES", budget.to_string()),
    ];
    let mut gw = Gateway::start(&ch.url(), "stopch", &env);
    let load = gw.load("stopch", "--rate 5k --duration 40s --timeout 20s");
    std::thread::sleep(Duration::from_secs(3));
    ch.down();
    std::thread::sleep(Duration::from_secs(30));
    ch.up();
    let report = report(load);
    assert_exactly_once(&report, 20_000);
    // While ClickHouse was away requests were refused as retryable, saying when.
    let (refused, retry_info) = refusals(&report, "");
    assert!(refused > 10, "UNAVAILABLE refusals: {report}");
    assert!(retry_info, "every refusal carried RetryInfo: {report}");
    assert_rss_within_budget(gw.sluice.pid(), 2, budget);
    assert!(gw.sluice.terminate().success());
}

#[test]
fn sigterm_under_load_delivers_or_keeps_every_acknowledged_record() {
    let data = scratch("sigterm");
    let mut gw = Gateway::start(&clickhouse_url(), "sigterm", &wal_env(&data));
    let load = gw.load("sigterm", "--rate 20k --duration 8s");
    std::thread::sleep(Duration::from_secs(3));
    let status = gw.sluice.terminate();
    assert!(status.success(), "SIGTERM: exit {status}");
    gw.restart();
    let report = report(load);
    assert_exactly_once(&report, 50_000);
    assert!(gw.sluice.terminate().success());
}

#[test]
fn too_many_parts_backs_off_then_delivers() {
    let ch = PrivateClickHouse::start("parts");
    let data = scratch("parts");
    let mut gw = Gateway::start(&ch.url(), "parts", &wal_env(&data));
    let table = format!("`{}`.`otel_logs`", gw.database);
    query_at(&ch.url(), &format!("SYSTEM STOP MERGES {table}"));
    query_at(
        &ch.url(),
        &format!("ALTER TABLE {table} MODIFY SETTING parts_to_throw_insert = 1"),
    );
    let load = gw.load("parts", "--rate 5k --duration 9s");
    // One part gets in; every INSERT after it is refused with 252 for 5 s.
    std::thread::sleep(Duration::from_secs(6));
    let refused = ch.log_lines("Code: 252.");
    query_at(
        &ch.url(),
        &format!("ALTER TABLE {table} MODIFY SETTING parts_to_throw_insert = 3000"),
    );
    query_at(&ch.url(), &format!("SYSTEM START MERGES {table}"));
    let report = report(load);
    assert_exactly_once(&report, 30_000);
    assert_eq!(n(&report["requests"]["failed"]), 0, "{report}");
    // Backoff, not a tight loop: a handful of attempts in those seconds.
    assert!(
        (2..=12).contains(&refused),
        "{refused} INSERTs refused with TOO_MANY_PARTS"
    );
    assert!(gw.sluice.terminate().success());
}

#[test]
fn a_dropped_table_holds_the_data_until_it_is_created_again() {
    let data = scratch("drop");
    let url = clickhouse_url();
    let mut gw = Gateway::start(&url, "drop", &wal_env(&data));
    query_at(
        &url,
        &format!("DROP TABLE `{}`.`otel_logs` SYNC", gw.database),
    );
    let load = gw.load("drop", "--rate 5k --duration 6s");
    std::thread::sleep(Duration::from_secs(4));
    let paused = gw
        .sluice
        .log()
        .iter()
        .any(|l| l.contains("otel_logs: sink paused") && l.contains("UNKNOWN_TABLE"));
    assert!(paused, "the sink said it paused: {:?}", gw.sluice.log());
    apply_schema(&url, &gw.database);
    let report = report(load);
    assert_eq!(n(&report["requests"]["failed"]), 0, "{report}");
    assert_exactly_once(&report, 25_000);
    assert!(gw.sluice.terminate().success());
}

#[test]
fn a_corrupt_record_and_a_torn_tail_are_reported_and_the_rest_delivered() {
    let data = scratch("corrupt");
    let mut env = wal_env(&data);
    // Nothing leaves the request log before the kill: one shard, no sealing.
    env.push(("SLUICE_SHARDS", "1".into()));
    env.push(("SLUICE_BATCH_MAX_AGE_MS", "600000".into()));
    let mut gw = Gateway::start(&clickhouse_url(), "corrupt", &env);
    let load = gw.load(
        "corrupt",
        "--requests 40 --connections 1 --streams 2 --verify-timeout 20s",
    );
    // The 40 requests take well under a second; then the load generator waits for
    // the rows (up to 20 s) while they sit in the request log. Kill sluice then.
    let log_dir = data.join("shards").join("0");
    std::thread::sleep(Duration::from_secs(5));
    gw.sluice.kill();
    let segment = std::fs::read_dir(&log_dir)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "wal"))
        .expect("a segment");
    let mut bytes = std::fs::read(&segment).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid..mid + 8].fill(0xff);
    bytes.truncate(bytes.len() - 10);
    std::fs::write(&segment, &bytes).unwrap();
    gw.env.retain(|(k, _)| *k != "SLUICE_BATCH_MAX_AGE_MS");
    gw.env.push(("SLUICE_BATCH_MAX_AGE_MS", "100".into()));
    gw.restart();
    let log = gw.sluice.log().join("\n");
    assert!(log.contains("skipped 1 corrupt records"), "{log}");
    assert!(log.contains("cut a torn tail"), "{log}");
    let report = report(load);
    let v = &report["verify"]["signals"][0];
    assert_eq!(n(&report["requests"]["ok"]), 40, "{report}");
    // Exactly the damaged requests are gone (one or two in the middle, the torn
    // last one); nothing is stored twice.
    let missing = n(&v["missing"]);
    assert!(
        missing.is_multiple_of(100) && (200..=300).contains(&missing),
        "{v}"
    );
    assert_eq!(n(&v["duplicates"]), 0, "{v}");
    assert!(gw.sluice.terminate().success());
}

#[test]
fn inserts_cut_mid_body_cut_before_the_answer_or_over_the_memory_limit_lose_and_duplicate_nothing()
{
    let url = clickhouse_url();
    let upstream: std::net::SocketAddr = url
        .trim_start_matches("http://")
        .parse()
        .expect("CLICKHOUSE_URL is http://IP:PORT");
    for ack in ["clickhouse", "wal"] {
        let proxy = Proxy::start(upstream);
        let data = scratch(&format!("proxy-{ack}"));
        let mut env = wal_env(&data);
        env.push(("SLUICE_ACK", ack.to_owned()));
        env.push(("SLUICE_CLICKHOUSE_URL", format!("http://{}", proxy.addr)));
        let mut gw = Gateway::start(&url, &format!("proxy{ack}"), &env);
        let run_id = format!("proxy-{ack}");
        let load = gw.load(&run_id, "--rate 5k --duration 8s --timeout 20s");
        std::thread::sleep(Duration::from_secs(2));
        proxy.arm(&[Fault::CutMidBody]);
        std::thread::sleep(Duration::from_millis(1500));
        proxy.arm(&[Fault::CutBeforeAnswer]);
        std::thread::sleep(Duration::from_millis(1500));
        proxy.arm(&[Fault::MemoryLimit; 3]);
        let report = report(load);
        let (done, inserts) = proxy.done();
        assert_eq!(
            done,
            vec![
                Fault::CutMidBody,
                Fault::CutBeforeAnswer,
                Fault::MemoryLimit,
                Fault::MemoryLimit,
                Fault::MemoryLimit
            ],
            "{ack}: every fault happened ({inserts} INSERTs)"
        );
        // The INSERTs were retried (same bytes, same token) until they committed:
        // no request failed, nothing is missing, nothing is stored twice.
        assert_eq!(n(&report["requests"]["failed"]), 0, "{ack}: {report}");
        assert_exactly_once(&report, 30_000);
        assert!(gw.sluice.terminate().success());
    }
}

#[test]
fn a_wrong_password_holds_the_data_until_it_is_fixed() {
    let mut ch = PrivateClickHouse::start("password");
    ch.restart_with_password("first");
    let data = scratch("password");
    let mut gw = Gateway::start_as(&ch.url(), "first", "password", &wal_env(&data));
    // The password is changed under sluice: its INSERTs are refused (516).
    ch.restart_with_password("second");
    let load = gw.load("password", "--rate 5k --duration 8s");
    std::thread::sleep(Duration::from_secs(4));
    let paused = gw
        .sluice
        .log()
        .iter()
        .any(|l| l.contains("sink paused") && l.contains("AUTHENTICATION_FAILED"));
    assert!(paused, "the sink said it paused: {:?}", gw.sluice.log());
    // Fixed: the password sluice has is the server's again.
    ch.restart_with_password("first");
    let report = report(load);
    assert_eq!(n(&report["requests"]["failed"]), 0, "{report}");
    assert_exactly_once(&report, 35_000);
    assert!(gw.sluice.terminate().success());
}

/// A tmpfs of `mib` MiB mounted at `dir` (root only), unmounted when dropped.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(dir: &Path, mib: u64) -> Tmpfs {
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={mib}m"), "tmpfs"])
            .arg(dir)
            .output()
            .expect("mount runs");
        assert!(
            out.status.success(),
            "this test fills a small filesystem and needs to mount a tmpfs (as root): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Tmpfs(dir.to_owned())
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

#[test]
fn a_full_disk_refuses_with_retry_information_and_recovers_when_space_frees() {
    let ch = PrivateClickHouse::start("diskfull");
    let data = scratch("diskfull");
    let _fs = Tmpfs::mount(&data, 3);
    let mut env = wal_env(&data);
    // Small segments, so what is delivered is deleted soon; the backlog fills the disk.
    env.push(("SLUICE_WAL_SEGMENT_BYTES", "262144".into()));
    env.push(("SLUICE_WAL_RESERVE_BYTES", "1048576".into()));
    let mut gw = Gateway::start(&ch.url(), "diskfull", &env);
    ch.down();
    let load = gw.load("diskfull", "--rate 20k --duration 24s --timeout 20s");
    // ClickHouse is away: the outbox grows until the filesystem is full.
    let deadline = std::time::Instant::now() + Duration::from_secs(14);
    let full = loop {
        let log = gw.sluice.log();
        if log
            .iter()
            .any(|l| l.contains("No space left on device") || l.contains("write-ahead log is full"))
        {
            break true;
        }
        if std::time::Instant::now() > deadline {
            break false;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(
        full,
        "the 3 MiB filesystem filled up: {:?}",
        gw.sluice.log()
    );
    std::thread::sleep(Duration::from_secs(2));
    ch.up();
    let report = report(load);
    // Refused while full, with the reason and retry information; no crash; accepted
    // again once delivered.
    let (refused, retry_info) = refusals(&report, "write-ahead log");
    assert!(refused > 0, "refusals naming the write-ahead log: {report}");
    assert!(retry_info, "every refusal carried RetryInfo: {report}");
    // How much gets in before the 3 MiB fill depends on the machine's pace; the run
    // after shows that requests are taken again.
    assert_exactly_once(&report, 1_000);
    // A request told to retry left no rows behind (they would be stored twice once
    // the client sends it again).
    let v = &report["verify"]["signals"][0];
    assert_eq!(n(&v["unacked_stored"]), 0, "refused but stored: {v}");
    let after = gw.load("diskfull-after", "--rate 5k --duration 3s");
    let after = report_of(after);
    assert_eq!(
        n(&after["requests"]["failed"]),
        0,
        "accepted again: {after}"
    );
    assert_exactly_once(&after, 10_000);
    assert!(gw.sluice.terminate().success());
}

fn report_of(child: Child) -> Value {
    report(child)
}
