//! `send_logs --signal traces`: sends scripts/interop/trace_cases.json as OTLP traces through the
//! OpenTelemetry Rust tracing SDK (`Tracer::span_builder` … `start_with_context`,
//! `add_event_with_timestamp`, `set_status`, `end_with_timestamp`); one `SdkTracerProvider` per
//! resource, all with the same deterministic `IdGenerator`. grpc: tonic; http: HTTP/JSON to
//! URL/v1/traces. Exits 1 when any export failed (the exporter is wrapped and checked).

use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use opentelemetry::trace::{
    Link, Span as _, SpanContext, SpanId, SpanKind, Status, TraceContextExt, TraceFlags, TraceId,
    TraceState, Tracer as _, TracerProvider as _,
};
use opentelemetry::{Context, InstrumentationScope, KeyValue};
use opentelemetry_otlp::{Compression, Protocol, WithExportConfig, WithHttpConfig, WithTonicConfig};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{
    BatchConfigBuilder, BatchSpanProcessor, IdGenerator, SdkTracer, SdkTracerProvider, SpanData,
    SpanExporter,
};
use opentelemetry_sdk::Resource;
use serde_json::Value as Json;

use super::{note, plain_attributes, Args};

/// The n-th trace / span id generated is BASE + n (trace_cases.json).
#[derive(Debug, Clone, Default)]
struct CountingIds {
    traces: Arc<AtomicU64>,
    spans: Arc<AtomicU64>,
}

impl IdGenerator for CountingIds {
    fn new_trace_id(&self) -> TraceId {
        let n = self.traces.fetch_add(1, Ordering::SeqCst) + 1;
        TraceId::from_bytes((0x5eed0000000000000000000000000000u128 + n as u128).to_be_bytes())
    }

    fn new_span_id(&self) -> SpanId {
        let n = self.spans.fetch_add(1, Ordering::SeqCst) + 1;
        SpanId::from_bytes((0x5eed000000000000u64 + n).to_be_bytes())
    }
}

#[derive(Debug)]
struct Checked<E> {
    inner: E,
    failed: Arc<AtomicBool>,
    exported: Arc<AtomicUsize>,
}

impl<E: SpanExporter> SpanExporter for Checked<E> {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let n = batch.len();
        let result = self.inner.export(batch).await;
        match &result {
            Ok(()) => {
                self.exported.fetch_add(n, Ordering::SeqCst);
            }
            Err(e) => {
                self.failed.store(true, Ordering::SeqCst);
                note(&format!("export of {n} spans failed: {e}"));
            }
        }
        result
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

fn make_exporter(args: &Args) -> opentelemetry_otlp::SpanExporter {
    let built = if args.protocol == "grpc" {
        let mut b = opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .with_endpoint(args.endpoint.clone())
            .with_timeout(args.timeout);
        if args.gzip {
            b = b.with_compression(Compression::Gzip);
        }
        b.build()
    } else {
        let mut b = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpJson)
            .with_endpoint(format!("{}/v1/traces", args.endpoint.trim_end_matches('/')))
            .with_timeout(args.timeout);
        if args.gzip {
            b = b.with_compression(Compression::Gzip);
        }
        b.build()
    };
    built.unwrap_or_else(|e| {
        note(&format!("cannot build the exporter: {e}"));
        std::process::exit(1);
    })
}

fn span_context(d: &Json) -> SpanContext {
    let state = match d.get("trace_state").and_then(Json::as_str) {
        Some(s) => TraceState::from_str(s).expect("trace state"),
        None => TraceState::default(),
    };
    SpanContext::new(
        TraceId::from_hex(d["trace_id"].as_str().expect("trace_id")).expect("hex"),
        SpanId::from_hex(d["span_id"].as_str().expect("span_id")).expect("hex"),
        TraceFlags::SAMPLED,
        true,
        state,
    )
}

fn kind(k: &str) -> SpanKind {
    match k {
        "internal" => SpanKind::Internal,
        "server" => SpanKind::Server,
        "client" => SpanKind::Client,
        "producer" => SpanKind::Producer,
        "consumer" => SpanKind::Consumer,
        other => panic!("unknown span kind {other}"),
    }
}

