#!/usr/bin/env node
// Send scripts/interop/cases.json as OTLP logs through the OpenTelemetry JS logs SDK.
//
//   node send_logs.mjs --protocol grpc|http --endpoint URL [--gzip] --run-id ID [--base-time NS]
//
// grpc: @opentelemetry/exporter-logs-otlp-grpc (@grpc/grpc-js); http:
// @opentelemetry/exporter-logs-otlp-http, which POSTs OTLP/JSON to URL/v1/logs. Every record goes
// through the SDK's public logs API (Logger.emit); one LoggerProvider per resource in cases.json.
// Exits 1 when any export failed (the SDK only reports failures to the export callback, which
// is hooked here, and to the diag logger, which is hooked too).
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { diag, DiagLogLevel, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { ExportResultCode } from '@opentelemetry/core';
import { OTLPLogExporter as GrpcLogExporter } from '@opentelemetry/exporter-logs-otlp-grpc';
import { OTLPLogExporter as HttpLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs';

const here = dirname(fileURLToPath(import.meta.url));
const note = (msg) => process.stderr.write(`send_logs.mjs: ${msg}\n`);

const { values: args } = parseArgs({
  options: {
    protocol: { type: 'string' },
    endpoint: { type: 'string' },
    gzip: { type: 'boolean', default: false },
    'run-id': { type: 'string' },
    'base-time': { type: 'string' },
    timeout: { type: 'string', default: '10' },
    cases: { type: 'string', default: join(here, '..', 'cases.json') },
  },
});
if (!['grpc', 'http'].includes(args.protocol) || !args.endpoint || !args['run-id']) {
  note('usage: send_logs.mjs --protocol grpc|http --endpoint URL [--gzip] --run-id ID [--base-time NS]');
  process.exit(2);
}
const timeoutMillis = Math.round(Number(args.timeout) * 1000);
const base = args['base-time'] !== undefined
  ? BigInt(args['base-time'])
  : (BigInt(Date.now()) / 1000n) * 1_000_000_000n;

let failed = false;
// Exporters report some failures only through the diag logger.
diag.setLogger({
  error: (...a) => { failed = true; note(`diag error: ${a.join(' ')}`); },
  warn: (...a) => note(`diag warn: ${a.join(' ')}`),
  info: () => {}, debug: () => {}, verbose: () => {},
}, DiagLogLevel.WARN);

// A typed cases.json value as the JS value the SDK takes, or undefined when the JS SDK cannot
// send it faithfully (a JS number that is an integer outside ±2^53 goes out as a lossy intValue).
function anyValue(v, where) {
  const [[kind, x]] = Object.entries(v);
  switch (kind) {
    case 'string': return x;
    case 'bool': return x;
    case 'int':
    case 'double':
      if (Number.isInteger(x) && !Number.isSafeInteger(x)) {
        note(`${where}: ${kind} ${x} is an integer beyond 2^53 for JS (the SDK would send a lossy intValue); skipped`);
        return undefined;
      }
      return x;
    case 'bytes': return new Uint8Array(Buffer.from(x, 'base64'));
    case 'array': return x.map((e, i) => anyValue(e, `${where}[${i}]`)).filter((e) => e !== undefined);
    case 'map': return attributes(x, where);
    default: throw new Error(`unknown value kind ${kind}`);
  }
}

function attributes(attrs, where, { plain = false } = {}) {
  const out = {};
  for (const [key, v] of Object.entries(attrs ?? {})) {
    const [kind] = Object.keys(v);
    if (plain && (kind === 'map' || kind === 'bytes')) {
      note(`${where}: attribute ${key}: JS resource attributes have no ${kind} values; skipped`);
      continue;
    }
    const value = anyValue(v, `${where}: attribute ${key}`);
    if (value !== undefined) out[key] = value;
  }
  return out;
}

// Wraps the OTLP exporter: remembers whether any export failed.
class CheckedExporter {
  constructor(inner) { this.inner = inner; this.exported = 0; }
  export(logs, resultCallback) {
    this.inner.export(logs, (result) => {
      if (result.code !== ExportResultCode.SUCCESS) {
        failed = true;
        note(`export of ${logs.length} records failed: ${result.error ?? result.code}`);
      } else {
        this.exported += logs.length;
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
    return new GrpcLogExporter({ url: args.endpoint, compression, timeoutMillis });
  }
  return new HttpLogExporter({
    url: `${args.endpoint.replace(/\/$/, '')}/v1/logs`, compression, timeoutMillis,
  });
}

function hrTime(offset) {
  const t = base + BigInt(offset);
  return [Number(t / 1_000_000_000n), Number(t % 1_000_000_000n)];
}

const cases = JSON.parse(readFileSync(args.cases, 'utf8'));
const providers = [];
const exporters = [];
cases.resources.forEach((res, ri) => {
  const attrs = attributes(res.attributes, `resource ${ri}`, { plain: true });
  attrs['test.run_id'] = args['run-id'];
  const options = res.schema_url ? { schemaUrl: res.schema_url } : undefined;
  let resource = resourceFromAttributes(attrs, options);
  if (res.sdk_defaults) {
    // What NodeSDK and most setups do: the SDK's default resource (service.name,
    // telemetry.sdk.*) merged with the application's.
    resource = defaultResource().merge(resource);
  }
  const exporter = new CheckedExporter(makeExporter());
  const provider = new LoggerProvider({
    resource,
    processors: [new BatchLogRecordProcessor({
      exporter, scheduledDelayMillis: 60_000, maxExportBatchSize: 512, exportTimeoutMillis: timeoutMillis,
    })],
  });
  exporters.push(exporter);
  providers.push(provider);
  for (const scope of res.scopes) {
    const scopeAttributes = attributes(scope.attributes, `scope ${scope.name}`);
    const logger = provider.getLogger(scope.name, scope.version, {
      schemaUrl: scope.schema_url,
      attributes: Object.keys(scopeAttributes).length ? scopeAttributes : undefined,
    });
    for (const rec of scope.records) {
      const record = {
        attributes: { ...attributes(rec.attributes, `record ${rec.seq}`), 'test.seq': rec.seq },
      };
      if (rec.time_offset_ns !== undefined) record.timestamp = hrTime(rec.time_offset_ns);
      if (rec.observed_offset_ns !== undefined) record.observedTimestamp = hrTime(rec.observed_offset_ns);
      if (rec.severity_number !== undefined) record.severityNumber = rec.severity_number;
      if (rec.severity_text !== undefined) record.severityText = rec.severity_text;
      if (rec.event_name !== undefined) record.eventName = rec.event_name;
      if (rec.body !== undefined) record.body = anyValue(rec.body, `record ${rec.seq}: body`);
      if (rec.trace_id !== undefined) {
        record.context = trace.setSpanContext(ROOT_CONTEXT, {
          traceId: rec.trace_id, spanId: rec.span_id, traceFlags: rec.flags ?? 0, isRemote: false,
        });
      }
      logger.emit(record);
    }
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
note(`exported ${exporters.reduce((n, e) => n + e.exported, 0)} records`);
process.exit(0);
