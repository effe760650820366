//! OTLP logs through a running gateway into ClickHouse, over both transports, with
//! every encoding; and bad input next to good input on the same connections.
//!
//! The real SDKs (Python, Node, Rust) are exercised by `scripts/interop`; here the
//! requests are built with the `opentelemetry-proto` types and sent by hand, so each
//! protocol corner can be hit on purpose.

use std::io::Write as _;

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{
    AnyValue, InstrumentationScope, KeyValue, any_value::Value,
};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::resource::v1::Resource;
use prost::Message;

use crate::gateway::{Gateway, GrpcClient, HttpClient, grpc_frame};

pub const EXPORT: &str = "/opentelemetry.proto.collector.logs.v1.LogsService/Export";

fn kv(key: &str, v: Value) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue { value: Some(v) }),
        ..Default::default()
    }
}

fn now_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}

/// A request of `n` records tagged with resource attribute `case` = `case`.
fn request(case: &str, n: usize) -> Vec<u8> {
    request_with_bodies(case, n, |i| format!("record {i}"))
}

/// [`request`] with record `i`'s body `body(i)`.
pub fn request_with_bodies(case: &str, n: usize, body: impl Fn(usize) -> String) -> Vec<u8> {
    let t = now_ns();
    let records = (0..n)
        .map(|i| LogRecord {
            time_unix_nano: t + i as u64,
            severity_number: 9,
            severity_text: "Info".into(),
            body: Some(AnyValue {
                value: Some(Value::StringValue(body(i))),
            }),
            attributes: vec![
                kv("i", Value::IntValue(i as i64)),
                kv("d", Value::DoubleValue(2.5)),
                kv("b", Value::BoolValue(false)),
                kv("bytes", Value::BytesValue(vec![1, 2, 3])),
            ],
            flags: 1,
            trace_id: vec![0xab; 16],
            span_id: vec![0xcd; 8],
            event_name: "e".into(),
            ..Default::default()
        })
        .collect();
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: Some(Resource {
                attributes: vec![
                    kv("service.name", Value::StringValue("it".into())),
                    kv("case", Value::StringValue(case.into())),
                ],
                ..Default::default()
            }),
            scope_logs: vec![ScopeLogs {
                scope: Some(InstrumentationScope {
                    name: "it-scope".into(),
                    version: "0.1".into(),
                    ..Default::default()
                }),
                log_records: records,
                schema_url: String::new(),
            }],
            schema_url: String::new(),
        }],
    }
    .encode_to_vec()
}

fn gzip(b: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(b).unwrap();
    e.finish().unwrap()
}

fn zlib(b: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(b).unwrap();
    e.finish().unwrap()
}

async fn count(gw: &Gateway, case: &str) -> usize {
    let rows = gw
        .query(&format!(
            "SELECT count() FROM otel_logs WHERE ResourceAttributes['case'] = '{case}'"
        ))
        .await;
    rows[0][0].parse().unwrap()
}

#[tokio::test]
async fn logs_arrive_over_grpc_and_http_with_every_encoding() {
    let gw = Gateway::start("ingest").await;
    let grpc = GrpcClient::connect(gw.grpc).await;
    let plain = request("grpc-identity", 3);
    let a = grpc.call(EXPORT, &[], grpc_frame(false, &plain)).await;
    assert_eq!((a.http, a.status.as_deref()), (200, Some("0")), "{a:?}");
    let a = grpc
        .call(
            EXPORT,
            &[("grpc-encoding", "gzip")],
            grpc_frame(true, &gzip(&request("grpc-gzip", 2))),
        )
        .await;
    assert_eq!(a.status.as_deref(), Some("0"), "{a:?}");

    let mut http = HttpClient::connect(gw.http).await;
    let pb = [("content-type", "application/x-protobuf")];
    for (case, encoding) in [
        ("http-identity", None),
        ("http-gzip", Some("gzip")),
        ("http-deflate", Some("deflate")),
    ] {
        let body = request(case, 4);
        let (body, headers) = match encoding {
            None => (body, pb.to_vec()),
            Some("gzip") => (gzip(&body), vec![pb[0], ("content-encoding", "gzip")]),
            Some(_) => (zlib(&body), vec![pb[0], ("content-encoding", "deflate")]),
        };
        let r = http.request("POST", "/v1/logs", &headers, body).await;
        assert_eq!(r.status, 200, "{case}: {r:?}");
        assert_eq!(r.headers["content-type"], "application/x-protobuf");
    }

    for (case, n) in [
        ("grpc-identity", 3),
        ("grpc-gzip", 2),
        ("http-identity", 4),
        ("http-gzip", 4),
        ("http-deflate", 4),
    ] {
        assert_eq!(count(&gw, case).await, n, "{case}");
    }
    // One row, every column, against what was sent.
    let row = &gw
        .query(
            "SELECT TraceId, SpanId, TraceFlags, SeverityText, SeverityNumber, ServiceName, Body, \
             toString(LogAttributes), ScopeName, ScopeVersion, EventName, \
             toUnixTimestamp64Nano(Timestamp) > 0 \
             FROM otel_logs WHERE ResourceAttributes['case'] = 'grpc-identity' AND Body = 'record 1'",
        )
        .await[0];
    let want = [
        "abababababababababababababababab",
        "cdcdcdcdcdcdcdcd",
        "1",
        "info",
        "9",
        "it",
        "record 1",
        "{'i':'1','d':'2.5','b':'false','bytes':'AQID'}",
        "it-scope",
        "0.1",
        "e",
        "1",
    ];
    assert_eq!(row, &want);
    gw.stop().await;
}

