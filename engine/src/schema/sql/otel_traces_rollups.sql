-- Source: HyperDX docker/otel-collector/schema/seed/00007_otel_traces_rollups.sql (commit 4132b5f29893563ab7ea38d35daaac9fd3ae1b10):
-- the 15-minute key/value rollup of otel_traces (ResourceAttributes and SpanAttributes entries and
-- six native columns, counted per value), the key-only rollup derived from it, and their two
-- materialized views. Statements, engines, keys, indexes and view queries are the seed's.
-- Changed: ON CLUSTER after each created name, every table name is a placeholder (also those the views
-- read and write) and the TTL interval placeholder (the seed's per-signal TRACES_TTL, formerly
-- TABLES_TTL).
-- sluice: the rollup targets also set non_replicated_deduplication_window, so that a retried, deduplicated insert is not counted twice by the views.
CREATE TABLE IF NOT EXISTS ${DATABASE}.${T_otel_traces_kv_rollup_15m}${ON_CLUSTER}
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

CREATE TABLE IF NOT EXISTS ${DATABASE}.${T_otel_traces_key_rollup_15m}${ON_CLUSTER}
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

CREATE MATERIALIZED VIEW IF NOT EXISTS ${DATABASE}.${T_otel_traces_key_rollup_15m_mv}${ON_CLUSTER} TO ${DATABASE}.${T_otel_traces_key_rollup_15m}
AS SELECT
    Timestamp,
    ColumnIdentifier,
    Key,
    sum(count) AS count
FROM ${DATABASE}.${T_otel_traces_kv_rollup_15m}
GROUP BY ColumnIdentifier, Key, Timestamp;

CREATE MATERIALIZED VIEW IF NOT EXISTS ${DATABASE}.${T_otel_traces_kv_rollup_15m_mv}${ON_CLUSTER} TO ${DATABASE}.${T_otel_traces_kv_rollup_15m}
AS WITH elements AS (
    SELECT
        'ResourceAttributes' AS ColumnIdentifier,
        toStartOfFifteenMinutes(Timestamp) AS Timestamp,
        replaceRegexpAll(entry.1, '\\[\\d+\\]', '[*]') AS Key,
        CAST(entry.2 AS String) AS Value
    FROM ${DATABASE}.${T_otel_traces}
    ARRAY JOIN ResourceAttributes AS entry
    UNION ALL
    SELECT
        'SpanAttributes' AS ColumnIdentifier,
        toStartOfFifteenMinutes(Timestamp) AS Timestamp,
        replaceRegexpAll(entry.1, '\\[\\d+\\]', '[*]') AS Key,
        CAST(entry.2 AS String) AS Value
    FROM ${DATABASE}.${T_otel_traces}
    ARRAY JOIN SpanAttributes AS entry
    UNION ALL
    SELECT
        'NativeColumn' AS ColumnIdentifier,
        toStartOfFifteenMinutes(Timestamp) AS Timestamp,
        'ServiceName' AS Key,
        CAST(ServiceName AS String) AS Value
    FROM ${DATABASE}.${T_otel_traces}
    UNION ALL
    SELECT
        'NativeColumn' AS ColumnIdentifier,
        toStartOfFifteenMinutes(Timestamp) AS Timestamp,
        'SpanName' AS Key,
        CAST(SpanName AS String) AS Value
    FROM ${DATABASE}.${T_otel_traces}
    UNION ALL
    SELECT
        'NativeColumn' AS ColumnIdentifier,
        toStartOfFifteenMinutes(Timestamp) AS Timestamp,
        'SpanKind' AS Key,
        CAST(SpanKind AS String) AS Value
    FROM ${DATABASE}.${T_otel_traces}
    UNION ALL
    SELECT
        'NativeColumn' AS ColumnIdentifier,
        toStartOfFifteenMinutes(Timestamp) AS Timestamp,
        'StatusCode' AS Key,
        CAST(StatusCode AS String) AS Value
    FROM ${DATABASE}.${T_otel_traces}
    UNION ALL
    SELECT
        'NativeColumn' AS ColumnIdentifier,
        toStartOfFifteenMinutes(Timestamp) AS Timestamp,
        'ScopeName' AS Key,
        CAST(ScopeName AS String) AS Value
    FROM ${DATABASE}.${T_otel_traces}
    UNION ALL
    SELECT
        'NativeColumn' AS ColumnIdentifier,
        toStartOfFifteenMinutes(Timestamp) AS Timestamp,
        'ScopeVersion' AS Key,
        CAST(ScopeVersion AS String) AS Value
    FROM ${DATABASE}.${T_otel_traces}
)
SELECT Timestamp, ColumnIdentifier, Key, Value, count() AS count FROM elements
GROUP BY Timestamp, ColumnIdentifier, Key, Value;
