//! The reference mapping of the property tests: the rows an
//! `ExportMetricsServiceRequest`, as prost reads it, must add to each table, written
//! from the column table of the `metrics` module doc, not from the decoder's code:
//! one row per data point in the table of its metric's kind; absent `sum`, `min`,
//! `max` as 0; an int value as a double; absent exemplar ids as zeros; a metric row
//! only for a metric with points. `AnyValue`s go through the Go model of
//! [`testgen`](crate::otlp::testgen).

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{InstrumentationScope, KeyValue, any_value::Value};
use opentelemetry_proto::tonic::metrics::v1::{
    Exemplar, ExponentialHistogramDataPoint, HistogramDataPoint, Metric, NumberDataPoint,
    ResourceMetrics, ScopeMetrics, SummaryDataPoint, exemplar, metric::Data, number_data_point,
};
use opentelemetry_proto::tonic::resource::v1::Resource;

use crate::columns::metrics::MetricsBatch;
use crate::otlp::common::SERVICE_NAME;
use crate::otlp::testgen::{Row, Want, go_map, text_cell};

fn float(d: f64) -> Want {
    Want::Float(d)
}

fn num(n: impl Into<i128>) -> Want {
    // Signed numbers as their two's complement in 64 bits, as the decoder's are read.
    Want::Num(n.into() as u64)
}

fn id(id: &[u8], len: usize) -> Want {
    Want::Bytes(if id.is_empty() {
        vec![0; len]
    } else {
        id.to_vec()
    })
}

/// The exporter reads `Get("service.name").Str()`: the first entry with the key,
/// empty unless its value is a string.
fn service_name(r: &Resource) -> &str {
    r.attributes
        .iter()
        .find(|kv| kv.key == SERVICE_NAME)
        .and_then(|kv| match kv.value.as_ref()?.value.as_ref()? {
            Value::StringValue(s) => Some(s.as_str()),
            _ => None,
        })
        .unwrap_or("")
}

/// The columns a point takes from its resource, scope and metric (and the metric
/// row's index, which the reader adds too).
fn want_head(rm: &ResourceMetrics, sm: &ScopeMetrics, m: &Metric, row: usize) -> Row<Want> {
    let default_resource = Resource::default();
    let r = rm.resource.as_ref().unwrap_or(&default_resource);
    let default_scope = InstrumentationScope::default();
    let s = sm.scope.as_ref().unwrap_or(&default_scope);
    let (temporality, monotonic) = match &m.data {
        Some(Data::Sum(s)) => (s.aggregation_temporality, s.is_monotonic),
        Some(Data::Histogram(h)) => (h.aggregation_temporality, false),
        Some(Data::ExponentialHistogram(h)) => (h.aggregation_temporality, false),
        _ => (0, false),
    };
    vec![
        ("ResourceAttributes", go_map(&r.attributes)),
        ("ResourceSchemaUrl", text_cell(&rm.schema_url)),
        ("ServiceName", text_cell(service_name(r))),
        ("ScopeName", text_cell(&s.name)),
        ("ScopeVersion", text_cell(&s.version)),
        ("ScopeAttributes", go_map(&s.attributes)),
        ("ScopeDroppedAttrCount", num(s.dropped_attributes_count)),
        ("ScopeSchemaUrl", text_cell(&sm.schema_url)),
        ("(metric row)", num(row as u64)),
        ("MetricName", text_cell(&m.name)),
        ("MetricDescription", text_cell(&m.description)),
        ("MetricUnit", text_cell(&m.unit)),
        ("AggregationTemporality", num(temporality)),
        ("IsMonotonic", num(monotonic)),
    ]
}

/// The columns every point has, from its fields.
fn want_point(attributes: &[KeyValue], start: u64, time: u64, flags: u32) -> Row<Want> {
    vec![
        ("Attributes", go_map(attributes)),
        ("StartTimeUnix", num(start)),
        ("TimeUnix", num(time)),
        ("Flags", num(flags)),
    ]
}

fn want_exemplars(exemplars: &[Exemplar]) -> Row<Want> {
    let mut row = vec![("(exemplars)", num(exemplars.len() as u64))];
    for e in exemplars {
        let value = match e.value {
            Some(exemplar::Value::AsDouble(d)) => d,
            Some(exemplar::Value::AsInt(i)) => i as f64,
            None => 0.0,
        };
        row.push((
            "Exemplars.FilteredAttributes",
            go_map(&e.filtered_attributes),
        ));
        row.push(("Exemplars.TimeUnix", num(e.time_unix_nano)));
        row.push(("Exemplars.Value", float(value)));
        row.push(("Exemplars.SpanId", id(&e.span_id, 8)));
        row.push(("Exemplars.TraceId", id(&e.trace_id, 16)));
    }
    row
}