#[tokio::test]
async fn bad_grpc_requests_are_refused_and_the_connection_keeps_working() {
    let gw = Gateway::start("badgrpc").await;
    let c = GrpcClient::connect(gw.grpc).await;
    let good = request("grpc-good", 1);
    let mut bad_utf8 = Vec::new();
    // resource_logs { scope_logs { log_records { severity_text: 0xc3 0x28 } } }
    bad_utf8.extend_from_slice(&[0x0a, 0x08, 0x12, 0x06, 0x12, 0x04, 0x1a, 0x02, 0xc3, 0x28]);
    type Case = (
        &'static str,
        &'static str,
        Vec<(&'static str, &'static str)>,
        Vec<u8>,
        u16,
        &'static str,
        &'static str,
    );
    let cases: Vec<Case> = vec![
        (
            "truncated",
            EXPORT,
            vec![],
            grpc_frame(false, &good[..good.len() - 2]),
            200,
            "3",
            "truncated",
        ),
        (
            "bad varint",
            EXPORT,
            vec![],
            grpc_frame(
                false,
                &[
                    0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
                ],
            ),
            200,
            "3",
            "varint",
        ),
        (
            "wrong wire type",
            EXPORT,
            vec![],
            grpc_frame(false, &[0x08, 0x01]),
            200,
            "3",
            "wire type",
        ),
        (
            "invalid utf-8",
            EXPORT,
            vec![],
            grpc_frame(false, &bad_utf8),
            200,
            "3",
            "UTF-8",
        ),
        (
            "unknown method",
            "/opentelemetry.proto.collector.logs.v1.LogsService/Nope",
            vec![],
            grpc_frame(false, &good),
            200,
            "12",
            "unknown method",
        ),
        (
            "unsupported encoding",
            EXPORT,
            vec![("grpc-encoding", "snappy")],
            grpc_frame(true, &good),
            200,
            "12",
            "snappy",
        ),
        (
            "corrupt gzip",
            EXPORT,
            vec![("grpc-encoding", "gzip")],
            grpc_frame(true, b"\x1f\x8b\x08garbage"),
            200,
            "3",
            "gzip",
        ),
        ("empty body", EXPORT, vec![], vec![], 200, "3", "empty"),
        (
            "wrong content type",
            EXPORT,
            vec![("content-type", "application/json")],
            grpc_frame(false, &good),
            415,
            "",
            "",
        ),
    ];
    // Good and bad requests go out together, as concurrent streams of one connection.
    let spawn = |path: &'static str, headers: Vec<(&'static str, &'static str)>, body: Vec<u8>| {
        let c = c.clone();
        tokio::spawn(async move { c.call(path, &headers, body).await })
    };
    let bad: Vec<_> = cases
        .iter()
        .map(|(_, path, headers, body, ..)| spawn(path, headers.clone(), body.clone()))
        .collect();
    let goods: Vec<_> = (0..5)
        .map(|_| spawn(EXPORT, vec![], grpc_frame(false, &good)))
        .collect();
    let mut answers = Vec::new();
    for h in bad {
        answers.push(h.await.unwrap());
    }
    for ((name, _, _, _, http, status, needle), a) in cases.iter().zip(answers) {
        assert_eq!(a.http, *http, "{name}: {a:?}");
        if !status.is_empty() {
            assert_eq!(a.status.as_deref(), Some(*status), "{name}: {a:?}");
            assert!(
                a.message.to_lowercase().contains(&needle.to_lowercase()),
                "{name}: {a:?}"
            );
        }
    }
    for h in goods {
        let a = h.await.unwrap();
        assert_eq!(a.status.as_deref(), Some("0"), "{a:?}");
    }
    // The same connection still works afterwards.
    let a = c.call(EXPORT, &[], grpc_frame(false, &good)).await;
    assert_eq!(a.status.as_deref(), Some("0"), "{a:?}");
    assert_eq!(count(&gw, "grpc-good").await, 6);
    gw.stop().await;
}

