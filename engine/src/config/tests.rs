use super::*;

fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let vars: Vec<(String, String)> = vars
        .iter()
        .map(|(k, v)| ((*k).into(), (*v).into()))
        .collect();
    move |k| vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
}

#[test]
fn no_file_and_no_environment_gives_the_defaults() {
    let c = load_from("", env(&[])).unwrap();
    assert_eq!(c, Config::default());
    assert_eq!(c.listen.grpc, "127.0.0.1:4317");
    assert_eq!(c.batch.max_rows, 100_000);
}

#[test]
fn file_keys_are_read_and_unknown_keys_are_errors() {
    let c = load_from("shards = 3\n[batch]\nmax_age_ms = 250\n", env(&[])).unwrap();
    assert_eq!((c.shards, c.batch.max_age_ms), (3, 250));
    let err = load_from("[batch]\nmax_agee_ms = 1\n", env(&[]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("max_agee_ms"), "{err}");
    let err = load_from("colour = 1\n", env(&[])).unwrap_err().to_string();
    assert!(err.contains("colour"), "{err}");
    let err = load_from("shards = \"many\"\n", env(&[]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("invalid config"), "{err}");
}

#[test]
fn every_key_has_an_environment_override() {
    let c = load_from(
        "[clickhouse]\ndatabase = \"from_file\"\n",
        env(&[
            ("SLUICE_SHARDS", "2"),
            ("SLUICE_LISTEN_GRPC", "127.0.0.1:14317"),
            ("SLUICE_CLICKHOUSE_DATABASE", "from_env"),
            ("SLUICE_BATCH_MAX_AGE_MS", "200"),
            ("SLUICE_LOGS_JSON_BODY", "false"),
            (
                "SLUICE_HTTP_CORS_ORIGINS",
                "https://a.example, https://b.example",
            ),
        ]),
    )
    .unwrap();
    assert_eq!(c.shards, 2);
    assert_eq!(c.listen.grpc, "127.0.0.1:14317");
    assert_eq!(
        c.clickhouse.database, "from_env",
        "the environment beats the file"
    );
    assert_eq!(c.batch.max_age_ms, 200);
    assert!(!c.logs.json_body);
    assert_eq!(
        c.http.cors_origins,
        ["https://a.example", "https://b.example"]
    );
}

#[test]
fn clickstack_variables_are_understood_below_sluice_ones() {
    let c = load_from(
        "",
        env(&[
            ("CLICKHOUSE_ENDPOINT", "http://ch:8123"),
            ("CLICKHOUSE_USER", "otel"),
        ]),
    )
    .unwrap();
    assert_eq!(
        (c.clickhouse.url.as_str(), c.clickhouse.user.as_str()),
        ("http://ch:8123", "otel")
    );
    let c = load_from(
        "",
        env(&[
            ("CLICKHOUSE_ENDPOINT", "http://ch:8123"),
            ("SLUICE_CLICKHOUSE_URL", "http://other:8123"),
        ]),
    )
    .unwrap();
    assert_eq!(c.clickhouse.url, "http://other:8123");
}

#[test]
fn invalid_values_name_the_key() {
    let err = load_from("", env(&[("SLUICE_LISTEN_HTTP", "localhost")]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("listen.http"), "{err}");
    let err = load_from("[clickhouse]\ncompression = \"snappy\"\n", env(&[]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("clickhouse.compression"), "{err}");
    let err = load_from("", env(&[("SLUICE_BATCH_MAX_ROWS", "lots")]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("max_rows"), "{err}");
}

#[test]
fn the_example_config_is_the_defaults() {
    let text = include_str!("../../../sluice.example.toml");
    let c = load_from(text, env(&[])).unwrap();
    assert_eq!(
        c,
        Config::default(),
        "sluice.example.toml must list every default"
    );
    // And it names every key (a key missing from it would go undocumented).
    let defaults = toml::Table::try_from(Config::default()).unwrap();
    let file: toml::Table = text.parse().unwrap();
    assert_eq!(
        leaves(&file, String::new()).len(),
        leaves(&defaults, String::new()).len()
    );
}
