//! The column buffers of the five metric tables: `otel_metrics_gauge`, `_sum`,
//! `_histogram`, `_exponential_histogram` and `_summary`.
//!
//! A [`MetricsBatch`] holds resource and scope rows ([`Resources`], [`Scopes`], as the
//! other signals), one [`MetricRows`] row per OTLP `Metric` (name, description, unit,
//! temporality, monotonicity, and its resource and scope), and one table of data
//! points per data kind ([`Points`]). A point points at its metric by index, so the
//! metadata every point of a metric shares is stored once, as resources are.
//!
//! The columns every point table has (attributes, times, flags, exemplars) are in
//! [`Points`]; the kind's own (a value, counts and buckets) in its `K`: [`Number`]
//! (gauge and sum), [`Histogram`], [`ExpHistogram`], [`Summary`]. Array columns
//! (`BucketCounts`, `Exemplars.*`, …) are arenas with one end per point ([`Lists`],
//! [`Exemplars`]), as [`Maps`] keeps its entries, so no point allocates.
//!
//! # Invariants
//!
//! - Every column of a [`Points`] holds the same number of rows once a point is
//!   finished, and each of its arenas one end per row.
//! - A point's arrays and exemplars are pushed before the point is finished; its
//!   metric row is finished after all its points (points hold the index it will have).
//! - [`MetricsBatch::rollback`] drops everything past the mark, half-built rows too.

use super::{Maps, Strings};
pub use super::{Resources, Scopes};

/// An `Array(T)` column: the items of all rows in one arena, the end of each row.
#[derive(Clone, Debug, PartialEq)]
pub struct Lists<T> {
    pub items: Vec<T>,
    ends: Vec<usize>,
}

impl<T> Default for Lists<T> {
    fn default() -> Self {
        Lists {
            items: Vec::new(),
            ends: Vec::new(),
        }
    }
}

impl<T: Copy> Lists<T> {
    /// Appends an item to the row being built.
    #[inline]
    pub fn push(&mut self, item: T) {
        self.items.push(item);
    }

    /// Closes the row being built.
    #[inline]
    pub fn finish_row(&mut self) {
        self.ends.push(self.items.len());
    }

    /// Rows closed so far.
    #[inline]
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The items of row `i`.
    #[inline]
    pub fn row(&self, i: usize) -> &[T] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.items[start..self.ends[i]]
    }

    /// Items of the row being built so far.
    #[inline]
    pub fn pending(&self) -> usize {
        self.items.len() - self.ends.last().copied().unwrap_or(0)
    }

    /// Keeps the first `rows` rows (and drops a row being built).
    pub fn truncate(&mut self, rows: usize) {
        self.ends.truncate(rows);
        self.items.truncate(self.ends.last().copied().unwrap_or(0));
    }

    fn byte_len(&self) -> usize {
        self.items.len() * size_of::<T>() + self.ends.len() * size_of::<usize>()
    }
}

/// The exemplars of all points of a table: one row per exemplar, the end of each
/// point's slice (`Exemplars.*`, parallel arrays in ClickHouse).
#[derive(Clone, Debug, Default)]
pub struct Exemplars {
    /// `Exemplars.FilteredAttributes`.
    pub filtered_attributes: Maps,
    /// `Exemplars.TimeUnix`: `time_unix_nano`.
    pub time: Vec<u64>,
    /// `Exemplars.Value`: `as_double`, or `as_int` as a double, or 0.
    pub value: Vec<f64>,
    /// `Exemplars.SpanId`: 8 bytes, all zero when absent.
    pub span_id: Vec<[u8; 8]>,
    /// `Exemplars.TraceId`: 16 bytes, all zero when absent.
    pub trace_id: Vec<[u8; 16]>,
    ends: Vec<usize>,
}

impl Exemplars {
    /// Exemplars finished so far.
    #[inline]
    pub fn len(&self) -> usize {
        self.time.len()
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.time.is_empty()
    }

    /// The exemplars of point `point`, as a range of exemplar rows.
    #[inline]
    pub fn of(&self, point: usize) -> core::ops::Range<usize> {
        let start = if point == 0 { 0 } else { self.ends[point - 1] };
        start..self.ends[point]
    }

