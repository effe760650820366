//! A real `sluice run` writing to the real ClickHouse named by `CLICKHOUSE_URL`, in a
//! database of its own made with `sluice schema apply`; and plain queries to that
//! ClickHouse, so the tests count the stored rows without going through the load
//! generator.
//!
//! The `sluice` binary is another package's, so `CARGO_BIN_EXE_sluice` does not reach
//! it: it is taken from beside `sluice-loadgen` in the target directory (where
//! `cargo test --workspace`, and so `scripts/test`, builds it), or from `$SLUICE_BIN`.
//! By hand:
//!
//! ```sh
//! scripts/clickhouse start --port 0 && export CLICKHOUSE_URL=$(scripts/clickhouse url)
//! cargo build --bin sluice && cargo test -p sluice-bench --test loadgen
//! ```

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};

/// How long `sluice run` may take to print its ready line.
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// The ClickHouse under test, from `CLICKHOUSE_URL` (without a trailing `/`).
pub fn clickhouse_url() -> String {
    let url = std::env::var("CLICKHOUSE_URL").unwrap_or_default();
    assert!(
        !url.is_empty(),
        "this test needs a ClickHouse server: run scripts/test, or \
         `scripts/clickhouse start --port 0 && export CLICKHOUSE_URL=$(scripts/clickhouse url)`, \
         `cargo build --bin sluice`, then `cargo test -p sluice-bench --test loadgen`"
    );
    url.trim_end_matches('/').to_owned()
}

/// The `sluice` binary: `$SLUICE_BIN`, or the one beside `sluice-loadgen`, checked to
/// be newer than every source its build read (cargo's dep-info file lists them).
fn sluice_bin() -> PathBuf {
    if let Some(bin) = std::env::var_os("SLUICE_BIN") {
        let bin = PathBuf::from(bin);
        assert!(bin.is_file(), "SLUICE_BIN={}: no such file", bin.display());
        return bin;
    }
    let bin = Path::new(env!("CARGO_BIN_EXE_sluice-loadgen"))
        .with_file_name(format!("sluice{}", std::env::consts::EXE_SUFFIX));
    let built = std::fs::metadata(&bin)
        .and_then(|m| m.modified())
        .unwrap_or_else(|e| {
            panic!(
                "{}: {e}: build it first (`cargo build --bin sluice`; scripts/test does), \
                 or name a sluice binary in SLUICE_BIN",
                bin.display()
            )
        });
    if let Some(newer) = newer_source(&bin.with_extension("d"), built) {
        panic!(
            "{} is older than {newer}: rebuild it (`cargo build --bin sluice`)",
            bin.display()
        );
    }
    bin
}

/// A source named in a dep-info file (`target: src src…`, spaces escaped as `\ `)
/// modified after `built`; none when the file cannot be read.
fn newer_source(dep_info: &Path, built: SystemTime) -> Option<String> {
    let text = std::fs::read_to_string(dep_info).ok()?;
    let (_, sources) = text.lines().next()?.split_once(": ")?;
    let escaped = sources.replace("\\ ", "\0");
    escaped
        .split(' ')
        .map(|s| s.replace('\0', " "))
        .filter(|s| !s.is_empty())
        .find(|s| {
            std::fs::metadata(s)
                .and_then(|m| m.modified())
                .is_ok_and(|t| t > built)
        })
}

/// A database name no other test (or earlier run) uses.
pub fn fresh_database(purpose: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "sluice_lg_{purpose}_{}_{nanos}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// Runs `sql` on the ClickHouse under test and returns the answer's body.
pub fn query(sql: &str) -> String {
    query_at(&clickhouse_url(), sql)
}

/// Runs `sql` on the ClickHouse at `url` and returns the answer's body.
pub fn query_at(url: &str, sql: &str) -> String {
    let password = std::env::var("CLICKHOUSE_PASSWORD").unwrap_or_default();
    query_as(url, &password, sql)
}

/// [`query_at`] with the given password.
pub fn query_as(url: &str, password: &str, sql: &str) -> String {
    let url = url.to_owned();
    let user = std::env::var("CLICKHOUSE_USER").unwrap_or_else(|_| "default".into());
    let password = password.to_owned();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let client =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build_http();
        let req = http::Request::post(format!("{url}/"))
            .header("X-ClickHouse-User", user)
            .header("X-ClickHouse-Key", password)
            .body(Full::new(Bytes::from(sql.to_owned())))
            .unwrap();
        let resp = client.request(req).await.expect("ask ClickHouse");
        let status = resp.status();
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        let text = String::from_utf8_lossy(&body).into_owned();
        assert!(status.is_success(), "{sql}: {status} {text}");
        text
    })
}

