#!/usr/bin/env python3
"""Send a hand-built OTLP metrics request: what the SDKs' metrics APIs cannot produce.

    send_metrics_manual.py --protocol grpc|http --endpoint URL [--gzip] --run-id ID [--base-time NS]

The ExportMetricsServiceRequest is built field by field from opentelemetry-proto's messages
(request() below) and sent as one request: grpc over grpcio (MetricsService/Export, gzip with
--gzip), http as OTLP/HTTP protobuf (POST URL/v1/metrics, Content-Encoding gzip with --gzip).
It covers: a Summary with quantiles; exemplars on gauge, sum, histogram and exponential
histogram points (double and int values, filtered attributes, trace/span ids, one without ids);
a histogram without sum/min/max; an exponential histogram with negative buckets and a zero
count; points with flags = 1 (no recorded value); a DELTA, non-monotonic Sum; a point with no
value; int values; NaN and ±Inf; UInt64 counts beyond Int64; times with sub-second parts; a
resource whose service.name is not a string and one without it; a scope with dropped
attributes; a metric with no data points and one with no data (neither gives a row). Every data
point has the attribute test.seq (101…); the times are offsets from --base-time (default: now).
Exits 1 when the export failed.
"""

import argparse
import gzip
import sys
import time
import urllib.error
import urllib.request

from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import (
    AnyValue,
    ArrayValue,
    InstrumentationScope,
    KeyValue,
    KeyValueList,
)
from opentelemetry.proto.metrics.v1 import metrics_pb2 as m
from opentelemetry.proto.resource.v1.resource_pb2 import Resource

SERVICE = "opentelemetry.proto.collector.metrics.v1.MetricsService"
DELTA = m.AGGREGATION_TEMPORALITY_DELTA
CUMULATIVE = m.AGGREGATION_TEMPORALITY_CUMULATIVE
NO_RECORDED_VALUE = m.DATA_POINT_FLAGS_NO_RECORDED_VALUE_MASK  # 1
TRACE_A = bytes.fromhex("5b8efff798038103d269b633813fc60c")
SPAN_A = bytes.fromhex("eee19b7ec3c1b174")
TRACE_B = bytes.fromhex("4bf92f3577b34da6a3ce929d0e0e4736")
SPAN_B = bytes.fromhex("00f067aa0ba902b7")
S = 10**9


def note(msg):
    print(f"send_metrics_manual.py: {msg}", file=sys.stderr)


def value(v):
    """A Python value as an AnyValue: str, bool, int, float, bytes, list, dict."""
    if isinstance(v, bool):
        return AnyValue(bool_value=v)
    if isinstance(v, int):
        return AnyValue(int_value=v)
    if isinstance(v, float):
        return AnyValue(double_value=v)
    if isinstance(v, str):
        return AnyValue(string_value=v)
    if isinstance(v, bytes):
        return AnyValue(bytes_value=v)
    if isinstance(v, list):
        return AnyValue(array_value=ArrayValue(values=[value(x) for x in v]))
    if isinstance(v, dict):
        return AnyValue(kvlist_value=KeyValueList(values=attrs(v)))
    raise TypeError(type(v))


def attrs(d):
    return [KeyValue(key=k, value=value(v)) for k, v in d.items()]


def point_attrs(seq, **extra):
    return attrs(dict(extra, **{"test.seq": seq}))


