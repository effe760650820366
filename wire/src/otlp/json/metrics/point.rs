//! Data points (`NumberDataPoint`, `HistogramDataPoint`,
//! `ExponentialHistogramDataPoint`, `SummaryDataPoint`) and what they hold
//! (`Exemplar`, `ExponentialHistogramDataPoint.Buckets`,
//! `SummaryDataPoint.ValueAtQuantile`).
//!
//! A point's attributes, exemplars, bucket counts, bounds and quantiles go to its
//! kind's table as they are read (into the row being built, as the protobuf reader
//! pushes them); its scalars wait in a [`PointObj`] and its row is written when its
//! object closes. The four point messages are read by one object: a field that is not
//! one of the point's kind's (`asInt` of a histogram point, `exemplars` of a summary
//! point) is an unknown key, skipped.

use serde::de::{IgnoredAny, MapAccess};

use crate::otlp::metrics::{
    Exemplar, ExpHistogramScalars, HistogramScalars, Kind, MetricRow, PointHead, SummaryScalars,
    finish_exemplar,
};

use super::super::JsonErrorKind;
use super::super::any_value::{KeyValues, To};
use super::super::read::{Ctx, Element, Field, ListSeed, Object, ObjectSeed, Out, fields, set};
use super::super::scalar::{IdSeed, NumberSeed};

fields!(PointField {
    Attributes = "attributes",
    StartTime = "startTimeUnixNano" | "start_time_unix_nano",
    Time = "timeUnixNano" | "time_unix_nano",
    Flags = "flags",
    Exemplars = "exemplars",
    AsDouble = "asDouble" | "as_double",
    AsInt = "asInt" | "as_int",
    Count = "count",
    Sum = "sum",
    Min = "min",
    Max = "max",
    BucketCounts = "bucketCounts" | "bucket_counts",
    ExplicitBounds = "explicitBounds" | "explicit_bounds",
    Scale = "scale",
    ZeroCount = "zeroCount" | "zero_count",
    Positive = "positive",
    Negative = "negative",
    ZeroThreshold = "zeroThreshold" | "zero_threshold",
    QuantileValues = "quantileValues" | "quantile_values",
});
fields!(ExemplarField {
    FilteredAttributes = "filteredAttributes" | "filtered_attributes",
    Time = "timeUnixNano" | "time_unix_nano",
    AsDouble = "asDouble" | "as_double",
    AsInt = "asInt" | "as_int",
    SpanId = "spanId" | "span_id",
    TraceId = "traceId" | "trace_id",
});
fields!(BucketsField {
    Offset = "offset",
    BucketCounts = "bucketCounts" | "bucket_counts",
});
fields!(QuantileField {
    Quantile = "quantile",
    Value = "value",
});

/// Whether `field` is a field of `kind`'s point message (`metrics.proto`).
fn has(kind: Kind, field: PointField) -> bool {
    use Kind::{ExpHistogram, Gauge, Histogram, Sum, Summary};
    match field {
        PointField::Attributes | PointField::StartTime | PointField::Time | PointField::Flags => {
            true
        }
        PointField::Exemplars => kind != Summary,
        PointField::AsDouble | PointField::AsInt => matches!(kind, Gauge | Sum),
        PointField::Count | PointField::Sum => matches!(kind, Histogram | ExpHistogram | Summary),
        PointField::Min | PointField::Max => matches!(kind, Histogram | ExpHistogram),
        PointField::BucketCounts | PointField::ExplicitBounds => kind == Histogram,
        PointField::Scale
        | PointField::ZeroCount
        | PointField::Positive
        | PointField::Negative
        | PointField::ZeroThreshold => kind == ExpHistogram,
        PointField::QuantileValues => kind == Summary,
    }
}

/// `dataPoints` of a metric of kind `kind`.
pub(super) struct DataPoints {
    kind: Kind,
    /// The metric the points belong to (they hold its index).
    metric: MetricRow<'static>,
}

impl DataPoints {
    pub fn new(kind: Kind, metric: MetricRow<'static>) -> Self {
        DataPoints { kind, metric }
    }
}

/// A data point being read: its scalars, until it closes.
pub(super) struct PointObj {
    kind: Kind,
    head: PointHead,
    /// A number point's `asDouble`, or `asInt` as a double.
    value: f64,
    /// A histogram's, exponential histogram's or summary's scalars (the exponential
    /// histogram's hold the others').
    s: ExpHistogramScalars,
}

impl<'a> Element<'a> for DataPoints {
    type Object = PointObj;
    const WHAT: &'static str = "an array of data point objects";

