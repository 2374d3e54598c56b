"""The API benchmark's Python load generator runs as its own process against a real HTTP server."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from benchmarks.api import Target, run_python_client


class Answer(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        status = 200 if self.path == "/ok" else 404
        body = b'{"ok":true}'
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


def _serve() -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Answer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_python_load_generator_counts_requests_and_non_200():
    server = _serve()
    port = server.server_address[1]
    try:
        ok = run_python_client(Target("ok", "GET", "/ok", b"", {}, port), connections=2, duration=1.0,
                               max_requests=200)
        missing = run_python_client(Target("missing", "GET", "/missing", b"", {}, port), connections=1,
                                    duration=1.0, max_requests=20)
    finally:
        server.shutdown()
        server.server_close()
    assert ok.requests > 0 and ok.non200 == 0 and ok.errors == 0 and ok.p50_ms is not None
    assert ok.requests <= 200
    assert missing.requests > 0 and missing.non200 == missing.requests