fn emit(tracer: &SdkTracer, case: &Json, parent: &Context, at: &dyn Fn(&Json) -> SystemTime) {
    let seq = case["seq"].as_i64().expect("seq");
    let cx = match case.get("remote_parent") {
        Some(rp) => Context::new().with_remote_span_context(span_context(rp)),
        None => parent.clone(),
    };
    let mut attrs = plain_attributes(case.get("attributes"), &format!("span {seq}"));
    attrs.push(KeyValue::new("test.seq", seq));
    let links: Vec<Link> = case
        .get("links")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .map(|l| {
            Link::new(
                span_context(l),
                plain_attributes(l.get("attributes"), &format!("span {seq} link")),
                0,
            )
        })
        .collect();
    let mut span = tracer
        .span_builder(case["name"].as_str().expect("name").to_string())
        .with_kind(kind(case["kind"].as_str().expect("kind")))
        .with_attributes(attrs)
        .with_links(links)
        .with_start_time(at(&case["start_offset_ns"]))
        .start_with_context(tracer, &cx);
    for ev in case.get("events").and_then(Json::as_array).into_iter().flatten() {
        span.add_event_with_timestamp(
            ev["name"].as_str().expect("event name").to_string(),
            at(&ev["offset_ns"]),
            plain_attributes(ev.get("attributes"), &format!("span {seq} event")),
        );
    }
    if let Some(status) = case.get("status") {
        if status["code"] == "ok" {
            span.set_status(Status::Ok);
        } else {
            let msg = status.get("message").and_then(Json::as_str).unwrap_or("");
            span.set_status(Status::error(msg.to_string()));
        }
    }
    let child_cx = cx.with_span(span);
    for child in case.get("children").and_then(Json::as_array).into_iter().flatten() {
        emit(tracer, child, &child_cx, at);
    }
    child_cx.span().end_with_timestamp(at(&case["end_offset_ns"]));
}

pub fn run(args: &Args, cases: &Json, runtime: &tokio::runtime::Runtime, at: &dyn Fn(&Json) -> SystemTime) -> bool {
    let failed = Arc::new(AtomicBool::new(false));
    let exported = Arc::new(AtomicUsize::new(0));
    let ids = CountingIds::default();
    let mut providers = Vec::new();
    for (ri, res) in cases["resources"].as_array().expect("resources").iter().enumerate() {
        let mut attrs = plain_attributes(res.get("attributes"), &format!("resource {ri}"));
        attrs.push(KeyValue::new("test.run_id", args.run_id.clone()));
        let builder = if res["sdk_defaults"].as_bool() == Some(true) {
            Resource::builder()
        } else {
            Resource::builder_empty()
        };
        let builder = match res.get("schema_url").and_then(Json::as_str) {
            Some(url) => builder.with_schema_url([], url.to_string()),
            None => builder,
        };
        let resource = builder.with_attributes(attrs).build();
        let exporter = {
            let _guard = (args.protocol == "grpc").then(|| runtime.enter());
            make_exporter(args)
        };
        let checked = Checked { inner: exporter, failed: failed.clone(), exported: exported.clone() };
        let processor = BatchSpanProcessor::builder(checked)
            .with_batch_config(
                BatchConfigBuilder::default()
                    .with_scheduled_delay(Duration::from_secs(60))
                    .with_max_export_batch_size(512)
                    .build(),
            )
            .build();
        let provider = SdkTracerProvider::builder()
            .with_resource(resource)
            .with_id_generator(ids.clone())
            .with_span_processor(processor)
            .build();
        for scope in res["scopes"].as_array().expect("scopes") {
            let mut sb = InstrumentationScope::builder(scope["name"].as_str().expect("scope name").to_string());
            if let Some(v) = scope.get("version").and_then(Json::as_str) {
                sb = sb.with_version(v.to_string());
            }
            if let Some(u) = scope.get("schema_url").and_then(Json::as_str) {
                sb = sb.with_schema_url(u.to_string());
            }
            let tracer = provider.tracer_with_scope(sb.build());
            for case in scope["spans"].as_array().expect("spans") {
                emit(&tracer, case, &Context::new(), at);
            }
        }
        providers.push(provider);
    }
    let mut ok = true;
    for provider in &providers {
        if let Err(e) = provider.force_flush() {
            note(&format!("force_flush failed: {e}"));
            ok = false;
        }
        if let Err(e) = provider.shutdown() {
            note(&format!("shutdown failed: {e}"));
            ok = false;
        }
    }
    drop(providers);
    if ok && !failed.load(Ordering::SeqCst) {
        note(&format!("exported {} spans", exported.load(Ordering::SeqCst)));
        true
    } else {
        false
    }
}
