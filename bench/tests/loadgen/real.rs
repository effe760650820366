//! `--verify` against what was really stored: the load generator sends to a real
//! `sluice run` (`sluice.rs`), which writes to the real ClickHouse at `CLICKHOUSE_URL`;
//! the tests count the rows there themselves, and a faulty proxy (`proxy.rs`) between
//! the two loses one record and doubles another while answering success.

use std::net::SocketAddr;
use std::process::{Command, Output};

use serde_json::{Value, json};

use crate::proxy::{self, Faults};
use crate::sluice::{self, Sluice};
use crate::{n, stderr};

/// Runs the load generator against `endpoint` with `--verify` on `sluice`'s database
/// and `--json`, plus `args` (split at whitespace); its report.
fn loadgen_verify(
    endpoint: SocketAddr,
    sluice: &Sluice,
    run_id: &str,
    args: &str,
) -> (Output, Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_sluice-loadgen"))
        .arg("--endpoint")
        .arg(format!("http://{endpoint}"))
        .args(["--json", "--quiet", "--threads", "2", "--verify"])
        .args(["--run-id", run_id])
        .args(["--clickhouse-url", &sluice::clickhouse_url()])
        .args(["--database", &sluice.database])
        .args(args.split_whitespace())
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not one JSON object ({e}): {stdout}\nstderr: {}",
            stderr(&out)
        )
    });
    (out, report)
}

#[test]
fn verify_finds_the_record_a_proxy_dropped_and_the_one_it_doubled() {
    let sluice = Sluice::start("faults");
    let faults = Faults {
        drop_in: Some(3),
        duplicate_in: Some(11),
    };
    let proxy = proxy::start(sluice.http, faults);
    // 20 requests × 50 log records over OTLP/HTTP protobuf; --verify waits out its
    // timeout for the lost record, so keep it short.
    let args = "--protocol http --signal logs --requests 20 --records-per-request 50 \
                --connections 2 --streams 2 --verify-timeout 3s";
    let (out, report) = loadgen_verify(proxy.addr, &sluice, "faults", args);
    assert_eq!(out.status.code(), Some(1), "{report}\n{}", stderr(&out));
    assert_eq!(report["ok"], false);

    // Every request answered OK: only the stored rows can tell.
    assert_eq!(n(&report["requests"]["ok"]), 20, "{report}");
    assert_eq!(n(&report["requests"]["failed"]), 0);
    assert_eq!(n(&report["records"]["ok"]), 1000);
    assert_eq!(report["errors"], json!([]));
    let (dropped, doubled) = {
        let log = proxy.log.lock().unwrap();
        assert_eq!(log.requests, 20);
        assert_eq!(log.received, 1000);
        assert_eq!((log.dropped.len(), log.duplicated.len()), (1, 1), "{log:?}");
        assert_eq!(log.forwarded, 1000 - 1 + 1);
        (log.dropped[0], log.duplicated[0])
    };

    let v = &report["verify"];
    assert_eq!(v["run_id"], "faults");
    assert_eq!(v["ok"], false, "{v}");
    assert_eq!(v["error"], Value::Null, "ClickHouse answered");
    let checks = v["signals"].as_array().unwrap();
    assert_eq!(checks.len(), 1, "{v}");
    let c = &checks[0];
    assert_eq!(c["table"], "otel_logs");
    assert_eq!(n(&c["acked"]), 1000);
    assert_eq!(n(&c["stored_rows"]), 1000, "one row lost, one extra");
    assert_eq!(n(&c["stored_distinct"]), 999);
    assert_eq!(n(&c["missing"]), 1, "{c}");
    assert_eq!(c["missing_sample"], json!([[dropped, dropped + 1]]));
    assert_eq!(n(&c["duplicates"]), 1, "{c}");
    assert_eq!(n(&c["duplicate_rows"]), 1);
    assert_eq!(c["duplicate_sample"], json!([doubled]));
    assert_eq!(n(&c["unacked_stored"]), 0);
    assert_eq!(n(&c["malformed_rows"]), 0);

    // The same, asked of ClickHouse directly.
    assert_eq!(
        sluice.rows_of_run("otel_logs", "LogAttributes", "faults"),
        (1000, 999)
    );
    for (seq, rows) in [(dropped, "0"), (doubled, "2")] {
        let sql = format!(
            "SELECT count() FROM `{}`.otel_logs WHERE LogAttributes['loadgen.seq'] = '{seq:016}' \
             FORMAT TSV",
            sluice.database
        );
        assert_eq!(sluice::query(&sql).trim(), rows, "loadgen.seq {seq}");
    }
    sluice.stop();
}

