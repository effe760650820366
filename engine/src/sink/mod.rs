//! Where sealed batches go: ClickHouse.
//!
//! | module | what |
//! |---|---|
//! | [`clickhouse`] | one inserter per table: coalesces the shards' chunks into one INSERT per interval |

pub mod clickhouse;
