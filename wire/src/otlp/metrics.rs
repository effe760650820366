//! `ExportMetricsServiceRequest` protobuf → the five `otel_metrics_*` tables' columns.
//!
//! # Request lifecycle
//!
//! [`decode_metrics`] walks the request once, as the logs and traces decoders do:
//! resource and scope rows once per `ResourceMetrics` / `ScopeMetrics` (the shared
//! readers of `otlp::common`), then each `Metric`'s data points straight into the
//! table of its kind, attributes, exemplars and bucket arrays into their arenas as
//! they are read. A metric's name, description and unit are kept once, in its metric
//! row, which is written when the `Metric` ends (its points hold its index). On any
//! error the batch is rolled back to where it stood. The rows are written by
//! `metrics/point.rs`, which the OTLP/JSON reader shares.
//!
//! # Columns
//!
//! Every table: `ResourceAttributes`, `ResourceSchemaUrl`, `ServiceName` (the resource);
//! `ScopeName`, `ScopeVersion`, `ScopeAttributes`, `ScopeDroppedAttrCount`,
//! `ScopeSchemaUrl` (the scope); `MetricName`, `MetricDescription`, `MetricUnit` (the
//! `Metric`; its `metadata` is read and not stored: no column has it); and per point:
//!
//! | column | OTLP field | notes |
//! |---|---|---|
//! | `Attributes` | `attributes` | stringified like the other signals |
//! | `StartTimeUnix`, `TimeUnix` | `start_time_unix_nano`, `time_unix_nano` | `DateTime`: whole seconds |
//! | `Flags` | `flags` | |
//! | `Value` (gauge, sum) | `as_double` / `as_int` | an int as a double; 0 when neither |
//! | `AggregationTemporality` | `Sum` / `Histogram` / `ExponentialHistogram` | the enum's number |
//! | `IsMonotonic` (sum) | `Sum.is_monotonic` | |
//! | `Count`, `Sum`, `Min`, `Max` | the point's | absent `sum`, `min`, `max` → 0 |
//! | `BucketCounts`, `ExplicitBounds` (histogram) | | packed or not |
//! | `Scale`, `ZeroCount`, `PositiveOffset`, `PositiveBucketCounts`, `NegativeOffset`, `NegativeBucketCounts` (exponential) | | `zero_threshold` is not stored |
//! | `ValueAtQuantiles.Quantile`, `.Value` (summary) | `quantile_values` | |
//! | `Exemplars.FilteredAttributes`, `.TimeUnix`, `.Value`, `.SpanId`, `.TraceId` (not summary) | `exemplars` | ids in hex; absent ids as 16 / 32 zeros, like the exporter |
//!
//! # Protobuf semantics
//!
//! As for logs and traces: fields in any order, unknown fields skipped (the
//! deprecated `labels` of number points among them), the last occurrence of a
//! singular field wins, a message that occurs twice is merged (a `Sum` twice: its
//! points add up, its temporality is the last one). The data kind is a `oneof`: a
//! later kind replaces an earlier one, points and all, as prost does. Repeated
//! numbers are read packed or unpacked. A known field with the wrong wire type, an id
//! of the wrong length, invalid UTF-8 are errors.
//!
//! A metric without data points, or with no data kind sluice knows (a newer OTLP's),
//! writes no row and is counted in [`MetricsDecoded::skipped`]; it is not an error.

mod point;

pub(crate) use point::{
    Exemplar, ExpHistogramScalars, HistogramScalars, Kind, MetricRow, PointHead, SummaryScalars,
    attribute, exemplar_attribute, finish_exemplar,
};

use crate::columns::metrics::{Exemplars, Lists, MetricsBatch};
use crate::proto::{DecodeError, Reader, WireType};

use super::common::{fixed_id, read_resource, read_scope};
use super::value::{PbValue, parse_key_value};

/// What one request added.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MetricsDecoded {
    /// Points added to each table: gauge, sum, histogram, exponential histogram,
    /// summary (the order of [`MetricsBatch::points`]).
    pub points: [usize; 5],
    /// Metrics that wrote no row: no data points, or no data kind sluice knows.
    pub skipped: usize,
}