fn want_number(p: &NumberDataPoint) -> Row<Want> {
    let mut row = want_point(
        &p.attributes,
        p.start_time_unix_nano,
        p.time_unix_nano,
        p.flags,
    );
    let value = match p.value {
        Some(number_data_point::Value::AsDouble(d)) => d,
        Some(number_data_point::Value::AsInt(i)) => i as f64,
        None => 0.0,
    };
    row.push(("Value", float(value)));
    row.extend(want_exemplars(&p.exemplars));
    row
}

fn want_histogram(p: &HistogramDataPoint) -> Row<Want> {
    let mut row = want_point(
        &p.attributes,
        p.start_time_unix_nano,
        p.time_unix_nano,
        p.flags,
    );
    row.extend([
        ("Count", num(p.count)),
        ("Sum", float(p.sum.unwrap_or(0.0))),
        ("Min", float(p.min.unwrap_or(0.0))),
        ("Max", float(p.max.unwrap_or(0.0))),
        ("BucketCounts", Want::Nums(p.bucket_counts.clone())),
        ("ExplicitBounds", Want::Floats(p.explicit_bounds.clone())),
    ]);
    row.extend(want_exemplars(&p.exemplars));
    row
}

fn want_exp_histogram(p: &ExponentialHistogramDataPoint) -> Row<Want> {
    let mut row = want_point(
        &p.attributes,
        p.start_time_unix_nano,
        p.time_unix_nano,
        p.flags,
    );
    let (positive, negative) = (p.positive.clone(), p.negative.clone());
    let (positive, negative) = (positive.unwrap_or_default(), negative.unwrap_or_default());
    row.extend([
        ("Count", num(p.count)),
        ("Sum", float(p.sum.unwrap_or(0.0))),
        ("Min", float(p.min.unwrap_or(0.0))),
        ("Max", float(p.max.unwrap_or(0.0))),
        ("Scale", num(p.scale)),
        ("ZeroCount", num(p.zero_count)),
        ("PositiveOffset", num(positive.offset)),
        ("PositiveBucketCounts", Want::Nums(positive.bucket_counts)),
        ("NegativeOffset", num(negative.offset)),
        ("NegativeBucketCounts", Want::Nums(negative.bucket_counts)),
    ]);
    row.extend(want_exemplars(&p.exemplars));
    row
}

fn want_summary(p: &SummaryDataPoint) -> Row<Want> {
    let mut row = want_point(
        &p.attributes,
        p.start_time_unix_nano,
        p.time_unix_nano,
        p.flags,
    );
    let q = &p.quantile_values;
    row.extend([
        ("Count", num(p.count)),
        ("Sum", float(p.sum)),
        (
            "ValueAtQuantiles.Quantile",
            Want::Floats(q.iter().map(|q| q.quantile).collect()),
        ),
        (
            "ValueAtQuantiles.Value",
            Want::Floats(q.iter().map(|q| q.value).collect()),
        ),
    ]);
    row
}

/// Where a batch stood before a request: metric rows and points per table.
#[derive(Clone, Copy, Debug)]
pub(super) struct Base {
    pub metrics: usize,
    pub points: [usize; 5],
}

impl Base {
    pub fn of(b: &MetricsBatch) -> Base {
        Base {
            metrics: b.metrics.len(),
            points: b.points(),
        }
    }
}

/// The rows one request must add to a batch at `base`.
#[derive(Debug)]
pub(super) struct Expected {
    pub base: Base,
    /// Per table, in [`MetricsBatch::points`] order.
    pub tables: [Vec<Row<Want>>; 5],
    /// Metric rows (metrics with points).
    pub metrics: usize,
    /// Metrics with no points.
    pub skipped: usize,
}

impl Expected {
    pub fn points(&self) -> [usize; 5] {
        core::array::from_fn(|t| self.tables[t].len())
    }
}

pub(super) fn expected(req: &ExportMetricsServiceRequest, base: Base) -> Expected {
    let mut e = Expected {
        base,
        tables: Default::default(),
        metrics: 0,
        skipped: 0,
    };
    for rm in &req.resource_metrics {
        for sm in &rm.scope_metrics {
            for m in &sm.metrics {
                let (table, rows): (usize, Vec<Row<Want>>) = match &m.data {
                    None => (0, vec![]),
                    Some(Data::Gauge(g)) => (0, g.data_points.iter().map(want_number).collect()),
                    Some(Data::Sum(s)) => (1, s.data_points.iter().map(want_number).collect()),
                    Some(Data::Histogram(h)) => {
                        (2, h.data_points.iter().map(want_histogram).collect())
                    }
                    Some(Data::ExponentialHistogram(h)) => {
                        (3, h.data_points.iter().map(want_exp_histogram).collect())
                    }
                    Some(Data::Summary(s)) => (4, s.data_points.iter().map(want_summary).collect()),
                };
                if rows.is_empty() {
                    e.skipped += 1;
                    continue;
                }
                let metric_row = base.metrics + e.metrics;
                e.metrics += 1;
                for row in rows {
                    let mut full = want_head(rm, sm, m, metric_row);
                    full.extend(row);
                    e.tables[table].push(full);
                }
            }
        }
    }
    e
}
