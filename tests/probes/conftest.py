"""A small local portal for probe tests: each path behaves one way (ok, 5xx, soft failure, slow,
hang, reset), served from a background thread so both in-process and subprocess probers can use it."""

from __future__ import annotations

import asyncio
import socket
import ssl
import struct
import subprocess
import threading
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from aiohttp import web

BANNER = '<div data-testid="error-banner">Hệ thống đang bận, vui lòng thử lại sau</div>'


class FakePortal:
    def __init__(self, ssl_ctx: ssl.SSLContext | None = None) -> None:
        self.ssl_ctx = ssl_ctx
        self.hits: dict[str, list[float]] = defaultdict(list)
        self.loop = asyncio.new_event_loop()
        self.url = ""
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None
        self._hanging: set[asyncio.Future[None]] = set()
        self.loop_to = ""
        """Where `/loop` redirects: a test points it at a prober's own `/probe` to make a loop."""
        self.hung_up = 0
        """How many `/hang` requests ended because the client went away."""

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        return app

    async def handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        self.hits[path].append(time.monotonic())
        if path.startswith("/hang"):
            fut = self.loop.create_future()
            self._hanging.add(fut)
            try:
                await fut
            except asyncio.CancelledError:
                self.hung_up += 1
                raise
        if path.startswith("/loop"):
            raise web.HTTPFound(self.loop_to)
        if path.startswith("/slow"):
            await asyncio.sleep(float(request.query.get("s", "0.3")))
        if path.startswith("/fail"):
            return web.Response(
                status=503, text="<p data-testid='error-page'>Lỗi</p>", content_type="text/html"
            )
        if path.startswith("/soft"):
            return web.Response(text=f"<html><body>{BANNER}</body></html>", content_type="text/html")
        if path.startswith("/reset"):
            sock = request.transport.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            request.transport.close()
            await asyncio.sleep(0.05)
            return web.Response(text="never sent")
        if path.startswith("/redirect"):
            raise web.HTTPFound("/ok")
        if path.startswith("/json"):
            return web.json_response({"status": "ok"})
        return web.Response(
            text="<html><body><h1 data-testid='service-name'>Đăng ký khai sinh</h1></body></html>",
            content_type="text/html",
        )

    async def _start(self) -> None:
        self._runner = web.AppRunner(self.app(), access_log=None, handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=self.ssl_ctx)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"{'https' if self.ssl_ctx else 'http'}://127.0.0.1:{port}"

    async def _stop(self) -> None:
        for fut in self._hanging:
            if not fut.done():
                fut.cancel()
        if self._runner:
            await self._runner.cleanup()

    def start(self) -> FakePortal:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(10)
        return self

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)


@pytest.fixture
def portal() -> Iterator[FakePortal]:
    p = FakePortal().start()
    yield p
    p.stop()


@pytest.fixture(scope="session")
def self_signed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(cert, key) for localhost, valid 3 days: a certificate about to expire."""
    d = tmp_path_factory.mktemp("tls")
    cert, key = d / "cert.pem", d / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "3",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@pytest.fixture
def tls_portal(self_signed: tuple[Path, Path]) -> Iterator[FakePortal]:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(*self_signed)
    p = FakePortal(ctx).start()
    yield p
    p.stop()


@pytest.fixture(scope="session")
def cert_expiry(self_signed: tuple[Path, Path]) -> float:
    """The self-signed certificate's notAfter as openssl reads it, to compare the prober with."""
    out = subprocess.run(
        ["openssl", "x509", "-in", str(self_signed[0]), "-noout", "-enddate"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    return float(ssl.cert_time_to_seconds(out.split("=", 1)[1]))


class LoopStalls:
    """Records how late the event loop wakes a 10 ms sleeper, so a timing test can tell a stall of the
    whole machine (a busy CI neighbour) from the prober holding up its own schedule: a probe can only be
    late through no fault of the prober while the loop itself was stalled at least that long."""

    def __init__(self) -> None:
        self.lags: list[float] = []

    async def watch(self) -> None:
        while True:
            t0 = time.monotonic()
            await asyncio.sleep(0.01)
            self.lags.append(time.monotonic() - t0 - 0.01)

    def count(self, longer_than: float) -> int:
        return sum(1 for lag in self.lags if lag > longer_than)

    def longest(self) -> float:
        return max(self.lags, default=0.0)


@pytest.fixture
async def loop_stalls() -> AsyncIterator[LoopStalls]:
    stalls = LoopStalls()
    task = asyncio.get_running_loop().create_task(stalls.watch())
    yield stalls
    task.cancel()