impl MetricsDecoded {
    /// Points added, all tables.
    pub fn total(&self) -> usize {
        self.points.iter().sum()
    }
}

/// Decodes one `ExportMetricsServiceRequest` into `out`; on error `out` is unchanged.
pub fn decode_metrics(
    request: &[u8],
    out: &mut MetricsBatch,
) -> Result<MetricsDecoded, DecodeError> {
    let mark = out.mark();
    let mut skipped = 0;
    match self::request(Reader::new(request), out, &mut skipped) {
        Ok(()) => Ok(MetricsDecoded {
            points: core::array::from_fn(|t| out.points()[t] - mark.points[t]),
            skipped,
        }),
        Err(e) => {
            out.rollback(mark);
            Err(e)
        }
    }
}

fn request(
    mut r: Reader<'_>,
    out: &mut MetricsBatch,
    skipped: &mut usize,
) -> Result<(), DecodeError> {
    while let Some((field, wire)) = r.field()? {
        match (field, wire) {
            (1, WireType::Len) => resource_metrics(r.message()?, out, skipped)?,
            (1, w) => return Err(r.wrong_type(field, w)),
            (_, w) => r.skip(w)?,
        }
    }
    Ok(())
}

/// `ResourceMetrics`: the resource first (wherever it is), then its scopes.
fn resource_metrics(
    rm: Reader<'_>,
    out: &mut MetricsBatch,
    skipped: &mut usize,
) -> Result<(), DecodeError> {
    let resource = read_resource(rm, &mut out.resources)?;
    let mut r = rm;
    while let Some((field, wire)) = r.field()? {
        match field {
            2 => scope_metrics(r.message()?, resource, out, skipped)?,
            _ => r.skip(wire)?,
        }
    }
    Ok(())
}

/// `ScopeMetrics`: the scope first (wherever it is), then its metrics.
fn scope_metrics(
    sm: Reader<'_>,
    resource: usize,
    out: &mut MetricsBatch,
    skipped: &mut usize,
) -> Result<(), DecodeError> {
    let scope = read_scope(sm, &mut out.scopes)?;
    let mut r = sm;
    while let Some((field, wire)) = r.field()? {
        match field {
            2 => {
                let m = metric(r.message()?, MetricRow::start(out, resource, scope), out)?;
                if m == 0 {
                    *skipped += 1;
                }
            }
            _ => r.skip(wire)?,
        }
    }
    Ok(())
}

/// One `Metric`: its points go to the table of its kind as they are read; its row is
/// written at its end. Returns the points it wrote.
fn metric<'a>(
    mut r: Reader<'a>,
    mut m: MetricRow<'a>,
    out: &mut MetricsBatch,
) -> Result<usize, DecodeError> {
    while let Some((field, wire)) = r.field()? {
        match (field, wire) {
            (1, WireType::Len) => m.name = r.str(1)?,
            (2, WireType::Len) => m.description = r.str(2)?,
            (3, WireType::Len) => m.unit = r.str(3)?,
            (5, WireType::Len) => {
                m.set_kind(Kind::Gauge, out);
                gauge(r.message()?, &m, out)?;
            }
            (7, WireType::Len) => {
                m.set_kind(Kind::Sum, out);
                sum(r.message()?, &mut m, out)?;
            }
            (9, WireType::Len) => {
                m.set_kind(Kind::Histogram, out);
                histogram(r.message()?, &mut m, out)?;
            }
            (10, WireType::Len) => {
                m.set_kind(Kind::ExpHistogram, out);
                exp_histogram(r.message()?, &mut m, out)?;
            }
            (11, WireType::Len) => {
                m.set_kind(Kind::Summary, out);
                summary(r.message()?, &m, out)?;
            }
            // `metadata`: checked, not stored (no column has it).
            (12, WireType::Len) => drop(parse_key_value(r.message()?)?),
            (1..=3 | 5 | 7 | 9..=12, w) => return Err(r.wrong_type(field, w)),
            (_, w) => r.skip(w)?,
        }
    }
    Ok(m.finish(out))
}

