//! The ClickHouse tables sluice writes, by their ClickStack default names.
//!
//! The columns of each table are listed in `shared/schema/clickstack-columns.tsv`
//! (vendored as `engine/tests/data/clickstack-columns.tsv`); the DDL lives in
//! the engine's `schema` module.

/// One table of the ClickStack schema that sluice inserts into.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Table {
    Logs,
    Traces,
    Sessions,
    MetricsGauge,
    MetricsSum,
    MetricsHistogram,
    MetricsExponentialHistogram,
    MetricsSummary,
}

/// The OTLP signal a table belongs to; TTLs are configured per signal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Signal {
    Logs,
    Traces,
    Metrics,
    /// HyperDX session replay (`rr-web.event` logs): its own TTL in ClickStack.
    Sessions,
}

impl Table {
    /// Every table, in the order the schema is created.
    pub const ALL: [Table; 8] = [
        Table::Logs,
        Table::Traces,
        Table::Sessions,
        Table::MetricsGauge,
        Table::MetricsSum,
        Table::MetricsHistogram,
        Table::MetricsExponentialHistogram,
        Table::MetricsSummary,
    ];

    /// How many tables there are.
    pub const COUNT: usize = Table::ALL.len();

    /// The table's position in [`Table::ALL`], for per-table arrays.
    pub const fn index(self) -> usize {
        self as usize
    }

    /// The ClickStack default name of the table.
    pub const fn default_name(self) -> &'static str {
        match self {
            Table::Logs => "otel_logs",
            Table::Traces => "otel_traces",
            Table::Sessions => "hyperdx_sessions",
            Table::MetricsGauge => "otel_metrics_gauge",
            Table::MetricsSum => "otel_metrics_sum",
            Table::MetricsHistogram => "otel_metrics_histogram",
            Table::MetricsExponentialHistogram => "otel_metrics_exponential_histogram",
            Table::MetricsSummary => "otel_metrics_summary",
        }
    }

    /// The signal whose records land in this table.
    pub const fn signal(self) -> Signal {
        match self {
            Table::Logs => Signal::Logs,
            Table::Traces => Signal::Traces,
            Table::Sessions => Signal::Sessions,
            Table::MetricsGauge
            | Table::MetricsSum
            | Table::MetricsHistogram
            | Table::MetricsExponentialHistogram
            | Table::MetricsSummary => Signal::Metrics,
        }
    }

    /// Looks a table up by its ClickStack default name.
    pub fn from_default_name(name: &str) -> Option<Table> {
        Table::ALL.into_iter().find(|t| t.default_name() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_names_round_trip_and_are_unique() {
        for t in Table::ALL {
            assert_eq!(Table::from_default_name(t.default_name()), Some(t));
        }
        let mut names: Vec<_> = Table::ALL.iter().map(|t| t.default_name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Table::ALL.len());
        assert_eq!(Table::from_default_name("otel_log"), None);
        for (i, t) in Table::ALL.into_iter().enumerate() {
            assert_eq!(t.index(), i);
        }
    }
}
