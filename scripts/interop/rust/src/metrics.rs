//! `send_logs --signal metrics`: sends scripts/interop/metric_cases.json as OTLP metrics through
//! the OpenTelemetry Rust metrics SDK (`u64_counter` / `f64_counter` `add`, `i64_up_down_counter` /
//! `f64_up_down_counter` `add`, `f64_histogram` / `u64_histogram` `record` with advisory
//! boundaries (`with_boundaries`), observable gauges with callbacks); one `SdkMeterProvider` with a
//! `PeriodicReader` whose interval (an hour) never elapses: `shutdown()` makes its one collection
//! and export (cumulative temporality, the exporter's default; `force_flush()` as well would
//! export a second time). The exponential histogram is a View (`Aggregation::Base2ExponentialHistogram`).
//! The SDK has no exemplars, so `exemplar_span` in the cases has no effect here. grpc: tonic;
//! http: HTTP/JSON to URL/v1/metrics. Exits 1 when the export failed (the exporter is wrapped).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use opentelemetry::metrics::MeterProvider as _;
use opentelemetry::{InstrumentationScope, KeyValue};
use opentelemetry_otlp::{
    Compression, Protocol, WithExportConfig, WithHttpConfig, WithTonicConfig,
};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::metrics::{
    Aggregation, Instrument, PeriodicReader, SdkMeterProvider, Stream, Temporality,
};
use opentelemetry_sdk::Resource;
use serde_json::Value as Json;

use super::{note, plain_attributes, Args};

/// Wraps the OTLP exporter and remembers whether any export failed.
#[derive(Debug)]
struct Checked<E> {
    inner: E,
    failed: Arc<AtomicBool>,
    exports: Arc<AtomicUsize>,
}

