//! `sluice-loadgen` end to end against the in-test endpoint (`endpoint.rs`): what the
//! load generator reports is what the endpoint received, over every transport and
//! encoding; failures are counted with their status and message; pacing, warm-up
//! and the `--verify` plumbing (against a fake ClickHouse) work. `real.rs` checks
//! `--verify` against a real sluice and the real ClickHouse at `CLICKHOUSE_URL`
//! (`scripts/test` starts one; see `sluice.rs` to run it by hand). `discard.rs` tests
//! `sluice-discard`, the benchmarks' INSERT-dropping ClickHouse endpoint.

mod discard;
mod endpoint;
mod proxy;
mod real;
// Shared with tests/durability (by `#[path]`), which uses the parts this binary does not.
#[allow(dead_code)]
mod sluice;

use std::collections::BTreeSet;
use std::process::{Command, Output};
use std::sync::Arc;
use std::time::{Duration, Instant};

use endpoint::{Answer, Damage, Server};
use serde_json::Value;

/// Runs the load generator against `endpoint` with `args` (split at whitespace) and
/// `--json`, and parses its report.
fn loadgen(endpoint: &Server, args: &str) -> (Output, Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_sluice-loadgen"))
        .arg("--endpoint")
        .arg(format!("http://{}", endpoint.addr))
        .args(["--json", "--threads", "2"])
        .args(args.split_whitespace())
        .env_remove("CLICKHOUSE_URL")
        .env_remove("CLICKHOUSE_PASSWORD")
        .env("CLICKHOUSE_USER", "tester")
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let json = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not one JSON object ({e}): {stdout}\nstderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out, json)
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn n(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a count: {v}"))
}

/// The report's counts equal what the endpoint received, and every request carried
/// its own number.
fn assert_counts_match(report: &Value, server: &Server, requests: u64, records: u64) {
    let got = server.received.lock().unwrap();
    assert_eq!(n(&report["requests"]["ok"]), requests, "{report}");
    assert_eq!(n(&report["requests"]["failed"]), 0);
    assert_eq!(n(&report["records"]["ok"]), records);
    assert_eq!(got.total_requests(), requests);
    assert_eq!(got.total_records(), records);
    let ids: BTreeSet<u64> = got.request_ids.iter().copied().collect();
    assert_eq!(
        ids,
        (0..requests).collect(),
        "request ids 0..{requests}, once each"
    );
    assert!(report["errors"].as_array().unwrap().is_empty());
    assert_eq!(report["ok"], Value::Bool(true));
}

#[test]
fn grpc_logs_counts_match_the_endpoint() {
    let server = endpoint::grpc(Answer::Ok);
    // 500 records (about 180 KB) a request: more than h2's default 64 KiB windows.
    let args = "--connections 2 --streams 4 --requests 30 --records-per-request 500 --pool 8";
    let (out, report) = loadgen(&server, args);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_counts_match(&report, &server, 30, 15_000);
    assert_eq!(report["config"]["transport"], "h2c");
    assert_eq!(n(&report["latency_us"]["count"]), 30);
    let l = &report["latency_us"];
    assert!(
        n(&l["p50"]) <= n(&l["p99"]) && n(&l["p99"]) <= n(&l["max"]),
        "{l}"
    );
    assert!(n(&report["bytes"]["wire"]) > 30 * 500 * 100);
    assert_eq!(n(&report["generator"]["pool_requests"]), 8);
    assert_eq!(n(&report["connections"]["opened"]), 2);
}

#[test]
fn grpc_mix_with_gzip_and_zstd() {
    for compression in ["gzip", "zstd"] {
        let server = endpoint::grpc(Answer::Ok);
        let args = format!(
            "--signal mix --compression {compression} --requests 12 --records-per-request 20 \
             --resources 2 --scopes 2"
        );
        let (out, report) = loadgen(&server, &args);
        assert!(out.status.success(), "{}", stderr(&out));
        // Two resources a request, each stamped with the request's number.
        let got = server.received.lock().unwrap();
        assert_eq!(got.request_ids.len(), 24);
        for signal in ["logs", "traces", "metrics"] {
            assert_eq!(got.requests.get(signal), Some(&4), "{signal}");
            assert_eq!(got.records.get(signal), Some(&80), "{signal}");
        }
        assert!(got.content.iter().all(|(_, enc)| enc == compression));
        assert_eq!(n(&report["records"]["ok"]), 240);
        assert!(n(&report["bytes"]["wire"]) < n(&report["bytes"]["uncompressed"]));
    }
}