/// `Gauge`.
fn gauge(mut r: Reader<'_>, m: &MetricRow<'_>, out: &mut MetricsBatch) -> Result<(), DecodeError> {
    while let Some((field, wire)) = r.field()? {
        match (field, wire) {
            (1, WireType::Len) => number_point(r.message()?, m, &mut out.gauge)?,
            (1, w) => return Err(r.wrong_type(field, w)),
            (_, w) => r.skip(w)?,
        }
    }
    Ok(())
}

/// `Sum`.
fn sum<'a>(
    mut r: Reader<'a>,
    m: &mut MetricRow<'a>,
    out: &mut MetricsBatch,
) -> Result<(), DecodeError> {
    while let Some((field, wire)) = r.field()? {
        match (field, wire) {
            (1, WireType::Len) => number_point(r.message()?, m, &mut out.sum)?,
            // An enum is an int32 on the wire, sign-extended to 64 bits.
            (2, WireType::Varint) => m.temporality = r.varint()? as i32,
            (3, WireType::Varint) => m.monotonic = r.varint()? != 0,
            (1..=3, w) => return Err(r.wrong_type(field, w)),
            (_, w) => r.skip(w)?,
        }
    }
    Ok(())
}

/// `Histogram`.
fn histogram<'a>(
    mut r: Reader<'a>,
    m: &mut MetricRow<'a>,
    out: &mut MetricsBatch,
) -> Result<(), DecodeError> {
    while let Some((field, wire)) = r.field()? {
        match (field, wire) {
            (1, WireType::Len) => histogram_point(r.message()?, m, out)?,
            (2, WireType::Varint) => m.temporality = r.varint()? as i32,
            (1 | 2, w) => return Err(r.wrong_type(field, w)),
            (_, w) => r.skip(w)?,
        }
    }
    Ok(())
}

/// `ExponentialHistogram`.
fn exp_histogram<'a>(
    mut r: Reader<'a>,
    m: &mut MetricRow<'a>,
    out: &mut MetricsBatch,
) -> Result<(), DecodeError> {
    while let Some((field, wire)) = r.field()? {
        match (field, wire) {
            (1, WireType::Len) => exp_histogram_point(r.message()?, m, out)?,
            (2, WireType::Varint) => m.temporality = r.varint()? as i32,
            (1 | 2, w) => return Err(r.wrong_type(field, w)),
            (_, w) => r.skip(w)?,
        }
    }
    Ok(())
}

/// `Summary`.
fn summary(
    mut r: Reader<'_>,
    m: &MetricRow<'_>,
    out: &mut MetricsBatch,
) -> Result<(), DecodeError> {
    while let Some((field, wire)) = r.field()? {
        match (field, wire) {
            (1, WireType::Len) => summary_point(r.message()?, m, out)?,
            (1, w) => return Err(r.wrong_type(field, w)),
            (_, w) => r.skip(w)?,
        }
    }
    Ok(())
}

/// `NumberDataPoint`, into the gauge or the sum table.
fn number_point(
    mut r: Reader<'_>,
    m: &MetricRow<'_>,
    points: &mut crate::columns::metrics::Points<crate::columns::metrics::Number>,
) -> Result<(), DecodeError> {
    let mut head = PointHead::default();
    let mut value = 0.0;
    while let Some((field, wire)) = r.field()? {
        match (field, wire) {
            (7, WireType::Len) => {
                let (key, v) = parse_key_value(r.message()?)?;
                attribute(&mut points.attributes, key, &v)?;
            }
            (2, WireType::Fixed64) => head.start_time = r.fixed64()?,
            (3, WireType::Fixed64) => head.time = r.fixed64()?,
            (4, WireType::Fixed64) => value = f64::from_bits(r.fixed64()?),
            (6, WireType::Fixed64) => value = r.fixed64()? as i64 as f64,
            (5, WireType::Len) => exemplar(r.message()?, &mut points.exemplars)?,
            (8, WireType::Varint) => head.flags = r.varint()? as u32,
            (2..=8, w) => return Err(r.wrong_type(field, w)),
            (_, w) => r.skip(w)?,
        }
    }
    points.finish(m.index, &head, &value);
    Ok(())
}

