//! OTLP traces through a running gateway into `otel_traces`, over gRPC (protobuf) and
//! HTTP (JSON), every column of every span compared with what was sent.

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{
    AnyValue, InstrumentationScope, KeyValue, any_value::Value,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status, span};
use prost::Message;

use crate::gateway::{Gateway, GrpcClient, HttpClient, grpc_frame};
use crate::support::{kv, now_ns};

const EXPORT: &str = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

/// A root server span with an event and a link, and a failed client child span.
fn request(trace: u8, t: u64) -> Vec<u8> {
    let root = Span {
        trace_id: vec![trace; 16],
        span_id: vec![0x21; 8],
        name: "GET /cart".into(),
        kind: span::SpanKind::Server as i32,
        start_time_unix_nano: t,
        end_time_unix_nano: t + 1_500_000,
        attributes: vec![
            kv("http.method", "GET"),
            KeyValue {
                key: "http.status_code".into(),
                value: Some(AnyValue {
                    value: Some(Value::IntValue(200)),
                }),
                ..Default::default()
            },
        ],
        events: vec![span::Event {
            time_unix_nano: t + 1_000,
            name: "cache miss".into(),
            attributes: vec![kv("k", "v")],
            dropped_attributes_count: 0,
        }],
        links: vec![span::Link {
            trace_id: vec![0x33; 16],
            span_id: vec![0x44; 8],
            trace_state: "a=b".into(),
            attributes: vec![kv("link.kind", "follows")],
            ..Default::default()
        }],
        status: Some(Status {
            message: String::new(),
            code: 1,
        }),
        ..Default::default()
    };
    let child = Span {
        trace_id: vec![trace; 16],
        span_id: vec![0x22; 8],
        parent_span_id: vec![0x21; 8],
        trace_state: "x=1".into(),
        name: "SELECT".into(),
        kind: span::SpanKind::Client as i32,
        start_time_unix_nano: t + 100,
        end_time_unix_nano: t + 900_100,
        attributes: vec![kv("SampleRate", "10")],
        status: Some(Status {
            message: "timeout".into(),
            code: 2,
        }),
        ..Default::default()
    };
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![kv("service.name", "shop"), kv("rum.sessionId", "sess-1")],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                scope: Some(InstrumentationScope {
                    name: "tracer".into(),
                    version: "1.0".into(),
                    ..Default::default()
                }),
                spans: vec![root, child],
                schema_url: String::new(),
            }],
            schema_url: String::new(),
        }],
    }
    .encode_to_vec()
}

/// The same spans in OTLP/JSON, written by hand.
fn json_request(trace: u8, t: u64) -> Vec<u8> {
    let tid = format!("{trace:02x}").repeat(16);
    format!(
        r#"{{"resourceSpans":[{{"resource":{{"attributes":[
            {{"key":"service.name","value":{{"stringValue":"shop"}}}},
            {{"key":"rum.sessionId","value":{{"stringValue":"sess-1"}}}}]}},
          "scopeSpans":[{{"scope":{{"name":"tracer","version":"1.0"}},"spans":[
            {{"traceId":"{tid}","spanId":"2121212121212121","name":"GET /cart","kind":2,
              "startTimeUnixNano":"{t}","endTimeUnixNano":"{}",
              "attributes":[{{"key":"http.method","value":{{"stringValue":"GET"}}}},
                            {{"key":"http.status_code","value":{{"intValue":"200"}}}}],
              "events":[{{"timeUnixNano":"{}","name":"cache miss","attributes":[{{"key":"k","value":{{"stringValue":"v"}}}}]}}],
              "links":[{{"traceId":"{}","spanId":"4444444444444444","traceState":"a=b",
                         "attributes":[{{"key":"link.kind","value":{{"stringValue":"follows"}}}}]}}],
              "status":{{"code":1}}}},
            {{"traceId":"{tid}","spanId":"2222222222222222","parentSpanId":"2121212121212121",
              "traceState":"x=1","name":"SELECT","kind":"SPAN_KIND_CLIENT",
              "startTimeUnixNano":{},"endTimeUnixNano":{},
              "attributes":[{{"key":"SampleRate","value":{{"stringValue":"10"}}}}],
              "status":{{"code":"STATUS_CODE_ERROR","message":"timeout"}}}}]}}]}}]}}"#,
        t + 1_500_000,
        t + 1_000,
        "33".repeat(16),
        t + 100,
        t + 900_100,
    )
    .into_bytes()
}

/// Every column of the two spans of `trace`, as TabSeparatedRaw fields.
async fn spans(gw: &Gateway, trace: u8) -> Vec<Vec<String>> {
    let tid = format!("{trace:02x}").repeat(16);
    gw.query(&format!(
        "SELECT toUnixTimestamp64Nano(Timestamp), TraceId, SpanId, ParentSpanId, TraceState, SpanName, SpanKind, \
         ServiceName, toString(ResourceAttributes), ScopeName, ScopeVersion, toString(SpanAttributes), Duration, \
         StatusCode, StatusMessage, toString(arrayMap(x -> toUnixTimestamp64Nano(x), `Events.Timestamp`)), \
         toString(`Events.Name`), toString(`Events.Attributes`), toString(`Links.TraceId`), toString(`Links.SpanId`), \
         toString(`Links.TraceState`), toString(`Links.Attributes`), SampleRate, `__hdx_materialized_rum.sessionId` \
         FROM otel_traces WHERE TraceId = '{tid}' ORDER BY SpanId"
    ))
    .await
}