#[tokio::test]
async fn bad_http_requests_are_refused_and_the_connection_keeps_working() {
    let gw = Gateway::start("badhttp").await;
    let mut c = HttpClient::connect(gw.http).await;
    let pb = ("content-type", "application/x-protobuf");
    let good = request("http-good", 2);
    type Case = (
        &'static str,
        &'static str,
        &'static str,
        Vec<(&'static str, &'static str)>,
        Vec<u8>,
        u16,
        &'static str,
    );
    let cases: Vec<Case> = vec![
        (
            "truncated",
            "POST",
            "/v1/logs",
            vec![pb],
            good[..good.len() - 1].to_vec(),
            400,
            "truncated",
        ),
        (
            "wrong wire type",
            "POST",
            "/v1/logs",
            vec![pb],
            vec![0x08, 0x01],
            400,
            "wire type",
        ),
        (
            "bad varint",
            "POST",
            "/v1/logs",
            vec![pb],
            vec![
                0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
            ],
            400,
            "varint",
        ),
        (
            "invalid utf-8",
            "POST",
            "/v1/logs",
            vec![pb],
            vec![0x0a, 0x08, 0x12, 0x06, 0x12, 0x04, 0x1a, 0x02, 0xc3, 0x28],
            400,
            "UTF-8",
        ),
        (
            "invalid json",
            "POST",
            "/v1/logs",
            vec![("content-type", "application/json")],
            b"{\"resourceLogs\": [".to_vec(),
            400,
            "JSON",
        ),
        (
            "wrong content type",
            "POST",
            "/v1/logs",
            vec![("content-type", "text/plain")],
            good.clone(),
            415,
            "text/plain",
        ),
        (
            "unsupported encoding",
            "POST",
            "/v1/logs",
            vec![pb, ("content-encoding", "br")],
            good.clone(),
            415,
            "br",
        ),
        (
            "corrupt gzip",
            "POST",
            "/v1/logs",
            vec![pb, ("content-encoding", "gzip")],
            b"\x1f\x8b\x08xx".to_vec(),
            400,
            "gzip",
        ),
        (
            "empty body",
            "POST",
            "/v1/logs",
            vec![pb],
            vec![],
            400,
            "empty",
        ),
        ("GET", "GET", "/v1/logs", vec![], vec![], 405, "POST"),
        (
            "unknown path",
            "POST",
            "/v1/nope",
            vec![pb],
            good.clone(),
            404,
            "/v1/nope",
        ),
    ];
    for (name, method, path, headers, body, status, needle) in cases {
        let r = c.request(method, path, &headers, body).await;
        assert_eq!(r.status, status, "{name}: {r:?}");
        let text = String::from_utf8_lossy(&r.body);
        assert!(
            text.contains(needle),
            "{name}: body {text:?} does not name {needle:?}"
        );
        // The good request right after each bad one, on the same connection.
        let r = c.request("POST", "/v1/logs", &[pb], good.clone()).await;
        assert_eq!(r.status, 200, "after {name}: {r:?}");
    }
    // CORS: a browser's preflight, then the answer carries the origin header.
    let r = c
        .request(
            "OPTIONS",
            "/v1/logs",
            &[
                ("origin", "https://app.example"),
                ("access-control-request-method", "POST"),
                ("access-control-request-headers", "content-type"),
            ],
            vec![],
        )
        .await;
    assert_eq!(r.status, 204, "{r:?}");
    assert_eq!(r.headers["access-control-allow-origin"], "*");
    assert!(
        r.headers["access-control-allow-methods"]
            .to_str()
            .unwrap()
            .contains("POST")
    );
    let r = c
        .request(
            "POST",
            "/v1/logs",
            &[pb, ("origin", "https://app.example")],
            good.clone(),
        )
        .await;
    assert_eq!(
        (r.status, &r.headers["access-control-allow-origin"]),
        (200, &http::HeaderValue::from_static("*"))
    );
    assert_eq!(count(&gw, "http-good").await, 2 * 12);
    gw.stop().await;
}