impl<E: PushMetricExporter> PushMetricExporter for Checked<E> {
    async fn export(&self, metrics: &ResourceMetrics) -> OTelSdkResult {
        let result = self.inner.export(metrics).await;
        match &result {
            Ok(()) => {
                self.exports.fetch_add(1, Ordering::SeqCst);
            }
            Err(e) => {
                self.failed.store(true, Ordering::SeqCst);
                note(&format!("export of the metrics failed: {e}"));
            }
        }
        result
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn temporality(&self) -> Temporality {
        self.inner.temporality()
    }
}

fn make_exporter(args: &Args) -> opentelemetry_otlp::MetricExporter {
    let built = if args.protocol == "grpc" {
        let mut b = opentelemetry_otlp::MetricExporter::builder()
            .with_tonic()
            .with_endpoint(args.endpoint.clone())
            .with_timeout(args.timeout);
        if args.gzip {
            b = b.with_compression(Compression::Gzip);
        }
        b.build()
    } else {
        let mut b = opentelemetry_otlp::MetricExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpJson)
            .with_endpoint(format!(
                "{}/v1/metrics",
                args.endpoint.trim_end_matches('/')
            ))
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

fn text(case: &Json, key: &str) -> String {
    case.get(key)
        .and_then(Json::as_str)
        .unwrap_or("")
        .to_string()
}

/// The points of an instrument: (attributes with test.seq, the point's JSON).
fn points(case: &Json) -> Vec<(Vec<KeyValue>, &Json)> {
    let name = text(case, "name");
    case["points"]
        .as_array()
        .expect("points")
        .iter()
        .map(|p| {
            let seq = p["seq"].as_i64().expect("seq");
            let mut attrs = plain_attributes(p.get("attributes"), &format!("{name} point {seq}"));
            attrs.push(KeyValue::new("test.seq", seq));
            (attrs, p)
        })
        .collect()
}

fn values(p: &Json) -> impl Iterator<Item = &Json> {
    p["values"].as_array().expect("values").iter()
}

fn f64_of(v: &Json) -> f64 {
    v.as_f64().expect("a number")
}

fn i64_of(v: &Json) -> i64 {
    v.as_i64().expect("an integer")
}

fn u64_of(v: &Json) -> u64 {
    v.as_u64().expect("a non-negative integer")
}

/// Creates the instrument of one case and records its values (observable gauges: registers the
/// callback).
fn instrument(meter: &opentelemetry::metrics::Meter, case: &Json) {
    let name = text(case, "name");
    let (description, unit) = (text(case, "description"), text(case, "unit"));
    let int = case["type"] == "int";
    let pts = points(case);
    match (case["kind"].as_str().expect("kind"), int) {
        ("counter", true) => {
            let c = meter
                .u64_counter(name)
                .with_description(description)
                .with_unit(unit)
                .build();
            for (attrs, p) in &pts {
                values(p).for_each(|v| c.add(u64_of(v), attrs));
            }
        }
        ("counter", false) => {
            let c = meter
                .f64_counter(name)
                .with_description(description)
                .with_unit(unit)
                .build();
            for (attrs, p) in &pts {
                values(p).for_each(|v| c.add(f64_of(v), attrs));
            }
        }
        ("updowncounter", true) => {
            let c = meter
                .i64_up_down_counter(name)
                .with_description(description)
                .with_unit(unit)
                .build();
            for (attrs, p) in &pts {
                values(p).for_each(|v| c.add(i64_of(v), attrs));
            }
        }
        ("updowncounter", false) => {
            let c = meter
                .f64_up_down_counter(name)
                .with_description(description)
                .with_unit(unit)
                .build();
            for (attrs, p) in &pts {
                values(p).for_each(|v| c.add(f64_of(v), attrs));
            }
        }
        ("histogram" | "exponential_histogram", true) => {
            let mut b = meter
                .u64_histogram(name)
                .with_description(description)
                .with_unit(unit);
            if let Some(bounds) = case.get("boundaries").and_then(Json::as_array) {
                b = b.with_boundaries(bounds.iter().map(f64_of).collect());
            }
            let h = b.build();
            for (attrs, p) in &pts {
                values(p).for_each(|v| h.record(u64_of(v), attrs));
            }
        }
        ("histogram" | "exponential_histogram", false) => {
            let mut b = meter
                .f64_histogram(name)
                .with_description(description)
                .with_unit(unit);
            if let Some(bounds) = case.get("boundaries").and_then(Json::as_array) {
                b = b.with_boundaries(bounds.iter().map(f64_of).collect());
            }
            let h = b.build();
            for (attrs, p) in &pts {
                values(p).for_each(|v| h.record(f64_of(v), attrs));
            }
        }
        ("observable_gauge", true) => {
            let obs: Vec<(i64, Vec<KeyValue>)> = pts
                .into_iter()
                .map(|(a, p)| (i64_of(&p["value"]), a))
                .collect();
            meter
                .i64_observable_gauge(name)
                .with_description(description)
                .with_unit(unit)
                .with_callback(move |o| obs.iter().for_each(|(v, a)| o.observe(*v, a)))
                .build();
        }
        ("observable_gauge", false) => {
            let obs: Vec<(f64, Vec<KeyValue>)> = pts
                .into_iter()
                .map(|(a, p)| (f64_of(&p["value"]), a))
                .collect();
            meter
                .f64_observable_gauge(name)
                .with_description(description)
                .with_unit(unit)
                .with_callback(move |o| obs.iter().for_each(|(v, a)| o.observe(*v, a)))
                .build();
        }
        (other, _) => panic!("unknown instrument kind {other}"),
    }
}

pub fn run(args: &Args, cases: &Json, runtime: &tokio::runtime::Runtime) -> bool {
    let failed = Arc::new(AtomicBool::new(false));
    let exports = Arc::new(AtomicUsize::new(0));
    let res = &cases["resource"];
    let mut attrs = plain_attributes(res.get("attributes"), "resource");
    attrs.push(KeyValue::new("test.run_id", args.run_id.clone()));
    // with_schema_url(attrs, url) would let the defaults win over attrs (see main.rs).
    let builder = match res.get("schema_url").and_then(Json::as_str) {
        Some(url) => Resource::builder().with_schema_url([], url.to_string()),
        None => Resource::builder(),
    };
    let resource = builder.with_attributes(attrs).build();
    let exporter = {
        let _guard = (args.protocol == "grpc").then(|| runtime.enter());
        make_exporter(args)
    };
    let checked = Checked {
        inner: exporter,
        failed: failed.clone(),
        exports: exports.clone(),
    };
    let reader = PeriodicReader::builder(checked)
        .with_interval(Duration::from_secs(3600))
        .build();
    let mut builder = SdkMeterProvider::builder()
        .with_resource(resource)
        .with_reader(reader);
    for meter in cases["meters"].as_array().expect("meters") {
        for case in meter["instruments"].as_array().expect("instruments") {
            if case["kind"] != "exponential_histogram" {
                continue;
            }
            let (name, max_size, max_scale) = (
                text(case, "name"),
                case["max_size"].as_u64().expect("max_size") as u32,
                case["max_scale"].as_i64().expect("max_scale") as i8,
            );
            builder = builder.with_view(move |i: &Instrument| {
                (i.name() == name).then(|| {
                    Stream::builder()
                        .with_aggregation(Aggregation::Base2ExponentialHistogram {
                            max_size,
                            max_scale,
                            record_min_max: true,
                        })
                        .build()
                        .expect("a valid stream")
                })
            });
        }
    }
    let provider = builder.build();
    for m in cases["meters"].as_array().expect("meters") {
        let mname = text(m, "name");
        let mut sb = InstrumentationScope::builder(mname.clone());
        if let Some(v) = m.get("version").and_then(Json::as_str) {
            sb = sb.with_version(v.to_string());
        }
        if let Some(u) = m.get("schema_url").and_then(Json::as_str) {
            sb = sb.with_schema_url(u.to_string());
        }
        let scope_attrs = plain_attributes(m.get("attributes"), &format!("meter {mname}"));
        if !scope_attrs.is_empty() {
            sb = sb.with_attributes(scope_attrs);
        }
        let meter = provider.meter_with_scope(sb.build());
        for case in m["instruments"].as_array().expect("instruments") {
            instrument(&meter, case);
        }
    }
    // The one collection and export.
    let mut ok = true;
    if let Err(e) = provider.shutdown() {
        note(&format!("shutdown failed: {e}"));
        ok = false;
    }
    drop(provider);
    let n = exports.load(Ordering::SeqCst);
    if ok && !failed.load(Ordering::SeqCst) && n == 1 {
        note("exported the metrics (1 export)");
        true
    } else {
        note(&format!("{n} successful exports (exactly 1 expected)"));
        false
    }
}
