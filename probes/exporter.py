"""The prober's HTTP face: `/metrics` for Prometheus, `/probe` as blackbox_exporter offers it.

`/probe?target=URL&module=NAME` lets a Prometheus job written for blackbox_exporter (relabelling
`__param_target`) point at this prober unchanged: it runs one probe now with the named module and
answers with a fresh registry, honouring Prometheus's scrape-timeout header as blackbox does. Unlike
blackbox_exporter (an open proxy by design, its issue #1639), a module that carries an account or secret
headers is refused (403, nothing sent) for any host it was not configured for.

`/probe` work is bounded: at most the config's `concurrency` requests run at once, and one more is
answered 503 at once rather than queued; a caller that hangs up cancels its probe (the server runs with
aiohttp's `handler_cancellation`), so nothing it started keeps a socket open.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from functools import cache
from pathlib import Path

import aiohttp
from aiohttp import web
from jinja2 import Environment, FileSystemLoader, Template, select_autoescape
from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import ValidationError

from probes.config import BUILTIN_MODULES, ProbeConfig, TargetRefused, module_target
from probes.metrics import ProbeMetrics, probe_exposition
from probes.runner import run_probe, values
from probes.webconfig import Middleware

log = logging.getLogger("dvcwatch.probes")

SCRAPE_TIMEOUT_HEADER = "X-Prometheus-Scrape-Timeout-Seconds"
SCRAPE_TIMEOUT_MARGIN = 0.5  # leave Prometheus time to receive the answer
TEMPLATES = Path(__file__).with_name("templates")


@cache
def _index_template() -> Template:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env.get_template("index.html.j2")


class Exporter:
    def __init__(
        self,
        metrics: ProbeMetrics,
        session: aiohttp.ClientSession,
        config: Callable[[], ProbeConfig],
        reload: Callable[[str], Awaitable[bool]] | None = None,
        last_error: Callable[[], str | None] | None = None,
    ) -> None:
        self.metrics = metrics
        self.session = session
        self.config = config
        self.reload = reload
        self.last_error = last_error or (lambda: None)
        self.in_flight = 0

    def app(self, middlewares: Sequence[Middleware] = ()) -> web.Application:
        app = web.Application(middlewares=list(middlewares))
        app.router.add_get("/metrics", self.handle_metrics)
        app.router.add_get("/probe", self.handle_probe)
        app.router.add_get("/-/healthy", self.handle_healthy)
        app.router.add_post("/-/reload", self.handle_reload)
        app.router.add_get("/", self.handle_index)
        return app

    async def handle_metrics(self, _request: web.Request) -> web.Response:
        body = self.metrics.exposition()
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def handle_probe(self, request: web.Request) -> web.Response:
        url = request.query.get("target")
        module = request.query.get("module", "http_2xx")
        if not url:
            return web.Response(status=400, text="target parameter is missing\n")
        config = self.config()
        try:
            target = module_target(config, module, url)
        except KeyError:
            known = ", ".join(sorted({*BUILTIN_MODULES, *config.modules}))
            return web.Response(status=400, text=f"unknown module {module!r}; defined: {known}\n")
        except ValidationError as exc:
            return web.Response(
                status=400, text=f"invalid target for module {module!r}: {exc.errors()[0]['msg']}\n"
            )
        except TargetRefused as exc:
            log.warning("/probe refused for %s: %s", request.remote, exc)
            return web.Response(status=403, text=f"refused: {exc}\n")
        if self.in_flight >= config.concurrency:
            return web.Response(
                status=503,
                text=f"busy: {self.in_flight} /probe requests in flight, the config's concurrency; retry later\n",
                headers={"Retry-After": "1"},
            )
        timeout = target.timeout
        header = request.headers.get(SCRAPE_TIMEOUT_HEADER)
        if header:
            try:
                timeout = max(0.1, min(timeout, float(header) - SCRAPE_TIMEOUT_MARGIN))
            except ValueError:
                pass
        self.in_flight += 1
        try:
            result = await run_probe(target, self.session, timeout=timeout)
        finally:
            self.in_flight -= 1
        body = probe_exposition(vantage=config.vantage, values=values(result), phases=result.phases)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def handle_healthy(self, _request: web.Request) -> web.Response:
        return web.Response(text="OK\n")

    async def handle_reload(self, _request: web.Request) -> web.Response:
        if self.reload is None:
            return web.Response(status=404, text="no config file to reload\n")
        # shielded: a caller that hangs up (handlers are cancelled then) must not cut a reload in half
        if await asyncio.shield(self.reload("POST /-/reload")):
            return web.Response(text="reloaded\n")
        return web.Response(status=400, text=f"rejected: {self.last_error()}\n")

    async def handle_index(self, _request: web.Request) -> web.Response:
        c = self.config()
        body = _index_template().render(vantage=c.vantage, targets=c.targets)
        return web.Response(text=body, content_type="text/html")
