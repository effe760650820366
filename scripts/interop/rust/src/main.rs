//! Send scripts/interop/cases.json as OTLP logs through the OpenTelemetry Rust logs SDK.
//!
//! ```text
//! send_logs --protocol grpc|http --endpoint URL [--gzip] --run-id ID [--base-time NS]
//! ```
//!
//! grpc: `opentelemetry-otlp`'s tonic exporter; http: its HTTP exporter in JSON mode
//! (`Protocol::HttpJson`, POST URL/v1/logs). Every record goes through the SDK's public logs API
//! (`Logger::create_log_record` / `emit`); one `SdkLoggerProvider` per resource in cases.json.
//! Exits 1 when any export failed: the batch processor only logs export errors, so the exporter
//! is wrapped and its results are checked. `--signal traces` sends trace_cases.json as spans
//! instead (traces.rs), `--signal metrics` metric_cases.json as metrics (metrics.rs).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use opentelemetry::logs::{AnyValue, LogRecord as _, Logger as _, LoggerProvider as _, Severity};
use opentelemetry::trace::{SpanId, TraceFlags, TraceId};
use opentelemetry::{Array, InstrumentationScope, Key, KeyValue, StringValue, Value};
use opentelemetry_otlp::{
    Compression, Protocol, WithExportConfig, WithHttpConfig, WithTonicConfig,
};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::logs::{
    BatchConfigBuilder, BatchLogProcessor, LogBatch, LogExporter, SdkLoggerProvider,
};
use opentelemetry_sdk::Resource;
use serde_json::Value as Json;

mod metrics;
mod traces;

struct Args {
    signal: String,
    protocol: String,
    endpoint: String,
    gzip: bool,
    run_id: String,
    base_time: Option<u64>,
    timeout: Duration,
    cases: String,
}

fn note(msg: &str) {
    eprintln!("send_logs (rust): {msg}");
}

fn usage() -> ! {
    note("usage: send_logs --protocol grpc|http --endpoint URL [--gzip] --run-id ID [--base-time NS] [--timeout S] [--cases FILE] [--signal logs|traces|metrics]");
    std::process::exit(2);
}

fn parse_args() -> Args {
    let mut it = std::env::args().skip(1);
    let default_cases = concat!(env!("CARGO_MANIFEST_DIR"), "/../cases.json").to_string();
    let (mut protocol, mut endpoint, mut run_id) = (None, None, None);
    let mut cases = None;
    let mut args = Args {
        signal: "logs".to_string(),
        protocol: String::new(),
        endpoint: String::new(),
        gzip: false,
        run_id: String::new(),
        base_time: None,
        timeout: Duration::from_secs(10),
        cases: default_cases,
    };
    while let Some(a) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| usage());
        match a.as_str() {
            "--protocol" => protocol = Some(value()),
            "--endpoint" => endpoint = Some(value()),
            "--run-id" => run_id = Some(value()),
            "--gzip" => args.gzip = true,
            "--base-time" => args.base_time = Some(value().parse().unwrap_or_else(|_| usage())),
            "--timeout" => {
                args.timeout = Duration::from_secs_f64(value().parse().unwrap_or_else(|_| usage()))
            }
            "--cases" => cases = Some(value()),
            "--signal" => args.signal = value(),
            _ => usage(),
        }
    }
    if args.signal == "traces" {
        args.cases = concat!(env!("CARGO_MANIFEST_DIR"), "/../trace_cases.json").to_string();
    } else if args.signal == "metrics" {
        args.cases = concat!(env!("CARGO_MANIFEST_DIR"), "/../metric_cases.json").to_string();
    } else if args.signal != "logs" {
        usage();
    }
    if let Some(c) = cases {
        args.cases = c;
    }
    match (protocol, endpoint, run_id) {
        (Some(p), Some(e), Some(r)) if p == "grpc" || p == "http" => {
            args.protocol = p;
            args.endpoint = e;
            args.run_id = r;
        }
        _ => usage(),
    }
    args
}

/// A typed cases.json value (`{"string": …}`, `{"int": …}`, …) as a log AnyValue.
fn any_value(v: &Json) -> AnyValue {
    let (kind, x) = v
        .as_object()
        .and_then(|o| o.iter().next())
        .expect("a typed value");
    match kind.as_str() {
        "string" => AnyValue::String(x.as_str().expect("string").to_string().into()),
        "int" => AnyValue::Int(x.as_i64().expect("int")),
        "double" => AnyValue::Double(x.as_f64().expect("double")),
        "bool" => AnyValue::Boolean(x.as_bool().expect("bool")),
        "bytes" => AnyValue::Bytes(Box::new(base64_decode(x.as_str().expect("base64")))),
        "array" => AnyValue::ListAny(Box::new(
            x.as_array().expect("array").iter().map(any_value).collect(),
        )),
        "map" => AnyValue::Map(Box::new(
            x.as_object()
                .expect("map")
                .iter()
                .map(|(k, e)| (Key::from(k.clone()), any_value(e)))
                .collect(),
        )),
        other => panic!("unknown value kind {other}"),
    }
}