#[test]
fn http_every_transport_and_encoding() {
    for (args, ctype, transport) in [
        (
            "--signal logs --compression zstd",
            "application/x-protobuf",
            "http/1.1",
        ),
        (
            "--signal traces --encoding json --http2 --compression gzip",
            "application/json",
            "h2c",
        ),
        (
            "--signal metrics --encoding json",
            "application/json",
            "http/1.1",
        ),
        ("--signal logs --http2", "application/x-protobuf", "h2c"),
    ] {
        let server = endpoint::http(Answer::Ok);
        let all =
            format!("--protocol http --requests 10 --records-per-request 25 --streams 3 {args}");
        let (out, report) = loadgen(&server, &all);
        assert!(out.status.success(), "{args}: {}", stderr(&out));
        assert_counts_match(&report, &server, 10, 250);
        let got = server.received.lock().unwrap();
        assert!(
            got.content.iter().all(|(c, _)| c == ctype),
            "{:?}",
            got.content
        );
        assert_eq!(report["config"]["transport"], transport);
    }
}

#[test]
fn grpc_status_in_an_http_200_is_a_failure_with_its_message() {
    for trailers_only in [true, false] {
        let server = endpoint::grpc(Answer::GrpcStatus {
            code: 14,
            message: "overloaded, retry later",
            trailers_only,
        });
        let (out, report) = loadgen(&server, "--requests 6 --records-per-request 10");
        assert_eq!(
            out.status.code(),
            Some(1),
            "failures make the exit status 1"
        );
        assert_eq!(report["ok"], Value::Bool(false));
        assert_eq!(n(&report["requests"]["ok"]), 0);
        assert_eq!(n(&report["requests"]["failed"]), 6);
        assert_eq!(n(&report["records"]["failed"]), 60);
        let errors = report["errors"].as_array().unwrap();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0]["kind"], "grpc");
        assert_eq!(n(&errors[0]["code"]), 14);
        assert_eq!(errors[0]["name"], "UNAVAILABLE");
        assert_eq!(errors[0]["message"], "overloaded, retry later");
        assert_eq!(n(&errors[0]["count"]), 6);
        // The endpoint did receive them.
        assert_eq!(server.received.lock().unwrap().total_records(), 60);
    }
    let server = endpoint::grpc(Answer::GrpcStatus {
        code: 8,
        message: "too big",
        trailers_only: true,
    });
    let (out, report) = loadgen(
        &server,
        "--requests 2 --records-per-request 10 --allow-errors",
    );
    assert!(out.status.success(), "--allow-errors");
    assert_eq!(report["errors"][0]["name"], "RESOURCE_EXHAUSTED");
}

#[test]
fn http_error_status_is_a_failure_with_the_status_message() {
    let server = endpoint::http(Answer::HttpStatus {
        status: 503,
        message: "try later",
    });
    let (out, report) = loadgen(
        &server,
        "--protocol http --requests 4 --records-per-request 10",
    );
    assert_eq!(out.status.code(), Some(1));
    let e = &report["errors"][0];
    assert_eq!(e["kind"], "http");
    assert_eq!(n(&e["code"]), 503);
    assert_eq!(e["message"], "try later");
    assert_eq!(n(&e["count"]), 4);
}

/// A server closing connections (HTTP/1.1 `Connection: close`, an HTTP/2 GOAWAY)
/// costs reconnects, not failed requests.
#[test]
fn closed_connections_are_reopened_without_failures() {
    for (server, args) in [
        (endpoint::grpc(Answer::OkAndClose), "--streams 4"),
        (endpoint::http(Answer::OkAndClose), "--protocol http"),
        (
            endpoint::http(Answer::OkAndClose),
            "--protocol http --http2 --streams 4",
        ),
    ] {
        let all = format!("--requests 40 --records-per-request 10 --connections 2 {args}");
        let (out, report) = loadgen(&server, &all);
        assert!(out.status.success(), "{args}: {report}");
        assert_counts_match(&report, &server, 40, 400);
        assert!(n(&report["connections"]["opened"]) > 4, "{report}");
    }
}

