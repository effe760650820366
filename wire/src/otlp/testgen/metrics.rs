//! Strategies for `ExportMetricsServiceRequest`s: metrics of all five data kinds (and
//! none), their data points with every field random, exemplars, buckets and
//! quantiles. Resources and scopes are those of [`requests`](super::requests).

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::metrics::v1::{
    Exemplar, ExponentialHistogram, ExponentialHistogramDataPoint, Gauge, Histogram,
    HistogramDataPoint, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum, Summary,
    SummaryDataPoint, exemplar, exponential_histogram_data_point::Buckets, metric::Data,
    number_data_point, summary_data_point::ValueAtQuantile,
};
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;

use super::requests::{attributes, enum_number, id, resource, scope, time};
use super::text;

/// A double: mostly an ordinary one, sometimes NaN, ±∞ or -0.
pub(crate) fn double() -> impl Strategy<Value = f64> {
    prop_oneof![
        6 => any::<f64>(),
        1 => prop_oneof![
            Just(f64::NAN),
            Just(f64::INFINITY),
            Just(f64::NEG_INFINITY),
            Just(-0.0),
        ],
    ]
}

/// Data point flags: mostly 0 or 1 (`FLAG_NO_RECORDED_VALUE`), sometimes any `uint32`.
fn flags() -> impl Strategy<Value = u32> {
    prop_oneof![4 => 0..=1u32, 1 => any::<u32>()]
}

/// A count: small usually, any `uint64` sometimes.
fn count() -> impl Strategy<Value = u64> {
    prop_oneof![3 => 0..1000u64, 1 => any::<u64>()]
}

/// An optional `sum`, `min` or `max` (absent is stored as 0).
fn maybe_double() -> impl Strategy<Value = Option<f64>> {
    option::of(double())
}

pub(crate) fn exemplar() -> impl Strategy<Value = Exemplar> {
    let value = option::of(prop_oneof![
        double().prop_map(exemplar::Value::AsDouble),
        any::<i64>().prop_map(exemplar::Value::AsInt),
    ]);
    (attributes(2), time(), id(8), id(16), value).prop_map(
        |(filtered_attributes, time_unix_nano, span_id, trace_id, value)| Exemplar {
            filtered_attributes,
            time_unix_nano,
            span_id,
            trace_id,
            value,
        },
    )
}

fn exemplars() -> impl Strategy<Value = Vec<Exemplar>> {
    vec(exemplar(), 0..=2)
}

pub(crate) fn number_point() -> impl Strategy<Value = NumberDataPoint> {
    let value = option::of(prop_oneof![
        double().prop_map(number_data_point::Value::AsDouble),
        any::<i64>().prop_map(number_data_point::Value::AsInt),
    ]);
    (attributes(4), time(), time(), exemplars(), flags(), value).prop_map(
        |(attributes, start_time_unix_nano, time_unix_nano, exemplars, flags, value)| {
            NumberDataPoint {
                attributes,
                start_time_unix_nano,
                time_unix_nano,
                exemplars,
                flags,
                value,
            }
        },
    )
}

pub(crate) fn histogram_point() -> impl Strategy<Value = HistogramDataPoint> {
    (
        (attributes(4), time(), time(), count(), maybe_double()),
        (
            vec(count(), 0..=5),
            vec(double(), 0..=4),
            exemplars(),
            flags(),
        ),
        (maybe_double(), maybe_double()),
    )
        .prop_map(
            |(
                (attributes, start_time_unix_nano, time_unix_nano, count, sum),
                (bucket_counts, explicit_bounds, exemplars, flags),
                (min, max),
            )| HistogramDataPoint {
                attributes,
                start_time_unix_nano,
                time_unix_nano,
                count,
                sum,
                bucket_counts,
                explicit_bounds,
                exemplars,
                flags,
                min,
                max,
            },
        )
}

/// An offset or scale: mostly small (either sign), sometimes any `sint32`.
fn small_i32() -> impl Strategy<Value = i32> {
    prop_oneof![4 => -20..=20i32, 1 => any::<i32>()]
}