/// Resource and scope attributes are `opentelemetry::Value`s: primitives and homogeneous arrays.
fn plain_attributes(attrs: Option<&Json>, whose: &str) -> Vec<KeyValue> {
    let mut out = Vec::new();
    for (key, v) in attrs.and_then(Json::as_object).into_iter().flatten() {
        let value = match any_value(v) {
            AnyValue::String(s) => Value::String(s),
            AnyValue::Int(i) => Value::I64(i),
            AnyValue::Double(d) => Value::F64(d),
            AnyValue::Boolean(b) => Value::Bool(b),
            AnyValue::ListAny(list) => match plain_array(&list) {
                Some(a) => Value::Array(a),
                None => {
                    note(&format!(
                        "{whose}: attribute {key}: not a homogeneous array; skipped"
                    ));
                    continue;
                }
            },
            _ => {
                note(&format!(
                    "{whose}: attribute {key}: the Rust SDK's Value has no map or bytes; skipped"
                ));
                continue;
            }
        };
        out.push(KeyValue::new(key.clone(), value));
    }
    out
}

fn plain_array(list: &[AnyValue]) -> Option<Array> {
    let all = |f: fn(&AnyValue) -> bool| list.iter().all(f);
    Some(if all(|v| matches!(v, AnyValue::String(_))) {
        Array::String(
            list.iter()
                .map(|v| {
                    if let AnyValue::String(s) = v {
                        s.clone()
                    } else {
                        StringValue::from("")
                    }
                })
                .collect(),
        )
    } else if all(|v| matches!(v, AnyValue::Int(_))) {
        Array::I64(
            list.iter()
                .map(|v| if let AnyValue::Int(i) = v { *i } else { 0 })
                .collect(),
        )
    } else if all(|v| matches!(v, AnyValue::Double(_))) {
        Array::F64(
            list.iter()
                .map(|v| if let AnyValue::Double(d) = v { *d } else { 0.0 })
                .collect(),
        )
    } else if all(|v| matches!(v, AnyValue::Boolean(_))) {
        Array::Bool(
            list.iter()
                .map(|v| matches!(v, AnyValue::Boolean(true)))
                .collect(),
        )
    } else {
        return None;
    })
}

fn base64_decode(s: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0);
    for c in s.bytes().filter(|&c| c != b'=') {
        let v = ALPHABET.iter().position(|&a| a == c).expect("base64") as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

fn severity(n: u64) -> Severity {
    use Severity::*;
    const ALL: [Severity; 24] = [
        Trace, Trace2, Trace3, Trace4, Debug, Debug2, Debug3, Debug4, Info, Info2, Info3, Info4,
        Warn, Warn2, Warn3, Warn4, Error, Error2, Error3, Error4, Fatal, Fatal2, Fatal3, Fatal4,
    ];
    ALL[(n as usize).checked_sub(1).expect("severity number 1..=24")]
}

/// The SDK's setters take `&'static str`; this process is short-lived.
fn leak(s: &str) -> &'static str {
    Box::leak(s.to_string().into_boxed_str())
}

/// Wraps the OTLP exporter and remembers whether any export failed.
#[derive(Debug)]
struct Checked<E> {
    inner: E,
    failed: Arc<AtomicBool>,
    exported: Arc<AtomicUsize>,
}

