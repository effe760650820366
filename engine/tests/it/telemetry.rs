//! Self-metrics and health: what sluice counts is what happened to the requests sent
//! here, scraped from `/metrics` as Prometheus would; the health check answers.

use std::time::{Duration, Instant};

use crate::gateway::{Gateway, GrpcClient, HttpClient, grpc_frame};
use crate::ingest::{EXPORT, request_with_bodies};

/// `/metrics`, as text.
async fn scrape(gw: &Gateway) -> String {
    let mut c = HttpClient::connect(gw.metrics).await;
    let r = c.request("GET", "/metrics", &[], Vec::new()).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert!(
        r.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/openmetrics-text"),
        "{r:?}"
    );
    String::from_utf8(r.body.to_vec()).unwrap()
}

/// The value of the sample `name{labels}` (labels as written, e.g.
/// `signal="logs",result="ok"`), or 0 when it is not there yet.
fn sample(text: &str, name: &str, labels: &str) -> f64 {
    let head = if labels.is_empty() {
        format!("{name} ")
    } else {
        format!("{name}{{{labels}}} ")
    };
    text.lines()
        .find_map(|l| l.strip_prefix(head.as_str()))
        .map_or(0.0, |v| v.trim().parse().unwrap())
}

/// Scrapes until `sample(name, labels)` is `want` (or 20 s pass); the last text.
async fn until(gw: &Gateway, name: &str, labels: &str, want: f64) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let text = scrape(gw).await;
        if sample(&text, name, labels) == want || Instant::now() > deadline {
            return text;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn requests_rows_inserts_and_a_paused_sink_are_counted_and_health_answers() {
    let env = [("SLUICE_ACK", "memory")];
    let gw = Gateway::start_env("telemetry", |_| String::new(), &env).await;
    let mut health = HttpClient::connect(gw.health).await;
    let h = health.request("GET", "/", &[], Vec::new()).await;
    assert_eq!(h.status, 200, "{h:?}");
    assert_eq!(&h.body[..], br#"{"status":"Server available"}"#);

    let c = GrpcClient::connect(gw.grpc).await;
    let good = request_with_bodies("telemetry", 3, |i| format!("record {i}"));
    let a = c.call(EXPORT, &[], grpc_frame(false, &good)).await;
    assert_eq!(a.status.as_deref(), Some("0"), "{a:?}");
    let a = c.call(EXPORT, &[], grpc_frame(false, b"\xff\xff")).await;
    assert_eq!(a.status.as_deref(), Some("3"), "{a:?}");

    let text = until(
        &gw,
        "sluice_inserted_rows_total",
        r#"table="otel_logs""#,
        3.0,
    )
    .await;
    let logs = |result: &str| {
        sample(
            &text,
            "sluice_requests_total",
            &format!(r#"signal="logs",result="{result}""#),
        )
    };
    assert_eq!((logs("ok"), logs("rejected")), (1.0, 1.0), "{text}");
    let rows = r#"table="otel_logs""#;
    assert_eq!(
        sample(&text, "sluice_received_rows_total", rows),
        3.0,
        "{text}"
    );
    assert_eq!(
        sample(&text, "sluice_inserted_rows_total", rows),
        3.0,
        "{text}"
    );
    for shard in 0..2 {
        let label = format!(r#"shard="{shard}""#);
        assert!(
            sample(&text, "sluice_shard_budget_bytes", &label) > 0.0,
            "{text}"
        );
    }

    // The table goes away: the sink pauses, says so in the metrics, and resumes once
    // the table is back.
    gw.query("DROP TABLE otel_logs SYNC").await;
    let a = c.call(EXPORT, &[], grpc_frame(false, &good)).await;
    assert_eq!(a.status.as_deref(), Some("0"), "{a:?}");
    let text = until(&gw, "sluice_sink_paused", rows, 1.0).await;
    assert_eq!(sample(&text, "sluice_sink_paused", rows), 1.0, "{text}");
    let structural = r#"table="otel_logs",class="structural""#;
    assert!(
        sample(&text, "sluice_insert_failures_total", structural) >= 1.0,
        "{text}"
    );
    gw.apply_schema().await;
    let text = until(&gw, "sluice_inserted_rows_total", rows, 6.0).await;
    assert_eq!(
        sample(&text, "sluice_inserted_rows_total", rows),
        6.0,
        "{text}"
    );
    assert_eq!(sample(&text, "sluice_sink_paused", rows), 0.0, "{text}");
    gw.stop().await;
}

#[tokio::test]
async fn a_stalled_body_is_cut_off_and_its_bytes_given_back() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let env = [
        ("SLUICE_LIMITS_BODY_TIMEOUT_MS", "300"),
        ("SLUICE_SHARDS", "1"),
    ];
    let gw = Gateway::start_env("stalled", |_| String::new(), &env).await;
    // OTLP/HTTP: 10 of the 100 bytes it announced, then nothing.
    let mut tcp = tokio::net::TcpStream::connect(gw.http).await.unwrap();
    let head = "POST /v1/logs HTTP/1.1\r\nhost: sluice\r\ncontent-type: application/x-protobuf\r\ncontent-length: 100\r\n\r\n";
    tcp.write_all(head.as_bytes()).await.unwrap();
    tcp.write_all(&[0x0a; 10]).await.unwrap();
    let mut answer = vec![0u8; 512];
    let n = tokio::time::timeout(Duration::from_secs(5), tcp.read(&mut answer))
        .await
        .expect("answered before the client gave up")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer[..n]);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    // gRPC: a stream that sends part of its message and stalls.
    let tcp = tokio::net::TcpStream::connect(gw.grpc).await.unwrap();
    let (send, conn) = h2::client::handshake(tcp).await.unwrap();
    tokio::spawn(async move {
        let _ = conn.await;
    });
    let mut send = send.ready().await.unwrap();
    let req = http::Request::post(format!("http://sluice{}", crate::ingest::EXPORT))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .body(())
        .unwrap();
    let (resp, mut body) = send.send_request(req, false).unwrap();
    body.send_data(bytes::Bytes::from_static(&[0, 0, 0, 0, 100, 0x0a]), false)
        .unwrap();
    let resp = tokio::time::timeout(Duration::from_secs(5), resp)
        .await
        .expect("answered before the client gave up")
        .unwrap();
    let status = resp
        .headers()
        .get("grpc-status")
        .map(|v| v.to_str().unwrap().to_owned());
    assert_eq!(status.as_deref(), Some("4"), "DEADLINE_EXCEEDED: {resp:?}");
    // Nothing of either is held any more, and both are counted as timeouts.
    let text = until(&gw, "sluice_shard_held_bytes", r#"shard="0""#, 0.0).await;
    assert_eq!(
        sample(&text, "sluice_shard_held_bytes", r#"shard="0""#),
        0.0,
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            "sluice_requests_total",
            r#"signal="logs",result="timeout""#
        ),
        2.0,
        "{text}"
    );
    gw.stop().await;
}