    fn start(&mut self, _ctx: &mut Ctx<'a, '_>) -> PointObj {
        PointObj {
            kind: self.kind,
            head: PointHead::default(),
            value: 0.0,
            s: ExpHistogramScalars::default(),
        }
    }

    fn finish(&mut self, ctx: &mut Ctx<'a, '_>, p: PointObj) -> Result<(), JsonErrorKind> {
        let out = ctx.out.metrics();
        let (m, head, s) = (&self.metric, &p.head, &p.s);
        match self.kind {
            Kind::Gauge => out.gauge.finish(m.index, head, &p.value),
            Kind::Sum => out.sum.finish(m.index, head, &p.value),
            Kind::Histogram => {
                let h = HistogramScalars {
                    count: s.count,
                    sum: s.sum,
                    min: s.min,
                    max: s.max,
                };
                out.histogram.finish(m.index, head, &h);
            }
            Kind::ExpHistogram => out.exp_histogram.finish(m.index, head, s),
            Kind::Summary => {
                let q = SummaryScalars {
                    count: s.count,
                    sum: s.sum,
                };
                out.summary.finish(m.index, head, &q);
            }
        }
        Ok(())
    }
}

impl<'a> Object<'a> for PointObj {
    type Field = PointField;
    const WHAT: &'static str = "a data point object";

    fn field<A: MapAccess<'a>>(
        &mut self,
        ctx: &mut Ctx<'a, '_>,
        field: PointField,
        map: &mut A,
    ) -> Result<(), A::Error> {
        if !has(self.kind, field) {
            return map.next_value::<IgnoredAny>().map(drop);
        }
        let s = &mut self.s;
        match field {
            PointField::Attributes => map.next_value_seed(ListSeed {
                ctx,
                each: KeyValues {
                    to: To::Point(self.kind),
                    depth: 0,
                },
            })?,
            PointField::StartTime => set(
                &mut self.head.start_time,
                map.next_value_seed(NumberSeed::u64(ctx))?,
            ),
            PointField::Time => set(
                &mut self.head.time,
                map.next_value_seed(NumberSeed::u64(ctx))?,
            ),
            PointField::Flags => set(
                &mut self.head.flags,
                map.next_value_seed(NumberSeed::u32(ctx))?,
            ),
            PointField::Exemplars => map.next_value_seed(ListSeed {
                ctx,
                each: Exemplars(self.kind),
            })?,
            // The value `oneof`: the last one wins.
            PointField::AsDouble => {
                set(&mut self.value, map.next_value_seed(NumberSeed::f64(ctx))?)
            }
            PointField::AsInt => set(
                &mut self.value,
                map.next_value_seed(NumberSeed::i64(ctx))?.map(|v| v as f64),
            ),
            PointField::Count => set(&mut s.count, map.next_value_seed(NumberSeed::u64(ctx))?),
            PointField::Sum => set(&mut s.sum, map.next_value_seed(NumberSeed::f64(ctx))?),
            PointField::Min => set(&mut s.min, map.next_value_seed(NumberSeed::f64(ctx))?),
            PointField::Max => set(&mut s.max, map.next_value_seed(NumberSeed::f64(ctx))?),
            PointField::BucketCounts => map.next_value_seed(
                NumberSeed::u64(ctx)
                    .each(|out, v| out.metrics().histogram.values.bucket_counts.push(v)),
            )?,
            PointField::ExplicitBounds => map.next_value_seed(
                NumberSeed::f64(ctx)
                    .each(|out, v| out.metrics().histogram.values.explicit_bounds.push(v)),
            )?,
            PointField::Scale => set(&mut s.scale, map.next_value_seed(NumberSeed::i32(ctx))?),
            PointField::ZeroCount => set(
                &mut s.zero_count,
                map.next_value_seed(NumberSeed::u64(ctx))?,
            ),
            // A `Buckets` message that occurs twice is merged: the offset is the last
            // one, the counts add up.
            PointField::Positive => {
                let b = Buckets {
                    positive: true,
                    offset: s.positive_offset,
                };
                s.positive_offset = map.next_value_seed(ObjectSeed::new(ctx, b))?.offset;
            }
            PointField::Negative => {
                let b = Buckets {
                    positive: false,
                    offset: s.negative_offset,
                };
                s.negative_offset = map.next_value_seed(ObjectSeed::new(ctx, b))?.offset;
            }
            // Read (so a bad one is refused) and dropped: no column has it.
            PointField::ZeroThreshold => drop(map.next_value_seed(NumberSeed::f64(ctx))?),
            PointField::QuantileValues => map.next_value_seed(ListSeed {
                ctx,
                each: Quantiles,
            })?,
        }
        Ok(())
    }
}

