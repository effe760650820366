#!/usr/bin/env python3
"""Send scripts/interop/trace_cases.json as OTLP traces through the OpenTelemetry Python SDK.

    send_traces.py --protocol grpc|http --endpoint URL [--gzip] --run-id ID [--base-time NS]

grpc uses opentelemetry-exporter-otlp-proto-grpc (grpcio), http uses
opentelemetry-exporter-otlp-proto-http (OTLP/HTTP protobuf, POST URL/v1/traces). Every span goes
through the SDK's public tracing API (Tracer.start_span, Span.add_event, Span.set_status,
Span.end); one TracerProvider per resource, all with the same deterministic IdGenerator.
Exits 1 when any export failed (the SDK only logs export failures, so the exporter is wrapped).
"""

import argparse
import json
import os
import sys
import time

from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.id_generator import IdGenerator
from opentelemetry.trace import (
    Link,
    NonRecordingSpan,
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
    TraceFlags,
    TraceState,
    set_span_in_context,
)

from send_logs import plain_attributes

HERE = os.path.dirname(os.path.abspath(__file__))
CASES = os.path.join(HERE, "..", "trace_cases.json")
TRACE_ID_BASE = 0x5EED0000000000000000000000000000
SPAN_ID_BASE = 0x5EED000000000000
KINDS = {"internal": SpanKind.INTERNAL, "server": SpanKind.SERVER, "client": SpanKind.CLIENT,
         "producer": SpanKind.PRODUCER, "consumer": SpanKind.CONSUMER}


def note(msg):
    print(f"send_traces.py: {msg}", file=sys.stderr)


class CountingIds(IdGenerator):
    """Deterministic ids (trace_cases.json): the n-th trace / span id generated is BASE + n."""

    def __init__(self):
        self.traces = self.spans = 0

    def generate_trace_id(self):
        self.traces += 1
        return TRACE_ID_BASE + self.traces

    def generate_span_id(self):
        self.spans += 1
        return SPAN_ID_BASE + self.spans


class CheckedExporter(SpanExporter):
    """Delegates to the OTLP exporter and remembers whether any export failed."""

    def __init__(self, inner):
        self.inner = inner
        self.failed = False
        self.exported = 0

    def export(self, spans):
        result = self.inner.export(spans)
        if result != SpanExportResult.SUCCESS:
            self.failed = True
            note(f"export of {len(spans)} spans failed: {result}")
        else:
            self.exported += len(spans)
        return result

    def force_flush(self, timeout_millis=30000):
        return self.inner.force_flush(timeout_millis)

    def shutdown(self):
        self.inner.shutdown()


def make_exporter(args):
    if args.protocol == "grpc":
        from grpc import Compression
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter(
            endpoint=args.endpoint, insecure=True, timeout=args.timeout,
            compression=Compression.Gzip if args.gzip else Compression.NoCompression,
        )
    from opentelemetry.exporter.otlp.proto.http import Compression
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter(
        endpoint=args.endpoint.rstrip("/") + "/v1/traces", timeout=args.timeout,
        compression=Compression.Gzip if args.gzip else Compression.NoCompression,
    )


def span_context(d, remote):
    state = TraceState.from_header([d["trace_state"]]) if d.get("trace_state") else None
    return SpanContext(trace_id=int(d["trace_id"], 16), span_id=int(d["span_id"], 16), is_remote=remote,
                       trace_flags=TraceFlags(TraceFlags.SAMPLED), trace_state=state)


def emit(tracer, case, ctx, base):
    if "remote_parent" in case:
        ctx = set_span_in_context(NonRecordingSpan(span_context(case["remote_parent"], True)), Context())
    attributes = plain_attributes(case.get("attributes", {}), f"span {case['seq']}")
    attributes["test.seq"] = case["seq"]
    links = [Link(span_context(l, True), plain_attributes(l.get("attributes", {}), f"span {case['seq']} link") or None)
             for l in case.get("links", [])]
    span = tracer.start_span(case["name"], context=ctx, kind=KINDS[case["kind"]], attributes=attributes,
                             links=links, start_time=base + case["start_offset_ns"])
    for ev in case.get("events", []):
        span.add_event(ev["name"], plain_attributes(ev.get("attributes", {}), f"span {case['seq']} event") or None,
                       timestamp=base + ev["offset_ns"])
    status = case.get("status")
    if status and status["code"] == "ok":
        span.set_status(Status(StatusCode.OK))
    elif status:
        span.set_status(Status(StatusCode.ERROR, status.get("message")))
    child_ctx = set_span_in_context(span, Context())
    for child in case.get("children", []):
        emit(tracer, child, child_ctx, base)
    span.end(end_time=base + case["end_offset_ns"])


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

    ids = CountingIds()
    checked, providers = [], []
    for ri, res in enumerate(cases["resources"]):
        attrs = plain_attributes(res["attributes"], f"resource {ri}")
        attrs["test.run_id"] = args.run_id
        schema_url = res.get("schema_url")
        resource = Resource.create(attrs, schema_url) if res["sdk_defaults"] else Resource(attrs, schema_url)
        exporter = CheckedExporter(make_exporter(args))
        provider = TracerProvider(resource=resource, id_generator=ids)
        provider.add_span_processor(
            BatchSpanProcessor(exporter, schedule_delay_millis=60_000, max_export_batch_size=512))
        checked.append(exporter)
        providers.append(provider)
        for scope in res["scopes"]:
            tracer = provider.get_tracer(scope["name"], scope.get("version"), scope.get("schema_url"))
            for case in scope["spans"]:
                emit(tracer, case, Context(), base)

    ok = True
    for provider in providers:
        if not provider.force_flush(int(args.timeout * 1000) + 5000):
            note("force_flush timed out")
            ok = False
        provider.shutdown()
    if any(e.failed for e in checked):
        ok = False
    if not ok:
        note("FAILED: at least one export did not succeed")
        return 1
    note(f"exported {sum(e.exported for e in checked)} spans")
    return 0


if __name__ == "__main__":
    sys.exit(main())
