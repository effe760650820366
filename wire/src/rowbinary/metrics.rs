//! RowBinary for the five `otel_metrics_*` tables.
//!
//! [`MetricColumn`] names every stored column of the five tables (most are shared);
//! each table's list, in ClickStack's order, is [`columns_of`]. The INSERT lists the
//! columns the table has (the engine asks `system.columns`), and [`encode_points`]
//! writes the rows of one table's [`Points`] for any subset of its columns.
//!
//! | column | ClickHouse type | from |
//! |---|---|---|
//! | `ResourceAttributes`, `ScopeAttributes`, `Attributes` | `Map(LowCardinality(String), String)` | the row's resource, scope, point |
//! | `ResourceSchemaUrl`, `ScopeName`, `ScopeVersion`, `ScopeSchemaUrl`, `MetricDescription`, `MetricUnit` | `String` | |
//! | `ServiceName`, `MetricName` | `LowCardinality(String)` | |
//! | `ScopeDroppedAttrCount`, `Flags` | `UInt32` | |
//! | `StartTimeUnix`, `TimeUnix` | `DateTime` | [`datetime`]: whole seconds |
//! | `Value`, `Sum`, `Min`, `Max` | `Float64` | |
//! | `Count`, `ZeroCount` | `UInt64` | |
//! | `AggregationTemporality`, `Scale`, `PositiveOffset`, `NegativeOffset` | `Int32` | |
//! | `IsMonotonic` | `Bool` | one byte |
//! | `BucketCounts`, `PositiveBucketCounts`, `NegativeBucketCounts` | `Array(UInt64)` | |
//! | `ExplicitBounds`, `ValueAtQuantiles.Quantile`, `ValueAtQuantiles.Value` | `Array(Float64)` | |
//! | `Exemplars.FilteredAttributes` | `Array(Map(LowCardinality(String), String))` | |
//! | `Exemplars.TimeUnix` | `Array(DateTime)` | |
//! | `Exemplars.Value` | `Array(Float64)` | |
//! | `Exemplars.SpanId`, `Exemplars.TraceId` | `Array(String)` | hex, zeros when absent |

use super::{EncodedMaps, write_array, write_hex, write_leb128, write_map, write_str};
use crate::columns::metrics::{
    ExpHistogram, Histogram, MetricsBatch, Number, PointValues, Points, Summary,
};
use crate::tables::Table;

/// A stored column of the metric tables.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MetricColumn {
    ResourceAttributes,
    ResourceSchemaUrl,
    ScopeName,
    ScopeVersion,
    ScopeAttributes,
    ScopeDroppedAttrCount,
    ScopeSchemaUrl,
    ServiceName,
    MetricName,
    MetricDescription,
    MetricUnit,
    Attributes,
    StartTimeUnix,
    TimeUnix,
    Value,
    Flags,
    ExemplarsFilteredAttributes,
    ExemplarsTimeUnix,
    ExemplarsValue,
    ExemplarsSpanId,
    ExemplarsTraceId,
    AggregationTemporality,
    IsMonotonic,
    Count,
    Sum,
    BucketCounts,
    ExplicitBounds,
    Min,
    Max,
    Scale,
    ZeroCount,
    PositiveOffset,
    PositiveBucketCounts,
    NegativeOffset,
    NegativeBucketCounts,
    ValueAtQuantilesQuantile,
    ValueAtQuantilesValue,
}

use MetricColumn as C;

/// The columns of every metric table, first in each.
const HEAD: [MetricColumn; 14] = [
    C::ResourceAttributes,
    C::ResourceSchemaUrl,
    C::ScopeName,
    C::ScopeVersion,
    C::ScopeAttributes,
    C::ScopeDroppedAttrCount,
    C::ScopeSchemaUrl,
    C::ServiceName,
    C::MetricName,
    C::MetricDescription,
    C::MetricUnit,
    C::Attributes,
    C::StartTimeUnix,
    C::TimeUnix,
];

const EXEMPLARS: [MetricColumn; 5] = [
    C::ExemplarsFilteredAttributes,
    C::ExemplarsTimeUnix,
    C::ExemplarsValue,
    C::ExemplarsSpanId,
    C::ExemplarsTraceId,
];

/// Concatenates column lists at compile time.
const fn concat<const N: usize>(parts: &[&[MetricColumn]]) -> [MetricColumn; N] {
    let mut out = [C::Attributes; N];
    let mut n = 0;
    let mut p = 0;
    while p < parts.len() {
        let mut i = 0;
        while i < parts[p].len() {
            out[n] = parts[p][i];
            n += 1;
            i += 1;
        }
        p += 1;
    }
    assert!(n == N, "column list length");
    out
}