/// `positive` / `negative` of an exponential histogram point: its offset, and its
/// counts (pushed to the point's as they are read).
struct Buckets {
    positive: bool,
    offset: i32,
}

impl<'a> Object<'a> for Buckets {
    type Field = BucketsField;
    const WHAT: &'static str = "a Buckets object";

    fn field<A: MapAccess<'a>>(
        &mut self,
        ctx: &mut Ctx<'a, '_>,
        field: BucketsField,
        map: &mut A,
    ) -> Result<(), A::Error> {
        match field {
            BucketsField::Offset => {
                set(&mut self.offset, map.next_value_seed(NumberSeed::i32(ctx))?)
            }
            BucketsField::BucketCounts => {
                let push: fn(&mut Out<'_>, u64) = if self.positive {
                    |out, v| out.metrics().exp_histogram.values.positive_counts.push(v)
                } else {
                    |out, v| out.metrics().exp_histogram.values.negative_counts.push(v)
                };
                map.next_value_seed(NumberSeed::u64(ctx).each(push))?;
            }
        }
        Ok(())
    }
}

/// `exemplars` of a point of kind `.0`.
struct Exemplars(Kind);

/// An `Exemplar` of a point of kind `kind` being read: its filtered attributes are
/// pushed as they close, its row written when it closes.
struct ExemplarObj {
    kind: Kind,
    e: Exemplar,
}

impl<'a> Element<'a> for Exemplars {
    type Object = ExemplarObj;
    const WHAT: &'static str = "an array of Exemplar objects";

    fn start(&mut self, _ctx: &mut Ctx<'a, '_>) -> ExemplarObj {
        ExemplarObj {
            kind: self.0,
            e: Exemplar::default(),
        }
    }

    fn finish(&mut self, ctx: &mut Ctx<'a, '_>, e: ExemplarObj) -> Result<(), JsonErrorKind> {
        finish_exemplar(self.0.exemplars(ctx.out.metrics()), &e.e);
        Ok(())
    }
}

impl<'a> Object<'a> for ExemplarObj {
    type Field = ExemplarField;
    const WHAT: &'static str = "an Exemplar object";

    fn field<A: MapAccess<'a>>(
        &mut self,
        ctx: &mut Ctx<'a, '_>,
        field: ExemplarField,
        map: &mut A,
    ) -> Result<(), A::Error> {
        let e = &mut self.e;
        match field {
            ExemplarField::FilteredAttributes => map.next_value_seed(ListSeed {
                ctx,
                each: KeyValues {
                    to: To::Exemplar(self.kind),
                    depth: 0,
                },
            })?,
            ExemplarField::Time => set(&mut e.time, map.next_value_seed(NumberSeed::u64(ctx))?),
            ExemplarField::AsDouble => {
                set(&mut e.value, map.next_value_seed(NumberSeed::f64(ctx))?)
            }
            ExemplarField::AsInt => set(
                &mut e.value,
                map.next_value_seed(NumberSeed::i64(ctx))?.map(|v| v as f64),
            ),
            ExemplarField::SpanId => set(&mut e.span_id, map.next_value_seed(IdSeed(ctx))?),
            ExemplarField::TraceId => set(&mut e.trace_id, map.next_value_seed(IdSeed(ctx))?),
        }
        Ok(())
    }
}

/// `quantileValues` of a summary point.
struct Quantiles;

/// A `ValueAtQuantile`: `[quantile, value]`.
#[derive(Clone, Copy)]
struct Quantile([f64; 2]);

impl<'a> Element<'a> for Quantiles {
    type Object = Quantile;
    const WHAT: &'static str = "an array of ValueAtQuantile objects";

    fn start(&mut self, _ctx: &mut Ctx<'a, '_>) -> Quantile {
        Quantile([0.0; 2])
    }

    fn finish(&mut self, ctx: &mut Ctx<'a, '_>, q: Quantile) -> Result<(), JsonErrorKind> {
        ctx.out.metrics().summary.values.quantiles.push(q.0);
        Ok(())
    }
}

impl<'a> Object<'a> for Quantile {
    type Field = QuantileField;
    const WHAT: &'static str = "a ValueAtQuantile object";

    fn field<A: MapAccess<'a>>(
        &mut self,
        ctx: &mut Ctx<'a, '_>,
        field: QuantileField,
        map: &mut A,
    ) -> Result<(), A::Error> {
        let at = match field {
            QuantileField::Quantile => 0,
            QuantileField::Value => 1,
        };
        set(&mut self.0[at], map.next_value_seed(NumberSeed::f64(ctx))?);
        Ok(())
    }
}
