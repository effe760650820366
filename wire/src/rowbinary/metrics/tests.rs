//! The metric tables' RowBinary: the column lists against the schema contract (the
//! vendored `clickstack-columns.tsv`), one point of each table spelled out byte by
//! byte, `DateTime` saturation, and a read-back of many points driven by the TSV's
//! ClickHouse types that checks every array and map count and that rows end where
//! the next begins.

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{
    AnyValue, InstrumentationScope, KeyValue, any_value::Value,
};
use opentelemetry_proto::tonic::metrics::v1::{
    Exemplar, ExponentialHistogram, ExponentialHistogramDataPoint, Gauge, Histogram,
    HistogramDataPoint, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum, Summary,
    SummaryDataPoint, exemplar, exponential_histogram_data_point::Buckets, metric::Data,
    number_data_point, summary_data_point::ValueAtQuantile,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use prost::Message;

use super::*;
use crate::otlp::metrics::decode_metrics;

/// The stored columns of `table` in the schema contract, in order: (name, type).
fn tsv_columns(table: Table) -> Vec<(&'static str, &'static str)> {
    crate::otlp::reference::stored::tsv_columns(table.default_name())
}

#[test]
fn each_tables_columns_are_the_tsvs_stored_columns_in_order() {
    for table in TABLES {
        let ours: Vec<&str> = columns_of(table).iter().map(|c| c.name()).collect();
        let tsv: Vec<&str> = tsv_columns(table).iter().map(|(c, _)| *c).collect();
        assert!(!tsv.is_empty(), "{table:?} is in the TSV");
        assert_eq!(ours, tsv, "{}", table.default_name());
    }
    for table in [Table::Logs, Table::Traces, Table::Sessions] {
        assert!(columns_of(table).is_empty());
    }
    // A column shared by several tables has one type everywhere: it is encoded one way.
    let mut types = std::collections::HashMap::new();
    for table in TABLES {
        for (column, ty) in tsv_columns(table) {
            assert_eq!(*types.entry(column).or_insert(ty), ty, "{column}");
        }
    }
}

// ---- a small batch ----

fn kv(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(Value::StringValue(value.into())),
        }),
        ..Default::default()
    }
}

fn metric(name: &str, data: Data) -> Metric {
    Metric {
        name: name.into(),
        description: "d".into(),
        unit: "u".into(),
        metadata: vec![],
        data: Some(data),
    }
}

/// One resource (`service.name = s`) and scope (`n` / `v`, 3 attributes dropped) with
/// `metrics`, decoded.
fn batch(metrics: Vec<Metric>) -> MetricsBatch {
    let req = ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(Resource {
                attributes: vec![kv("service.name", "s")],
                ..Default::default()
            }),
            scope_metrics: vec![ScopeMetrics {
                scope: Some(InstrumentationScope {
                    name: "n".into(),
                    version: "v".into(),
                    attributes: vec![],
                    dropped_attributes_count: 3,
                }),
                metrics,
                schema_url: "su".into(),
            }],
            schema_url: "ru".into(),
        }],
    };
    let mut b = MetricsBatch::default();
    decode_metrics(&req.encode_to_vec(), &mut b).unwrap();
    b
}

/// A gauge point: 1.5 s to 2 s, value 0.25, one attribute, one exemplar with a span
/// id but no trace id.
fn gauge_point() -> NumberDataPoint {
    NumberDataPoint {
        attributes: vec![kv("k", "v")],
        start_time_unix_nano: 1_500_000_000,
        time_unix_nano: 2_000_000_000,
        exemplars: vec![Exemplar {
            filtered_attributes: vec![kv("f", "x")],
            time_unix_nano: 3_000_000_001,
            span_id: (1..=8).collect(),
            trace_id: vec![],
            value: Some(exemplar::Value::AsInt(-2)),
        }],
        flags: 1,
        value: Some(number_data_point::Value::AsDouble(0.25)),
    }
}

fn encode(b: &MetricsBatch, table: Table, columns: &[MetricColumn]) -> Vec<u8> {
    let mut out = Vec::new();
    encode_table(b, table, columns, &mut out);
    out
}