/// `otel_metrics_gauge`, in ClickStack's order.
pub const GAUGE: [MetricColumn; 21] = concat(&[&HEAD, &[C::Value, C::Flags], &EXEMPLARS]);
/// `otel_metrics_sum`.
pub const SUM: [MetricColumn; 23] = concat(&[
    &HEAD,
    &[C::Value, C::Flags],
    &EXEMPLARS,
    &[C::AggregationTemporality, C::IsMonotonic],
]);
/// `otel_metrics_histogram`.
pub const HISTOGRAM: [MetricColumn; 27] = concat(&[
    &HEAD,
    &[C::Count, C::Sum, C::BucketCounts, C::ExplicitBounds],
    &EXEMPLARS,
    &[C::Flags, C::Min, C::Max, C::AggregationTemporality],
]);
/// `otel_metrics_exponential_histogram`.
pub const EXP_HISTOGRAM: [MetricColumn; 31] = concat(&[
    &HEAD,
    &[
        C::Count,
        C::Sum,
        C::Scale,
        C::ZeroCount,
        C::PositiveOffset,
        C::PositiveBucketCounts,
        C::NegativeOffset,
        C::NegativeBucketCounts,
    ],
    &EXEMPLARS,
    &[C::Flags, C::Min, C::Max, C::AggregationTemporality],
]);
/// `otel_metrics_summary`.
pub const SUMMARY: [MetricColumn; 19] = concat(&[
    &HEAD,
    &[
        C::Count,
        C::Sum,
        C::ValueAtQuantilesQuantile,
        C::ValueAtQuantilesValue,
        C::Flags,
    ],
]);

/// The stored columns of a metric table, in ClickStack's order (empty for the other
/// tables).
pub const fn columns_of(table: Table) -> &'static [MetricColumn] {
    match table {
        Table::MetricsGauge => &GAUGE,
        Table::MetricsSum => &SUM,
        Table::MetricsHistogram => &HISTOGRAM,
        Table::MetricsExponentialHistogram => &EXP_HISTOGRAM,
        Table::MetricsSummary => &SUMMARY,
        Table::Logs | Table::Traces | Table::Sessions => &[],
    }
}

/// The metric tables, in the order of [`MetricsBatch::points`].
pub const TABLES: [Table; 5] = [
    Table::MetricsGauge,
    Table::MetricsSum,
    Table::MetricsHistogram,
    Table::MetricsExponentialHistogram,
    Table::MetricsSummary,
];

impl MetricColumn {
    /// The ClickHouse column name.
    pub const fn name(self) -> &'static str {
        match self {
            C::ResourceAttributes => "ResourceAttributes",
            C::ResourceSchemaUrl => "ResourceSchemaUrl",
            C::ScopeName => "ScopeName",
            C::ScopeVersion => "ScopeVersion",
            C::ScopeAttributes => "ScopeAttributes",
            C::ScopeDroppedAttrCount => "ScopeDroppedAttrCount",
            C::ScopeSchemaUrl => "ScopeSchemaUrl",
            C::ServiceName => "ServiceName",
            C::MetricName => "MetricName",
            C::MetricDescription => "MetricDescription",
            C::MetricUnit => "MetricUnit",
            C::Attributes => "Attributes",
            C::StartTimeUnix => "StartTimeUnix",
            C::TimeUnix => "TimeUnix",
            C::Value => "Value",
            C::Flags => "Flags",
            C::ExemplarsFilteredAttributes => "Exemplars.FilteredAttributes",
            C::ExemplarsTimeUnix => "Exemplars.TimeUnix",
            C::ExemplarsValue => "Exemplars.Value",
            C::ExemplarsSpanId => "Exemplars.SpanId",
            C::ExemplarsTraceId => "Exemplars.TraceId",
            C::AggregationTemporality => "AggregationTemporality",
            C::IsMonotonic => "IsMonotonic",
            C::Count => "Count",
            C::Sum => "Sum",
            C::BucketCounts => "BucketCounts",
            C::ExplicitBounds => "ExplicitBounds",
            C::Min => "Min",
            C::Max => "Max",
            C::Scale => "Scale",
            C::ZeroCount => "ZeroCount",
            C::PositiveOffset => "PositiveOffset",
            C::PositiveBucketCounts => "PositiveBucketCounts",
            C::NegativeOffset => "NegativeOffset",
            C::NegativeBucketCounts => "NegativeBucketCounts",
            C::ValueAtQuantilesQuantile => "ValueAtQuantiles.Quantile",
            C::ValueAtQuantilesValue => "ValueAtQuantiles.Value",
        }
    }
}