def request(run_id, base):
    """The request; base = the run's base time in ns. The times: start = base - 60.5 s,
    time = base + 0.999999999 s (so that DateTime's truncation to seconds shows)."""
    start, now = base - 60 * S - S // 2, base + S - 1

    def exemplar(**kw):
        kw.setdefault("time_unix_nano", base - 5 * S + 123)
        kw["filtered_attributes"] = attrs(kw.get("filtered_attributes", {}))
        return m.Exemplar(**kw)

    gauge = m.Metric(name="manual.gauge", description="a gauge <&> ü \"q\"", unit="1", gauge=m.Gauge(data_points=[
        m.NumberDataPoint(attributes=point_attrs(101, host="h1", arr=[1, 2.5, "x"], kv={"a": 1, "b": [True]}),
                          start_time_unix_nano=start, time_unix_nano=now, as_double=1.5,
                          exemplars=[
                              exemplar(filtered_attributes={"user": "u1", "n": 3, "ok": False}, as_double=0.25,
                                       span_id=SPAN_A, trace_id=TRACE_A),
                              exemplar(as_int=-7, time_unix_nano=base - 1),  # no ids
                          ]),
        m.NumberDataPoint(attributes=point_attrs(102), time_unix_nano=now, as_int=9223372036854775807,
                          flags=NO_RECORDED_VALUE),
        m.NumberDataPoint(attributes=point_attrs(103, empty=""), time_unix_nano=now),  # no value at all
        m.NumberDataPoint(attributes=point_attrs(104), time_unix_nano=now, as_double=float("nan")),
        m.NumberDataPoint(attributes=point_attrs(105), time_unix_nano=now, as_double=float("-inf")),
        m.NumberDataPoint(attributes=point_attrs(106), time_unix_nano=now, as_double=-0.0),
        m.NumberDataPoint(attributes=point_attrs(107), time_unix_nano=now, as_int=-9223372036854775808),
    ]))
    delta_sum = m.Metric(name="manual.delta", description="delta, not monotonic", unit="{thing}", sum=m.Sum(
        aggregation_temporality=DELTA, is_monotonic=False, data_points=[
            m.NumberDataPoint(attributes=point_attrs(110, dir="in"), start_time_unix_nano=start, time_unix_nano=now,
                              as_int=-42, exemplars=[
                                  exemplar(as_int=5, span_id=SPAN_B, trace_id=TRACE_B,
                                           filtered_attributes={"bytes": b"\x00\xff", "d": 1e21}),
                                  exemplar(as_double=1e-7, span_id=SPAN_A, trace_id=TRACE_A),
                              ]),
            m.NumberDataPoint(attributes=point_attrs(111, dir="out"), start_time_unix_nano=start, time_unix_nano=now,
                              as_double=0.1 + 0.2, flags=NO_RECORDED_VALUE),
        ]))
    cumulative_sum = m.Metric(name="manual.total", sum=m.Sum(
        aggregation_temporality=CUMULATIVE, is_monotonic=True, data_points=[
            m.NumberDataPoint(attributes=point_attrs(112), start_time_unix_nano=start, time_unix_nano=now, as_int=7),
        ]))
    unspecified_sum = m.Metric(name="manual.unspecified", sum=m.Sum(data_points=[
        m.NumberDataPoint(attributes=point_attrs(113), time_unix_nano=now, as_double=2.0),
    ]))
    histogram = m.Metric(name="manual.histogram", description="explicit buckets", unit="ms", histogram=m.Histogram(
        aggregation_temporality=DELTA, data_points=[
            # sum, min and max absent
            m.HistogramDataPoint(attributes=point_attrs(120, route="/a"), start_time_unix_nano=start,
                                 time_unix_nano=now, count=5, bucket_counts=[1, 2, 2], explicit_bounds=[0.0, 10.0],
                                 exemplars=[
                                     exemplar(as_double=3.5, span_id=SPAN_A, trace_id=TRACE_A,
                                              filtered_attributes={"user": "u2"}),
                                     exemplar(as_int=12),
                                 ]),
            m.HistogramDataPoint(attributes=point_attrs(121, route="/b"), start_time_unix_nano=start,
                                 time_unix_nano=now, count=3, sum=-5.5, min=-3.0, max=0.0,
                                 bucket_counts=[2, 1, 0, 0], explicit_bounds=[-1.0, 0.0, 1e21], flags=0),
            m.HistogramDataPoint(attributes=point_attrs(122), time_unix_nano=now, flags=NO_RECORDED_VALUE),
            m.HistogramDataPoint(attributes=point_attrs(123), time_unix_nano=now, count=18446744073709551615,
                                 sum=float("inf"), bucket_counts=[18446744073709551615], min=0.5, max=0.5),
        ]))
    exp_histogram = m.Metric(name="manual.exp_histogram", description="base-2 exponential", unit="s",
                             exponential_histogram=m.ExponentialHistogram(
        aggregation_temporality=CUMULATIVE, data_points=[
            m.ExponentialHistogramDataPoint(
                attributes=point_attrs(130, peer="a"), start_time_unix_nano=start, time_unix_nano=now,
                count=22, sum=-12.75, scale=-2, zero_count=3, zero_threshold=0.001,
                positive=m.ExponentialHistogramDataPoint.Buckets(offset=-1, bucket_counts=[1, 0, 4]),
                negative=m.ExponentialHistogramDataPoint.Buckets(offset=2, bucket_counts=[5, 9]),
                min=-300.0, max=20.0,
                exemplars=[
                    exemplar(as_int=-100, filtered_attributes={"k": "v"}),  # no ids
                    exemplar(as_double=16.5, span_id=SPAN_B, trace_id=TRACE_B),
                ]),
            # sum, min, max absent; no buckets at all
            m.ExponentialHistogramDataPoint(attributes=point_attrs(131, peer="b"), time_unix_nano=now, scale=20,
                                            zero_count=2, count=2),
            m.ExponentialHistogramDataPoint(attributes=point_attrs(132), time_unix_nano=now, scale=0,
                                            count=1, sum=float("nan"), flags=NO_RECORDED_VALUE,
                                            negative=m.ExponentialHistogramDataPoint.Buckets(
                                                offset=-2147483648, bucket_counts=[1])),
        ]))
    summary = m.Metric(name="manual.summary", description="quantiles", unit="ms", summary=m.Summary(data_points=[
        m.SummaryDataPoint(attributes=point_attrs(140, route="/a"), start_time_unix_nano=start, time_unix_nano=now,
                           count=10, sum=123.5, quantile_values=[
                               m.SummaryDataPoint.ValueAtQuantile(quantile=0.0, value=1.0),
                               m.SummaryDataPoint.ValueAtQuantile(quantile=0.5, value=12.25),
                               m.SummaryDataPoint.ValueAtQuantile(quantile=0.99, value=100.0),
                               m.SummaryDataPoint.ValueAtQuantile(quantile=1.0, value=101.0),
                           ]),
        m.SummaryDataPoint(attributes=point_attrs(141), time_unix_nano=now, flags=NO_RECORDED_VALUE),
        m.SummaryDataPoint(attributes=point_attrs(142), time_unix_nano=now, count=9223372036854775808,
                           sum=-0.5, quantile_values=[m.SummaryDataPoint.ValueAtQuantile(quantile=0.5)]),
    ]))
    no_points = m.Metric(name="manual.no_points", description="a gauge without data points", gauge=m.Gauge())
    no_data = m.Metric(name="manual.no_data", description="a metric without data")
    no_points_histogram = m.Metric(name="manual.no_points_histogram",
                                   histogram=m.Histogram(aggregation_temporality=DELTA))

    return ExportMetricsServiceRequest(resource_metrics=[
        m.ResourceMetrics(
            resource=Resource(attributes=attrs({
                "service.name": "interop-metric-manual",
                "test.run_id": run_id,
                "res.int": 42,
                "res.double": 1e21,
                "res.bool": False,
                "res.bytes": b"\x01\x02\xfe",
                "res.map": {"z": "last", "a": [1, "two"], "nested": {"x": 0.5}},
                "res.str": "résumé <&> ü",
            }), dropped_attributes_count=1),
            schema_url="https://opentelemetry.io/schemas/1.26.0",
            scope_metrics=[
                m.ScopeMetrics(
                    scope=InstrumentationScope(name="manual.scope", version="9.9.9",
                                               attributes=attrs({"scope.str": "s <&>", "scope.n": 3}),
                                               dropped_attributes_count=4),
                    schema_url="https://opentelemetry.io/schemas/1.24.0",
                    metrics=[gauge, no_points, delta_sum, cumulative_sum, histogram, no_data, exp_histogram,
                             summary, no_points_histogram],
                ),
                m.ScopeMetrics(metrics=[unspecified_sum]),  # empty scope
            ],
        ),
        m.ResourceMetrics(
            resource=Resource(attributes=attrs({"service.name": 5, "test.run_id": run_id})),
            scope_metrics=[m.ScopeMetrics(scope=InstrumentationScope(name="manual.int_service"), metrics=[
                m.Metric(name="manual.gauge.int_service", gauge=m.Gauge(data_points=[
                    m.NumberDataPoint(attributes=point_attrs(150), start_time_unix_nano=base,
                                      time_unix_nano=base, as_double=3.0)])),
            ])],
        ),
        m.ResourceMetrics(
            resource=Resource(attributes=attrs({"test.run_id": run_id})),  # no service.name
            scope_metrics=[m.ScopeMetrics(scope=InstrumentationScope(name="manual.no_service"), metrics=[
                m.Metric(name="manual.sum.no_service", sum=m.Sum(aggregation_temporality=CUMULATIVE, data_points=[
                    m.NumberDataPoint(attributes=point_attrs(151), time_unix_nano=now, as_int=0)])),
            ])],
        ),
    ])