#[test]
fn one_gauge_point_in_every_column_spelled_out() {
    let b = batch(vec![metric(
        "m",
        Data::Gauge(Gauge {
            data_points: vec![gauge_point()],
        }),
    )]);
    let out = encode(&b, Table::MetricsGauge, &GAUGE);
    let mut want: Vec<u8> = Vec::new();
    let mut put = |bytes: &[u8]| want.extend_from_slice(bytes);
    put(&[1, 12]); // ResourceAttributes: 1 entry, key of 12 bytes
    put(b"service.name");
    put(&[1, b's']);
    put(&[2, b'r', b'u']); // ResourceSchemaUrl
    put(&[1, b'n']); // ScopeName
    put(&[1, b'v']); // ScopeVersion
    put(&[0]); // ScopeAttributes: empty map
    put(&[3, 0, 0, 0]); // ScopeDroppedAttrCount: UInt32 LE
    put(&[2, b's', b'u']); // ScopeSchemaUrl
    put(&[1, b's']); // ServiceName
    put(&[1, b'm']); // MetricName
    put(&[1, b'd']); // MetricDescription
    put(&[1, b'u']); // MetricUnit
    put(&[1, 1, b'k', 1, b'v']); // Attributes
    put(&[1, 0, 0, 0]); // StartTimeUnix: DateTime, UInt32 seconds (1.5 s → 1)
    put(&[2, 0, 0, 0]); // TimeUnix
    put(&0.25f64.to_le_bytes()); // Value: Float64 LE
    put(&[1, 0, 0, 0]); // Flags: UInt32
    put(&[1, 1, 1, b'f', 1, b'x']); // Exemplars.FilteredAttributes: 1 map of 1 entry
    put(&[1, 3, 0, 0, 0]); // Exemplars.TimeUnix: 1 DateTime
    put(&[1]); // Exemplars.Value: 1 Float64
    put(&(-2.0f64).to_le_bytes());
    put(&[1, 16]); // Exemplars.SpanId: 1 string of 16 hex digits
    put(b"0102030405060708");
    put(&[1, 32]); // Exemplars.TraceId: absent, so 32 zeros (not empty, as the exporter)
    put(&[b'0'; 32]);
    assert_eq!(out, want);

    // Any subset, in the order given.
    let cols = [C::Flags, C::MetricName, C::ExemplarsTraceId];
    let out = encode(&b, Table::MetricsGauge, &cols);
    let mut want = vec![1, 0, 0, 0, 1, b'm', 1, 32];
    want.extend([b'0'; 32]);
    assert_eq!(out, want);
}

