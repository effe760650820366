//! OTLP metrics through a running gateway into the five `otel_metrics_*` tables, over
//! gRPC (protobuf) and HTTP (protobuf and JSON), every column of every point compared
//! with what was sent.

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::InstrumentationScope;
use opentelemetry_proto::tonic::metrics::v1::{
    Exemplar, ExponentialHistogram, ExponentialHistogramDataPoint, Gauge, Histogram,
    HistogramDataPoint, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum, Summary,
    SummaryDataPoint, exemplar, exponential_histogram_data_point::Buckets, metric::Data,
    number_data_point, summary_data_point::ValueAtQuantile,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use prost::Message;

use crate::gateway::{Gateway, GrpcClient, HttpClient, grpc_frame};
use crate::support::{kv, now_ns};

const EXPORT: &str = "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export";

fn metric(name: &str, data: Data) -> Metric {
    Metric {
        name: name.into(),
        description: format!("{name} described"),
        unit: "ms".into(),
        data: Some(data),
        ..Default::default()
    }
}

/// One metric of each kind for run `run` at `t` ns, plus one with no points.
fn request(run: &str, t: u64) -> Vec<u8> {
    let attrs = |seq: &str| vec![kv("run", run), kv("seq", seq)];
    let gauge = NumberDataPoint {
        attributes: attrs("g1"),
        start_time_unix_nano: t - 5_000_000_000,
        time_unix_nano: t,
        value: Some(number_data_point::Value::AsDouble(0.25)),
        exemplars: vec![Exemplar {
            filtered_attributes: vec![kv("user", "u1")],
            time_unix_nano: t - 1_000_000_000,
            value: Some(exemplar::Value::AsInt(7)),
            span_id: vec![0x5a; 8],
            trace_id: vec![0xa5; 16],
        }],
        flags: 1,
    };
    let sum = NumberDataPoint {
        attributes: attrs("s1"),
        start_time_unix_nano: t - 60_000_000_000,
        time_unix_nano: t,
        value: Some(number_data_point::Value::AsInt(-42)),
        exemplars: vec![Exemplar {
            value: Some(exemplar::Value::AsDouble(1.5)),
            time_unix_nano: t,
            ..Default::default()
        }],
        flags: 0,
    };
    let hist = HistogramDataPoint {
        attributes: attrs("h1"),
        start_time_unix_nano: t - 60_000_000_000,
        time_unix_nano: t,
        count: 6,
        sum: Some(12.5),
        bucket_counts: vec![1, 2, 3],
        explicit_bounds: vec![1.0, 5.0],
        min: Some(0.5),
        max: None,
        ..Default::default()
    };
    let exp = ExponentialHistogramDataPoint {
        attributes: attrs("e1"),
        start_time_unix_nano: t - 60_000_000_000,
        time_unix_nano: t,
        count: 9,
        sum: None,
        scale: -3,
        zero_count: 2,
        positive: Some(Buckets {
            offset: -2,
            bucket_counts: vec![1, 0, 4],
        }),
        negative: Some(Buckets {
            offset: 5,
            bucket_counts: vec![2],
        }),
        min: Some(-8.0),
        max: Some(100.0),
        zero_threshold: 0.001,
        ..Default::default()
    };
    let summ = SummaryDataPoint {
        attributes: attrs("q1"),
        start_time_unix_nano: t - 60_000_000_000,
        time_unix_nano: t,
        count: 4,
        sum: 10.0,
        quantile_values: vec![
            ValueAtQuantile {
                quantile: 0.5,
                value: 2.0,
            },
            ValueAtQuantile {
                quantile: 0.99,
                value: 4.25,
            },
        ],
        ..Default::default()
    };
    let metrics = vec![
        metric(
            "temp",
            Data::Gauge(Gauge {
                data_points: vec![gauge],
            }),
        ),
        metric(
            "requests",
            Data::Sum(Sum {
                data_points: vec![sum],
                aggregation_temporality: 1,
                is_monotonic: true,
            }),
        ),
        metric(
            "latency",
            Data::Histogram(Histogram {
                data_points: vec![hist],
                aggregation_temporality: 2,
            }),
        ),
        metric(
            "size",
            Data::ExponentialHistogram(ExponentialHistogram {
                data_points: vec![exp],
                aggregation_temporality: 1,
            }),
        ),
        metric(
            "rpc",
            Data::Summary(Summary {
                data_points: vec![summ],
            }),
        ),
        metric("empty", Data::Gauge(Gauge::default())),
    ];
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(Resource {
                attributes: vec![kv("service.name", "shop")],
                ..Default::default()
            }),
            scope_metrics: vec![ScopeMetrics {
                scope: Some(InstrumentationScope {
                    name: "meter".into(),
                    version: "2.0".into(),
                    attributes: vec![kv("sa", "1")],
                    dropped_attributes_count: 3,
                }),
                metrics,
                schema_url: "https://scope".into(),
            }],
            schema_url: "https://res".into(),
        }],
    }
    .encode_to_vec()
}

