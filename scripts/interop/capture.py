"""A tiny OTLP logs, traces and metrics receiver that keeps every request body as it came off the wire.

OTLP/gRPC (grpcio; the body is handed over undecoded, after grpc-encoding is undone) and
OTLP/HTTP (http.server; POST /v1/logs, /v1/traces or /v1/metrics, protobuf or JSON, Content-Encoding gzip/deflate undone).
It answers every request with success. `decode()` turns a captured body into an
ExportLogsServiceRequest (ExportTraceServiceRequest, ExportMetricsServiceRequest) (opentelemetry-proto), reading OTLP/JSON by the OTLP spec's rules
(hex trace/span ids, enums as numbers).

Standalone, to look at what a client sends:
    .build/venv/bin/python scripts/interop/capture.py --grpc-port 4317 --http-port 4318 --out DIR
"""

import base64
import gzip
import http.server
import json
import socket
import sys
import threading
import zlib
from concurrent import futures

import grpc
from google.protobuf import json_format
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

LOGS_SERVICE = "opentelemetry.proto.collector.logs.v1.LogsService"
TRACES_SERVICE = "opentelemetry.proto.collector.trace.v1.TraceService"
METRICS_SERVICE = "opentelemetry.proto.collector.metrics.v1.MetricsService"
# signal -> (gRPC service, HTTP path, request message, response message)
SIGNALS = {
    "logs": (LOGS_SERVICE, "/v1/logs", logs_service_pb2.ExportLogsServiceRequest,
             logs_service_pb2.ExportLogsServiceResponse),
    "traces": (TRACES_SERVICE, "/v1/traces", trace_service_pb2.ExportTraceServiceRequest,
               trace_service_pb2.ExportTraceServiceResponse),
    "metrics": (METRICS_SERVICE, "/v1/metrics", metrics_service_pb2.ExportMetricsServiceRequest,
                metrics_service_pb2.ExportMetricsServiceResponse),
}


class Captured:
    """One request: protocol ('grpc' or 'http'), content type, encoding, body (decompressed)."""

    def __init__(self, protocol, content_type, encoding, body, signal="logs"):
        self.signal = signal
        self.protocol = protocol
        self.content_type = content_type
        self.encoding = encoding
        self.body = body

    @property
    def is_json(self):
        return self.content_type.split(";")[0].strip() == "application/json"

    @property
    def suffix(self):
        return "json" if self.is_json else "binpb"


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class CaptureServer:
    """Listens on 127.0.0.1 (gRPC and HTTP); `requests` fills as clients send."""

    def __init__(self, grpc_port=0, http_port=0):
        self.requests = []
        self._lock = threading.Lock()
        self.grpc_port = grpc_port or free_port()
        self.http_port = http_port or free_port()
        self._grpc = None
        self._http = None

    def _add(self, captured):
        with self._lock:
            self.requests.append(captured)

    def take(self):
        with self._lock:
            out, self.requests = self.requests, []
        return out

    @property
    def grpc_endpoint(self):
        return f"http://127.0.0.1:{self.grpc_port}"

    @property
    def http_endpoint(self):
        return f"http://127.0.0.1:{self.http_port}"

    def start(self):
        def handler_for(signal):
            def export(body, context):
                md = dict(context.invocation_metadata())
                self._add(Captured("grpc", "application/grpc", md.get("grpc-encoding", "-"), body, signal))
                return SIGNALS[signal][3]().SerializeToString()

            return grpc.method_handlers_generic_handler(
                SIGNALS[signal][0],
                {"Export": grpc.unary_unary_rpc_method_handler(export)},  # raw bytes in and out
            )

        self._grpc = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        self._grpc.add_generic_rpc_handlers(tuple(handler_for(sig) for sig in SIGNALS))
        self._grpc.add_insecure_port(f"127.0.0.1:{self.grpc_port}")
        self._grpc.start()

        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_POST(self):
                signal = next((sig for sig, v in SIGNALS.items() if v[1] == self.path), None)
                if signal is None:
                    self._answer(404, "text/plain", b"not found")
                    return
                body = self._read_body()
                encoding = (self.headers.get("Content-Encoding") or "identity").lower()
                if encoding == "gzip":
                    body = gzip.decompress(body)
                elif encoding == "deflate":
                    body = zlib.decompress(body)
                ctype = self.headers.get("Content-Type", "")
                server._add(Captured("http", ctype, encoding, body, signal))
                if ctype.startswith("application/json"):
                    self._answer(200, "application/json", b"{}")
                else:
                    self._answer(200, "application/x-protobuf", b"")

            def _read_body(self):
                if (self.headers.get("Transfer-Encoding") or "").lower() == "chunked":
                    chunks = []
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                        if size == 0:
                            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                                pass
                            return b"".join(chunks)
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def _answer(self, status, ctype, body):
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._http = http.server.ThreadingHTTPServer(("127.0.0.1", self.http_port), Handler)
        self._http.daemon_threads = True
        threading.Thread(target=self._http.serve_forever, daemon=True).start()
        return self

    def stop(self):
        if self._grpc:
            self._grpc.stop(None)
        if self._http:
            self._http.shutdown()
            self._http.server_close()


def _hex_ids_to_base64(node):
    """OTLP/JSON writes traceId/spanId as hex; proto3 JSON (json_format) wants base64."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k in ("traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id") and isinstance(v, str):
                node[k] = base64.b64encode(bytes.fromhex(v)).decode()
            else:
                _hex_ids_to_base64(v)
    elif isinstance(node, list):
        for v in node:
            _hex_ids_to_base64(v)


def decode(body, is_json, notes=None, signal="logs"):
    """A captured body as an ExportLogsServiceRequest (ExportTraceServiceRequest for traces,
    ExportMetricsServiceRequest for metrics). OTLP/JSON fields with unknown names are
    ignored, as the OTLP spec tells receivers to; `notes` (a list) collects what was ignored."""
    message = SIGNALS[signal][2]
    msg = message()
    if not is_json:
        msg.ParseFromString(body)
        return msg
    doc = json.loads(body)
    _hex_ids_to_base64(doc)
    try:
        json_format.ParseDict(doc, msg)
    except json_format.ParseError as e:
        if notes is not None:
            notes.append(str(e).split("\n")[0])
        msg = message()
        json_format.ParseDict(doc, msg, ignore_unknown_fields=True)
    return msg


def main():
    import argparse
    import os
    import time

    p = argparse.ArgumentParser(description="capture OTLP logs, traces and metrics requests into files")
    p.add_argument("--grpc-port", type=int, default=4317)
    p.add_argument("--http-port", type=int, default=4318)
    p.add_argument("--out", required=True)
    args = p.parse_args()
    os.makedirs(args.out, exist_ok=True)
    srv = CaptureServer(args.grpc_port, args.http_port).start()
    print(f"capturing: grpc {srv.grpc_endpoint}, http {srv.http_endpoint} -> {args.out}", file=sys.stderr)
    n = 0
    try:
        while True:
            time.sleep(0.2)
            for c in srv.take():
                n += 1
                path = os.path.join(args.out, f"{n:03d}-{c.signal}-{c.protocol}.{c.suffix}")
                with open(path, "wb") as f:
                    f.write(c.body)
                print(f"{path}: {len(c.body)} bytes ({c.content_type}, {c.encoding})", file=sys.stderr)
    except KeyboardInterrupt:
        pass
    finally:
        srv.stop()


if __name__ == "__main__":
    main()