#[test]
fn the_other_kinds_own_columns_spelled_out() {
    let sum = Sum {
        data_points: vec![gauge_point()],
        aggregation_temporality: 2,
        is_monotonic: true,
    };
    let histogram = HistogramDataPoint {
        count: 3,
        sum: Some(1.5),
        bucket_counts: vec![1, 2],
        explicit_bounds: vec![0.5],
        max: Some(4.0),
        ..Default::default()
    };
    let exp = ExponentialHistogramDataPoint {
        scale: -2,
        zero_count: 7,
        positive: Some(Buckets {
            offset: -1,
            bucket_counts: vec![5],
        }),
        ..Default::default()
    };
    let summary = SummaryDataPoint {
        count: 2,
        sum: 0.5,
        quantile_values: vec![ValueAtQuantile {
            quantile: 0.9,
            value: 8.0,
        }],
        flags: 1,
        ..Default::default()
    };
    let b = batch(vec![
        metric("s", Data::Sum(sum)),
        metric(
            "h",
            Data::Histogram(Histogram {
                data_points: vec![histogram],
                aggregation_temporality: 1,
            }),
        ),
        metric(
            "e",
            Data::ExponentialHistogram(ExponentialHistogram {
                data_points: vec![exp],
                aggregation_temporality: 2,
            }),
        ),
        metric(
            "q",
            Data::Summary(Summary {
                data_points: vec![summary],
            }),
        ),
    ]);
    let f = |d: f64| d.to_le_bytes();
    let cat = |parts: &[&[u8]]| parts.concat();

    // Int32 LE; Bool: one byte.
    let out = encode(
        &b,
        Table::MetricsSum,
        &[C::AggregationTemporality, C::IsMonotonic],
    );
    assert_eq!(out, [2, 0, 0, 0, 1]);

    let cols = [
        C::Count,
        C::Sum,
        C::BucketCounts,
        C::ExplicitBounds,
        C::Min,
        C::Max,
        C::AggregationTemporality,
    ];
    let want = cat(&[
        &3u64.to_le_bytes(),
        &f(1.5),
        &[2], // Array(UInt64): count, then the items
        &1u64.to_le_bytes(),
        &2u64.to_le_bytes(),
        &[1],
        &f(0.5),
        &f(0.0), // an absent min is 0
        &f(4.0),
        &[1, 0, 0, 0],
    ]);
    assert_eq!(encode(&b, Table::MetricsHistogram, &cols), want);

    let cols = [
        C::Scale,
        C::ZeroCount,
        C::PositiveOffset,
        C::PositiveBucketCounts,
        C::NegativeOffset,
        C::NegativeBucketCounts,
        C::Sum,
    ];
    let want = cat(&[
        &(-2i32).to_le_bytes(),
        &7u64.to_le_bytes(),
        &(-1i32).to_le_bytes(),
        &[1],
        &5u64.to_le_bytes(),
        &[0, 0, 0, 0],
        &[0], // no negative buckets: an empty array
        &f(0.0),
    ]);
    assert_eq!(encode(&b, Table::MetricsExponentialHistogram, &cols), want);

    let want = cat(&[
        &2u64.to_le_bytes(),
        &f(0.5),
        &[1],
        &f(0.9),
        &[1],
        &f(8.0),
        &[1, 0, 0, 0],
    ]);
    assert_eq!(encode(&b, Table::MetricsSummary, &SUMMARY[14..]), want);
}

#[test]
fn datetime_is_whole_seconds_and_saturates_at_its_end() {
    assert_eq!(datetime(0), 0);
    assert_eq!(datetime(999_999_999), 0);
    assert_eq!(datetime(1_764_000_000_999_999_999), 1_764_000_000);
    let last = u64::from(u32::MAX) * 1_000_000_000;
    assert_eq!(datetime(last + 999_999_999), u32::MAX);
    assert_eq!(datetime(last + 1_000_000_000), u32::MAX, "saturates");
    assert_eq!(datetime(u64::MAX), u32::MAX);

    let mut point = gauge_point();
    point.time_unix_nano = u64::MAX;
    let b = batch(vec![metric(
        "m",
        Data::Gauge(Gauge {
            data_points: vec![point],
        }),
    )]);
    let out = encode(&b, Table::MetricsGauge, &[C::TimeUnix, C::StartTimeUnix]);
    assert_eq!(out, [0xff, 0xff, 0xff, 0xff, 1, 0, 0, 0]);
}

// ---- reading RowBinary back by the TSV's types ----

struct Rd<'a>(&'a [u8]);

impl Rd<'_> {
    fn take(&mut self, n: usize) {
        self.0 = &self.0[n..];
    }

    fn leb(&mut self) -> usize {
        let (mut v, mut shift) = (0usize, 0);
        loop {
            let b = self.0[0];
            self.0 = &self.0[1..];
            v |= usize::from(b & 0x7f) << shift;
            if b < 0x80 {
                return v;
            }
            shift += 7;
        }
    }

    /// Reads one value of ClickHouse type `ty`; returns its length (array items, map
    /// entries, string bytes; 0 for a number).
    fn value(&mut self, ty: &str) -> usize {
        if let Some(item) = ty.strip_prefix("Array(").and_then(|t| t.strip_suffix(')')) {
            let n = self.leb();
            for _ in 0..n {
                self.value(item);
            }
            return n;
        }
        if ty.starts_with("Map(") {
            let n = self.leb();
            for _ in 0..2 * n {
                self.value("String");
            }
            return n;
        }
        let width = match ty {
            "String" | "LowCardinality(String)" => {
                let n = self.leb();
                self.take(n);
                return n;
            }
            "Bool" => 1,
            "UInt32" | "Int32" | "DateTime" => 4,
            "UInt64" | "Float64" => 8,
            _ => panic!("a type this reader does not know: {ty}"),
        };
        self.take(width);
        0
    }
}