#[tokio::test]
async fn chunked_http_bodies_are_read_whole() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let gw = Gateway::start("chunked").await;
    let body = request("http-chunked", 5);
    let (a, b) = body.split_at(body.len() / 2);
    let mut tcp = tokio::net::TcpStream::connect(gw.http).await.unwrap();
    let mut req = b"POST /v1/logs HTTP/1.1\r\nhost: sluice\r\ncontent-type: application/x-protobuf\r\ntransfer-encoding: chunked\r\n\r\n".to_vec();
    for part in [a, b] {
        req.extend_from_slice(format!("{:x}\r\n", part.len()).as_bytes());
        req.extend_from_slice(part);
        req.extend_from_slice(b"\r\n");
    }
    req.extend_from_slice(b"0\r\n\r\n");
    tcp.write_all(&req).await.unwrap();
    let mut answer = vec![0; 1024];
    let n = tcp.read(&mut answer).await.unwrap();
    let head = String::from_utf8_lossy(&answer[..n]);
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert_eq!(count(&gw, "http-chunked").await, 5);
    gw.stop().await;
}

#[tokio::test]
async fn a_table_without_event_name_still_takes_inserts() {
    // Older ClickStack tables have no EventName: the INSERT lists the stored columns
    // that are there (read at start-up), so the rest still lands.
    let gw = Gateway::start_with("noevent", |db| {
        format!("ALTER TABLE `{db}`.otel_logs DROP COLUMN EventName")
    })
    .await;
    let mut http = HttpClient::connect(gw.http).await;
    let r = http
        .request(
            "POST",
            "/v1/logs",
            &[("content-type", "application/x-protobuf")],
            request("old-table", 3),
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(count(&gw, "old-table").await, 3);
    gw.stop().await;
}

#[tokio::test]
async fn grpc_timeout_is_honoured() {
    let gw = Gateway::start("timeout").await;
    let c = GrpcClient::connect(gw.grpc).await;
    // The ack waits for the batch (100 ms) and the INSERT: 1 ms is too short.
    let a = c
        .call(
            EXPORT,
            &[("grpc-timeout", "1m")],
            grpc_frame(false, &request("timeout", 1)),
        )
        .await;
    assert_eq!(a.status.as_deref(), Some("4"), "DEADLINE_EXCEEDED: {a:?}");
    let a = c
        .call(
            EXPORT,
            &[("grpc-timeout", "20S")],
            grpc_frame(false, &request("timeout", 1)),
        )
        .await;
    assert_eq!(a.status.as_deref(), Some("0"), "{a:?}");
    gw.stop().await;
}

#[tokio::test]
async fn a_message_larger_than_the_flow_control_windows_arrives_whole() {
    // 12 MiB: three times the stream window and a third of the connection window,
    // so the client can only finish if sluice releases capacity as it reads.
    let gw = Gateway::start("bigmsg").await;
    let c = GrpcClient::connect(gw.grpc).await;
    let big = request("big", 110_000);
    assert!(big.len() > 3 * (4 << 20), "{} bytes", big.len());
    let a = c.call(EXPORT, &[], grpc_frame(false, &big)).await;
    assert_eq!(a.status.as_deref(), Some("0"), "{a:?}");
    assert_eq!(count(&gw, "big").await, 110_000);
    gw.stop().await;
}

/// `body` over OTLP/HTTP is refused with 503 and `Retry-After`.
async fn assert_http_refused_with_retry_after(gw: &Gateway, body: Vec<u8>) {
    let mut http = HttpClient::connect(gw.http).await;
    let r = http
        .request(
            "POST",
            "/v1/logs",
            &[("content-type", "application/x-protobuf")],
            body,
        )
        .await;
    assert_eq!(r.status, 503, "{r:?}");
    assert_eq!(r.headers["retry-after"], "1");
}

#[tokio::test]
async fn a_clickhouse_failure_is_unavailable_with_retry_information() {
    let gw = Gateway::start("chfail").await;
    // The table goes away under sluice: its INSERTs fail, and nothing is acknowledged.
    gw.query("DROP TABLE otel_logs SYNC").await;
    let c = GrpcClient::connect(gw.grpc).await;
    let a = c
        .call(EXPORT, &[], grpc_frame(false, &request("lost", 1)))
        .await;
    assert_eq!(a.status.as_deref(), Some("14"), "UNAVAILABLE: {a:?}");
    assert!(a.message.contains("otel_logs"), "{a:?}");
    assert!(
        a.retry_info,
        "grpc-status-details-bin with RetryInfo: {a:?}"
    );
    assert_http_refused_with_retry_after(&gw, request("lost", 1)).await;
    gw.stop().await;
}

#[tokio::test]
async fn otlp_http_over_h2c_and_zstd_bodies() {
    // :4318 speaks HTTP/2 with prior knowledge too (the collector's HTTP receiver does).
    let gw = Gateway::start("h2c").await;
    let tcp = tokio::net::TcpStream::connect(gw.http).await.unwrap();
    let (send, conn) = h2::client::handshake(tcp).await.unwrap();
    tokio::spawn(async move {
        let _ = conn.await;
    });
    let mut send = send.ready().await.unwrap();
    let req = http::Request::post("http://sluice/v1/logs")
        .header("content-type", "application/x-protobuf")
        .header("content-encoding", "zstd")
        .body(())
        .unwrap();
    let (resp, mut body) = send.send_request(req, false).unwrap();
    let compressed = zstd::encode_all(&request("h2c-zstd", 3)[..], 3).unwrap();
    body.send_data(bytes::Bytes::from(compressed), true)
        .unwrap();
    let resp = resp.await.unwrap();
    assert_eq!(resp.status(), 200, "{resp:?}");
    assert_eq!(count(&gw, "h2c-zstd").await, 3);
    gw.stop().await;
}

#[tokio::test]
async fn inserts_are_stored_with_each_clickhouse_compression() {
    for compression in ["zstd", "none"] {
        let gw = Gateway::start_env(
            "compression",
            |_| String::new(),
            &[("SLUICE_CLICKHOUSE_COMPRESSION", compression)],
        )
        .await;
        let c = GrpcClient::connect(gw.grpc).await;
        let a = c
            .call(EXPORT, &[], grpc_frame(false, &request("compressed", 7)))
            .await;
        assert_eq!(a.status.as_deref(), Some("0"), "{compression}: {a:?}");
        assert_eq!(count(&gw, "compressed").await, 7, "{compression}");
        gw.stop().await;
    }
}

#[tokio::test]
async fn an_overloaded_shard_refuses_with_retry_information_and_takes_requests_once_freed() {
    // One shard with a 1 MiB budget, answering after the commit; the table is gone,
    // so what the shard takes stays in memory (retried for a minute) and fills it.
    let env = [
        ("SLUICE_SHARDS", "1"),
        ("SLUICE_ACK", "clickhouse"),
        ("SLUICE_LIMITS_SHARD_BUDGET_BYTES", "1048576"),
        ("SLUICE_SINK_RETRY_WINDOW_MS", "60000"),
        // Sealed chunks keep their full size in the budget (LZ4 would shrink them).
        ("SLUICE_CLICKHOUSE_COMPRESSION", "none"),
    ];
    let gw = Gateway::start_env("overload", |_| String::new(), &env).await;
    gw.query("DROP TABLE otel_logs SYNC").await;
    let c = GrpcClient::connect(gw.grpc).await;
    let big = request("held", 10_000);
    assert!(big.len() > 1 << 20, "{} bytes", big.len());
    let first = tokio::spawn({
        let c = c.clone();
        async move { c.call(EXPORT, &[], grpc_frame(false, &big)).await }
    });
    // Until the first request's rows are committed, the shard has no room. A probe
    // that still got in waits for its own commit: given up on after a second.
    let probe = || async {
        let call = c.call(EXPORT, &[], grpc_frame(false, &request("probe", 10)));
        tokio::time::timeout(std::time::Duration::from_secs(1), call).await
    };
    loop {
        if let Ok(a) = probe().await {
            assert_eq!(a.status.as_deref(), Some("14"), "{a:?}");
            assert!(a.message.contains("overloaded"), "{a:?}");
            break;
        }
        assert!(!first.is_finished(), "the held request was answered");
    }
    let refused = c
        .call(EXPORT, &[], grpc_frame(false, &request("refused", 10)))
        .await;
    assert_eq!(refused.status.as_deref(), Some("14"), "{refused:?}");
    assert!(
        refused.retry_info,
        "RetryInfo with the refusal: {refused:?}"
    );
    assert!(
        refused.message.contains("shard 0 holds"),
        "the message names the bound: {refused:?}"
    );
    assert_http_refused_with_retry_after(&gw, request("refused", 10)).await;
    // The table is back: the held rows commit, the budget frees, requests are taken.
    gw.apply_schema().await;
    let a = first.await.unwrap();
    assert_eq!(a.status.as_deref(), Some("0"), "{a:?}");
    let a = c
        .call(EXPORT, &[], grpc_frame(false, &request("after", 10)))
        .await;
    assert_eq!(a.status.as_deref(), Some("0"), "{a:?}");
    assert_eq!(count(&gw, "held").await, 10_000);
    assert_eq!(count(&gw, "after").await, 10);
    // Refused requests left nothing behind.
    assert_eq!(count(&gw, "refused").await, 0);
    gw.stop().await;
}