fn buckets() -> impl Strategy<Value = Option<Buckets>> {
    let buckets = (small_i32(), vec(count(), 0..=5)).prop_map(|(offset, bucket_counts)| Buckets {
        offset,
        bucket_counts,
    });
    option::weighted(0.7, buckets)
}

pub(crate) fn exp_histogram_point() -> impl Strategy<Value = ExponentialHistogramDataPoint> {
    (
        (attributes(4), time(), time(), count(), maybe_double()),
        (small_i32(), count(), buckets(), buckets(), flags()),
        (exemplars(), maybe_double(), maybe_double(), double()),
    )
        .prop_map(
            |(
                (attributes, start_time_unix_nano, time_unix_nano, count, sum),
                (scale, zero_count, positive, negative, flags),
                (exemplars, min, max, zero_threshold),
            )| ExponentialHistogramDataPoint {
                attributes,
                start_time_unix_nano,
                time_unix_nano,
                count,
                sum,
                scale,
                zero_count,
                positive,
                negative,
                flags,
                exemplars,
                min,
                max,
                zero_threshold,
            },
        )
}

pub(crate) fn summary_point() -> impl Strategy<Value = SummaryDataPoint> {
    let quantile =
        (double(), double()).prop_map(|(quantile, value)| ValueAtQuantile { quantile, value });
    (
        (attributes(4), time(), time(), count(), double()),
        (vec(quantile, 0..=4), flags()),
    )
        .prop_map(
            |(
                (attributes, start_time_unix_nano, time_unix_nano, count, sum),
                (quantile_values, flags),
            )| SummaryDataPoint {
                attributes,
                start_time_unix_nano,
                time_unix_nano,
                count,
                sum,
                quantile_values,
                flags,
            },
        )
}

/// A metric's data: one of the five kinds, with a few points (none now and then).
pub(crate) fn data() -> impl Strategy<Value = Data> {
    const POINTS: core::ops::RangeInclusive<usize> = 0..=3;
    prop_oneof![
        vec(number_point(), POINTS).prop_map(|data_points| Data::Gauge(Gauge { data_points })),
        (vec(number_point(), POINTS), enum_number(2), any::<bool>()).prop_map(
            |(data_points, aggregation_temporality, is_monotonic)| Data::Sum(Sum {
                data_points,
                aggregation_temporality,
                is_monotonic,
            })
        ),
        (vec(histogram_point(), POINTS), enum_number(2)).prop_map(
            |(data_points, aggregation_temporality)| Data::Histogram(Histogram {
                data_points,
                aggregation_temporality,
            })
        ),
        (vec(exp_histogram_point(), POINTS), enum_number(2)).prop_map(
            |(data_points, aggregation_temporality)| {
                Data::ExponentialHistogram(ExponentialHistogram {
                    data_points,
                    aggregation_temporality,
                })
            }
        ),
        vec(summary_point(), POINTS).prop_map(|data_points| Data::Summary(Summary { data_points })),
    ]
}

/// A `Metric`: its data absent now and then (a metric sluice skips).
pub(crate) fn metric() -> impl Strategy<Value = Metric> {
    (
        text(),
        text(),
        text(),
        attributes(2),
        option::weighted(0.9, data()),
    )
        .prop_map(|(name, description, unit, metadata, data)| Metric {
            name,
            description,
            unit,
            metadata,
            data,
        })
}

/// An `ExportMetricsServiceRequest` of a few resources, scopes and metrics.
pub(crate) fn metric_request() -> impl Strategy<Value = ExportMetricsServiceRequest> {
    let scope_metrics =
        (scope(), vec(metric(), 0..=4), text()).prop_map(|(scope, metrics, schema_url)| {
            ScopeMetrics {
                scope,
                metrics,
                schema_url,
            }
        });
    let resource_metrics = (resource(), vec(scope_metrics, 0..=2), text()).prop_map(
        |(resource, scope_metrics, schema_url)| ResourceMetrics {
            resource,
            scope_metrics,
            schema_url,
        },
    );
    vec(resource_metrics, 0..=3)
        .prop_map(|resource_metrics| ExportMetricsServiceRequest { resource_metrics })
}
