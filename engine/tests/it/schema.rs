//! The schema that `schema apply` creates, read back from ClickHouse's `system` tables.

use std::collections::BTreeMap;

use clickhouse::Row;
use engine::schema::{self, IndexChoice, SchemaOptions};
use serde::Deserialize;

use crate::support::{COLUMNS_TSV, clickhouse, drop_database, fresh_database};

#[derive(Debug, Row, Deserialize, PartialEq, Eq, Clone)]
struct ColumnRow {
    table: String,
    name: String,
    #[serde(rename = "type")]
    ty: String,
    default_kind: String,
}

/// (name, type, kind) of each column, by table, in column order.
type Columns = BTreeMap<String, Vec<(String, String, String)>>;

/// The contract: `clickstack-columns.tsv`, with `stored` as ClickHouse's empty default_kind.
fn expected_columns() -> Columns {
    let mut out = Columns::new();
    for line in COLUMNS_TSV.lines().filter(|l| !l.starts_with('#')).skip(1) {
        let f: Vec<&str> = line.split('\t').collect();
        assert_eq!(f.len(), 4, "malformed TSV line {line:?}");
        let kind = if f[3] == "stored" { "" } else { f[3] };
        out.entry(f[0].to_owned()).or_default().push((
            f[1].to_owned(),
            f[2].to_owned(),
            kind.to_owned(),
        ));
    }
    assert_eq!(out.len(), 8, "the TSV lists the 8 tables sluice writes");
    out
}

async fn stored_columns(database: &str) -> Columns {
    let rows = clickhouse()
        .client()
        .query(
            "SELECT table, name, type, default_kind FROM system.columns \
             WHERE database = ? ORDER BY table, position",
        )
        .bind(database)
        .fetch_all::<ColumnRow>()
        .await
        .expect("system.columns");
    let mut out = Columns::new();
    for r in rows {
        out.entry(r.table)
            .or_default()
            .push((r.name, r.ty, r.default_kind));
    }
    out
}

#[derive(Debug, Row, Deserialize, PartialEq, Eq)]
struct TableRow {
    name: String,
    engine: String,
    create_table_query: String,
}

async fn tables(database: &str) -> Vec<TableRow> {
    clickhouse()
        .client()
        .query(
            "SELECT name, engine, create_table_query FROM system.tables \
             WHERE database = ? ORDER BY name",
        )
        .bind(database)
        .fetch_all::<TableRow>()
        .await
        .expect("system.tables")
}

async fn apply(database: &str, indexes: IndexChoice) -> schema::ApplyReport {
    let opts = SchemaOptions {
        database: database.to_owned(),
        indexes,
        ..SchemaOptions::default()
    };
    schema::apply(&clickhouse(), &opts)
        .await
        .expect("schema apply")
}

/// Every TSV table has exactly the TSV's columns; other objects are the rollups.
async fn assert_columns_match_tsv(database: &str) {
    let expected = expected_columns();
    let stored = stored_columns(database).await;
    for (table, want) in &expected {
        let got = stored
            .get(table)
            .unwrap_or_else(|| panic!("{database}: no table {table}"));
        assert_eq!(got, want, "{database}.{table}: columns differ from the TSV");
    }
}

#[test]
fn vendored_tsv_equals_the_shared_contract() {
    // In a checkout beside `shared/` (CI, the team's machines) the vendored copy must
    // not drift from the contract; elsewhere the vendored copy is all there is.
    let shared = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/schema/clickstack-columns.tsv"
    );
    match std::fs::read_to_string(shared) {
        Ok(contract) => assert_eq!(COLUMNS_TSV, contract, "re-copy {shared}"),
        Err(e) => eprintln!("note: {shared} not readable ({e}); checked the vendored copy only"),
    }
}

#[tokio::test]
async fn applied_schema_has_exactly_the_clickstack_columns() {
    let db = fresh_database("cols");
    let report = apply(&db, IndexChoice::Auto).await;
    assert_columns_match_tsv(&db).await;

    // The server is recent enough for text indexes (chDB 26.9 locally) and `auto`
    // picked them; the rollups and their views exist beside the 8 tables.
    let created = tables(&db).await;
    let names: Vec<&str> = created.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(
        created.len(),
        report.objects.len() - 1,
        "{names:?} vs {:?}",
        report.objects
    );
    let logs = created.iter().find(|t| t.name == "otel_logs").unwrap();
    if report.variant == schema::IndexVariant::Text {
        assert!(
            logs.create_table_query.contains("TYPE text("),
            "{}",
            logs.create_table_query
        );
    }
    assert!(
        created.iter().any(|t| t.engine == "MaterializedView"),
        "the rollup views exist: {names:?}"
    );
    assert!(
        logs.create_table_query
            .contains("non_replicated_deduplication_window = 1000"),
        "{}",
        logs.create_table_query
    );
    drop_database(&clickhouse(), &db).await;
}

#[tokio::test]
async fn bloom_variant_has_the_same_columns() {
    let db = fresh_database("bloom");
    let report = apply(&db, IndexChoice::Bloom).await;
    assert_eq!(report.variant, schema::IndexVariant::Bloom);
    assert_columns_match_tsv(&db).await;
    let created = tables(&db).await;
    let logs = created.iter().find(|t| t.name == "otel_logs").unwrap();
    assert!(
        !logs.create_table_query.contains("TYPE text("),
        "{}",
        logs.create_table_query
    );
    drop_database(&clickhouse(), &db).await;
}

#[tokio::test]
async fn applying_twice_changes_nothing() {
    let db = fresh_database("twice");
    apply(&db, IndexChoice::Auto).await;
    let columns = stored_columns(&db).await;
    let before = tables(&db).await;
    // Some data, so that a second apply that recreated a table would be seen.
    clickhouse()
        .client()
        .query(&format!(
            "INSERT INTO `{db}`.otel_logs (Timestamp, ServiceName, Body) VALUES (now64(9), 'svc', 'kept')"
        ))
        .execute()
        .await
        .expect("insert");

    let again = apply(&db, IndexChoice::Auto).await;
    assert_eq!(stored_columns(&db).await, columns);
    assert_eq!(tables(&db).await, before);
    assert!(again.objects.len() > 8);
    let n = clickhouse()
        .client()
        .query(&format!(
            "SELECT count() FROM `{db}`.otel_logs WHERE Body = 'kept'"
        ))
        .fetch_one::<u64>()
        .await
        .expect("count");
    assert_eq!(
        n, 1,
        "the row written between the two applies is still there"
    );
    drop_database(&clickhouse(), &db).await;
}