    /// Closes the current point's exemplars.
    #[inline]
    fn finish_point(&mut self) {
        self.ends.push(self.len());
    }

    /// Keeps the exemplars of the first `points` points.
    fn truncate_points(&mut self, points: usize) {
        self.ends.truncate(points);
        let keep = self.ends.last().copied().unwrap_or(0);
        self.filtered_attributes.truncate(keep);
        self.time.truncate(keep);
        self.value.truncate(keep);
        self.span_id.truncate(keep);
        self.trace_id.truncate(keep);
    }

    fn byte_len(&self) -> usize {
        self.len() * (8 + 8 + 8 + 16) + self.ends.len() * 8 + self.filtered_attributes.byte_len()
    }
}

/// The columns of a data kind, beyond those every point has.
pub trait PointValues: Default {
    /// The kind's scalar fields of one point, as decoded.
    type Scalars;
    /// Writes one point's row (closing its arrays).
    fn push(&mut self, s: &Self::Scalars);
    fn truncate(&mut self, rows: usize);
    fn byte_len(&self) -> usize;
}

/// The rows of one point table.
#[derive(Clone, Debug, Default)]
pub struct Points<K> {
    /// Row index into [`MetricRows`].
    pub metric: Vec<u32>,
    /// `Attributes`.
    pub attributes: Maps,
    /// `StartTimeUnix`: `start_time_unix_nano` (ns; stored as seconds).
    pub start_time: Vec<u64>,
    /// `TimeUnix`: `time_unix_nano` (ns; stored as seconds).
    pub time: Vec<u64>,
    /// `Flags`.
    pub flags: Vec<u32>,
    /// `Exemplars.*` (the summary table has none: its points have no exemplars).
    pub exemplars: Exemplars,
    /// The kind's own columns.
    pub values: K,
}

/// What every data point has, as decoded.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PointHead {
    pub start_time: u64,
    pub time: u64,
    pub flags: u32,
}

impl<K: PointValues> Points<K> {
    #[inline]
    pub fn len(&self) -> usize {
        self.metric.len()
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.metric.is_empty()
    }

    /// Writes a point's row: its attributes and exemplars (pushed already) are closed.
    #[inline]
    pub fn finish(&mut self, metric: u32, head: &PointHead, values: &K::Scalars) {
        self.attributes.finish_row();
        self.exemplars.finish_point();
        self.metric.push(metric);
        self.start_time.push(head.start_time);
        self.time.push(head.time);
        self.flags.push(head.flags);
        self.values.push(values);
    }

    /// Keeps the first `rows` points (and drops a point being built).
    pub fn truncate(&mut self, rows: usize) {
        self.metric.truncate(rows);
        self.attributes.truncate(rows);
        self.start_time.truncate(rows);
        self.time.truncate(rows);
        self.flags.truncate(rows);
        self.exemplars.truncate_points(rows);
        self.values.truncate(rows);
    }

    fn byte_len(&self) -> usize {
        self.len() * (4 + 8 + 8 + 4)
            + self.attributes.byte_len()
            + self.exemplars.byte_len()
            + self.values.byte_len()
    }
}

/// Gauge and sum points: `Value`.
#[derive(Clone, Debug, Default)]
pub struct Number {
    /// `as_double`, or `as_int` as a double, or 0 when the point has neither.
    pub value: Vec<f64>,
}

impl PointValues for Number {
    type Scalars = f64;

    #[inline]
    fn push(&mut self, value: &f64) {
        self.value.push(*value);
    }

    fn truncate(&mut self, rows: usize) {
        self.value.truncate(rows);
    }

    fn byte_len(&self) -> usize {
        self.value.len() * 8
    }
}

/// Histogram points.
#[derive(Clone, Debug, Default)]
pub struct Histogram {
    pub count: Vec<u64>,
    /// 0 when absent (the column is not nullable), as `min` and `max`.
    pub sum: Vec<f64>,
    pub min: Vec<f64>,
    pub max: Vec<f64>,
    /// `BucketCounts`.
    pub bucket_counts: Lists<u64>,
    /// `ExplicitBounds`.
    pub explicit_bounds: Lists<f64>,
}

