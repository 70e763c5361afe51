"""Run the portal: in a background thread for tests and benchmarks (`SandboxServer`), or as the
process `python -m sandbox_portal` (`serve`)."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from types import TracebackType

from aiohttp import web

from sandbox_portal.app import build_app
from sandbox_portal.options import SandboxOptions
from sandbox_portal.state import STATE_KEY, PortalState


async def start_site(opts: SandboxOptions, state: PortalState | None = None) -> tuple[web.AppRunner, str]:
    """Listen and return the runner and the URL actually bound (port 0 picks a free one)."""
    app = build_app(opts, state)
    st = app[STATE_KEY]
    # handler_cancellation: a client that gives up ends its hang or queue wait instead of leaking it
    runner = web.AppRunner(app, handler_cancellation=True, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, opts.host, opts.port, backlog=1024, reuse_address=True)
    await site.start()
    sock = site._server.sockets[0]  # type: ignore[union-attr]
    host, port = sock.getsockname()[:2]
    st.clock.restart()
    return runner, f"http://{host}:{port}"


class SandboxServer:
    """The sandbox in this process, served from its own thread and event loop.

    `SandboxServer(db_path=None, faults_path=None, seed=42, citizens=200, admin_token="t", ...)`;
    `.start()` returns the URL; `.stop()`; a context manager. Keyword arguments are `SandboxOptions`.
    """

    def __init__(self, **kwargs: object) -> None:
        kwargs.setdefault("port", 0)
        self.options = SandboxOptions(**kwargs)  # type: ignore[arg-type]
        self.url: str | None = None
        self.state: PortalState | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None

    @property
    def admin_token(self) -> str:
        return self.options.admin_token

    @property
    def db_path(self) -> str | Path | None:
        return self.options.db_path

    def start(self, timeout: float = 30.0) -> str:
        # state is built here, in the caller's thread, so a bad faults file raises where it was given
        self.state = PortalState(self.options)
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            try:
                self._runner, self.url = loop.run_until_complete(start_site(self.options, self.state))
            except BaseException as exc:
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._runner.cleanup())
            loop.close()

        self._thread = threading.Thread(target=run, name="sandbox-portal", daemon=True)
        self._thread.start()
        if not ready.wait(timeout):
            raise RuntimeError("the sandbox portal did not start in time")
        if failure:
            raise failure[0]
        return self.url  # type: ignore[return-value]

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=15)
        self._thread = None
        self._loop = None

    def __enter__(self) -> SandboxServer:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
