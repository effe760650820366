#!/usr/bin/env node
// Send scripts/interop/metric_cases.json as OTLP metrics through the OpenTelemetry JS metrics SDK.
//
//   node send_metrics.mjs --protocol grpc|http --endpoint URL [--gzip] --run-id ID [--base-time NS]
//
// grpc: @opentelemetry/exporter-metrics-otlp-grpc (@grpc/grpc-js); http:
// @opentelemetry/exporter-metrics-otlp-http, which POSTs OTLP/JSON to URL/v1/metrics. Every
// measurement goes through the SDK's public metrics API (Counter.add, UpDownCounter.add,
// Histogram.record with advisory bucket boundaries, observable gauge callbacks); one MeterProvider
// with a PeriodicExportingMetricReader whose interval never elapses: shutdown() makes its one
// collection and export (cumulative temporality, the exporter's default; forceFlush() as well
// would export twice). The exponential histogram is a View (AggregationType.EXPONENTIAL_HISTOGRAM;
// the JS SDK has no max scale option: 20). The meter API takes no scope attributes, and the SDK
// records no exemplars (exemplar_span's context is passed all the same). --base-time is accepted
// and unused: the SDK sets the metric times. Exits 1 when the export failed (export callback and
// diag logger are hooked, as in send_logs.mjs).
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import {
  context, diag, DiagLogLevel, ROOT_CONTEXT, trace, TraceFlags, ValueType,
} from '@opentelemetry/api';
import { ExportResultCode } from '@opentelemetry/core';
import { OTLPMetricExporter as GrpcMetricExporter } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { OTLPMetricExporter as HttpMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import {
  AggregationType, MeterProvider, PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';

const here = dirname(fileURLToPath(import.meta.url));
const note = (msg) => process.stderr.write(`send_metrics.mjs: ${msg}\n`);

const { values: args } = parseArgs({
  options: {
    protocol: { type: 'string' },
    endpoint: { type: 'string' },
    gzip: { type: 'boolean', default: false },
    'run-id': { type: 'string' },
    'base-time': { type: 'string' },
    timeout: { type: 'string', default: '10' },
    cases: { type: 'string', default: join(here, '..', 'metric_cases.json') },
  },
});
if (!['grpc', 'http'].includes(args.protocol) || !args.endpoint || !args['run-id']) {
  note('usage: send_metrics.mjs --protocol grpc|http --endpoint URL [--gzip] --run-id ID [--base-time NS]');
  process.exit(2);
}
const timeoutMillis = Math.round(Number(args.timeout) * 1000);

let failed = false;
diag.setLogger({
  error: (...a) => { failed = true; note(`diag error: ${a.join(' ')}`); },
  warn: (...a) => note(`diag warn: ${a.join(' ')}`),
  info: () => {}, debug: () => {}, verbose: () => {},
}, DiagLogLevel.WARN);

// Attributes: primitives and homogeneous arrays of them (as in send_traces.mjs, integers beyond
// 2^53 cannot be sent faithfully by JS and are skipped).
function attrValue(v, where) {
  const [[kind, x]] = Object.entries(v);
  switch (kind) {
    case 'string': case 'bool': return x;
    case 'int': case 'double':
      if (Number.isInteger(x) && !Number.isSafeInteger(x)) {
        note(`${where}: ${kind} ${x} is an integer beyond 2^53 for JS; skipped`);
        return undefined;
      }
      return x;
    case 'array': return x.map((e, i) => attrValue(e, `${where}[${i}]`)).filter((e) => e !== undefined);
    default:
      note(`${where}: JS metric attributes have no ${kind} values; skipped`);
      return undefined;
  }
}

function attributes(attrs, where) {
  const out = {};
  for (const [key, v] of Object.entries(attrs ?? {})) {
    const value = attrValue(v, `${where}: attribute ${key}`);
    if (value !== undefined) out[key] = value;
  }
  return out;
}

class CheckedExporter {
  constructor(inner) { this.inner = inner; this.exports = 0; this.points = 0; }
  export(metrics, resultCallback) {
    const n = metrics.scopeMetrics.reduce(
      (a, sm) => a + sm.metrics.reduce((b, m) => b + m.dataPoints.length, 0), 0);
    this.inner.export(metrics, (result) => {
      if (result.code !== ExportResultCode.SUCCESS) {
        failed = true;
        note(`export of ${n} data points failed: ${result.error ?? result.code}`);
      } else {
        this.exports += 1;
        this.points += n;
      }
      resultCallback(result);
    });
  }
  forceFlush() { return this.inner.forceFlush(); }
  shutdown() { return this.inner.shutdown(); }
  selectAggregationTemporality(t) { return this.inner.selectAggregationTemporality(t); }
  selectAggregation(t) { return this.inner.selectAggregation(t); }
}

function makeExporter() {
  const compression = args.gzip ? 'gzip' : 'none';
  if (args.protocol === 'grpc') {
    return new GrpcMetricExporter({ url: args.endpoint, compression, timeoutMillis });
  }
  return new HttpMetricExporter({
    url: `${args.endpoint.replace(/\/$/, '')}/v1/metrics`, compression, timeoutMillis,
  });
}

// A context whose current span is the sampled remote span d (for exemplars).
function spanContext(d) {
  return trace.setSpanContext(ROOT_CONTEXT, {
    traceId: d.trace_id, spanId: d.span_id, traceFlags: TraceFlags.SAMPLED, isRemote: true,
  });
}

const pointAttributes = (c, p) => ({ ...attributes(p.attributes, `${c.name} point ${p.seq}`), 'test.seq': p.seq });

function record(inst, method, c) {
  for (const p of c.points) {
    const attrs = pointAttributes(c, p);
    p.values.forEach((v, i) => {
      const ctx = p.exemplar_span && p.exemplar_span.index === i ? spanContext(p.exemplar_span) : context.active();
      inst[method](v, attrs, ctx);
    });
  }
}

function instrument(meter, c) {
  const options = {
    description: c.description, unit: c.unit, valueType: c.type === 'int' ? ValueType.INT : ValueType.DOUBLE,
  };
  switch (c.kind) {
    case 'counter': record(meter.createCounter(c.name, options), 'add', c); break;
    case 'updowncounter': record(meter.createUpDownCounter(c.name, options), 'add', c); break;
    case 'histogram': case 'exponential_histogram':
      if (c.boundaries) options.advice = { explicitBucketBoundaries: c.boundaries };
      record(meter.createHistogram(c.name, options), 'record', c);
      break;
    case 'observable_gauge': {
      const gauge = meter.createObservableGauge(c.name, options);
      const observations = c.points.map((p) => [p.value, pointAttributes(c, p)]);
      gauge.addCallback((result) => { for (const [v, a] of observations) result.observe(v, a); });
      break;
    }
    default: throw new Error(`unknown instrument kind ${c.kind}`);
  }
}

const cases = JSON.parse(readFileSync(args.cases, 'utf8'));
const res = cases.resource;
const attrs = attributes(res.attributes, 'resource');
attrs['test.run_id'] = args['run-id'];
const resource = defaultResource().merge(
  resourceFromAttributes(attrs, res.schema_url ? { schemaUrl: res.schema_url } : undefined));
const exporter = new CheckedExporter(makeExporter());
const views = [];
for (const m of cases.meters) {
  for (const c of m.instruments) {
    if (c.kind !== 'exponential_histogram') continue;
    if (c.max_scale !== 20) note(`${c.name}: the JS SDK has no max scale option (it is 20); max_scale ${c.max_scale} ignored`);
    views.push({
      instrumentName: c.name,
      meterName: m.name,
      aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM, options: { maxSize: c.max_size, recordMinMax: true } },
    });
  }
}
const provider = new MeterProvider({
  resource,
  views,
  readers: [new PeriodicExportingMetricReader({
    exporter, exportIntervalMillis: 2_000_000_000, exportTimeoutMillis: timeoutMillis,
  })],
});
for (const m of cases.meters) {
  if (m.attributes && Object.keys(m.attributes).length) {
    note(`meter ${m.name}: the JS meter API takes no scope attributes; skipped`);
  }
  const meter = provider.getMeter(m.name, m.version, m.schema_url ? { schemaUrl: m.schema_url } : undefined);
  for (const c of m.instruments) instrument(meter, c);
}

try {
  await provider.shutdown(); // the one collection and export
} catch (e) {
  failed = true;
  note(`shutdown failed: ${e}`);
}
if (failed || exporter.exports !== 1) {
  note(`FAILED: ${exporter.exports} successful exports (exactly 1 expected)`);
  process.exit(1);
}
note(`exported ${exporter.points} data points`);
process.exit(0);