/// A `DateTime` from ns since the epoch: whole seconds, saturating at the type's
/// end (2106-02-07) instead of wrapping.
#[inline]
pub fn datetime(ns: u64) -> u32 {
    u32::try_from(ns / 1_000_000_000).unwrap_or(u32::MAX)
}

/// A point kind's own columns, written for row `i`.
pub trait EncodeValues: PointValues {
    /// Writes column `col` of row `i`; false when the column is not the kind's.
    fn write(&self, col: MetricColumn, i: usize, temporality: i32, out: &mut Vec<u8>) -> bool;
}

/// Appends points `range` of `points` (a table of `batch`) as RowBinary with the given
/// columns, which must be the table's ([`columns_of`]): a column of another table
/// is written as nothing, which ClickHouse would refuse.
pub fn encode_points<K: EncodeValues>(
    batch: &MetricsBatch,
    points: &Points<K>,
    columns: &[MetricColumn],
    range: core::ops::Range<usize>,
    out: &mut Vec<u8>,
) {
    let (resources, scopes, metrics) = (&batch.resources, &batch.scopes, &batch.metrics);
    let ex = &points.exemplars;
    let resource_maps = EncodedMaps::new(
        &resources.attributes,
        columns.contains(&C::ResourceAttributes),
    );
    let scope_maps = EncodedMaps::new(&scopes.attributes, columns.contains(&C::ScopeAttributes));
    for i in range {
        let m = points.metric[i] as usize;
        let res = metrics.resource[m] as usize;
        let scope = metrics.scope[m] as usize;
        for &col in columns {
            match col {
                C::ResourceAttributes => resource_maps.write(res, out),
                C::ResourceSchemaUrl => write_str(resources.schema_url.get(res), out),
                C::ServiceName => write_str(resources.service_name.get(res), out),
                C::ScopeName => write_str(scopes.name.get(scope), out),
                C::ScopeVersion => write_str(scopes.version.get(scope), out),
                C::ScopeAttributes => scope_maps.write(scope, out),
                C::ScopeDroppedAttrCount => {
                    out.extend_from_slice(&scopes.dropped_attributes[scope].to_le_bytes());
                }
                C::ScopeSchemaUrl => write_str(scopes.schema_url.get(scope), out),
                C::MetricName => write_str(metrics.name.get(m), out),
                C::MetricDescription => write_str(metrics.description.get(m), out),
                C::MetricUnit => write_str(metrics.unit.get(m), out),
                C::Attributes => write_map(&points.attributes, i, out),
                C::StartTimeUnix => {
                    out.extend_from_slice(&datetime(points.start_time[i]).to_le_bytes());
                }
                C::TimeUnix => out.extend_from_slice(&datetime(points.time[i]).to_le_bytes()),
                C::Flags => out.extend_from_slice(&points.flags[i].to_le_bytes()),
                C::ExemplarsFilteredAttributes => write_array(ex.of(i), out, |e, out| {
                    write_map(&ex.filtered_attributes, e, out);
                }),
                C::ExemplarsTimeUnix => write_array(ex.of(i), out, |e, out| {
                    out.extend_from_slice(&datetime(ex.time[e]).to_le_bytes());
                }),
                C::ExemplarsValue => write_array(ex.of(i), out, |e, out| {
                    out.extend_from_slice(&ex.value[e].to_le_bytes());
                }),
                C::ExemplarsSpanId => write_array(ex.of(i), out, |e, out| {
                    write_hex(&ex.span_id[e], out);
                }),
                C::ExemplarsTraceId => write_array(ex.of(i), out, |e, out| {
                    write_hex(&ex.trace_id[e], out);
                }),
                C::IsMonotonic => out.push(u8::from(metrics.monotonic[m])),
                _ => {
                    let written = points.values.write(col, i, metrics.temporality[m], out);
                    debug_assert!(written, "{} is not a column of this table", col.name());
                }
            }
        }
    }
}

/// An `Array(UInt64)` or `Array(Float64)` of fixed-width little-endian items.
#[inline]
fn fixed_array<T: Copy, const N: usize>(items: &[T], out: &mut Vec<u8>, le: impl Fn(T) -> [u8; N]) {
    write_leb128(items.len() as u64, out);
    for &v in items {
        out.extend_from_slice(&le(v));
    }
}

