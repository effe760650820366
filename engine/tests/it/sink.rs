//! The sink against a real ClickHouse that refuses rows as data: the rows it refuses
//! are found and dead-lettered with its error; the others are stored.

use crate::gateway::{Gateway, GrpcClient, grpc_frame};
use crate::ingest::{EXPORT, request_with_bodies};

#[tokio::test]
async fn rows_clickhouse_refuses_are_isolated_and_dead_lettered_the_rest_stored() {
    let dir = std::env::temp_dir().join(format!("sluice-it-deadletter-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let dir_s = dir.display().to_string();
    // A constraint makes two of 40 records unacceptable to ClickHouse (code 469).
    let gw = Gateway::start_env(
        "deadletter",
        |db| format!("ALTER TABLE `{db}`.otel_logs ADD CONSTRAINT no_poison CHECK Body NOT LIKE 'poison%'"),
        &[("SLUICE_SINK_DEAD_LETTER_DIR", &dir_s), ("SLUICE_SHARDS", "1")],
    )
    .await;
    let c = GrpcClient::connect(gw.grpc).await;
    let body = |i: usize| {
        if i == 7 || i == 31 {
            format!("poison {i}")
        } else {
            format!("fine {i}")
        }
    };
    let a = c
        .call(
            EXPORT,
            &[],
            grpc_frame(false, &request_with_bodies("dl", 40, body)),
        )
        .await;
    // ack = "clickhouse": the request is answered once every row is stored or kept.
    assert_eq!(a.status.as_deref(), Some("0"), "{a:?}");
    let stored = gw
        .query("SELECT Body FROM otel_logs WHERE ResourceAttributes['case'] = 'dl' ORDER BY Body")
        .await;
    let mut want: Vec<String> = (0..40)
        .filter(|i| *i != 7 && *i != 31)
        .map(|i| format!("fine {i}"))
        .collect();
    want.sort();
    let got: Vec<String> = stored.into_iter().map(|r| r[0].clone()).collect();
    assert_eq!(got, want);

    // The dead-letter directory: one line per refused range, with ClickHouse's error,
    // and the rows' RowBinary beside it.
    let index = std::fs::read_to_string(dir.join("dead-letter.jsonl")).expect("an index");
    let lines: Vec<serde_json::Value> = index
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let rows: u64 = lines.iter().map(|l| l["rows"].as_u64().unwrap()).sum();
    assert_eq!(rows, 2, "{index}");
    let mut poison = Vec::new();
    for l in &lines {
        assert_eq!(l["code"], 469, "{l}");
        assert_eq!(l["table"], "otel_logs");
        assert!(
            l["statement"].as_str().unwrap().starts_with("INSERT INTO"),
            "{l}"
        );
        let file = dir.join(l["file"].as_str().unwrap());
        let bytes = std::fs::read(&file).unwrap();
        let mut raw = Vec::new();
        if l["compressed"] == true {
            wire::compress::decompress_blocks(&bytes, &mut raw).unwrap();
        } else {
            raw = bytes;
        }
        for i in [7, 31] {
            let needle = format!("poison {i}");
            if raw.windows(needle.len()).any(|w| w == needle.as_bytes()) {
                poison.push(i);
            }
        }
    }
    poison.sort();
    assert_eq!(
        poison,
        vec![7, 31],
        "each refused row is in a dead-letter file"
    );
    gw.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}