/// The same metrics in OTLP/JSON, written by hand.
fn json_request(run: &str, t: u64) -> String {
    let attrs = |seq: &str| {
        format!(
            r#"[{{"key":"run","value":{{"stringValue":"{run}"}}}},{{"key":"seq","value":{{"stringValue":"{seq}"}}}}]"#
        )
    };
    let (t5, t60, t1) = (t - 5_000_000_000, t - 60_000_000_000, t - 1_000_000_000);
    let desc = |n: &str| format!(r#""name":"{n}","description":"{n} described","unit":"ms""#);
    format!(
        r#"{{"resourceMetrics":[{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"shop"}}}}]}},
  "schemaUrl":"https://res",
  "scopeMetrics":[{{"scope":{{"name":"meter","version":"2.0","attributes":[{{"key":"sa","value":{{"stringValue":"1"}}}}],"droppedAttributesCount":3}},
    "schemaUrl":"https://scope",
    "metrics":[
      {{{},"gauge":{{"dataPoints":[{{"attributes":{},"startTimeUnixNano":"{t5}","timeUnixNano":"{t}","asDouble":0.25,"flags":1,
          "exemplars":[{{"filteredAttributes":[{{"key":"user","value":{{"stringValue":"u1"}}}}],"timeUnixNano":"{t1}","asInt":"7",
                        "spanId":"5a5a5a5a5a5a5a5a","traceId":"{}"}}]}}]}}}},
      {{{},"sum":{{"aggregationTemporality":"AGGREGATION_TEMPORALITY_DELTA","isMonotonic":true,
          "dataPoints":[{{"attributes":{},"startTimeUnixNano":"{t60}","timeUnixNano":"{t}","asInt":"-42",
          "exemplars":[{{"timeUnixNano":"{t}","asDouble":1.5}}]}}]}}}},
      {{{},"histogram":{{"aggregationTemporality":2,"dataPoints":[{{"attributes":{},"startTimeUnixNano":"{t60}","timeUnixNano":"{t}",
          "count":"6","sum":12.5,"bucketCounts":["1","2","3"],"explicitBounds":[1,5],"min":0.5}}]}}}},
      {{{},"exponentialHistogram":{{"aggregationTemporality":1,"dataPoints":[{{"attributes":{},"startTimeUnixNano":"{t60}","timeUnixNano":"{t}",
          "count":"9","scale":-3,"zeroCount":"2","positive":{{"offset":-2,"bucketCounts":["1","0","4"]}},
          "negative":{{"offset":5,"bucketCounts":["2"]}},"min":-8,"max":100,"zeroThreshold":0.001}}]}}}},
      {{{},"summary":{{"dataPoints":[{{"attributes":{},"startTimeUnixNano":"{t60}","timeUnixNano":"{t}","count":"4","sum":10,
          "quantileValues":[{{"quantile":0.5,"value":2}},{{"quantile":0.99,"value":4.25}}]}}]}}}},
      {{{},"gauge":{{}}}}
    ]}}]}}]}}"#,
        desc("temp"),
        attrs("g1"),
        "a5".repeat(16),
        desc("requests"),
        attrs("s1"),
        desc("latency"),
        attrs("h1"),
        desc("size"),
        attrs("e1"),
        desc("rpc"),
        attrs("q1"),
        desc("empty"),
    )
}

/// The columns every metric table has, as `TabSeparatedRaw` fields.
const COMMON: &str = "toString(ResourceAttributes), ResourceSchemaUrl, ScopeName, ScopeVersion, \
    toString(ScopeAttributes), ScopeDroppedAttrCount, ScopeSchemaUrl, ServiceName, MetricName, \
    MetricDescription, MetricUnit, toString(Attributes), toUnixTimestamp(StartTimeUnix), \
    toUnixTimestamp(TimeUnix)";
const EXEMPLARS: &str = "toString(`Exemplars.FilteredAttributes`), \
    toString(arrayMap(x -> toUnixTimestamp(x), `Exemplars.TimeUnix`)), toString(`Exemplars.Value`), \
    toString(`Exemplars.SpanId`), toString(`Exemplars.TraceId`)";

/// Every stored column of each table's rows for `run`, table by table.
async fn stored(gw: &Gateway, run: &str) -> Vec<Vec<Vec<String>>> {
    let own = [
        ("otel_metrics_gauge", format!("Value, Flags, {EXEMPLARS}")),
        (
            "otel_metrics_sum",
            format!("Value, Flags, {EXEMPLARS}, AggregationTemporality, IsMonotonic"),
        ),
        (
            "otel_metrics_histogram",
            format!(
                "Count, Sum, toString(BucketCounts), toString(ExplicitBounds), {EXEMPLARS}, Flags, Min, Max, \
                 AggregationTemporality"
            ),
        ),
        (
            "otel_metrics_exponential_histogram",
            format!(
                "Count, Sum, Scale, ZeroCount, PositiveOffset, toString(PositiveBucketCounts), NegativeOffset, \
                 toString(NegativeBucketCounts), {EXEMPLARS}, Flags, Min, Max, AggregationTemporality"
            ),
        ),
        (
            "otel_metrics_summary",
            "Count, Sum, toString(`ValueAtQuantiles.Quantile`), toString(`ValueAtQuantiles.Value`), Flags"
                .to_owned(),
        ),
    ];
    let mut out = Vec::new();
    for (table, cols) in own {
        out.push(
            gw.query(&format!(
                "SELECT {COMMON}, {cols} FROM {table} WHERE Attributes['run'] = '{run}' ORDER BY MetricName"
            ))
            .await,
        );
    }
    out
}

