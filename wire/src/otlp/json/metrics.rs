//! The metrics request's own messages: `Metric` and its data kinds (`Gauge`, `Sum`,
//! `Histogram`, `ExponentialHistogram`, `Summary`), with their data points in
//! `point`; and the field names of `ExportMetricsServiceRequest`, `ResourceMetrics`
//! and `ScopeMetrics` (`request` reads them).
//!
//! Rows are written by `otlp::metrics`' shared writers, as for protobuf: each point
//! when its object closes (into the table of its metric's kind), the metric's own row
//! when the `Metric` closes, after its points (they hold the index it gets). A kind
//! field that follows another kind replaces it, points and all; the same kind again
//! merges ([`MetricRow::set_kind`]).

mod point;

use serde::de::{IgnoredAny, MapAccess};

use crate::otlp::metrics::{Kind, MetricRow};

use super::JsonErrorKind;
use super::any_value::{KeyValues, To};
use super::read::{Ctx, Element, Field, ListSeed, Object, ObjectSeed, fields, set};
use super::request::{Part, Signal};
use super::scalar::{BoolSeed, NumberSeed, TextSeed};
use super::tape::{Mark, Text};

use point::DataPoints;

fields!(RequestField {
    ResourceMetrics = "resourceMetrics" | "resource_metrics",
});
fields!(ResourceMetricsField {
    Resource = "resource",
    ScopeMetrics = "scopeMetrics" | "scope_metrics",
    SchemaUrl = "schemaUrl" | "schema_url",
});
fields!(ScopeMetricsField {
    Scope = "scope",
    Metrics = "metrics",
    SchemaUrl = "schemaUrl" | "schema_url",
});
fields!(MetricField {
    Name = "name",
    Description = "description",
    Unit = "unit",
    Metadata = "metadata",
    Gauge = "gauge",
    Sum = "sum",
    Histogram = "histogram",
    ExponentialHistogram = "exponentialHistogram" | "exponential_histogram",
    Summary = "summary",
});
fields!(DataField {
    DataPoints = "dataPoints" | "data_points",
    AggregationTemporality = "aggregationTemporality" | "aggregation_temporality",
    IsMonotonic = "isMonotonic" | "is_monotonic",
});

/// `ExportMetricsServiceRequest`.
pub(super) struct Metrics;

impl Signal for Metrics {
    type RequestField = RequestField;
    type ResourceField = ResourceMetricsField;
    type ScopeField = ScopeMetricsField;
    type Records = MetricList;
    const REQUEST: &'static str = "an ExportMetricsServiceRequest object";
    const RESOURCE_LIST: &'static str = "an array of ResourceMetrics objects";
    const RESOURCE: &'static str = "a ResourceMetrics object";
    const SCOPE_LIST: &'static str = "an array of ScopeMetrics objects";
    const SCOPE: &'static str = "a ScopeMetrics object";

    fn resource_part(field: ResourceMetricsField) -> Part {
        match field {
            ResourceMetricsField::Resource => Part::Own,
            ResourceMetricsField::ScopeMetrics => Part::Children,
            ResourceMetricsField::SchemaUrl => Part::SchemaUrl,
        }
    }

    fn scope_part(field: ScopeMetricsField) -> Part {
        match field {
            ScopeMetricsField::Scope => Part::Own,
            ScopeMetricsField::Metrics => Part::Children,
            ScopeMetricsField::SchemaUrl => Part::SchemaUrl,
        }
    }

    fn records(resource: usize, scope: usize) -> MetricList {
        MetricList { resource, scope }
    }
}

/// `metrics` of a scope.
pub(super) struct MetricList {
    resource: usize,
    scope: usize,
}

/// A `Metric` being read: its points are written as they close; its own row when it
/// closes, if it has points (else it is counted as skipped).
pub(super) struct MetricObj<'a> {
    mark: Mark,
    /// Kind, temporality, monotonicity, index; its strings are filled in when the
    /// metric closes (they may be on the tape until then).
    row: MetricRow<'static>,
    name: Text<'a>,
    description: Text<'a>,
    unit: Text<'a>,
}

impl<'a> Element<'a> for MetricList {
    type Object = MetricObj<'a>;
    const WHAT: &'static str = "an array of Metric objects";

