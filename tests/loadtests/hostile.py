"""A loopback portal that misbehaves in one chosen way, for the load tests of issue 31: an endless
body, a gzip bomb, a redirect loop, a JSON API whose answers lack what the next step needs, a busy
answer with two Content-Type headers. Every
request is counted, so a test can also show that nothing reached it."""

from __future__ import annotations

import gzip
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODES = ("endless", "gzip-bomb", "redirect-loop", "empty-json", "busy-twice-typed", "ok")
CHUNK = b"x" * 65536
MAX_CHUNKS = 320  # 20 MB at most per answer (twice the default cap): the endless body is bounded for the test's own sake
BOMB = gzip.compress(b"\0" * 50_000_000, 9)  # ~50 KB on the wire, 50 MB inflated


class HostilePortal:
    def __init__(self, mode: str) -> None:
        assert mode in MODES, mode
        self.mode = mode
        self.count = 0
        self._lock = threading.Lock()
        portal = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                with portal._lock:
                    portal.count += 1
                getattr(self, "_" + portal.mode.replace("-", "_"))()

            do_GET = do_POST = do_PUT = _answer

            def _send(self, status: int, ctype: str, body: bytes, **headers: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                for k, v in headers.items():
                    self.send_header(k.replace("_", "-"), v)
                self.end_headers()
                self.wfile.write(body)

            def _endless(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                try:
                    for _ in range(MAX_CHUNKS):
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(CHUNK), CHUNK))
                except OSError:  # the client stopped reading and closed: what the cap should do
                    pass
                self.close_connection = True

            def _gzip_bomb(self) -> None:
                self._send(200, "text/html", BOMB, Content_Encoding="gzip")

            def _redirect_loop(self) -> None:
                self._send(302, "text/html", b"", Location=self.path)

            def _empty_json(self) -> None:
                if self.command == "GET":
                    self._send(200, "text/html", b"<html><body><main>ok</main></body></html>")
                else:
                    self._send(200, "application/json", b"{}")

            def _busy_twice_typed(self) -> None:
                body = b'{"status": "busy"}'
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _ok(self) -> None:
                self._send(200, "application/json", json.dumps({"ok": True}).encode())

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


@contextmanager
def hostile_portal(mode: str) -> Iterator[HostilePortal]:
    portal = HostilePortal(mode)
    thread = threading.Thread(target=portal.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield portal
    finally:
        portal.server.shutdown()
        portal.server.server_close()
