//! `ExportMetricsServiceRequest` → the rows of the five `otel_metrics_*` tables, from
//! the column table of the `metrics` module doc: one row per data point in the table
//! of its metric's kind; absent `sum`, `min`, `max` as 0; an int value as a double;
//! absent exemplar ids as zeros; a metric row only for a metric with points.

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::metrics::v1::{
    Exemplar, ExponentialHistogramDataPoint, HistogramDataPoint, Metric, NumberDataPoint,
    ResourceMetrics, ScopeMetrics, SummaryDataPoint, exemplar, metric::Data, number_data_point,
};
use opentelemetry_proto::tonic::resource::v1::Resource;

use super::{
    Got, Row, Want, check_row, ensure, go_map, got_map, got_str, id, same_len, service_name,
    text_cell,
};
use crate::columns::metrics::{Exemplars, MetricsBatch, PointValues, Points};

/// The tables, in the order of [`MetricsBatch::points`].
const NAMES: [&str; 5] = [
    "otel_metrics_gauge",
    "otel_metrics_sum",
    "otel_metrics_histogram",
    "otel_metrics_exponential_histogram",
    "otel_metrics_summary",
];

fn float(d: f64) -> Want {
    Want::Float(d)
}

fn num(n: impl Into<i128>) -> Want {
    // Signed numbers as their two's complement in 64 bits, as the decoder's are read.
    Want::Num(n.into() as u64)
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
        ("ServiceName", text_cell(service_name(&r.attributes))),
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
pub(crate) struct Base {
    pub(crate) metrics: usize,
    pub(crate) points: [usize; 5],
}

impl Base {
    pub(crate) fn of(b: &MetricsBatch) -> Base {
        Base {
            metrics: b.metrics.len(),
            points: b.points(),
        }
    }
}

/// The rows one request must add to a batch at `base`.
#[derive(Debug)]
pub(crate) struct Expected {
    pub(crate) base: Base,
    /// Per table, in [`MetricsBatch::points`] order.
    pub(crate) tables: [Vec<Row<Want>>; 5],
    /// Metric rows (metrics with points).
    pub(crate) metrics: usize,
    /// Metrics with no points.
    pub(crate) skipped: usize,
}

impl Expected {
    pub(crate) fn points(&self) -> [usize; 5] {
        core::array::from_fn(|t| self.tables[t].len())
    }
}

pub(crate) fn expected(req: &ExportMetricsServiceRequest, base: Base) -> Expected {
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

// ---- what the decoder wrote ----

/// The head and the columns every point has, of point `i` of `points`.
fn got_common<K: PointValues>(b: &MetricsBatch, points: &Points<K>, i: usize) -> Row<Got> {
    let m = points.metric[i] as usize;
    let mr = &b.metrics;
    let (r, s) = (&b.resources, &b.scopes);
    let (res, scope) = (mr.resource[m] as usize, mr.scope[m] as usize);
    vec![
        ("ResourceAttributes", got_map(&r.attributes, res)),
        ("ResourceSchemaUrl", got_str(&r.schema_url, res)),
        ("ServiceName", got_str(&r.service_name, res)),
        ("ScopeName", got_str(&s.name, scope)),
        ("ScopeVersion", got_str(&s.version, scope)),
        ("ScopeAttributes", got_map(&s.attributes, scope)),
        (
            "ScopeDroppedAttrCount",
            Got::Num(u64::from(s.dropped_attributes[scope])),
        ),
        ("ScopeSchemaUrl", got_str(&s.schema_url, scope)),
        ("(metric row)", Got::Num(m as u64)),
        ("MetricName", got_str(&mr.name, m)),
        ("MetricDescription", got_str(&mr.description, m)),
        ("MetricUnit", got_str(&mr.unit, m)),
        ("AggregationTemporality", Got::Num(mr.temporality[m] as u64)),
        ("IsMonotonic", Got::Num(u64::from(mr.monotonic[m]))),
        ("Attributes", got_map(&points.attributes, i)),
        ("StartTimeUnix", Got::Num(points.start_time[i])),
        ("TimeUnix", Got::Num(points.time[i])),
        ("Flags", Got::Num(u64::from(points.flags[i]))),
    ]
}

fn got_exemplars(ex: &Exemplars, i: usize) -> Row<Got> {
    let of = ex.of(i);
    let mut row = vec![("(exemplars)", Got::Num(of.len() as u64))];
    for e in of {
        row.push((
            "Exemplars.FilteredAttributes",
            got_map(&ex.filtered_attributes, e),
        ));
        row.push(("Exemplars.TimeUnix", Got::Num(ex.time[e])));
        row.push(("Exemplars.Value", Got::Float(ex.value[e])));
        row.push(("Exemplars.SpanId", Got::Bytes(ex.span_id[e].to_vec())));
        row.push(("Exemplars.TraceId", Got::Bytes(ex.trace_id[e].to_vec())));
    }
    row
}

/// Point `i` of table `t`.
fn got_point(b: &MetricsBatch, t: usize, i: usize) -> Row<Got> {
    let num = |n: i32| Got::Num(n as u64);
    match t {
        0 | 1 => {
            let p = if t == 0 { &b.gauge } else { &b.sum };
            let mut row = got_common(b, p, i);
            row.push(("Value", Got::Float(p.values.value[i])));
            row.extend(got_exemplars(&p.exemplars, i));
            row
        }
        2 => {
            let p = &b.histogram;
            let v = &p.values;
            let mut row = got_common(b, p, i);
            row.extend([
                ("Count", Got::Num(v.count[i])),
                ("Sum", Got::Float(v.sum[i])),
                ("Min", Got::Float(v.min[i])),
                ("Max", Got::Float(v.max[i])),
                ("BucketCounts", Got::Nums(v.bucket_counts.row(i).to_vec())),
                (
                    "ExplicitBounds",
                    Got::Floats(v.explicit_bounds.row(i).to_vec()),
                ),
            ]);
            row.extend(got_exemplars(&p.exemplars, i));
            row
        }
        3 => {
            let p = &b.exp_histogram;
            let v = &p.values;
            let mut row = got_common(b, p, i);
            row.extend([
                ("Count", Got::Num(v.count[i])),
                ("Sum", Got::Float(v.sum[i])),
                ("Min", Got::Float(v.min[i])),
                ("Max", Got::Float(v.max[i])),
                ("Scale", num(v.scale[i])),
                ("ZeroCount", Got::Num(v.zero_count[i])),
                ("PositiveOffset", num(v.positive_offset[i])),
                (
                    "PositiveBucketCounts",
                    Got::Nums(v.positive_counts.row(i).to_vec()),
                ),
                ("NegativeOffset", num(v.negative_offset[i])),
                (
                    "NegativeBucketCounts",
                    Got::Nums(v.negative_counts.row(i).to_vec()),
                ),
            ]);
            row.extend(got_exemplars(&p.exemplars, i));
            row
        }
        _ => {
            let p = &b.summary;
            let v = &p.values;
            let q = v.quantiles.row(i);
            let mut row = got_common(b, p, i);
            row.extend([
                ("Count", Got::Num(v.count[i])),
                ("Sum", Got::Float(v.sum[i])),
                (
                    "ValueAtQuantiles.Quantile",
                    Got::Floats(q.iter().map(|q| q[0]).collect()),
                ),
                (
                    "ValueAtQuantiles.Value",
                    Got::Floats(q.iter().map(|q| q[1]).collect()),
                ),
            ]);
            row
        }
    }
}

// ---- comparing ----

/// Every cell of the points `want` expects, against the batch.
pub(crate) fn check(b: &MetricsBatch, want: &Expected) -> Result<(), String> {
    let now = b.points();
    for (t, rows) in want.tables.iter().enumerate() {
        let first = want.base.points[t];
        ensure!(first + rows.len() <= now[t], "{}: too few rows", NAMES[t]);
        for (n, want) in rows.iter().enumerate() {
            check_row(NAMES[t], first + n, want, &got_point(b, t, first + n))?;
        }
    }
    Ok(())
}

/// The columns of a point table agree with each other and point at metric rows.
fn consistent_points<K: PointValues>(
    b: &MetricsBatch,
    t: usize,
    p: &Points<K>,
    values: &[usize],
) -> Result<(), String> {
    let n = p.len();
    let lens = [
        p.attributes.len(),
        p.start_time.len(),
        p.time.len(),
        p.flags.len(),
    ];
    same_len(NAMES[t], n, &lens)?;
    same_len(NAMES[t], n, values)?;
    ensure!(
        p.attributes.pending() == 0,
        "{}: a map row is half built",
        NAMES[t]
    );
    let ex = &p.exemplars;
    let lens = [
        ex.filtered_attributes.len(),
        ex.value.len(),
        ex.span_id.len(),
        ex.trace_id.len(),
    ];
    same_len("exemplars", ex.len(), &lens)?;
    ensure!(
        ex.filtered_attributes.pending() == 0,
        "an exemplar map row is half built"
    );
    ensure!(
        (if n == 0 { 0 } else { ex.of(n - 1).end }) == ex.len(),
        "{}: the last point's exemplars do not end the exemplars",
        NAMES[t]
    );
    ensure!(
        p.metric.iter().all(|&m| (m as usize) < b.metrics.len()),
        "{}: a point's metric row is missing",
        NAMES[t]
    );
    Ok(())
}

/// The batch's columns agree with each other.
pub(crate) fn consistent(b: &MetricsBatch) -> Result<(), String> {
    let m = &b.metrics;
    let lens = [
        m.description.len(),
        m.unit.len(),
        m.temporality.len(),
        m.monotonic.len(),
        m.resource.len(),
        m.scope.len(),
    ];
    same_len("metrics", m.len(), &lens)?;
    ensure!(
        m.resource.iter().all(|&r| (r as usize) < b.resources.len()),
        "a metric's resource is missing"
    );
    ensure!(
        m.scope.iter().all(|&s| (s as usize) < b.scopes.len()),
        "a metric's scope is missing"
    );
    same_len(
        "scopes",
        b.scopes.len(),
        &[b.scopes.dropped_attributes.len()],
    )?;
    let (g, s) = (&b.gauge, &b.sum);
    consistent_points(b, 0, g, &[g.values.value.len()])?;
    consistent_points(b, 1, s, &[s.values.value.len()])?;
    let h = &b.histogram.values;
    ensure!(
        h.bucket_counts.pending() + h.explicit_bounds.pending() == 0,
        "a histogram list is half built"
    );
    let lens = [
        h.count.len(),
        h.sum.len(),
        h.min.len(),
        h.max.len(),
        h.bucket_counts.len(),
        h.explicit_bounds.len(),
    ];
    consistent_points(b, 2, &b.histogram, &lens)?;
    let e = &b.exp_histogram.values;
    ensure!(
        e.positive_counts.pending() + e.negative_counts.pending() == 0,
        "an exponential histogram list is half built"
    );
    let lens = [
        e.count.len(),
        e.sum.len(),
        e.min.len(),
        e.max.len(),
        e.scale.len(),
        e.zero_count.len(),
        e.positive_offset.len(),
        e.positive_counts.len(),
        e.negative_offset.len(),
        e.negative_counts.len(),
    ];
    consistent_points(b, 3, &b.exp_histogram, &lens)?;
    let q = &b.summary.values;
    ensure!(q.quantiles.pending() == 0, "a quantile list is half built");
    let lens = [q.count.len(), q.sum.len(), q.quantiles.len()];
    consistent_points(b, 4, &b.summary, &lens)?;
    ensure!(
        b.summary.exemplars.is_empty(),
        "summaries have no exemplars"
    );
    Ok(())
}