#[test]
fn rate_paces_the_requests() {
    let server = endpoint::grpc(Answer::Ok);
    // 50 records a request at 1000 records/s: a request every 50 ms, so the tenth is
    // meant to start at 450 ms.
    let started = Instant::now();
    let args = "--rate 1000 --records-per-request 50 --requests 10 --streams 4";
    let (out, report) = loadgen(&server, args);
    assert!(out.status.success());
    assert!(started.elapsed() >= Duration::from_millis(450));
    let elapsed = report["elapsed_s"].as_f64().unwrap();
    assert!((0.45..3.0).contains(&elapsed), "{elapsed}");
    assert_eq!(n(&report["config"]["rate"]), 1000);
    assert_counts_match(&report, &server, 10, 500);
}

#[test]
fn warmup_is_sent_but_not_measured() {
    let server = endpoint::grpc(Answer::Ok);
    let args = "--rate 2000 --records-per-request 100 --warmup 300ms --duration 500ms";
    let (out, report) = loadgen(&server, args);
    assert!(out.status.success());
    let warm = n(&report["warmup"]["requests"]);
    let measured = n(&report["requests"]["ok"]);
    // 20 requests a second: 6 in the warm-up, 10 after it (± one at each edge).
    assert!((5..=7).contains(&warm), "{warm}");
    assert!((9..=11).contains(&measured), "{measured}");
    assert_eq!(
        server.received.lock().unwrap().total_requests(),
        warm + measured
    );
    assert_eq!(n(&report["latency_us"]["count"]), measured);
    assert!(report["generator"]["cpu_us_per_record"].as_f64().is_some());
}

#[test]
fn verify_finds_loss_and_duplicates_in_the_fake_clickhouse() {
    let damaged = Damage {
        drop: vec![17],
        duplicate: vec![3, 40],
    };
    for (signal, damage, ok) in [
        ("logs", Damage::default(), true),
        ("mix", Damage::default(), true),
        ("traces", damaged, false),
    ] {
        let server = endpoint::grpc(Answer::Ok);
        let ch = endpoint::clickhouse(Arc::clone(&server.received), damage);
        let args = format!(
            "--signal {signal} --requests 6 --records-per-request 10 --verify --run-id test-run \
             --clickhouse-url http://{} --verify-timeout 1s",
            ch.addr
        );
        let (out, report) = loadgen(&server, &args);
        let v = &report["verify"];
        assert_eq!(v["run_id"], "test-run");
        assert_eq!(v["ok"], Value::Bool(ok), "{v}");
        assert_eq!(out.status.success(), ok);
        let got = server.received.lock().unwrap();
        assert_eq!(got.run_ids, vec!["test-run".to_string()]);
        // Sequence numbers are unique across the run and cover every record.
        let all: BTreeSet<u64> = got.seqs.values().flatten().copied().collect();
        assert_eq!(all, (0..60).collect());
        let checks = v["signals"].as_array().unwrap();
        assert_eq!(checks.len(), if signal == "mix" { 3 } else { 1 });
        let acked: u64 = checks.iter().map(|c| n(&c["acked"])).sum();
        assert_eq!(acked, 60);
        if !ok {
            let c = &checks[0];
            assert_eq!(c["table"], "otel_traces");
            assert_eq!(n(&c["missing"]), 1);
            assert_eq!(c["missing_sample"], serde_json::json!([[17, 18]]));
            assert_eq!(n(&c["duplicates"]), 2);
            assert_eq!(c["duplicate_sample"], serde_json::json!([3, 40]));
        }
    }
}

