#!/usr/bin/env python3
"""Send scripts/interop/cases.json as OTLP logs through the OpenTelemetry Python SDK.

    send_logs.py --protocol grpc|http --endpoint URL [--gzip] --run-id ID [--base-time NS]

grpc uses opentelemetry-exporter-otlp-proto-grpc (grpcio), http uses
opentelemetry-exporter-otlp-proto-http (OTLP/HTTP protobuf, POST URL/v1/logs). Every record goes
through the SDK's public logs API (Logger.emit); one LoggerProvider per resource in cases.json.
Exits 1 when any export failed (the SDK only logs export failures, so the exporter is wrapped).
"""

import argparse
import base64
import json
import os
import sys
import time

from opentelemetry._logs import SeverityNumber
from opentelemetry.context import Context
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import (
    BatchLogRecordProcessor,
    LogRecordExporter,
    LogRecordExportResult,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.trace import (
    NonRecordingSpan,
    SpanContext,
    TraceFlags,
    set_span_in_context,
)

HERE = os.path.dirname(os.path.abspath(__file__))
CASES = os.path.join(HERE, "..", "cases.json")


def note(msg):
    print(f"send_logs.py: {msg}", file=sys.stderr)


def any_value(v):
    """A typed cases.json value as the Python value the SDK takes for an AnyValue."""
    (kind, x), = v.items()
    if kind == "string":
        return x
    if kind == "int":
        return int(x)
    if kind == "double":
        return float(x)
    if kind == "bool":
        return bool(x)
    if kind == "bytes":
        return base64.b64decode(x)
    if kind == "array":
        return [any_value(e) for e in x]
    if kind == "map":
        return {k: any_value(e) for k, e in x.items()}
    raise ValueError(f"unknown value kind {kind}")


def plain_attributes(attrs, where):
    """Attributes for a Resource: primitives and homogeneous arrays only."""
    out = {}
    for key, v in attrs.items():
        (kind, _), = v.items()
        if kind in ("map", "bytes"):
            note(f"{where}: attribute {key}: the Python SDK's Resource has no {kind} values; skipped")
            continue
        out[key] = any_value(v)
        if isinstance(out[key], list):
            out[key] = tuple(out[key])
    return out


class CheckedExporter(LogRecordExporter):
    """Delegates to the OTLP exporter and remembers whether any export failed."""

    def __init__(self, inner):
        self.inner = inner
        self.failed = False
        self.exported = 0

    def export(self, batch):
        result = self.inner.export(batch)
        if result != LogRecordExportResult.SUCCESS:
            self.failed = True
            note(f"export of {len(batch)} records failed: {result}")
        else:
            self.exported += len(batch)
        return result

    def force_flush(self, timeout_millis=30000):
        return self.inner.force_flush(timeout_millis)

    def shutdown(self):
        self.inner.shutdown()


def make_exporter(args):
    compression_kw = {}
    if args.protocol == "grpc":
        from grpc import Compression
        from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter

        endpoint = args.endpoint
        return OTLPLogExporter(
            endpoint=endpoint,
            insecure=True,
            timeout=args.timeout,
            compression=Compression.Gzip if args.gzip else Compression.NoCompression,
        )
    from opentelemetry.exporter.otlp.proto.http import Compression
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter

    compression_kw["compression"] = Compression.Gzip if args.gzip else Compression.NoCompression
    return OTLPLogExporter(
        endpoint=args.endpoint.rstrip("/") + "/v1/logs", timeout=args.timeout, **compression_kw
    )


def trace_context(rec):
    if "trace_id" not in rec:
        return None
    ctx = SpanContext(
        trace_id=int(rec["trace_id"], 16),
        span_id=int(rec["span_id"], 16),
        is_remote=False,
        trace_flags=TraceFlags(rec.get("flags", 0)),
    )
    return set_span_in_context(NonRecordingSpan(ctx), Context())


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--protocol", choices=["grpc", "http"], required=True)
    p.add_argument("--endpoint", required=True, help="e.g. http://127.0.0.1:4317 (grpc) or :4318 (http)")
    p.add_argument("--gzip", action="store_true")
    p.add_argument("--run-id", required=True)
    p.add_argument("--base-time", type=int, help="ns since the epoch (default: now, whole second)")
    p.add_argument("--timeout", type=float, default=10.0, help="export timeout in seconds")
    p.add_argument("--cases", default=CASES)
    args = p.parse_args()
    base = args.base_time if args.base_time is not None else time.time_ns() // 10**9 * 10**9
    with open(args.cases, encoding="utf-8") as f:
        cases = json.load(f)

    checked, providers = [], []
    for ri, res in enumerate(cases["resources"]):
        where = f"resource {ri}"
        attrs = plain_attributes(res["attributes"], where)
        attrs["test.run_id"] = args.run_id
        schema_url = res.get("schema_url")
        if res["sdk_defaults"]:
            # Resource.create merges the SDK's defaults (telemetry.sdk.*, service.name) in.
            resource = Resource.create(attrs, schema_url)
        else:
            resource = Resource(attrs, schema_url)
        exporter = CheckedExporter(make_exporter(args))
        provider = LoggerProvider(resource=resource)
        # One batch per provider: nothing is exported before force_flush.
        provider.add_log_record_processor(
            BatchLogRecordProcessor(exporter, schedule_delay_millis=60_000, max_export_batch_size=512)
        )
        checked.append(exporter)
        providers.append(provider)
        for scope in res["scopes"]:
            attrs = plain_attributes(scope.get("attributes", {}), f"scope {scope['name']}")
            logger = provider.get_logger(
                scope["name"],
                version=scope.get("version"),
                schema_url=scope.get("schema_url"),
                attributes=attrs or None,
            )
            for rec in scope["records"]:
                kw = {}
                if "time_offset_ns" in rec:
                    kw["timestamp"] = base + rec["time_offset_ns"]
                if "observed_offset_ns" in rec:
                    kw["observed_timestamp"] = base + rec["observed_offset_ns"]
                if "severity_number" in rec:
                    kw["severity_number"] = SeverityNumber(rec["severity_number"])
                if "severity_text" in rec:
                    kw["severity_text"] = rec["severity_text"]
                if "event_name" in rec:
                    kw["event_name"] = rec["event_name"]
                if "body" in rec:
                    kw["body"] = any_value(rec["body"])
                ctx = trace_context(rec)
                if ctx is not None:
                    kw["context"] = ctx
                attributes = {k: any_value(v) for k, v in rec.get("attributes", {}).items()}
                attributes["test.seq"] = rec["seq"]
                logger.emit(attributes=attributes, **kw)

    ok = True
    for provider in providers:
        if not provider.force_flush(int(args.timeout * 1000) + 5000):
            note("force_flush timed out")
            ok = False
        provider.shutdown()
    if any(e.failed for e in checked):
        ok = False
    total = sum(e.exported for e in checked)
    if not ok:
        note("FAILED: at least one export did not succeed")
        return 1
    note(f"exported {total} records")
    return 0


if __name__ == "__main__":
    sys.exit(main())
