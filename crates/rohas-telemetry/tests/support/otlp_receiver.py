"""An OTLP receiver built on OpenTelemetry's own Python packages: the
official generated protobuf types (`opentelemetry-proto`) and, for gRPC,
the reference gRPC server (`grpcio`). The export tests run it as a second,
independent implementation of the protocol.

Usage: otlp_receiver.py grpc|http
Prints `PORT <n>` once it listens on 127.0.0.1, then one JSON line per
export request received (before answering it), and `END` when its
standard input closes, then exits.
"""

import json
import sys
import threading
from concurrent import futures
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

LOCK = threading.Lock()


def say(line):
    with LOCK:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def value(v):
    kind = v.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [value(x) for x in v.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: value(kv.value) for kv in v.kvlist_value.values}
    if kind == "bytes_value":
        return v.bytes_value.hex()
    return getattr(v, kind)


def attributes(kvs):
    return {kv.key: value(kv.value) for kv in kvs}


def traces(request, headers):
    spans = []
    for rs in request.resource_spans:
        for ss in rs.scope_spans:
            for s in ss.spans:
                spans.append({
                    "resource": attributes(rs.resource.attributes),
                    "scope": ss.scope.name,
                    "name": s.name,
                    "trace_id": s.trace_id.hex(),
                    "span_id": s.span_id.hex(),
                    "parent_span_id": s.parent_span_id.hex(),
                    "flags": s.flags,
                    "kind": s.kind,
                    "start": s.start_time_unix_nano,
                    "end": s.end_time_unix_nano,
                    "status_code": s.status.code,
                    "status_message": s.status.message,
                    "attributes": attributes(s.attributes),
                })
    say(json.dumps({"signal": "traces", "headers": headers, "spans": spans}))


def logs(request, headers):
    records = []
    for rl in request.resource_logs:
        for sl in rl.scope_logs:
            for r in sl.log_records:
                records.append({
                    "resource": attributes(rl.resource.attributes),
                    "time": r.time_unix_nano,
                    "severity_number": r.severity_number,
                    "severity_text": r.severity_text,
                    "body": value(r.body),
                    "trace_id": r.trace_id.hex(),
                    "span_id": r.span_id.hex(),
                    "attributes": attributes(r.attributes),
                })
    say(json.dumps({"signal": "logs", "headers": headers, "logs": records}))


def serve_grpc():
    import grpc
    from opentelemetry.proto.collector.logs.v1 import logs_service_pb2_grpc
    from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc

    def metadata(context):
        return {k: v for k, v in context.invocation_metadata()}

    class Traces(trace_service_pb2_grpc.TraceServiceServicer):
        def Export(self, request, context):
            traces(request, metadata(context))
            return trace_service_pb2.ExportTraceServiceResponse()

    class Logs(logs_service_pb2_grpc.LogsServiceServicer):
        def Export(self, request, context):
            logs(request, metadata(context))
            return logs_service_pb2.ExportLogsServiceResponse()

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(Traces(), server)
    logs_service_pb2_grpc.add_LogsServiceServicer_to_server(Logs(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    return port, lambda: server.stop(0)


def serve_http():
    class Handler(BaseHTTPRequestHandler):
        # Keep-alive, as collectors do.
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            headers = {k.lower(): v for k, v in self.headers.items()}
            if self.path == "/v1/traces":
                traces(trace_service_pb2.ExportTraceServiceRequest.FromString(body), headers)
                answer = trace_service_pb2.ExportTraceServiceResponse().SerializeToString()
            elif self.path == "/v1/logs":
                logs(logs_service_pb2.ExportLogsServiceRequest.FromString(body), headers)
                answer = logs_service_pb2.ExportLogsServiceResponse().SerializeToString()
            else:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("content-type", "application/x-protobuf")
            self.send_header("content-length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server.server_address[1], server.shutdown


def main():
    port, stop = serve_grpc() if sys.argv[1] == "grpc" else serve_http()
    say(f"PORT {port}")
    sys.stdin.read()
    stop()
    say("END")


if __name__ == "__main__":
    main()
