//! What the integration tests share: the ClickHouse under test, fresh databases.

use std::sync::atomic::{AtomicUsize, Ordering};

use engine::clickhouse::Endpoint;

/// The ClickHouse server under test, from `CLICKHOUSE_URL`.
pub fn clickhouse() -> Endpoint {
    let url = std::env::var("CLICKHOUSE_URL").unwrap_or_default();
    assert!(
        !url.is_empty(),
        "these tests need a ClickHouse server: run scripts/test, or \
         `scripts/clickhouse start --port 0 && export CLICKHOUSE_URL=$(scripts/clickhouse url)`"
    );
    let user = std::env::var("CLICKHOUSE_USER").unwrap_or_else(|_| "default".into());
    let password = std::env::var("CLICKHOUSE_PASSWORD").unwrap_or_default();
    Endpoint::resolve(Some(url), user, password).expect("CLICKHOUSE_URL is an http:// URL")
}

/// A database name no other test (or earlier run) uses.
pub fn fresh_database(purpose: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!(
        "sluice_it_{purpose}_{}_{}_{}",
        std::process::id(),
        nanos % 1_000_000_000,
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// Drops a test database; failures only warn (the data dir is thrown away anyway).
pub async fn drop_database(endpoint: &Endpoint, database: &str) {
    let sql = format!("DROP DATABASE IF EXISTS `{database}`");
    if let Err(e) = endpoint.client().query(&sql).execute().await {
        eprintln!("warning: could not drop {database}: {e}");
    }
}

/// The vendored copy of the schema contract, `shared/schema/clickstack-columns.tsv`.
pub const COLUMNS_TSV: &str = include_str!("../data/clickstack-columns.tsv");

/// An OTLP attribute with a string value.
pub fn kv(key: &str, v: &str) -> opentelemetry_proto::tonic::common::v1::KeyValue {
    use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value::Value};
    KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(Value::StringValue(v.into())),
        }),
        ..Default::default()
    }
}

/// Now, in ns since the epoch (test rows must be recent: the tables have TTLs).
pub fn now_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_nanos() as u64
}
