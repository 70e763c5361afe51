"""Fixtures for running `dvcwatch load` from tests: the CLI in-process (Locust stays in child
processes, so this process is never patched by gevent), the sandbox's admin API, and a target
that counts the requests it receives (did the load stop?)."""

from __future__ import annotations

import json
import subprocess
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

RunLoad = Callable[..., tuple[int, dict[str, Any] | None]]


@pytest.fixture
def run_load() -> RunLoad:
    """`run_load(*args)` runs `dvcwatch load ARGS` (which must include --out); returns the exit code
    and report.json (None when none was written)."""
    from dvcwatch.commands.cli import main

    def run(*args: str) -> tuple[int, dict[str, Any] | None]:
        argv = ["load", *args]
        code = main(argv)
        report = Path(argv[argv.index("--out") + 1]) / "report.json"
        return code, json.loads(report.read_text()) if report.exists() else None

    return run


@pytest.fixture
def sandbox_admin() -> Callable[[Any, str], Any]:
    """`sandbox_admin(sandbox, "/_sandbox/stats")`: GET an admin endpoint as JSON."""

    def get(sandbox: Any, path: str) -> Any:
        req = urllib.request.Request(
            sandbox.url + path, headers={"Authorization": f"Bearer {sandbox.admin_token}"}
        )
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())

    return get


@pytest.fixture
def capacity_sandbox(sandbox_factory: Any) -> Any:
    """A sandbox whose back end serves 40 req/s: 6 workers × 0.15 s each."""
    return sandbox_factory(capacity_workers=6, service_time=0.15)


class CountingTarget:
    """A loopback portal stand-in that counts every request it receives and answers 200 at once
    (citizens then fail their login and start another visit, so requests keep coming)."""

    def __init__(self) -> None:
        self.count = 0
        self._lock = threading.Lock()
        target = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                with target._lock:
                    target.count += 1
                body = b"<html><body>ok</body></html>"
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = _answer

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def wait_for(self, requests: int, proc: subprocess.Popen[str], timeout: float = 90.0) -> None:
        """Until `requests` have arrived: load is flowing (the timeout only bounds a broken run)."""
        deadline = time.monotonic() + timeout
        while self.count < requests:
            assert proc.poll() is None, proc.communicate()[0]
            assert time.monotonic() < deadline, f"only {self.count} requests arrived"
            time.sleep(0.1)

    def settled(self, quiet: float = 1.0, timeout: float = 15.0) -> int:
        """The count once it has stopped changing (in-flight requests may still land right after a
        stop); bounded so a load that never stops fails here rather than hanging."""
        last, since = self.count, time.monotonic()
        deadline = since + timeout
        while time.monotonic() - since < quiet:
            assert time.monotonic() < deadline, "requests kept arriving after the stop"
            time.sleep(0.1)
            if self.count != last:
                last, since = self.count, time.monotonic()
        return last


@pytest.fixture
def counting_target() -> Iterator[CountingTarget]:
    t = CountingTarget()
    t.thread.start()
    yield t
    t.server.shutdown()
    t.server.server_close()