impl<E: LogExporter> LogExporter for Checked<E> {
    async fn export(&self, batch: LogBatch<'_>) -> OTelSdkResult {
        let n = batch.iter().count();
        let result = self.inner.export(batch).await;
        match &result {
            Ok(()) => {
                self.exported.fetch_add(n, Ordering::SeqCst);
            }
            Err(e) => {
                self.failed.store(true, Ordering::SeqCst);
                note(&format!("export of {n} records failed: {e}"));
            }
        }
        result
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

fn make_exporter(args: &Args) -> opentelemetry_otlp::LogExporter {
    let built = if args.protocol == "grpc" {
        let mut b = opentelemetry_otlp::LogExporter::builder()
            .with_tonic()
            .with_endpoint(args.endpoint.clone())
            .with_timeout(args.timeout);
        if args.gzip {
            b = b.with_compression(Compression::Gzip);
        }
        b.build()
    } else {
        let mut b = opentelemetry_otlp::LogExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpJson)
            .with_endpoint(format!("{}/v1/logs", args.endpoint.trim_end_matches('/')))
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

fn main() {
    let args = parse_args();
    let base = args.base_time.unwrap_or_else(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("clock after 1970")
            .as_secs()
            * 1_000_000_000
    });
    let at = |offset: &Json| {
        UNIX_EPOCH
            + Duration::from_nanos(
                base.checked_add_signed(offset.as_i64().expect("ns"))
                    .expect("time"),
            )
    };
    let text = std::fs::read_to_string(&args.cases).unwrap_or_else(|e| {
        note(&format!("cannot read {}: {e}", args.cases));
        std::process::exit(2);
    });
    let cases: Json = serde_json::from_str(&text).expect("cases.json is JSON");

    // tonic needs a Tokio runtime to build its channel on; the batch processor exports from its
    // own thread. The blocking HTTP client must not be created inside a runtime.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    if args.signal == "traces" || args.signal == "metrics" {
        let ok = if args.signal == "traces" {
            traces::run(&args, &cases, &runtime, &at)
        } else {
            metrics::run(&args, &cases, &runtime)
        };
        runtime.shutdown_timeout(Duration::from_secs(1));
        if !ok {
            note("FAILED: at least one export did not succeed");
            std::process::exit(1);
        }
        return;
    }
    let failed = Arc::new(AtomicBool::new(false));
    let exported = Arc::new(AtomicUsize::new(0));
    let mut providers = Vec::new();

    for (ri, res) in cases["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .enumerate()
    {
        let mut attrs = plain_attributes(res.get("attributes"), &format!("resource {ri}"));
        attrs.push(KeyValue::new("test.run_id", args.run_id.clone()));
        // builder() merges the SDK's defaults (service.name, telemetry.sdk.*); builder_empty() not.
        let builder = if res["sdk_defaults"].as_bool() == Some(true) {
            Resource::builder()
        } else {
            Resource::builder_empty()
        };
        // with_schema_url(attrs, url) would let the defaults win over attrs (it merges the
        // builder's resource into the new one), so the URL goes in alone, the attributes after.
        let builder = match res.get("schema_url").and_then(Json::as_str) {
            Some(url) => builder.with_schema_url([], url.to_string()),
            None => builder,
        };
        let resource = builder.with_attributes(attrs).build();
        let exporter = {
            let _guard = (args.protocol == "grpc").then(|| runtime.enter());
            make_exporter(&args)
        };
        let checked = Checked {
            inner: exporter,
            failed: failed.clone(),
            exported: exported.clone(),
        };
        let processor = BatchLogProcessor::builder(checked)
            .with_batch_config(
                BatchConfigBuilder::default()
                    .with_scheduled_delay(Duration::from_secs(60))
                    .with_max_export_batch_size(512)
                    .build(),
            )
            .build();
        let provider = SdkLoggerProvider::builder()
            .with_resource(resource)
            .with_log_processor(processor)
            .build();

        for scope in res["scopes"].as_array().expect("scopes") {
            let name = scope["name"].as_str().expect("scope name").to_string();
            let mut sb = InstrumentationScope::builder(name.clone());
            if let Some(v) = scope.get("version").and_then(Json::as_str) {
                sb = sb.with_version(v.to_string());
            }
            if let Some(u) = scope.get("schema_url").and_then(Json::as_str) {
                sb = sb.with_schema_url(u.to_string());
            }
            let scope_attrs = plain_attributes(scope.get("attributes"), &format!("scope {name}"));
            if !scope_attrs.is_empty() {
                sb = sb.with_attributes(scope_attrs);
            }
            let logger = provider.logger_with_scope(sb.build());
            for rec in scope["records"].as_array().expect("records") {
                let mut record = logger.create_log_record();
                if let Some(t) = rec.get("time_offset_ns") {
                    record.set_timestamp(at(t));
                }
                if let Some(t) = rec.get("observed_offset_ns") {
                    record.set_observed_timestamp(at(t));
                }
                if let Some(n) = rec.get("severity_number").and_then(Json::as_u64) {
                    record.set_severity_number(severity(n));
                }
                if let Some(s) = rec.get("severity_text").and_then(Json::as_str) {
                    record.set_severity_text(leak(s));
                }
                if let Some(s) = rec.get("event_name").and_then(Json::as_str) {
                    record.set_event_name(leak(s));
                }
                if let Some(b) = rec.get("body") {
                    record.set_body(any_value(b));
                }
                if let Some(t) = rec.get("trace_id").and_then(Json::as_str) {
                    let span = rec["span_id"].as_str().expect("span_id");
                    let flags = rec.get("flags").and_then(Json::as_u64).unwrap_or(0) as u8;
                    record.set_trace_context(
                        TraceId::from_hex(t).expect("trace id hex"),
                        SpanId::from_hex(span).expect("span id hex"),
                        Some(TraceFlags::new(flags)),
                    );
                }
                for (k, v) in rec
                    .get("attributes")
                    .and_then(Json::as_object)
                    .into_iter()
                    .flatten()
                {
                    record.add_attribute(Key::from(k.clone()), any_value(v));
                }
                record.add_attribute("test.seq", rec["seq"].as_i64().expect("seq"));
                logger.emit(record);
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
    runtime.shutdown_timeout(Duration::from_secs(1));
    if !ok || failed.load(Ordering::SeqCst) {
        note("FAILED: at least one export did not succeed");
        std::process::exit(1);
    }
    note(&format!(
        "exported {} records",
        exported.load(Ordering::SeqCst)
    ));
}