/// `HistogramDataPoint`.
fn histogram_point(
    mut r: Reader<'_>,
    m: &MetricRow<'_>,
    out: &mut MetricsBatch,
) -> Result<(), DecodeError> {
    let points = &mut out.histogram;
    let mut head = PointHead::default();
    let mut s = HistogramScalars::default();
    while let Some((field, wire)) = r.field()? {
        match (field, wire) {
            (9, WireType::Len) => {
                let (key, v) = parse_key_value(r.message()?)?;
                attribute(&mut points.attributes, key, &v)?;
            }
            (2, WireType::Fixed64) => head.start_time = r.fixed64()?,
            (3, WireType::Fixed64) => head.time = r.fixed64()?,
            (4, WireType::Fixed64) => s.count = r.fixed64()?,
            (5, WireType::Fixed64) => s.sum = f64::from_bits(r.fixed64()?),
            (6, WireType::Len) => packed_fixed64(&mut r, &mut points.values.bucket_counts, |v| v)?,
            (6, WireType::Fixed64) => points.values.bucket_counts.push(r.fixed64()?),
            (7, WireType::Len) => {
                packed_fixed64(&mut r, &mut points.values.explicit_bounds, f64::from_bits)?;
            }
            (7, WireType::Fixed64) => {
                let bound = f64::from_bits(r.fixed64()?);
                points.values.explicit_bounds.push(bound);
            }
            (8, WireType::Len) => exemplar(r.message()?, &mut points.exemplars)?,
            (10, WireType::Varint) => head.flags = r.varint()? as u32,
            (11, WireType::Fixed64) => s.min = f64::from_bits(r.fixed64()?),
            (12, WireType::Fixed64) => s.max = f64::from_bits(r.fixed64()?),
            (2..=12, w) => return Err(r.wrong_type(field, w)),
            (_, w) => r.skip(w)?,
        }
    }
    points.finish(m.index, &head, &s);
    Ok(())
}

/// `ExponentialHistogramDataPoint`.
fn exp_histogram_point(
    mut r: Reader<'_>,
    m: &MetricRow<'_>,
    out: &mut MetricsBatch,
) -> Result<(), DecodeError> {
    let points = &mut out.exp_histogram;
    let mut head = PointHead::default();
    let mut s = ExpHistogramScalars::default();
    while let Some((field, wire)) = r.field()? {
        match (field, wire) {
            (1, WireType::Len) => {
                let (key, v) = parse_key_value(r.message()?)?;
                attribute(&mut points.attributes, key, &v)?;
            }
            (2, WireType::Fixed64) => head.start_time = r.fixed64()?,
            (3, WireType::Fixed64) => head.time = r.fixed64()?,
            (4, WireType::Fixed64) => s.count = r.fixed64()?,
            (5, WireType::Fixed64) => s.sum = f64::from_bits(r.fixed64()?),
            (6, WireType::Varint) => s.scale = zigzag32(r.varint()?),
            (7, WireType::Fixed64) => s.zero_count = r.fixed64()?,
            (8, WireType::Len) => {
                let counts = &mut points.values.positive_counts;
                buckets(r.message()?, &mut s.positive_offset, counts)?;
            }
            (9, WireType::Len) => {
                let counts = &mut points.values.negative_counts;
                buckets(r.message()?, &mut s.negative_offset, counts)?;
            }
            (10, WireType::Varint) => head.flags = r.varint()? as u32,
            (11, WireType::Len) => exemplar(r.message()?, &mut points.exemplars)?,
            (12, WireType::Fixed64) => s.min = f64::from_bits(r.fixed64()?),
            (13, WireType::Fixed64) => s.max = f64::from_bits(r.fixed64()?),
            // `zero_threshold`: no column has it.
            (14, WireType::Fixed64) => drop(r.fixed64()?),
            (1..=14, w) => return Err(r.wrong_type(field, w)),
            (_, w) => r.skip(w)?,
        }
    }
    points.finish(m.index, &head, &s);
    Ok(())
}