/// A `sluice run` process with its own database; killed when dropped, stopped with
/// SIGTERM by [`Sluice::stop`].
pub struct Sluice {
    child: Child,
    pub grpc: SocketAddr,
    pub http: SocketAddr,
    pub database: String,
    log: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

/// `sluice schema apply` into `database` at `url`.
pub fn apply_schema(url: &str, database: &str) {
    let password = std::env::var("CLICKHOUSE_PASSWORD").unwrap_or_default();
    apply_schema_as(url, database, &password);
}

/// [`apply_schema`] with the given password.
pub fn apply_schema_as(url: &str, database: &str, password: &str) {
    let out = Command::new(sluice_bin())
        .args([
            "schema",
            "apply",
            "--clickhouse",
            url,
            "--database",
            database,
        ])
        .env("CLICKHOUSE_PASSWORD", password)
        .output()
        .expect("run sluice schema apply");
    assert!(
        out.status.success(),
        "sluice schema apply: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Sluice {
    /// Applies the schema to a fresh database and starts sluice on free loopback ports.
    pub fn start(purpose: &str) -> Sluice {
        let url = clickhouse_url();
        let database = fresh_database(purpose);
        apply_schema(&url, &database);
        Sluice::spawn(&url, &database, &[])
    }

    /// Starts `sluice run` on an existing database, with more `SLUICE_…` settings
    /// (which may name fixed ports), and waits for its ready line.
    pub fn spawn(url: &str, database: &str, env: &[(&str, String)]) -> Sluice {
        let mut child = Command::new(sluice_bin())
            .arg("run")
            .env("SLUICE_LISTEN_GRPC", "127.0.0.1:0")
            .env("SLUICE_TELEMETRY_METRICS", "127.0.0.1:0")
            .env("SLUICE_TELEMETRY_HEALTH", "127.0.0.1:0")
            .env("SLUICE_LISTEN_HTTP", "127.0.0.1:0")
            .env("SLUICE_CLICKHOUSE_URL", url)
            .env("SLUICE_CLICKHOUSE_DATABASE", database)
            .env("SLUICE_SHARDS", "2")
            .env("SLUICE_BATCH_MAX_AGE_MS", "100")
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stderr(Stdio::piped())
            .spawn()
            .expect("start sluice run");
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let lines = std::sync::Arc::clone(&log);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                eprintln!("[sluice] {line}");
                lines.lock().unwrap().push(line.clone());
                let _ = tx.send(line);
            }
        });
        let deadline = Instant::now() + READY_TIMEOUT;
        let ready = loop {
            match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(line) if line.starts_with("sluice: ready") => break line,
                Ok(_) => continue,
                Err(_) => panic!(
                    "sluice did not become ready (status {:?})",
                    child.try_wait()
                ),
            }
        };
        let addr = |key: &str| -> SocketAddr {
            ready
                .split(' ')
                .find_map(|f| f.strip_prefix(key))
                .unwrap_or_else(|| panic!("no {key} in {ready:?}"))
                .parse()
                .unwrap()
        };
        Sluice {
            grpc: addr("grpc="),
            http: addr("http="),
            child,
            database: database.to_owned(),
            log,
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// What sluice printed on stderr so far.
    pub fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    /// `kill -9`: no chance to flush anything.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, and the exit status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        self.child.wait().expect("sluice exits")
    }

    /// Rows of `table` whose resource carries `loadgen.run_id = run_id`, and the
    /// distinct `loadgen.seq`s among them (`attrs`: the record attribute map).
    pub fn rows_of_run(&self, table: &str, attrs: &str, run_id: &str) -> (u64, u64) {
        let sql = format!(
            "SELECT count(), uniqExact({attrs}['loadgen.seq']) FROM `{}`.`{table}` \
             WHERE ResourceAttributes['loadgen.run_id'] = '{run_id}' FORMAT TSV",
            self.database
        );
        let answer = query(&sql);
        let counts: Vec<u64> = answer
            .split_whitespace()
            .map(|n| n.parse().expect("a count"))
            .collect();
        assert_eq!(counts.len(), 2, "{sql}: {answer:?}");
        (counts[0], counts[1])
    }

    /// SIGTERM; sluice must finish its inserts and exit 0. The database is dropped.
    pub fn stop(mut self) {
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let status = self.child.wait().expect("sluice exits");
        assert!(status.success(), "sluice stopped with {status}");
        query(&format!("DROP DATABASE IF EXISTS `{}`", self.database));
    }
}

impl Drop for Sluice {
    fn drop(&mut self) {
        // After `stop` this finds no process; after a failed test it cleans up.
        let _ = self.child.kill();
    }
}