/// A histogram point's scalars (its buckets are pushed into the arenas as read).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct HistogramScalars {
    pub count: u64,
    pub sum: f64,
    pub min: f64,
    pub max: f64,
}

impl PointValues for Histogram {
    type Scalars = HistogramScalars;

    #[inline]
    fn push(&mut self, s: &HistogramScalars) {
        self.count.push(s.count);
        self.sum.push(s.sum);
        self.min.push(s.min);
        self.max.push(s.max);
        self.bucket_counts.finish_row();
        self.explicit_bounds.finish_row();
    }

    fn truncate(&mut self, rows: usize) {
        self.count.truncate(rows);
        self.sum.truncate(rows);
        self.min.truncate(rows);
        self.max.truncate(rows);
        self.bucket_counts.truncate(rows);
        self.explicit_bounds.truncate(rows);
    }

    fn byte_len(&self) -> usize {
        self.count.len() * 32 + self.bucket_counts.byte_len() + self.explicit_bounds.byte_len()
    }
}

/// Exponential histogram points.
#[derive(Clone, Debug, Default)]
pub struct ExpHistogram {
    pub count: Vec<u64>,
    /// 0 when absent, as `min` and `max`.
    pub sum: Vec<f64>,
    pub min: Vec<f64>,
    pub max: Vec<f64>,
    pub scale: Vec<i32>,
    pub zero_count: Vec<u64>,
    pub positive_offset: Vec<i32>,
    /// `PositiveBucketCounts`.
    pub positive_counts: Lists<u64>,
    pub negative_offset: Vec<i32>,
    /// `NegativeBucketCounts`.
    pub negative_counts: Lists<u64>,
}

/// An exponential histogram point's scalars (bucket counts go to the arenas as read).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ExpHistogramScalars {
    pub count: u64,
    pub sum: f64,
    pub min: f64,
    pub max: f64,
    pub scale: i32,
    pub zero_count: u64,
    pub positive_offset: i32,
    pub negative_offset: i32,
}

impl PointValues for ExpHistogram {
    type Scalars = ExpHistogramScalars;

    #[inline]
    fn push(&mut self, s: &ExpHistogramScalars) {
        self.count.push(s.count);
        self.sum.push(s.sum);
        self.min.push(s.min);
        self.max.push(s.max);
        self.scale.push(s.scale);
        self.zero_count.push(s.zero_count);
        self.positive_offset.push(s.positive_offset);
        self.negative_offset.push(s.negative_offset);
        self.positive_counts.finish_row();
        self.negative_counts.finish_row();
    }

    fn truncate(&mut self, rows: usize) {
        self.count.truncate(rows);
        self.sum.truncate(rows);
        self.min.truncate(rows);
        self.max.truncate(rows);
        self.scale.truncate(rows);
        self.zero_count.truncate(rows);
        self.positive_offset.truncate(rows);
        self.negative_offset.truncate(rows);
        self.positive_counts.truncate(rows);
        self.negative_counts.truncate(rows);
    }

    fn byte_len(&self) -> usize {
        self.count.len() * 52 + self.positive_counts.byte_len() + self.negative_counts.byte_len()
    }
}

/// Summary points.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    pub count: Vec<u64>,
    pub sum: Vec<f64>,
    /// `ValueAtQuantiles.Quantile` and `.Value`: `[quantile, value]` pairs.
    pub quantiles: Lists<[f64; 2]>,
}

/// A summary point's scalars (its quantiles go to the arena as read).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct SummaryScalars {
    pub count: u64,
    pub sum: f64,
}

impl PointValues for Summary {
    type Scalars = SummaryScalars;

    #[inline]
    fn push(&mut self, s: &SummaryScalars) {
        self.count.push(s.count);
        self.sum.push(s.sum);
        self.quantiles.finish_row();
    }

    fn truncate(&mut self, rows: usize) {
        self.count.truncate(rows);
        self.sum.truncate(rows);
        self.quantiles.truncate(rows);
    }