#[test]
fn verify_reports_clickhouse_errors_with_the_load_results() {
    let server = endpoint::grpc(Answer::Ok);
    let ch = endpoint::clickhouse(Arc::clone(&server.received), Damage::default());
    let out = Command::new(env!("CARGO_BIN_EXE_sluice-loadgen"))
        .args(["--endpoint", &format!("http://{}", server.addr)])
        .args("--requests 1 --records-per-request 5 --verify --quiet".split(' '))
        .args(["--clickhouse-url", &format!("http://{}", ch.addr)])
        .env("CLICKHOUSE_USER", "intruder")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("records     5 ok"), "{text}");
    assert!(text.contains("FAILED: ClickHouse answered 403"), "{text}");
    assert!(text.contains("Authentication failed"), "{text}");
}

#[test]
fn text_output_and_usage_errors() {
    let server = endpoint::grpc(Answer::Ok);
    let out = Command::new(env!("CARGO_BIN_EXE_sluice-loadgen"))
        .args(["--endpoint", &format!("http://{}", server.addr)])
        .args("--requests 3 --records-per-request 10".split(' '))
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for want in [
        "requests    3 ok, 0 failed",
        "records     30 ok",
        "latency µs  p50",
        "errors      none",
    ] {
        assert!(text.contains(want), "{want:?} in\n{text}");
    }

    let out = Command::new(env!("CARGO_BIN_EXE_sluice-loadgen"))
        .args("--protocol grpc --encoding json".split(' '))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));

    // Nothing listens on port 9 (discard) on the test machines: fail at once.
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_sluice-loadgen"))
        .args("--endpoint http://127.0.0.1:9 --requests 1".split(' '))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("127.0.0.1:9"));
    assert!(started.elapsed() < Duration::from_secs(5));
}

/// A corpus of a few files in the layout of `fuzz/corpus/`.
fn small_corpus(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("loadgen-corpus-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for (folder, files) in [
        ("logs_protobuf", vec![&b"\x0a\x00"[..], b"\x0a\x02\x12\x00"]),
        ("traces_json", vec![&br#"{"resourceSpans":[]}"#[..]]),
        ("grpc_framing", vec![&b"ignored"[..]]),
    ] {
        std::fs::create_dir_all(dir.join(folder)).unwrap();
        for (i, f) in files.iter().enumerate() {
            std::fs::write(dir.join(folder).join(i.to_string()), f).unwrap();
        }
    }
    dir
}

#[test]
fn malformed_replay_reports_server_errors_and_a_dead_endpoint() {
    let corpus = small_corpus("errors");
    let corpus = corpus.display().to_string();
    let replay = |server: &Server, args: &str| {
        loadgen(
            server,
            &format!("--malformed {corpus} --mutations 2 {args}"),
        )
    };
    // (A healthy endpoint, sluice, is in `real.rs`.) An endpoint that answers every
    // request with a server error: each is a problem, named with its source and
    // mutation. gRPC sends only the protobuf folder: 2 files × (as is + 2 mutations).
    let broken = Answer::Refuse {
        grpc: 13,
        http: 500,
    };
    let (out, report) = replay(&endpoint::grpc(broken.clone()), "");
    assert_eq!(out.status.code(), Some(1), "{report}");
    assert_eq!(n(&report["problem_count"]), 6, "{report}");
    let first = &report["problems"][0];
    assert_eq!(first["source"], "logs_protobuf/0", "{report}");
    assert_eq!(first["mutation"], "as is");
    assert!(
        first["what"].as_str().unwrap().contains("INTERNAL"),
        "{report}"
    );
    let (out, report) = replay(&endpoint::http(broken), "--protocol http");
    // OTLP/HTTP sends the JSON folder too.
    assert_eq!(out.status.code(), Some(1), "{report}");
    assert_eq!(n(&report["problem_count"]), 9, "{report}");
    // An endpoint that is gone.
    let gone = {
        let server = endpoint::grpc(Answer::Ok);
        let addr = server.addr;
        drop(server);
        addr
    };
    let out = Command::new(env!("CARGO_BIN_EXE_sluice-loadgen"))
        .arg("--endpoint")
        .arg(format!("http://{gone}"))
        .args(["--json", "--malformed", &corpus])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["alive"], false, "{report}");
    assert!(
        report["problems"][0]["what"]
            .as_str()
            .unwrap()
            .contains("down"),
        "{report}"
    );
}