fn expected(trace: u8, t: u64) -> Vec<Vec<String>> {
    let tid = format!("{trace:02x}").repeat(16);
    let res = "{'service.name':'shop','rum.sessionId':'sess-1'}";
    let root = vec![
        t.to_string(),
        tid.clone(),
        "2121212121212121".into(),
        String::new(),
        String::new(),
        "GET /cart".into(),
        "Server".into(),
        "shop".into(),
        res.into(),
        "tracer".into(),
        "1.0".into(),
        "{'http.method':'GET','http.status_code':'200'}".into(),
        "1500000".into(),
        "Ok".into(),
        String::new(),
        format!("[{}]", t + 1_000),
        "['cache miss']".into(),
        "[{'k':'v'}]".into(),
        format!("['{}']", "33".repeat(16)),
        "['4444444444444444']".into(),
        "['a=b']".into(),
        "[{'link.kind':'follows'}]".into(),
        "1".into(),
        "sess-1".into(),
    ];
    let child = vec![
        (t + 100).to_string(),
        tid,
        "2222222222222222".into(),
        "2121212121212121".into(),
        "x=1".into(),
        "SELECT".into(),
        "Client".into(),
        "shop".into(),
        res.into(),
        "tracer".into(),
        "1.0".into(),
        "{'SampleRate':'10'}".into(),
        "900000".into(),
        "Error".into(),
        "timeout".into(),
        "[]".into(),
        "[]".into(),
        "[]".into(),
        "[]".into(),
        "[]".into(),
        "[]".into(),
        "[]".into(),
        "10".into(),
        "sess-1".into(),
    ];
    vec![root, child]
}

#[tokio::test]
async fn spans_over_grpc_and_http_json_land_column_by_column() {
    let gw = Gateway::start("traces").await;
    let t = now_ns();
    let grpc = GrpcClient::connect(gw.grpc).await;
    let a = grpc
        .call(EXPORT, &[], grpc_frame(false, &request(0xa1, t)))
        .await;
    assert_eq!(a.status.as_deref(), Some("0"), "{a:?}");
    let mut http = HttpClient::connect(gw.http).await;
    let r = http
        .request(
            "POST",
            "/v1/traces",
            &[("content-type", "application/json")],
            json_request(0xb2, t),
        )
        .await;
    assert_eq!((r.status, r.body.as_ref()), (200, &b"{}"[..]), "{r:?}");
    assert_eq!(spans(&gw, 0xa1).await, expected(0xa1, t), "gRPC protobuf");
    assert_eq!(spans(&gw, 0xb2).await, expected(0xb2, t), "HTTP JSON");

    // Bad input is refused and the connections keep working.
    let a = grpc
        .call(EXPORT, &[], grpc_frame(false, &[0x0a, 0x05, 0x12]))
        .await;
    assert_eq!(a.status.as_deref(), Some("3"), "{a:?}");
    let r = http
        .request(
            "POST",
            "/v1/traces",
            &[("content-type", "application/json")],
            b"{\"resourceSpans\":[{".to_vec(),
        )
        .await;
    assert_eq!(r.status, 400, "{r:?}");
    let r = http
        .request(
            "POST",
            "/v1/traces",
            &[("content-type", "application/x-protobuf")],
            request(0xc3, t),
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(spans(&gw, 0xc3).await.len(), 2);
    gw.stop().await;
}

#[tokio::test]
async fn many_resources_with_thousands_of_spans_each_land_complete() {
    const RESOURCES: u64 = 20;
    const SPANS: u64 = 2_000;
    let gw = Gateway::start("manyspans").await;
    let t = now_ns();
    let resource_spans = (0..RESOURCES)
        .map(|r| ResourceSpans {
            resource: Some(Resource {
                attributes: vec![kv("service.name", &format!("svc-{r}")), kv("case", "many")],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                scope: Some(InstrumentationScope {
                    name: "bulk".into(),
                    ..Default::default()
                }),
                spans: (0..SPANS)
                    .map(|i| Span {
                        trace_id: (r * SPANS + i + 1).to_be_bytes().repeat(2),
                        span_id: (r * SPANS + i + 1).to_be_bytes().to_vec(),
                        name: format!("op-{}", i % 7),
                        start_time_unix_nano: t + i,
                        end_time_unix_nano: t + i + 10,
                        attributes: vec![kv("i", &i.to_string())],
                        ..Default::default()
                    })
                    .collect(),
                schema_url: String::new(),
            }],
            schema_url: String::new(),
        })
        .collect();
    let body = ExportTraceServiceRequest { resource_spans }.encode_to_vec();
    let a = GrpcClient::connect(gw.grpc)
        .await
        .call(EXPORT, &[], grpc_frame(false, &body))
        .await;
    assert_eq!(a.status.as_deref(), Some("0"), "{a:?}");
    // Span ids are 1..=40,000 as big-endian u64s: count them, and sum them back.
    let n = RESOURCES * SPANS;
    let row = &gw
        .query(
            "SELECT count(), uniqExact(TraceId, SpanId), uniqExact(ServiceName), \
             sum(reinterpretAsUInt64(reverse(unhex(SpanId)))) \
             FROM otel_traces WHERE ResourceAttributes['case'] = 'many'",
        )
        .await[0];
    assert_eq!(
        row,
        &[
            n.to_string(),
            n.to_string(),
            RESOURCES.to_string(),
            (n * (n + 1) / 2).to_string()
        ]
    );
    gw.stop().await;
}