    fn byte_len(&self) -> usize {
        self.count.len() * 16 + self.quantiles.byte_len()
    }
}

/// One row per OTLP `Metric`: what its points share.
#[derive(Clone, Debug, Default)]
pub struct MetricRows {
    /// `MetricName`.
    pub name: Strings,
    /// `MetricDescription`.
    pub description: Strings,
    /// `MetricUnit`.
    pub unit: Strings,
    /// `AggregationTemporality` of a sum, histogram or exponential histogram (the
    /// enum's number; 0 for the other kinds).
    pub temporality: Vec<i32>,
    /// `IsMonotonic` of a sum (false for the other kinds).
    pub monotonic: Vec<bool>,
    /// Row index into [`Resources`].
    pub resource: Vec<u32>,
    /// Row index into [`Scopes`].
    pub scope: Vec<u32>,
}

impl MetricRows {
    #[inline]
    pub fn len(&self) -> usize {
        self.name.len()
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.name.is_empty()
    }

    fn truncate(&mut self, rows: usize) {
        self.name.truncate(rows);
        self.description.truncate(rows);
        self.unit.truncate(rows);
        self.temporality.truncate(rows);
        self.monotonic.truncate(rows);
        self.resource.truncate(rows);
        self.scope.truncate(rows);
    }

    fn byte_len(&self) -> usize {
        self.len() * 13 + self.name.byte_len() + self.description.byte_len() + self.unit.byte_len()
    }
}

/// Where a batch stood before a request was decoded into it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Mark {
    resources: usize,
    scopes: usize,
    metrics: usize,
    /// Points of each table, in [`MetricsBatch::points`] order.
    pub points: [usize; 5],
}

/// The rows of the five metric tables waiting to be sealed.
#[derive(Clone, Debug, Default)]
pub struct MetricsBatch {
    pub resources: Resources,
    pub scopes: Scopes,
    pub metrics: MetricRows,
    /// `otel_metrics_gauge`.
    pub gauge: Points<Number>,
    /// `otel_metrics_sum`.
    pub sum: Points<Number>,
    /// `otel_metrics_histogram`.
    pub histogram: Points<Histogram>,
    /// `otel_metrics_exponential_histogram`.
    pub exp_histogram: Points<ExpHistogram>,
    /// `otel_metrics_summary`.
    pub summary: Points<Summary>,
}

impl MetricsBatch {
    /// Points per table: gauge, sum, histogram, exponential histogram, summary.
    pub fn points(&self) -> [usize; 5] {
        [
            self.gauge.len(),
            self.sum.len(),
            self.histogram.len(),
            self.exp_histogram.len(),
            self.summary.len(),
        ]
    }

    pub fn mark(&self) -> Mark {
        Mark {
            resources: self.resources.len(),
            scopes: self.scopes.len(),
            metrics: self.metrics.len(),
            points: self.points(),
        }
    }

    /// Drops everything appended since `mark` (a request that failed to decode).
    pub fn rollback(&mut self, mark: Mark) {
        self.resources.truncate(mark.resources);
        self.scopes.truncate(mark.scopes);
        self.metrics.truncate(mark.metrics);
        self.truncate_points(mark.points);
    }

    /// Keeps the first `points[t]` points of each table.
    pub fn truncate_points(&mut self, points: [usize; 5]) {
        self.gauge.truncate(points[0]);
        self.sum.truncate(points[1]);
        self.histogram.truncate(points[2]);
        self.exp_histogram.truncate(points[3]);
        self.summary.truncate(points[4]);
    }

    /// Empties the batch, keeping its buffers' capacity.
    pub fn clear(&mut self) {
        self.rollback(Mark::default());
    }

    /// Points held, all tables.
    pub fn rows(&self) -> usize {
        self.points().iter().sum()
    }

    /// Approximate bytes held, for sealing batches by size.
    pub fn byte_len(&self) -> usize {
        self.resources.byte_len()
            + self.scopes.byte_len()
            + self.metrics.byte_len()
            + self.gauge.byte_len()
            + self.sum.byte_len()
            + self.histogram.byte_len()
            + self.exp_histogram.byte_len()
            + self.summary.byte_len()
    }
}
