-- Source: HyperDX docker/otel-collector/schema/seed/00006_otel_logs_rollups.sql (commit 851f6fc779262a053fe15bfebff83d68409f6cdf):
-- the 15-minute key/value rollup of otel_logs (ResourceAttributes, LogAttributes and ScopeAttributes
-- entries and 14 native or materialized columns, counted per value), the key-only rollup derived from it,
-- and their two materialized views. Statements, engines, keys, indexes and view queries are the seed's.
-- Changed: ON CLUSTER after each created name, every table name is a placeholder (also those the views
-- read and write), the TTL interval placeholder (the seed's per-signal LOGS_TTL, formerly TABLES_TTL),
-- and AS is upper-cased in the view queries.
-- sluice: the rollup targets also set non_replicated_deduplication_window, so that a retried, deduplicated insert is not counted twice by the views.
CREATE TABLE IF NOT EXISTS ${DATABASE}.${T_otel_logs_kv_rollup_15m}${ON_CLUSTER}
(
    `Timestamp` DateTime,
    `ColumnIdentifier` LowCardinality(String),
    `Key` LowCardinality(String),
    `Value` String,
    `count` UInt64,
    INDEX idx_count_minmax count TYPE minmax GRANULARITY 1,
    INDEX idx_timestamp_minmax Timestamp TYPE minmax GRANULARITY 1
)
ENGINE = SummingMergeTree
PARTITION BY toDate(Timestamp)
ORDER BY (ColumnIdentifier, Key, Timestamp, Value)
TTL Timestamp + ${TTL}
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1, non_replicated_deduplication_window = 1000;

CREATE TABLE IF NOT EXISTS ${DATABASE}.${T_otel_logs_key_rollup_15m}${ON_CLUSTER}
(
    `Timestamp` DateTime,
    `ColumnIdentifier` LowCardinality(String),
    `Key` LowCardinality(String),
    `count` UInt64,
    INDEX idx_count_minmax count TYPE minmax GRANULARITY 1,
    INDEX idx_timestamp_minmax Timestamp TYPE minmax GRANULARITY 1
)
ENGINE = SummingMergeTree
PARTITION BY toDate(Timestamp)
ORDER BY (ColumnIdentifier, Key, Timestamp)
TTL Timestamp + ${TTL}
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1, non_replicated_deduplication_window = 1000;

CREATE MATERIALIZED VIEW IF NOT EXISTS ${DATABASE}.${T_otel_logs_key_rollup_15m_mv}${ON_CLUSTER} TO ${DATABASE}.${T_otel_logs_key_rollup_15m}
AS SELECT
    Timestamp,
    ColumnIdentifier,
    Key,
    sum(count) AS count
FROM ${DATABASE}.${T_otel_logs_kv_rollup_15m}
GROUP BY ColumnIdentifier, Key, Timestamp;

CREATE MATERIALIZED VIEW IF NOT EXISTS ${DATABASE}.${T_otel_logs_attr_kv_rollup_15m_mv}${ON_CLUSTER} TO ${DATABASE}.${T_otel_logs_kv_rollup_15m}
AS WITH elements AS (
    SELECT
        'ResourceAttributes' AS ColumnIdentifier,
        toStartOfFifteenMinutes(Timestamp) AS Timestamp,
        replaceRegexpAll(entry.1, '\\[\\d+\\]', '[*]') AS Key,
        CAST(entry.2 AS String) AS Value
    FROM ${DATABASE}.${T_otel_logs}
    ARRAY JOIN ResourceAttributes AS entry
    UNION ALL
    SELECT
        'LogAttributes' AS ColumnIdentifier,
        toStartOfFifteenMinutes(Timestamp) AS Timestamp,
        replaceRegexpAll(entry.1, '\\[\\d+\\]', '[*]') AS Key,
        CAST(entry.2 AS String) AS Value
    FROM ${DATABASE}.${T_otel_logs}
    ARRAY JOIN LogAttributes AS entry
    UNION ALL
    SELECT
        'ScopeAttributes' AS ColumnIdentifier,
        toStartOfFifteenMinutes(Timestamp) AS Timestamp,
        replaceRegexpAll(entry.1, '\\[\\d+\\]', '[*]') AS Key,
        CAST(entry.2 AS String) AS Value
    FROM ${DATABASE}.${T_otel_logs}
    ARRAY JOIN ScopeAttributes AS entry
    UNION ALL
    SELECT
        'NativeColumn' AS ColumnIdentifier,
        toStartOfFifteenMinutes(Timestamp) AS Timestamp,
        'SeverityText' AS Key,
        CAST(SeverityText AS String) AS Value
    FROM ${DATABASE}.${T_otel_logs}
    UNION ALL
    SELECT
        'NativeColumn' AS ColumnIdentifier,
        toStartOfFifteenMinutes(Timestamp) AS Timestamp,
        'ServiceName' AS Key,
        CAST(ServiceName AS String) AS Value
    FROM ${DATABASE}.${T_otel_logs}
    UNION ALL
    SELECT
        'NativeColumn' AS ColumnIdentifier,
        toStartOfFifteenMinutes(Timestamp) AS Timestamp,
        'ScopeName' AS Key,
        CAST(ScopeName AS String) AS Value
    FROM ${DATABASE}.${T_otel_logs}
    UNION ALL
    SELECT
        'NativeColumn' AS ColumnIdentifier,
        toStartOfFifteenMinutes(Timestamp) AS Timestamp,
        'ScopeVersion' AS Key,
        CAST(ScopeVersion AS String) AS Value
    FROM ${DATABASE}.${T_otel_logs}
    UNION ALL
    SELECT
        'NativeColumn' AS ColumnIdentifier,
        toStartOfFifteenMinutes(Timestamp) AS Timestamp,
        'ResourceSchemaUrl' AS Key,
        CAST(ResourceSchemaUrl AS String) AS Value
    FROM ${DATABASE}.${T_otel_logs}
    UNION ALL
    SELECT
        'NativeColumn' AS ColumnIdentifier,
        toStartOfFifteenMinutes(Timestamp) AS Timestamp,
        'ScopeSchemaUrl' AS Key,
        CAST(ScopeSchemaUrl AS String) AS Value
    FROM ${DATABASE}.${T_otel_logs}
    UNION ALL
    SELECT
        'NativeColumn' AS ColumnIdentifier,
        toStartOfFifteenMinutes(Timestamp) AS Timestamp,
        '__hdx_materialized_k8s.cluster.name' AS Key,
        CAST(`__hdx_materialized_k8s.cluster.name` AS String) AS Value
    FROM ${DATABASE}.${T_otel_logs}
    UNION ALL
    SELECT
        'NativeColumn' AS ColumnIdentifier,
        toStartOfFifteenMinutes(Timestamp) AS Timestamp,
        '__hdx_materialized_k8s.container.name' AS Key,
        CAST(`__hdx_materialized_k8s.container.name` AS String) AS Value
    FROM ${DATABASE}.${T_otel_logs}
    UNION ALL
    SELECT
        'NativeColumn' AS ColumnIdentifier,
        toStartOfFifteenMinutes(Timestamp) AS Timestamp,
        '__hdx_materialized_k8s.deployment.name' AS Key,
        CAST(`__hdx_materialized_k8s.deployment.name` AS String) AS Value
    FROM ${DATABASE}.${T_otel_logs}
    UNION ALL
    SELECT
        'NativeColumn' AS ColumnIdentifier,
        toStartOfFifteenMinutes(Timestamp) AS Timestamp,
        '__hdx_materialized_k8s.namespace.name' AS Key,
        CAST(`__hdx_materialized_k8s.namespace.name` AS String) AS Value
    FROM ${DATABASE}.${T_otel_logs}
    UNION ALL
    SELECT
        'NativeColumn' AS ColumnIdentifier,
        toStartOfFifteenMinutes(Timestamp) AS Timestamp,
        '__hdx_materialized_k8s.node.name' AS Key,
        CAST(`__hdx_materialized_k8s.node.name` AS String) AS Value
    FROM ${DATABASE}.${T_otel_logs}
    UNION ALL
    SELECT
        'NativeColumn' AS ColumnIdentifier,
        toStartOfFifteenMinutes(Timestamp) AS Timestamp,
        '__hdx_materialized_k8s.pod.name' AS Key,
        CAST(`__hdx_materialized_k8s.pod.name` AS String) AS Value
    FROM ${DATABASE}.${T_otel_logs}
    UNION ALL
    SELECT
        'NativeColumn' AS ColumnIdentifier,
        toStartOfFifteenMinutes(Timestamp) AS Timestamp,
        '__hdx_materialized_k8s.pod.uid' AS Key,
        CAST(`__hdx_materialized_k8s.pod.uid` AS String) AS Value
    FROM ${DATABASE}.${T_otel_logs}
    UNION ALL
    SELECT
        'NativeColumn' AS ColumnIdentifier,
        toStartOfFifteenMinutes(Timestamp) AS Timestamp,
        '__hdx_materialized_deployment.environment.name' AS Key,
        CAST(`__hdx_materialized_deployment.environment.name` AS String) AS Value
    FROM ${DATABASE}.${T_otel_logs}
)
SELECT Timestamp, ColumnIdentifier, Key, Value, count() AS count FROM elements
GROUP BY Timestamp, ColumnIdentifier, Key, Value;