    fn start(&mut self, ctx: &mut Ctx<'a, '_>) -> MetricObj<'a> {
        MetricObj {
            mark: ctx.tape.mark(),
            row: MetricRow::start(ctx.out.metrics(), self.resource, self.scope),
            name: Text::EMPTY,
            description: Text::EMPTY,
            unit: Text::EMPTY,
        }
    }

    fn finish(&mut self, ctx: &mut Ctx<'a, '_>, m: MetricObj<'a>) -> Result<(), JsonErrorKind> {
        let mut row: MetricRow<'_> = m.row;
        row.name = ctx.tape.text(m.name);
        row.description = ctx.tape.text(m.description);
        row.unit = ctx.tape.text(m.unit);
        let (out, skipped) = ctx.out.metrics_and_skipped();
        if row.finish(out) == 0 {
            *skipped += 1;
        }
        ctx.tape.truncate(m.mark);
        Ok(())
    }
}

impl<'a> Object<'a> for MetricObj<'a> {
    type Field = MetricField;
    const WHAT: &'static str = "a Metric object";

    fn field<A: MapAccess<'a>>(
        &mut self,
        ctx: &mut Ctx<'a, '_>,
        field: MetricField,
        map: &mut A,
    ) -> Result<(), A::Error> {
        match field {
            MetricField::Name => set(&mut self.name, map.next_value_seed(TextSeed(ctx))?),
            MetricField::Description => {
                set(&mut self.description, map.next_value_seed(TextSeed(ctx))?)
            }
            MetricField::Unit => set(&mut self.unit, map.next_value_seed(TextSeed(ctx))?),
            // Read (so a bad one is refused, as protobuf refuses it) and dropped: no
            // column has it.
            MetricField::Metadata => map.next_value_seed(ListSeed {
                ctx,
                each: KeyValues {
                    to: To::Dropped,
                    depth: 0,
                },
            })?,
            MetricField::Gauge => self.data(ctx, map, Kind::Gauge)?,
            MetricField::Sum => self.data(ctx, map, Kind::Sum)?,
            MetricField::Histogram => self.data(ctx, map, Kind::Histogram)?,
            MetricField::ExponentialHistogram => self.data(ctx, map, Kind::ExpHistogram)?,
            MetricField::Summary => self.data(ctx, map, Kind::Summary)?,
        }
        Ok(())
    }
}

impl<'a> MetricObj<'a> {
    /// The data field of `kind`: it replaces another kind read before (a `oneof`), or
    /// merges into the same kind's.
    fn data<A: MapAccess<'a>>(
        &mut self,
        ctx: &mut Ctx<'a, '_>,
        map: &mut A,
        kind: Kind,
    ) -> Result<(), A::Error> {
        self.row.set_kind(kind, ctx.out.metrics());
        let data = Data {
            kind,
            row: self.row,
        };
        self.row = map.next_value_seed(ObjectSeed::new(ctx, data))?.row;
        Ok(())
    }
}

/// A data kind's message (`Gauge`, `Sum`, …) of the metric being read: its points go
/// to the kind's table, its temporality and monotonicity to the metric's row.
struct Data {
    kind: Kind,
    row: MetricRow<'static>,
}

impl<'a> Object<'a> for Data {
    type Field = DataField;
    const WHAT: &'static str = "a Gauge, Sum, Histogram, ExponentialHistogram or Summary object";

    fn field<A: MapAccess<'a>>(
        &mut self,
        ctx: &mut Ctx<'a, '_>,
        field: DataField,
        map: &mut A,
    ) -> Result<(), A::Error> {
        match (field, self.kind) {
            (DataField::DataPoints, kind) => map.next_value_seed(ListSeed {
                ctx,
                each: DataPoints::new(kind, self.row),
            })?,
            (
                DataField::AggregationTemporality,
                Kind::Sum | Kind::Histogram | Kind::ExpHistogram,
            ) => set(
                &mut self.row.temporality,
                map.next_value_seed(NumberSeed::temporality(ctx))?,
            ),
            (DataField::IsMonotonic, Kind::Sum) => {
                set(&mut self.row.monotonic, map.next_value_seed(BoolSeed)?)
            }
            // Not a field of this kind's message: an unknown key, skipped.
            _ => drop(map.next_value::<IgnoredAny>()?),
        }
        Ok(())
    }
}
