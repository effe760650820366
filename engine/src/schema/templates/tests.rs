use wire::tables::Table;

use super::*;
use crate::schema::options::Ttl;

fn render_default(variant: IndexVariant) -> Vec<Statement> {
    render(&SchemaOptions::default(), variant).expect("default options render")
}

#[test]
fn every_statement_is_an_idempotent_create_with_no_placeholder_left() {
    for variant in [IndexVariant::Text, IndexVariant::Bloom] {
        let stmts = render_default(variant);
        assert!(
            stmts.len() > Table::ALL.len(),
            "{variant:?}: only {} statements",
            stmts.len()
        );
        for s in &stmts {
            assert!(s.sql.starts_with("CREATE "), "{variant:?}: {}", s.sql);
            assert!(s.sql.contains(" IF NOT EXISTS "), "{variant:?}: {}", s.sql);
            assert!(
                !s.sql.contains("${"),
                "{variant:?}: placeholder left in {}",
                s.sql
            );
            assert!(
                !s.sql.contains(';'),
                "{variant:?}: statement not split: {}",
                s.sql
            );
        }
    }
}

#[test]
fn both_variants_create_the_same_objects_in_the_same_order() {
    let objects = |v| {
        render_default(v)
            .into_iter()
            .map(|s| s.object)
            .collect::<Vec<_>>()
    };
    assert_eq!(objects(IndexVariant::Text), objects(IndexVariant::Bloom));
}

#[test]
fn the_variants_differ_in_indexes_only_where_a_compat_seed_exists() {
    let text = render_default(IndexVariant::Text);
    let bloom = render_default(IndexVariant::Bloom);
    let logs = |stmts: &[Statement]| {
        stmts
            .iter()
            .find(|s| s.object == "otel_logs")
            .unwrap()
            .sql
            .clone()
    };
    assert!(logs(&text).contains("TYPE text("));
    assert!(!logs(&bloom).contains("TYPE text("));
    assert!(logs(&bloom).contains("bloom_filter"));
}

#[test]
fn every_inserted_table_is_created_with_a_deduplication_window() {
    for variant in [IndexVariant::Text, IndexVariant::Bloom] {
        let stmts = render_default(variant);
        for table in Table::ALL {
            let s = stmts
                .iter()
                .find(|s| s.object == table.default_name())
                .unwrap_or_else(|| panic!("{variant:?}: no statement creates {table:?}"));
            assert!(
                s.sql.contains("non_replicated_deduplication_window"),
                "{variant:?}: {}",
                s.sql
            );
        }
    }
}

#[test]
fn options_reach_every_statement() {
    let mut opts = SchemaOptions {
        database: "obs".into(),
        cluster: Some("prod".into()),
        logs_ttl: Ttl::Days(7),
        traces_ttl: Ttl::Hours(36),
        ..SchemaOptions::default()
    };
    opts.names.insert("otel_logs".into(), "app_logs".into());
    let stmts = render(&opts, IndexVariant::Text).unwrap();
    for s in &stmts {
        assert!(s.sql.contains(" ON CLUSTER `prod`"), "{}", s.sql);
        // Nothing is created or read outside the chosen database.
        if s.object != "obs" {
            assert!(s.sql.contains("`obs`.`"), "{}", s.sql);
        }
        // The renamed table is used everywhere, also by the views that read it.
        assert!(!s.sql.contains("`otel_logs`"), "{}", s.sql);
    }
    let logs = stmts
        .iter()
        .find(|s| s.object == "app_logs")
        .expect("renamed logs table");
    assert!(logs.sql.contains("toIntervalDay(7)"), "{}", logs.sql);
    let traces = stmts.iter().find(|s| s.object == "otel_traces").unwrap();
    assert!(traces.sql.contains("toIntervalHour(36)"), "{}", traces.sql);
    let rollup_readers = stmts
        .iter()
        .filter(|s| s.sql.contains("`obs`.`app_logs`"))
        .count();
    assert!(
        rollup_readers >= 2,
        "the logs table and the views reading it use the new name"
    );
}

#[test]
fn bad_options_are_refused_with_the_reason() {
    let mut opts = SchemaOptions::default();
    opts.names.insert("otel_log".into(), "x".into());
    let err = render(&opts, IndexVariant::Text).unwrap_err().to_string();
    assert!(err.contains("unknown table \"otel_log\""), "{err}");
    assert!(err.contains("otel_logs"), "lists the known names: {err}");

    let opts = SchemaOptions {
        database: "a`b".into(),
        ..SchemaOptions::default()
    };
    let err = render(&opts, IndexVariant::Text).unwrap_err().to_string();
    assert!(err.contains("invalid database"), "{err}");
}

#[test]
fn server_version_picks_the_index_variant() {
    let cases = [
        ("26.9.2.1", IndexVariant::Text),
        ("26.2.1.1", IndexVariant::Text),
        ("26.1.3.52", IndexVariant::Bloom),
        ("25.12.1", IndexVariant::Bloom),
        ("27.0", IndexVariant::Text),
    ];
    for (v, want) in cases {
        let got = IndexVariant::for_version(ServerVersion::parse(v).unwrap());
        assert_eq!(got, want, "{v}");
    }
    for bad in ["", "26", "x.y", "26.x"] {
        assert_eq!(ServerVersion::parse(bad), None, "{bad:?}");
    }
}
