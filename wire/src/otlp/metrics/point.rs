//! Rows from decoded metrics: the part of metrics decoding that protobuf and OTLP/JSON
//! share.
//!
//! A format reads a data point's fields into a [`PointHead`] and the kind's scalars
//! (`f64` for gauge and sum, [`HistogramScalars`], …), pushes its attributes
//! ([`attribute`]), exemplars ([`exemplar_attribute`] + [`finish_exemplar`]) and array
//! items (bucket counts, bounds, quantiles) as it meets them, and writes the row with
//! [`Points::finish`](crate::columns::metrics::Points::finish). The metric's own row ([`MetricRow`]) is written when the
//! `Metric` closes, after its points, which hold the index it gets.
//!
//! # Invariants
//!
//! - A point's exemplars are finished before the point is.
//! - On error, rows may be half written; the caller rolls the batch back to the mark
//!   it took before the request ([`MetricsBatch::rollback`]).

use crate::columns::Maps;
use crate::columns::metrics::{Exemplars, MetricRows, MetricsBatch};
use crate::otlp::value::ValueView;

pub(crate) use crate::columns::metrics::{
    ExpHistogramScalars, HistogramScalars, PointHead, SummaryScalars,
};

/// The data kinds, in the order of [`MetricsBatch::points`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Gauge,
    Sum,
    Histogram,
    ExpHistogram,
    Summary,
}

impl Kind {
    pub const fn index(self) -> usize {
        self as usize
    }

    /// The point attributes (`Attributes`) of this kind's table, for a reader that
    /// picks the table at run time (OTLP/JSON's `KeyValue` lists).
    pub fn attributes(self, out: &mut MetricsBatch) -> &mut Maps {
        match self {
            Kind::Gauge => &mut out.gauge.attributes,
            Kind::Sum => &mut out.sum.attributes,
            Kind::Histogram => &mut out.histogram.attributes,
            Kind::ExpHistogram => &mut out.exp_histogram.attributes,
            Kind::Summary => &mut out.summary.attributes,
        }
    }

    /// The exemplars of this kind's table (as [`attributes`](Self::attributes)).
    pub fn exemplars(self, out: &mut MetricsBatch) -> &mut Exemplars {
        match self {
            Kind::Gauge => &mut out.gauge.exemplars,
            Kind::Sum => &mut out.sum.exemplars,
            Kind::Histogram => &mut out.histogram.exemplars,
            Kind::ExpHistogram => &mut out.exp_histogram.exemplars,
            Kind::Summary => &mut out.summary.exemplars,
        }
    }
}

/// A data point or exemplar attribute: into the row being built of `out`.
#[inline]
pub(crate) fn attribute<'v, V: ValueView<'v>>(
    out: &mut Maps,
    key: &str,
    value: &V,
) -> Result<(), V::Error> {
    out.push_entry_with(key.as_bytes(), |b| value.write_as_string(b))
}

/// The scalar fields of one `Exemplar`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct Exemplar {
    pub time: u64,
    /// `as_double`, or `as_int` as a double; 0 when neither.
    pub value: f64,
    /// All zero when absent.
    pub span_id: [u8; 8],
    /// All zero when absent.
    pub trace_id: [u8; 16],
}

/// An exemplar's filtered attribute: into the exemplar being read.
#[inline]
pub(crate) fn exemplar_attribute<'v, V: ValueView<'v>>(
    out: &mut Exemplars,
    key: &str,
    value: &V,
) -> Result<(), V::Error> {
    attribute(&mut out.filtered_attributes, key, value)
}

/// Writes an exemplar's row, closing its filtered attributes.
#[inline]
pub(crate) fn finish_exemplar(out: &mut Exemplars, e: &Exemplar) {
    out.filtered_attributes.finish_row();
    out.time.push(e.time);
    out.value.push(e.value);
    out.span_id.push(e.span_id);
    out.trace_id.push(e.trace_id);
}

/// The fields of one `Metric` that its points share, while it is read.
#[derive(Clone, Copy, Debug)]
pub(crate) struct MetricRow<'v> {
    /// The row's index in the batch's metrics (its points point at it).
    pub index: u32,
    pub name: &'v str,
    pub description: &'v str,
    pub unit: &'v str,
    /// The data kind read last (a later kind replaces an earlier one, as in a
    /// protobuf `oneof`); `None` until one is read.
    pub kind: Option<Kind>,
    pub temporality: i32,
    pub monotonic: bool,
    /// Points each table held when the metric started (to drop a replaced kind's).
    pub start: [usize; 5],
    resource: u32,
    scope: u32,
}

impl<'v> MetricRow<'v> {
    /// The next metric row of `out`, under `resource` and `scope`.
    pub fn start(out: &MetricsBatch, resource: usize, scope: usize) -> Self {
        MetricRow {
            index: index_u32(out.metrics.len()),
            name: "",
            description: "",
            unit: "",
            kind: None,
            temporality: 0,
            monotonic: false,
            start: out.points(),
            resource: index_u32(resource),
            scope: index_u32(scope),
        }
    }

    /// A data field of kind `kind` begins: when it replaces another kind, that kind's
    /// points are dropped and its temporality and monotonicity forgotten. (The same
    /// kind again merges: its points add up, its scalars are overwritten.)
    pub fn set_kind(&mut self, kind: Kind, out: &mut MetricsBatch) {
        if let Some(prev) = self.kind.filter(|&k| k != kind) {
            let mut keep = out.points();
            keep[prev.index()] = self.start[prev.index()];
            out.truncate_points(keep);
            self.temporality = 0;
            self.monotonic = false;
        }
        self.kind = Some(kind);
    }

    /// Points this metric wrote so far.
    pub fn points(&self, out: &MetricsBatch) -> usize {
        self.kind
            .map_or(0, |k| out.points()[k.index()] - self.start[k.index()])
    }

    /// Closes the metric: writes its row when it has points; returns their count
    /// (0: the metric is skipped, it has no data points or no known data kind).
    pub fn finish(&self, out: &mut MetricsBatch) -> usize {
        let points = self.points(out);
        if points > 0 {
            let m: &mut MetricRows = &mut out.metrics;
            m.name.push(self.name.as_bytes());
            m.description.push(self.description.as_bytes());
            m.unit.push(self.unit.as_bytes());
            m.temporality.push(self.temporality);
            m.monotonic.push(self.monotonic);
            m.resource.push(self.resource);
            m.scope.push(self.scope);
        }
        points
    }
}

/// A row index as the `u32` the metric columns keep: a batch holds far fewer rows
/// than that (it seals at its row and byte bounds long before).
#[inline]
fn index_u32(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}
