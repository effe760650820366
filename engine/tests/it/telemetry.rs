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