impl EncodeValues for Number {
    #[inline]
    fn write(&self, col: MetricColumn, i: usize, temporality: i32, out: &mut Vec<u8>) -> bool {
        match col {
            C::Value => out.extend_from_slice(&self.value[i].to_le_bytes()),
            // Only the sum table has the column; gauge points never ask for it.
            C::AggregationTemporality => out.extend_from_slice(&temporality.to_le_bytes()),
            _ => return false,
        }
        true
    }
}

impl EncodeValues for Histogram {
    #[inline]
    fn write(&self, col: MetricColumn, i: usize, temporality: i32, out: &mut Vec<u8>) -> bool {
        match col {
            C::Count => out.extend_from_slice(&self.count[i].to_le_bytes()),
            C::Sum => out.extend_from_slice(&self.sum[i].to_le_bytes()),
            C::Min => out.extend_from_slice(&self.min[i].to_le_bytes()),
            C::Max => out.extend_from_slice(&self.max[i].to_le_bytes()),
            C::BucketCounts => fixed_array(self.bucket_counts.row(i), out, u64::to_le_bytes),
            C::ExplicitBounds => fixed_array(self.explicit_bounds.row(i), out, f64::to_le_bytes),
            C::AggregationTemporality => out.extend_from_slice(&temporality.to_le_bytes()),
            _ => return false,
        }
        true
    }
}

impl EncodeValues for ExpHistogram {
    #[inline]
    fn write(&self, col: MetricColumn, i: usize, temporality: i32, out: &mut Vec<u8>) -> bool {
        match col {
            C::Count => out.extend_from_slice(&self.count[i].to_le_bytes()),
            C::Sum => out.extend_from_slice(&self.sum[i].to_le_bytes()),
            C::Min => out.extend_from_slice(&self.min[i].to_le_bytes()),
            C::Max => out.extend_from_slice(&self.max[i].to_le_bytes()),
            C::Scale => out.extend_from_slice(&self.scale[i].to_le_bytes()),
            C::ZeroCount => out.extend_from_slice(&self.zero_count[i].to_le_bytes()),
            C::PositiveOffset => out.extend_from_slice(&self.positive_offset[i].to_le_bytes()),
            C::PositiveBucketCounts => {
                fixed_array(self.positive_counts.row(i), out, u64::to_le_bytes);
            }
            C::NegativeOffset => out.extend_from_slice(&self.negative_offset[i].to_le_bytes()),
            C::NegativeBucketCounts => {
                fixed_array(self.negative_counts.row(i), out, u64::to_le_bytes);
            }
            C::AggregationTemporality => out.extend_from_slice(&temporality.to_le_bytes()),
            _ => return false,
        }
        true
    }
}

impl EncodeValues for Summary {
    #[inline]
    fn write(&self, col: MetricColumn, i: usize, _temporality: i32, out: &mut Vec<u8>) -> bool {
        match col {
            C::Count => out.extend_from_slice(&self.count[i].to_le_bytes()),
            C::Sum => out.extend_from_slice(&self.sum[i].to_le_bytes()),
            C::ValueAtQuantilesQuantile => {
                fixed_array(self.quantiles.row(i), out, |q| q[0].to_le_bytes());
            }
            C::ValueAtQuantilesValue => {
                fixed_array(self.quantiles.row(i), out, |q| q[1].to_le_bytes());
            }
            _ => return false,
        }
        true
    }
}

/// Appends the rows of table `table` (one of [`TABLES`]) of `batch`.
pub fn encode_table(
    batch: &MetricsBatch,
    table: Table,
    columns: &[MetricColumn],
    out: &mut Vec<u8>,
) {
    match table {
        Table::MetricsGauge => {
            encode_points(batch, &batch.gauge, columns, 0..batch.gauge.len(), out)
        }
        Table::MetricsSum => encode_points(batch, &batch.sum, columns, 0..batch.sum.len(), out),
        Table::MetricsHistogram => {
            encode_points(
                batch,
                &batch.histogram,
                columns,
                0..batch.histogram.len(),
                out,
            );
        }
        Table::MetricsExponentialHistogram => {
            let n = batch.exp_histogram.len();
            encode_points(batch, &batch.exp_histogram, columns, 0..n, out);
        }
        Table::MetricsSummary => {
            encode_points(batch, &batch.summary, columns, 0..batch.summary.len(), out);
        }
        Table::Logs | Table::Traces | Table::Sessions => {}
    }
}

#[cfg(test)]
mod tests;