/// The length the batch says row `i`'s value of `column` has, where it has one.
fn want_len(b: &MetricsBatch, table: Table, column: &str, i: usize) -> Option<usize> {
    let (attributes, exemplars) = match table {
        Table::MetricsGauge => (&b.gauge.attributes, b.gauge.exemplars.of(i)),
        Table::MetricsSum => (&b.sum.attributes, b.sum.exemplars.of(i)),
        Table::MetricsHistogram => (&b.histogram.attributes, b.histogram.exemplars.of(i)),
        Table::MetricsExponentialHistogram => {
            (&b.exp_histogram.attributes, b.exp_histogram.exemplars.of(i))
        }
        _ => (&b.summary.attributes, 0..0),
    };
    let (h, e) = (&b.histogram.values, &b.exp_histogram.values);
    Some(match column {
        "Attributes" => attributes.row(i).len(),
        c if c.starts_with("Exemplars.") => exemplars.len(),
        "BucketCounts" => h.bucket_counts.row(i).len(),
        "ExplicitBounds" => h.explicit_bounds.row(i).len(),
        "PositiveBucketCounts" => e.positive_counts.row(i).len(),
        "NegativeBucketCounts" => e.negative_counts.row(i).len(),
        c if c.starts_with("ValueAtQuantiles.") => b.summary.values.quantiles.row(i).len(),
        _ => return None,
    })
}

#[test]
fn many_points_read_back_by_the_tsv_types_with_their_counts() {
    let n = |i: usize| (0..i % 3).map(|j| j as u64).collect::<Vec<_>>();
    let number = |i: usize| {
        let mut p = gauge_point();
        p.exemplars = vec![p.exemplars[0].clone(); i % 3];
        p.attributes = (0..i % 4).map(|k| kv(&format!("k{k}"), "v")).collect();
        p
    };
    let numbers: Vec<NumberDataPoint> = (0..6).map(number).collect();
    let histograms = (0..6)
        .map(|i| HistogramDataPoint {
            bucket_counts: n(i),
            explicit_bounds: n(i + 1).into_iter().map(|v| v as f64).collect(),
            exemplars: number(i).exemplars,
            ..Default::default()
        })
        .collect();
    let exps = (0..6)
        .map(|i| ExponentialHistogramDataPoint {
            positive: Some(Buckets {
                offset: 1,
                bucket_counts: n(i),
            }),
            negative: (i % 2 == 0).then(|| Buckets {
                offset: 0,
                bucket_counts: n(i + 2),
            }),
            exemplars: number(i + 1).exemplars,
            ..Default::default()
        })
        .collect();
    let summaries = (0..6)
        .map(|i| SummaryDataPoint {
            quantile_values: vec![ValueAtQuantile::default(); i % 3],
            attributes: number(i).attributes,
            ..Default::default()
        })
        .collect();
    let b = batch(vec![
        metric(
            "g",
            Data::Gauge(Gauge {
                data_points: numbers.clone(),
            }),
        ),
        metric(
            "s",
            Data::Sum(Sum {
                data_points: numbers,
                ..Default::default()
            }),
        ),
        metric(
            "h",
            Data::Histogram(Histogram {
                data_points: histograms,
                aggregation_temporality: 1,
            }),
        ),
        metric(
            "e",
            Data::ExponentialHistogram(ExponentialHistogram {
                data_points: exps,
                aggregation_temporality: 1,
            }),
        ),
        metric(
            "q",
            Data::Summary(Summary {
                data_points: summaries,
            }),
        ),
    ]);
    assert_eq!(b.points(), [6; 5]);
    for table in TABLES {
        let columns = tsv_columns(table);
        let out = encode(&b, table, columns_of(table));
        let mut rd = Rd(&out);
        for i in 0..6 {
            for &(column, ty) in &columns {
                let len = rd.value(ty);
                if let Some(want) = want_len(&b, table, column, i) {
                    assert_eq!(len, want, "{} row {i} {column}", table.default_name());
                }
            }
        }
        assert!(
            rd.0.is_empty(),
            "{}: the rows end where the output ends",
            table.default_name()
        );
    }
}
