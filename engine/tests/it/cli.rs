//! The `sluice` command line: what a user types, what they see.

use std::process::{Command, Output};

use crate::support::{clickhouse, drop_database, fresh_database};

fn sluice(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sluice"))
        .args(args)
        // The test's own ClickHouse settings must not leak into these runs.
        .env_remove("SLUICE_CLICKHOUSE_URL")
        .env_remove("CLICKHOUSE_ENDPOINT")
        .env_remove("CLICKHOUSE_URL")
        .output()
        .expect("run sluice")
}

/// Asserts a failure: the exit code, and one stderr line mentioning every `needle`.
fn assert_one_line_error(out: &Output, code: i32, needles: &[&str]) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "stderr: {stderr}");
    assert_eq!(
        stderr.trim_end().lines().count(),
        1,
        "one line, got: {stderr}"
    );
    assert!(stderr.starts_with("sluice: "), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    for n in needles {
        assert!(stderr.contains(n), "{n:?} not in: {stderr}");
    }
}

#[test]
fn schema_print_renders_every_table_with_the_options() {
    let out = sluice(&["schema", "print", "--database", "obs", "--logs-ttl", "7d"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ddl = String::from_utf8(out.stdout).unwrap();
    for table in wire::tables::Table::ALL {
        let create = format!(
            "CREATE TABLE IF NOT EXISTS `obs`.`{}`",
            table.default_name()
        );
        assert!(ddl.contains(&create), "missing {create}");
    }
    assert!(ddl.contains("toIntervalDay(7)") && ddl.contains("toIntervalDay(30)"));
    assert!(!ddl.contains("${"), "placeholder left");
}

#[test]
fn unknown_option_is_one_line_and_exit_2() {
    let out = sluice(&["schema", "apply", "--no-such-option"]);
    assert_one_line_error(&out, 2, &["--no-such-option"]);
    let out = sluice(&["schema", "print", "--ttl", "30x"]);
    assert_one_line_error(&out, 2, &["30x", "unit"]);
}

#[test]
fn unreachable_clickhouse_is_named() {
    // Port 9 (discard) on loopback: nothing listens, the connection is refused at once.
    let out = sluice(&["schema", "apply", "--clickhouse", "http://127.0.0.1:9"]);
    assert_one_line_error(&out, 1, &["cannot reach ClickHouse at http://127.0.0.1:9"]);
    let out = sluice(&["schema", "apply", "--clickhouse", "tcp://127.0.0.1:9000"]);
    assert_one_line_error(&out, 1, &["not an http:// or https:// URL"]);
}

#[tokio::test]
async fn ddl_refused_by_the_server_is_named() {
    let url = clickhouse().url;
    let db = fresh_database("refused");
    // ON CLUSTER a cluster the server does not have: ClickHouse refuses the DDL.
    let out = sluice(&[
        "schema",
        "apply",
        "--clickhouse",
        &url,
        "--database",
        &db,
        "--cluster",
        "no_such_cluster",
    ]);
    assert_one_line_error(&out, 1, &["ClickHouse refused the DDL for", "Code: "]);
    // A user the server does not know: ClickHouse's authentication error (516).
    let out = sluice(&[
        "schema",
        "apply",
        "--clickhouse",
        &url,
        "--user",
        "nobody-here",
    ]);
    assert_one_line_error(&out, 1, &["answered with an error", "Code: 516"]);
    drop_database(&clickhouse(), &db).await;
}

#[tokio::test]
async fn schema_apply_reports_what_it_created() {
    let url = clickhouse().url;
    let db = fresh_database("cli");
    let out = sluice(&[
        "schema",
        "apply",
        "--clickhouse",
        &url,
        "--database",
        &db,
        "--table",
        "otel_logs=app_logs",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("schema applied to"), "{stdout}");
    assert!(
        stdout.contains("app_logs") && !stdout.contains("otel_logs,"),
        "{stdout}"
    );
    let n = clickhouse()
        .client()
        .query("SELECT count() FROM system.tables WHERE database = ? AND name = 'app_logs'")
        .bind(&db)
        .fetch_one::<u64>()
        .await
        .unwrap();
    assert_eq!(n, 1);
    drop_database(&clickhouse(), &db).await;
}
