#!/usr/bin/env python3
"""Send scripts/interop/metric_cases.json as OTLP metrics through the OpenTelemetry Python SDK.

    send_metrics.py --protocol grpc|http --endpoint URL [--gzip] --run-id ID [--base-time NS]

grpc uses opentelemetry-exporter-otlp-proto-grpc (grpcio), http uses
opentelemetry-exporter-otlp-proto-http (OTLP/HTTP protobuf, POST URL/v1/metrics). Every
measurement goes through the SDK's public metrics API (Counter.add, UpDownCounter.add,
Histogram.record, observable gauge callbacks); one MeterProvider with a
PeriodicExportingMetricReader whose interval is infinite (it never collects on its own), so that
force_flush() makes exactly one collection and export (cumulative temporality, the exporter's
default). The exponential histogram is a View (ExponentialBucketHistogramAggregation); explicit
boundaries are the histogram's advisory boundaries. --base-time is accepted for symmetry with the
other clients: the metrics API takes no timestamps (the SDK sets them at collection).
Exits 1 when the export failed (the reader only logs export failures, so the exporter is wrapped).
"""

import argparse
import json
import math
import os
import sys

from opentelemetry.context import Context
from opentelemetry.metrics import Observation
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    MetricExporter,
    MetricExportResult,
    PeriodicExportingMetricReader,
)
from opentelemetry.sdk.metrics.view import ExponentialBucketHistogramAggregation, View
from opentelemetry.sdk.resources import Resource
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags, set_span_in_context

from send_logs import plain_attributes

HERE = os.path.dirname(os.path.abspath(__file__))
CASES = os.path.join(HERE, "..", "metric_cases.json")


def note(msg):
    print(f"send_metrics.py: {msg}", file=sys.stderr)


class CheckedExporter(MetricExporter):
    """Delegates to the OTLP exporter (its temporality and aggregation preferences included) and
    remembers whether any export failed."""

    def __init__(self, inner):
        super().__init__(preferred_temporality=inner._preferred_temporality,
                         preferred_aggregation=inner._preferred_aggregation)
        self.inner = inner
        self.failed = False
        self.exports = 0
        self.points = 0

    def export(self, metrics_data, timeout_millis=10_000, **kwargs):
        n = sum(len(m.data.data_points) for rm in metrics_data.resource_metrics
                for sm in rm.scope_metrics for m in sm.metrics)
        result = self.inner.export(metrics_data, timeout_millis=timeout_millis, **kwargs)
        if result != MetricExportResult.SUCCESS:
            self.failed = True
            note(f"export of {n} data points failed: {result}")
        else:
            self.exports += 1
            self.points += n
        return result

    def force_flush(self, timeout_millis=10_000):
        return self.inner.force_flush(timeout_millis)

    def shutdown(self, timeout_millis=30_000, **kwargs):
        self.inner.shutdown(timeout_millis=timeout_millis, **kwargs)


def make_exporter(args):
    if args.protocol == "grpc":
        from grpc import Compression
        from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter

        return OTLPMetricExporter(
            endpoint=args.endpoint, insecure=True, timeout=args.timeout,
            compression=Compression.Gzip if args.gzip else Compression.NoCompression,
        )
    from opentelemetry.exporter.otlp.proto.http import Compression
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter

    return OTLPMetricExporter(
        endpoint=args.endpoint.rstrip("/") + "/v1/metrics", timeout=args.timeout,
        compression=Compression.Gzip if args.gzip else Compression.NoCompression,
    )


def number(v, typ):
    return int(v) if typ == "int" else float(v)


def point_attributes(point, where):
    attrs = plain_attributes(point.get("attributes", {}), where)
    attrs["test.seq"] = point["seq"]
    return attrs


