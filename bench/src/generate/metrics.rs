//! Metrics: the five kinds in turn, [`POINTS_PER_METRIC`] data points a metric.

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::metrics::v1::{
    ExponentialHistogram, ExponentialHistogramDataPoint, Gauge, Histogram, HistogramDataPoint,
    Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum, Summary, SummaryDataPoint,
    exponential_histogram_data_point::Buckets, metric::Data, number_data_point,
    summary_data_point::ValueAtQuantile,
};

use super::{
    METRIC_NAMES, POINT_KEYS, POINTS_PER_METRIC, Rng, Shape, Stamps, attributes, group_len,
    now_nanos, resource, scope, seq_attr,
};

/// A metrics request of `shape`, pool entry `variant`: `shape.records` data points in
/// metrics of [`POINTS_PER_METRIC`], the kinds in turn (gauge, sum, histogram,
/// exponential histogram, summary), or sums only.
pub fn metrics(shape: &Shape, stamps: &Stamps, variant: u64) -> ExportMetricsServiceRequest {
    let mut rng = Rng::new(shape.seed ^ variant.wrapping_mul(0xd1b5_4a32_d192_ed03) ^ 0x3e7);
    let now = now_nanos();
    let start = now - 60_000_000_000;
    let groups = shape.resources * shape.scopes;
    let mut ordinal = 0;
    let mut metric_no = 0;
    let resource_metrics = (0..shape.resources)
        .map(|r| ResourceMetrics {
            resource: Some(resource(r, variant, stamps)),
            scope_metrics: (0..shape.scopes)
                .map(|s| {
                    let mut left = group_len(shape.records, groups, r * shape.scopes + s);
                    let mut metrics = Vec::new();
                    while left > 0 {
                        let points = left.min(POINTS_PER_METRIC);
                        left -= points;
                        let m = metric_no;
                        metric_no += 1;
                        let mut attrs = |rng: &mut Rng| {
                            let mut a =
                                attributes(rng, POINT_KEYS, shape.attributes, shape.cardinality);
                            seq_attr(stamps, &mut a, ordinal);
                            ordinal += 1;
                            a
                        };
                        let kind = if stamps.sums_only { 1 } else { m % 5 };
                        let data = match kind {
                            0 => Data::Gauge(Gauge {
                                data_points: (0..points)
                                    .map(|_| NumberDataPoint {
                                        attributes: attrs(&mut rng),
                                        time_unix_nano: now,
                                        value: Some(number_data_point::Value::AsDouble(
                                            rng.below(10_000) as f64 / 8.0,
                                        )),
                                        ..Default::default()
                                    })
                                    .collect(),
                            }),
                            1 => Data::Sum(Sum {
                                data_points: (0..points)
                                    .map(|_| NumberDataPoint {
                                        attributes: attrs(&mut rng),
                                        start_time_unix_nano: start,
                                        time_unix_nano: now,
                                        value: Some(number_data_point::Value::AsInt(
                                            rng.below(1_000_000) as i64,
                                        )),
                                        ..Default::default()
                                    })
                                    .collect(),
                                aggregation_temporality: 2,
                                is_monotonic: true,
                            }),
                            2 => Data::Histogram(Histogram {
                                data_points: (0..points)
                                    .map(|_| {
                                        let counts: Vec<u64> =
                                            (0..11).map(|_| rng.below(100) as u64).collect();
                                        HistogramDataPoint {
                                            attributes: attrs(&mut rng),
                                            start_time_unix_nano: start,
                                            time_unix_nano: now,
                                            count: counts.iter().sum(),
                                            sum: Some(rng.below(100_000) as f64 * 0.5),
                                            bucket_counts: counts,
                                            explicit_bounds: vec![
                                                5.0, 10.0, 25.0, 50.0, 75.0, 100.0, 250.0, 500.0,
                                                750.0, 1000.0,
                                            ],
                                            min: Some(0.5),
                                            max: Some(999.0),
                                            ..Default::default()
                                        }
                                    })
                                    .collect(),
                                aggregation_temporality: 2,
                            }),
                            3 => Data::ExponentialHistogram(ExponentialHistogram {
                                data_points: (0..points)
                                    .map(|_| {
                                        let counts: Vec<u64> =
                                            (0..16).map(|_| rng.below(50) as u64).collect();
                                        ExponentialHistogramDataPoint {
                                            attributes: attrs(&mut rng),
                                            start_time_unix_nano: start,
                                            time_unix_nano: now,
                                            count: counts.iter().sum::<u64>() + 1,
                                            sum: Some(rng.below(100_000) as f64 * 0.5),
                                            scale: 3,
                                            zero_count: 1,
                                            positive: Some(Buckets {
                                                offset: 10,
                                                bucket_counts: counts,
                                            }),
                                            min: Some(0.0),
                                            max: Some(999.0),
                                            ..Default::default()
                                        }
                                    })
                                    .collect(),
                                aggregation_temporality: 2,
                            }),
                            _ => Data::Summary(Summary {
                                data_points: (0..points)
                                    .map(|_| SummaryDataPoint {
                                        attributes: attrs(&mut rng),
                                        start_time_unix_nano: start,
                                        time_unix_nano: now,
                                        count: 100,
                                        sum: 1234.5,
                                        quantile_values: [0.5, 0.9, 0.99]
                                            .iter()
                                            .map(|&q| ValueAtQuantile {
                                                quantile: q,
                                                value: q * 100.0,
                                            })
                                            .collect(),
                                        ..Default::default()
                                    })
                                    .collect(),
                            }),
                        };
                        let base = METRIC_NAMES[m % METRIC_NAMES.len()];
                        metrics.push(Metric {
                            name: match m / METRIC_NAMES.len() {
                                0 => base.to_string(),
                                k => format!("{base}.{k}"),
                            },
                            description: "Generated by sluice-loadgen.".into(),
                            unit: "ms".into(),
                            data: Some(data),
                            ..Default::default()
                        });
                    }
                    ScopeMetrics {
                        scope: Some(scope(s)),
                        metrics,
                        schema_url: String::new(),
                    }
                })
                .collect(),
            schema_url: String::new(),
        })
        .collect();
    ExportMetricsServiceRequest { resource_metrics }
}