#[test]
fn verify_passes_and_counts_match_clickhouse_over_grpc_and_http_json() {
    let sluice = Sluice::start("clean");
    for (run_id, endpoint, args) in [
        ("grpc_mix", sluice.grpc, "--protocol grpc"),
        (
            "http_json_mix",
            sluice.http,
            "--protocol http --encoding json",
        ),
    ] {
        let all = format!("{args} --signal mix --requests 30 --records-per-request 50");
        let (out, report) = loadgen_verify(endpoint, &sluice, run_id, &all);
        assert!(out.status.success(), "{run_id}: {report}\n{}", stderr(&out));
        assert_eq!(report["ok"], true);
        assert_eq!(n(&report["requests"]["ok"]), 30, "{report}");
        assert_eq!(n(&report["records"]["ok"]), 1500);
        let v = &report["verify"];
        assert_eq!(v["ok"], true, "{v}");
        let checks = v["signals"].as_array().unwrap();
        let mut tables = Vec::new();
        for c in checks {
            let table = c["table"].as_str().unwrap();
            tables.push(table);
            // 30 requests in turn: 10 of each signal, 50 records each.
            assert_eq!(n(&c["acked"]), 500, "{run_id} {c}");
            assert_eq!(n(&c["stored_rows"]), 500, "{run_id} {c}");
            assert_eq!(n(&c["stored_distinct"]), 500);
            for finding in ["missing", "duplicates", "unacked_stored", "malformed_rows"] {
                assert_eq!(n(&c[finding]), 0, "{run_id} {finding}: {c}");
            }
            // ClickHouse, asked by the test, agrees.
            let attrs = match table {
                "otel_logs" => "LogAttributes",
                "otel_traces" => "SpanAttributes",
                _ => "Attributes",
            };
            assert_eq!(
                sluice.rows_of_run(table, attrs, run_id),
                (500, 500),
                "{run_id} {table}"
            );
        }
        assert_eq!(tables, ["otel_logs", "otel_traces", "otel_metrics_sum"]);
    }
    sluice.stop();
}

/// The fuzz corpus (with mutations) replayed at a real sluice over gRPC and
/// OTLP/HTTP: every request is answered, none with a server error, and sluice is up
/// at the end and still stores good requests.
#[test]
fn the_fuzz_corpus_replayed_at_sluice_gets_an_answer_and_no_server_error() {
    let url = sluice::clickhouse_url();
    let database = sluice::fresh_database("malformed");
    sluice::apply_schema(&url, &database);
    let mut sluice = Sluice::spawn(&url, &database, &[("SLUICE_ACK", "memory".to_owned())]);
    let corpus = concat!(env!("CARGO_MANIFEST_DIR"), "/../fuzz/corpus");
    for (protocol, endpoint) in [("grpc", sluice.grpc), ("http", sluice.http)] {
        let out = Command::new(env!("CARGO_BIN_EXE_sluice-loadgen"))
            .arg("--endpoint")
            .arg(format!("http://{endpoint}"))
            .args(["--protocol", protocol, "--json", "--timeout", "5s"])
            .args(["--malformed", corpus, "--mutations", "6"])
            .output()
            .expect("runs");
        let report: Value =
            serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(&out)));
        assert_eq!(out.status.code(), Some(0), "{protocol}: {report}");
        assert_eq!(report["problem_count"], 0, "{protocol}: {report}");
        assert_eq!(report["alive"], true);
        assert!(n(&report["sent"]) > 100, "{protocol}: {report}");
        assert!(n(&report["refused_as_bad"]) > 0, "{protocol}: {report}");
        assert!(n(&report["ok"]) > 0, "{protocol}: {report}");
    }
    assert!(sluice.terminate().success());
}
