"""A running prober: config, scheduler, exporter and reloads on one event loop.

Everything a ward office's box runs is here, started by `dvcwatch probe --config`; tests and the
benchmark start the same class, so what they measure is what runs in the field.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import ssl
from collections.abc import Callable
from pathlib import Path

from aiohttp import web
from prometheus_client import CollectorRegistry

from dvcwatch.core.politeness import Politeness
from probes.eventloop import loop_name
from probes.exporter import Exporter
from probes.metrics import ProbeMetrics
from probes.reload import ConfigSource, Reloader
from probes.runner import Result, new_session
from probes.scheduler import Scheduler
from probes.selfguard import OwnAddresses
from probes.webconfig import WebConfig, middlewares

log = logging.getLogger("dvcwatch.probes")


class Prober:
    def __init__(
        self,
        config_path: str | Path,
        *,
        host: str = "127.0.0.1",
        port: int = 9477,
        vantage: str | None = None,
        watch_every: float = 1.0,
        on_result: Callable[[Result], None] | None = None,
        web_config: WebConfig | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        """`web_config` and `ssl_context` (from `probes.webconfig.load_web_config`) add basic auth and
        TLS to every endpoint, as `--web.config.file` does for Prometheus exporters."""
        self.source = ConfigSource(config_path, vantage)
        self.config = self.source.load()  # a bad file fails here, before anything listens
        self.host = host
        self.port = port
        self.watch_every = watch_every
        self.on_result = on_result
        self.web_config = web_config
        self.ssl_context = ssl_context
        self.registry = CollectorRegistry()
        self.metrics = ProbeMetrics(self.registry, self.config.vantage)
        self.metrics.config_loaded(True)
        self.stop_event: asyncio.Event | None = None
        self.url: str | None = None

    async def run(self, duration: float | None = None, ready: Callable[[str], None] | None = None) -> None:
        self.stop_event = stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        own = OwnAddresses()
        async with new_session(politeness=Politeness(self.config.politeness), own=own) as session:
            scheduler = Scheduler(self.config, session, self.metrics, on_result=self.on_result)
            reloader = Reloader(self.source, self.config, self.metrics, scheduler.apply)
            exporter = Exporter(
                self.metrics, session, lambda: reloader.current, reloader.reload, lambda: reloader.last_error
            )
            # a /probe whose caller hung up is cancelled, and its requests with it (aiohttp >= 3.9
            # leaves handlers running by default)
            runner = web.AppRunner(
                exporter.app(middlewares(self.web_config)), access_log=None, handler_cancellation=True
            )
            await runner.setup()
            site = web.TCPSite(runner, self.host, self.port, ssl_context=self.ssl_context)
            await site.start()
            own.listening_on(runner.addresses)
            port = runner.addresses[0][1]
            host = f"[{self.host}]" if ":" in self.host else self.host
            self.url = f"{'https' if self.ssl_context else 'http'}://{host}:{port}"
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(signal.SIGHUP, reloader.reload_soon, "SIGHUP")
                loop.add_signal_handler(signal.SIGTERM, stop.set)
                loop.add_signal_handler(signal.SIGINT, stop.set)
            log.info(
                "probing %d targets from %s; metrics on %s/metrics (event loop: %s)",
                len(self.config.targets),
                self.config.vantage,
                self.url,
                loop_name(loop),
            )
            if ready:
                ready(self.url)
            tasks = [
                asyncio.create_task(scheduler.run(stop)),
                asyncio.create_task(reloader.watch(stop, self.watch_every)),
            ]
            if duration is not None:
                loop.call_later(duration, stop.set)
            try:
                await stop.wait()
            finally:
                stop.set()
                await asyncio.gather(*tasks, return_exceptions=True)
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    for sig in (signal.SIGHUP, signal.SIGTERM, signal.SIGINT):
                        loop.remove_signal_handler(sig)
                await runner.cleanup()

    def stop(self) -> None:
        if self.stop_event:
            self.stop_event.set()