def span_context(d):
    """A context whose current span is the sampled remote span d (for exemplars)."""
    sc = SpanContext(trace_id=int(d["trace_id"], 16), span_id=int(d["span_id"], 16), is_remote=True,
                     trace_flags=TraceFlags(TraceFlags.SAMPLED))
    return set_span_in_context(NonRecordingSpan(sc), Context())


def record(inst, method, case):
    for point in case["points"]:
        attrs = point_attributes(point, f"{case['name']} point {point['seq']}")
        ex = point.get("exemplar_span")
        for i, v in enumerate(point["values"]):
            ctx = span_context(ex) if ex and ex["index"] == i else Context()
            getattr(inst, method)(number(v, case["type"]), attrs, context=ctx)


def gauge_callback(case):
    observations = [Observation(number(p["value"], case["type"]),
                                point_attributes(p, f"{case['name']} point {p['seq']}"))
                    for p in case["points"]]

    def callback(_options):
        return list(observations)

    return callback


def instrument(meter, case):
    kw = {"unit": case.get("unit", ""), "description": case.get("description", "")}
    kind = case["kind"]
    if kind == "counter":
        record(meter.create_counter(case["name"], **kw), "add", case)
    elif kind == "updowncounter":
        record(meter.create_up_down_counter(case["name"], **kw), "add", case)
    elif kind in ("histogram", "exponential_histogram"):
        if "boundaries" in case:
            kw["explicit_bucket_boundaries_advisory"] = [float(b) for b in case["boundaries"]]
        record(meter.create_histogram(case["name"], **kw), "record", case)
    elif kind == "observable_gauge":
        meter.create_observable_gauge(case["name"], callbacks=[gauge_callback(case)], **kw)
    else:
        raise ValueError(f"unknown instrument kind {kind}")


def views(cases):
    out = []
    for meter in cases["meters"]:
        for case in meter["instruments"]:
            if case["kind"] == "exponential_histogram":
                out.append(View(instrument_name=case["name"], meter_name=meter["name"],
                                aggregation=ExponentialBucketHistogramAggregation(
                                    max_size=case["max_size"], max_scale=case["max_scale"])))
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--protocol", choices=["grpc", "http"], required=True)
    p.add_argument("--endpoint", required=True, help="e.g. http://127.0.0.1:4317 (grpc) or :4318 (http)")
    p.add_argument("--gzip", action="store_true")
    p.add_argument("--run-id", required=True)
    p.add_argument("--base-time", type=int, help="accepted and unused: the SDK sets the metric times")
    p.add_argument("--timeout", type=float, default=10.0, help="export timeout in seconds")
    p.add_argument("--cases", default=CASES)
    args = p.parse_args()
    with open(args.cases, encoding="utf-8") as f:
        cases = json.load(f)

    res = cases["resource"]
    attrs = plain_attributes(res["attributes"], "resource")
    attrs["test.run_id"] = args.run_id
    exporter = CheckedExporter(make_exporter(args))
    reader = PeriodicExportingMetricReader(exporter, export_interval_millis=math.inf,
                                           export_timeout_millis=args.timeout * 1000)
    provider = MeterProvider(metric_readers=[reader], resource=Resource.create(attrs, res.get("schema_url")),
                             views=views(cases))
    for m in cases["meters"]:
        meter = provider.get_meter(m["name"], m.get("version"), m.get("schema_url"),
                                   plain_attributes(m.get("attributes", {}), f"meter {m['name']}") or None)
        for case in m["instruments"]:
            instrument(meter, case)

    ok = provider.force_flush(int(args.timeout * 1000) + 5000)  # the one collection and export
    provider.shutdown()  # no collection: the reader has no timer thread
    if not ok:
        note("force_flush failed")
    if exporter.failed or exporter.exports != 1:
        ok = False
    if not ok:
        note(f"FAILED: {exporter.exports} successful exports (exactly 1 expected)")
        return 1
    note(f"exported {exporter.points} data points")
    return 0


if __name__ == "__main__":
    sys.exit(main())
