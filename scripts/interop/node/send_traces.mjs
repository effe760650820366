#!/usr/bin/env node
// Send scripts/interop/trace_cases.json as OTLP traces through the OpenTelemetry JS tracing SDK.
//
//   node send_traces.mjs --protocol grpc|http --endpoint URL [--gzip] --run-id ID [--base-time NS]
//
// grpc: @opentelemetry/exporter-trace-otlp-grpc (@grpc/grpc-js); http:
// @opentelemetry/exporter-trace-otlp-http, which POSTs OTLP/JSON to URL/v1/traces. Every span goes
// through the SDK's public tracing API (Tracer.startSpan, addEvent, setStatus, end); one
// BasicTracerProvider per resource, all with the same deterministic idGenerator. Exits 1 when
// any export failed (export callback and diag logger are hooked, as in send_logs.mjs).
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import {
  createTraceState, diag, DiagLogLevel, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, TraceFlags,
} from '@opentelemetry/api';
import { ExportResultCode } from '@opentelemetry/core';
import { OTLPTraceExporter as GrpcTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as HttpTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';

const here = dirname(fileURLToPath(import.meta.url));
const note = (msg) => process.stderr.write(`send_traces.mjs: ${msg}\n`);

const { values: args } = parseArgs({
  options: {
    protocol: { type: 'string' },
    endpoint: { type: 'string' },
    gzip: { type: 'boolean', default: false },
    'run-id': { type: 'string' },
    'base-time': { type: 'string' },
    timeout: { type: 'string', default: '10' },
    cases: { type: 'string', default: join(here, '..', 'trace_cases.json') },
  },
});
if (!['grpc', 'http'].includes(args.protocol) || !args.endpoint || !args['run-id']) {
  note('usage: send_traces.mjs --protocol grpc|http --endpoint URL [--gzip] --run-id ID [--base-time NS]');
  process.exit(2);
}
const timeoutMillis = Math.round(Number(args.timeout) * 1000);
const base = args['base-time'] !== undefined
  ? BigInt(args['base-time'])
  : (BigInt(Date.now()) / 1000n) * 1_000_000_000n;

let failed = false;
diag.setLogger({
  error: (...a) => { failed = true; note(`diag error: ${a.join(' ')}`); },
  warn: (...a) => note(`diag warn: ${a.join(' ')}`),
  info: () => {}, debug: () => {}, verbose: () => {},
}, DiagLogLevel.WARN);

// Span attributes: primitives and homogeneous arrays of them (as in send_logs.mjs, integers
// beyond 2^53 cannot be sent faithfully by JS and are skipped).
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
      note(`${where}: JS span attributes have no ${kind} values; skipped`);
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
  constructor(inner) { this.inner = inner; this.exported = 0; }
  export(spans, resultCallback) {
    this.inner.export(spans, (result) => {
      if (result.code !== ExportResultCode.SUCCESS) {
        failed = true;
        note(`export of ${spans.length} spans failed: ${result.error ?? result.code}`);
      } else {
        this.exported += spans.length;
      }
      resultCallback(result);
    });
  }
  forceFlush() { return this.inner.forceFlush(); }
  shutdown() { return this.inner.shutdown(); }
}

function makeExporter() {
  const compression = args.gzip ? 'gzip' : 'none';
  if (args.protocol === 'grpc') {
    return new GrpcTraceExporter({ url: args.endpoint, compression, timeoutMillis });
  }
  return new HttpTraceExporter({
    url: `${args.endpoint.replace(/\/$/, '')}/v1/traces`, compression, timeoutMillis,
  });
}

function hrTime(offset) {
  const t = base + BigInt(offset);
  return [Number(t / 1_000_000_000n), Number(t % 1_000_000_000n)];
}

// Deterministic ids (trace_cases.json): the n-th trace / span id generated is BASE + n.
let traces = 0n;
let spans = 0n;
const idGenerator = {
  generateTraceId: () => (0x5eed0000000000000000000000000000n + ++traces).toString(16).padStart(32, '0'),
  generateSpanId: () => (0x5eed000000000000n + ++spans).toString(16).padStart(16, '0'),
};

const KINDS = {
  internal: SpanKind.INTERNAL, server: SpanKind.SERVER, client: SpanKind.CLIENT,
  producer: SpanKind.PRODUCER, consumer: SpanKind.CONSUMER,
};

function spanContext(d) {
  const ctx = { traceId: d.trace_id, spanId: d.span_id, traceFlags: TraceFlags.SAMPLED, isRemote: true };
  if (d.trace_state) ctx.traceState = createTraceState(d.trace_state);
  return ctx;
}

function emit(tracer, c, ctx) {
  if (c.remote_parent) ctx = trace.setSpanContext(ROOT_CONTEXT, spanContext(c.remote_parent));
  const span = tracer.startSpan(c.name, {
    kind: KINDS[c.kind],
    attributes: { ...attributes(c.attributes, `span ${c.seq}`), 'test.seq': c.seq },
    links: (c.links ?? []).map((l) => ({
      context: spanContext(l), attributes: attributes(l.attributes, `span ${c.seq} link`),
    })),
    startTime: hrTime(c.start_offset_ns),
  }, ctx);
  for (const ev of c.events ?? []) {
    const attrs = attributes(ev.attributes, `span ${c.seq} event`);
    span.addEvent(ev.name, Object.keys(attrs).length ? attrs : undefined, hrTime(ev.offset_ns));
  }
  if (c.status?.code === 'ok') span.setStatus({ code: SpanStatusCode.OK });
  else if (c.status) span.setStatus({ code: SpanStatusCode.ERROR, message: c.status.message });
  const childCtx = trace.setSpan(ROOT_CONTEXT, span);
  for (const child of c.children ?? []) emit(tracer, child, childCtx);
  span.end(hrTime(c.end_offset_ns));
}

const cases = JSON.parse(readFileSync(args.cases, 'utf8'));
const providers = [];
const exporters = [];
cases.resources.forEach((res, ri) => {
  const attrs = attributes(res.attributes, `resource ${ri}`);
  attrs['test.run_id'] = args['run-id'];
  const options = res.schema_url ? { schemaUrl: res.schema_url } : undefined;
  let resource = resourceFromAttributes(attrs, options);
  if (res.sdk_defaults) resource = defaultResource().merge(resource);
  const exporter = new CheckedExporter(makeExporter());
  const provider = new BasicTracerProvider({
    resource,
    idGenerator,
    spanProcessors: [new BatchSpanProcessor(exporter, {
      scheduledDelayMillis: 60_000, maxExportBatchSize: 512, exportTimeoutMillis: timeoutMillis,
    })],
  });
  exporters.push(exporter);
  providers.push(provider);
  for (const scope of res.scopes) {
    const tracer = provider.getTracer(scope.name, scope.version, { schemaUrl: scope.schema_url });
    for (const c of scope.spans) emit(tracer, c, ROOT_CONTEXT);
  }
});

for (const provider of providers) {
  try {
    await provider.forceFlush();
    await provider.shutdown();
  } catch (e) {
    failed = true;
    note(`flush/shutdown failed: ${e}`);
  }
}
if (failed) {
  note('FAILED: at least one export did not succeed');
  process.exit(1);
}
note(`exported ${exporters.reduce((n, e) => n + e.exported, 0)} spans`);
process.exit(0);