fn expected(run: &str, t: u64) -> Vec<Vec<Vec<String>>> {
    let secs = |ns: u64| (ns / 1_000_000_000).to_string();
    let common = |name: &str, seq: &str, start: u64| -> Vec<String> {
        [
            "{'service.name':'shop'}",
            "https://res",
            "meter",
            "2.0",
            "{'sa':'1'}",
            "3",
            "https://scope",
            "shop",
            name,
            &format!("{name} described"),
            "ms",
            &format!("{{'run':'{run}','seq':'{seq}'}}"),
            &secs(start),
            &secs(t),
        ]
        .map(str::to_owned)
        .to_vec()
    };
    let no_exemplars = || ["[]", "[]", "[]", "[]", "[]"].map(str::to_owned).to_vec();
    let row = |mut head: Vec<String>, rest: &[&str]| {
        head.extend(rest.iter().map(|s| (*s).to_owned()));
        head
    };
    let t60 = t - 60_000_000_000;
    let gauge = row(
        common("temp", "g1", t - 5_000_000_000),
        &[
            "0.25",
            "1",
            "[{'user':'u1'}]",
            &format!("[{}]", secs(t - 1_000_000_000)),
            "[7]",
            "['5a5a5a5a5a5a5a5a']",
            &format!("['{}']", "a5".repeat(16)),
        ],
    );
    let sum = row(
        common("requests", "s1", t60),
        &[
            "-42",
            "0",
            "[{}]",
            &format!("[{}]", secs(t)),
            "[1.5]",
            &format!("['{}']", "0".repeat(16)),
            &format!("['{}']", "0".repeat(32)),
            "1",
            "true",
        ],
    );
    let mut hist = row(
        common("latency", "h1", t60),
        &["6", "12.5", "[1,2,3]", "[1,5]"],
    );
    hist.extend(no_exemplars());
    hist.extend(["0", "0.5", "0", "2"].map(str::to_owned));
    let mut exp = row(
        common("size", "e1", t60),
        &["9", "0", "-3", "2", "-2", "[1,0,4]", "5", "[2]"],
    );
    exp.extend(no_exemplars());
    exp.extend(["0", "-8", "100", "1"].map(str::to_owned));
    let summary = row(
        common("rpc", "q1", t60),
        &["4", "10", "[0.5,0.99]", "[2,4.25]", "0"],
    );
    vec![vec![gauge], vec![sum], vec![hist], vec![exp], vec![summary]]
}

#[tokio::test]
async fn metrics_of_every_kind_land_column_by_column_over_grpc_and_http() {
    let gw = Gateway::start("metrics").await;
    let t = now_ns();
    let grpc = GrpcClient::connect(gw.grpc).await;
    let a = grpc
        .call(EXPORT, &[], grpc_frame(false, &request("grpc", t)))
        .await;
    assert_eq!(a.status.as_deref(), Some("0"), "{a:?}");
    let mut http = HttpClient::connect(gw.http).await;
    let r = http
        .request(
            "POST",
            "/v1/metrics",
            &[("content-type", "application/x-protobuf")],
            request("http-pb", t),
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    let r = http
        .request(
            "POST",
            "/v1/metrics",
            &[("content-type", "application/json")],
            json_request("http-json", t).into_bytes(),
        )
        .await;
    assert_eq!((r.status, r.body.as_ref()), (200, &b"{}"[..]), "{r:?}");
    for run in ["grpc", "http-pb", "http-json"] {
        assert_eq!(stored(&gw, run).await, expected(run, t), "{run}");
    }
    let empty = gw
        .query("SELECT count() FROM otel_metrics_gauge WHERE MetricName = 'empty'")
        .await;
    assert_eq!(empty, [["0"]], "a metric without points writes no row");

    // Bad input is refused and the connections keep working.
    let a = grpc
        .call(EXPORT, &[], grpc_frame(false, &[0x0a, 0x05, 0x12]))
        .await;
    assert_eq!(a.status.as_deref(), Some("3"), "{a:?}");
    let r = http
        .request(
            "POST",
            "/v1/metrics",
            &[("content-type", "application/json")],
            b"{\"resourceMetrics\":[{\"scopeMetrics\":7}]}".to_vec(),
        )
        .await;
    assert_eq!(r.status, 400, "{r:?}");
    let body = String::from_utf8_lossy(&r.body);
    assert!(
        body.contains("scopeMetrics"),
        "the error names the field: {body}"
    );
    let a = grpc
        .call(EXPORT, &[], grpc_frame(false, &request("after", t)))
        .await;
    assert_eq!(a.status.as_deref(), Some("0"), "{a:?}");
    assert_eq!(stored(&gw, "after").await, expected("after", t));
    gw.stop().await;
}