/// `ExponentialHistogramDataPoint.Buckets`: the offset (last wins) and the counts
/// (appended to the point's).
fn buckets(
    mut r: Reader<'_>,
    offset: &mut i32,
    counts: &mut Lists<u64>,
) -> Result<(), DecodeError> {
    while let Some((field, wire)) = r.field()? {
        match (field, wire) {
            (1, WireType::Varint) => *offset = zigzag32(r.varint()?),
            (2, WireType::Len) => {
                let mut packed = r.message()?;
                while !packed.is_empty() {
                    counts.push(packed.varint()?);
                }
            }
            (2, WireType::Varint) => counts.push(r.varint()?),
            (1 | 2, w) => return Err(r.wrong_type(field, w)),
            (_, w) => r.skip(w)?,
        }
    }
    Ok(())
}

/// `SummaryDataPoint`.
fn summary_point(
    mut r: Reader<'_>,
    m: &MetricRow<'_>,
    out: &mut MetricsBatch,
) -> Result<(), DecodeError> {
    let points = &mut out.summary;
    let mut head = PointHead::default();
    let mut s = SummaryScalars::default();
    while let Some((field, wire)) = r.field()? {
        match (field, wire) {
            (7, WireType::Len) => {
                let (key, v) = parse_key_value(r.message()?)?;
                attribute(&mut points.attributes, key, &v)?;
            }
            (2, WireType::Fixed64) => head.start_time = r.fixed64()?,
            (3, WireType::Fixed64) => head.time = r.fixed64()?,
            (4, WireType::Fixed64) => s.count = r.fixed64()?,
            (5, WireType::Fixed64) => s.sum = f64::from_bits(r.fixed64()?),
            (6, WireType::Len) => {
                let q = quantile(r.message()?)?;
                points.values.quantiles.push(q);
            }
            (8, WireType::Varint) => head.flags = r.varint()? as u32,
            (2..=8, w) => return Err(r.wrong_type(field, w)),
            (_, w) => r.skip(w)?,
        }
    }
    points.finish(m.index, &head, &s);
    Ok(())
}

/// `SummaryDataPoint.ValueAtQuantile`: `[quantile, value]`.
fn quantile(mut r: Reader<'_>) -> Result<[f64; 2], DecodeError> {
    let mut q = [0.0; 2];
    while let Some((field, wire)) = r.field()? {
        match (field, wire) {
            (1, WireType::Fixed64) => q[0] = f64::from_bits(r.fixed64()?),
            (2, WireType::Fixed64) => q[1] = f64::from_bits(r.fixed64()?),
            (1 | 2, w) => return Err(r.wrong_type(field, w)),
            (_, w) => r.skip(w)?,
        }
    }
    Ok(q)
}

/// `Exemplar`.
fn exemplar(mut r: Reader<'_>, out: &mut Exemplars) -> Result<(), DecodeError> {
    let mut e = Exemplar::default();
    while let Some((field, wire)) = r.field()? {
        match (field, wire) {
            (7, WireType::Len) => {
                let (key, v): (&str, PbValue<'_>) = parse_key_value(r.message()?)?;
                exemplar_attribute(out, key, &v)?;
            }
            (2, WireType::Fixed64) => e.time = r.fixed64()?,
            (3, WireType::Fixed64) => e.value = f64::from_bits(r.fixed64()?),
            (6, WireType::Fixed64) => e.value = r.fixed64()? as i64 as f64,
            (4, WireType::Len) => e.span_id = fixed_id(&mut r, 4)?,
            (5, WireType::Len) => e.trace_id = fixed_id(&mut r, 5)?,
            (2..=7, w) => return Err(r.wrong_type(field, w)),
            (_, w) => r.skip(w)?,
        }
    }
    finish_exemplar(out, &e);
    Ok(())
}

/// A packed run of 64-bit fixed-width numbers, each mapped by `item`, into the row
/// being built of `out`. A run whose length is not a multiple of 8 is truncated input.
#[inline]
fn packed_fixed64<T: Copy>(
    r: &mut Reader<'_>,
    out: &mut Lists<T>,
    item: impl Fn(u64) -> T,
) -> Result<(), DecodeError> {
    let mut packed = r.message()?;
    while !packed.is_empty() {
        out.push(item(packed.fixed64()?));
    }
    Ok(())
}

/// A `sint32`: the zigzag-encoded low 32 bits of the varint.
#[inline]
fn zigzag32(v: u64) -> i32 {
    let v = v as u32;
    ((v >> 1) as i32) ^ -((v & 1) as i32)
}

#[cfg(test)]
mod tests;