def send_grpc(body, args):
    import grpc

    with grpc.insecure_channel(args.endpoint.removeprefix("http://")) as ch:
        call = ch.unary_unary(f"/{SERVICE}/Export")  # raw bytes in and out
        try:
            call(body, timeout=args.timeout,
                 compression=grpc.Compression.Gzip if args.gzip else grpc.Compression.NoCompression)
        except grpc.RpcError as e:
            note(f"export failed: gRPC {e.code().name}: {e.details()}")
            return False
    return True


def send_http(body, args):
    headers = {"Content-Type": "application/x-protobuf"}
    if args.gzip:
        body = gzip.compress(body)
        headers["Content-Encoding"] = "gzip"
    req = urllib.request.Request(args.endpoint.rstrip("/") + "/v1/metrics", data=body, method="POST",
                                 headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=args.timeout) as resp:
            resp.read()
    except urllib.error.HTTPError as e:
        note(f"export failed: HTTP {e.code}: {e.read()[:500].decode(errors='replace')}")
        return False
    except OSError as e:
        note(f"export failed: {e}")
        return False
    return True


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--protocol", choices=["grpc", "http"], required=True)
    p.add_argument("--endpoint", required=True, help="e.g. http://127.0.0.1:4317 (grpc) or :4318 (http)")
    p.add_argument("--gzip", action="store_true")
    p.add_argument("--run-id", required=True)
    p.add_argument("--base-time", type=int, help="ns since the epoch (default: now, whole second)")
    p.add_argument("--timeout", type=float, default=10.0, help="export timeout in seconds")
    args = p.parse_args()
    base = args.base_time if args.base_time is not None else time.time_ns() // S * S
    msg = request(args.run_id, base)
    body = msg.SerializeToString()
    ok = send_grpc(body, args) if args.protocol == "grpc" else send_http(body, args)
    if not ok:
        note("FAILED: the export did not succeed")
        return 1
    points = sum(len(getattr(metric, metric.WhichOneof("data")).data_points)
                 for rm in msg.resource_metrics for sm in rm.scope_metrics for metric in sm.metrics
                 if metric.WhichOneof("data"))
    note(f"exported {points} data points")
    return 0


if __name__ == "__main__":
    sys.exit(main())
