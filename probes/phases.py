"""Where the time of a request went: DNS, connect, TLS, time to first byte, transfer.

A slow answer at a ward office can be its own DNS or link (dns, connect) or the portal (ttfb), so the
prober splits every request the way blackbox_exporter does. aiohttp's `TraceConfig` marks DNS,
connection and response headers; it has no TLS hook, so the SSL context hands out an `SSLObject`
subclass (the documented `SSLContext.sslobject_class`) that marks the handshake's first and last step
on the timer of the probe that runs it, found through a context variable (asyncio runs the handshake's
callbacks in a copy of the probe task's context).
"""

from __future__ import annotations

import contextvars
import ssl
import time
from dataclasses import dataclass, field
from functools import lru_cache
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import aiohttp
from yarl import URL

if TYPE_CHECKING:
    from dvcwatch.core.politeness import Politeness

PHASES = ("dns", "connect", "tls", "ttfb", "transfer")
MAX_REDIRECTS = 10
"""Redirects one probe follows in all, over all its requests (blackbox_exporter's per-request default):
a portal redirecting in a circle costs a handful of requests, not a probe timeout's worth."""

CURRENT: contextvars.ContextVar[PhaseTimer | None] = contextvars.ContextVar("dvc_phase_timer", default=None)


@dataclass
class PhaseTimer:
    """Marks of one probe; redirects add their hops' phases together."""

    started: float = field(default_factory=time.perf_counter)
    totals: dict[str, float] = field(default_factory=lambda: dict.fromkeys(PHASES, 0.0))
    peer_cert_der: bytes | None = None
    same_origin_only: bool = False
    """The request carries secrets: a redirect to another origin is refused, not followed (aiohttp drops
    Authorization and Cookie there, but keeps other headers and, on 307/308, the body: a password)."""
    redirects: int = 0
    _marks: dict[str, float] = field(default_factory=dict)

    def mark(self, name: str) -> None:
        self._marks[name] = time.perf_counter()

    def mark_once(self, name: str) -> None:
        self._marks.setdefault(name, time.perf_counter())

    def _span(self, start: str, end: str) -> float:
        m = self._marks
        return max(0.0, m[end] - m[start]) if start in m and end in m else 0.0

    def close_hop(self) -> None:
        """Response headers are in: book this hop's dns, connect, tls and ttfb, then start the next."""
        m = self._marks
        self.totals["dns"] += self._span("dns_start", "dns_end")
        connect_from = "dns_end" if "dns_end" in m else "conn_start"
        connect_to = "tls_start" if "tls_start" in m else "conn_end"
        self.totals["connect"] += self._span(connect_from, connect_to)
        self.totals["tls"] += self._span("tls_start", "tls_end")
        sent = "headers_sent" if "headers_sent" in m else ("conn_end" if "conn_end" in m else "req_start")
        self.totals["ttfb"] += self._span(sent, "response")
        self._marks = {"response": m["response"]} if "response" in m else {}

    def body_done(self) -> None:
        """The body is read: what followed the headers is transfer."""
        if "response" in self._marks:
            self.totals["transfer"] += time.perf_counter() - self._marks["response"]
        self._marks.clear()

    def elapsed(self) -> float:
        return time.perf_counter() - self.started


class TimedSSLObject(ssl.SSLObject):
    """Marks the TLS handshake on the current probe's timer and keeps the peer certificate."""

    def do_handshake(self) -> None:
        timer = CURRENT.get()
        if timer is not None:
            timer.mark_once("tls_start")
        super().do_handshake()  # raises SSLWantReadError until the handshake completes
        if timer is not None:
            timer.mark("tls_end")
            timer.peer_cert_der = self.getpeercert(binary_form=True)


@lru_cache(maxsize=16)
def ssl_context(insecure: bool = False, ca_file: str | None = None) -> ssl.SSLContext:
    """One context per trust setting, shared by all probes (building one costs milliseconds)."""
    ctx = ssl.create_default_context(cafile=ca_file)
    if insecure:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    ctx.sslobject_class = TimedSSLObject
    return ctx


def _timer(ctx: SimpleNamespace) -> PhaseTimer | None:
    t = ctx.trace_request_ctx
    return t if isinstance(t, PhaseTimer) else None


def _marker(point: str) -> Any:
    """An aiohttp trace hook that marks `point` on the request's timer."""

    async def on_event(_s: Any, ctx: SimpleNamespace, _p: Any) -> None:
        if t := _timer(ctx):
            t.mark(point)

    return on_event


async def _on_response(_s: Any, ctx: SimpleNamespace, _p: Any) -> None:
    if t := _timer(ctx):
        t.mark("response")
        t.close_hop()


class RedirectRefused(aiohttp.ClientError):
    """A request that carries secrets was redirected to another origin; nothing was sent there."""


async def _on_redirect(s: Any, ctx: SimpleNamespace, params: aiohttp.TraceRequestRedirectParams) -> None:
    await _on_response(s, ctx, params)
    t = _timer(ctx)
    if t is None:
        return
    t.redirects += 1
    if t.redirects > MAX_REDIRECTS:
        params.response.close()
        raise RedirectRefused(f"too many redirects: more than {MAX_REDIRECTS} in one probe")
    if not t.same_origin_only:
        return
    location = params.response.headers.get("Location") or params.response.headers.get("URI") or ""
    try:
        target = params.url.join(URL(location))
        same = target.origin() == params.url.origin()
    except ValueError:
        same = False
    if not same:
        params.response.close()
        raise RedirectRefused("redirect to another host refused: the request carries secrets")


def _politely(politeness: Politeness) -> tuple[Any, Any]:
    """The politeness hooks (`Politeness.aiohttp_trace_config`'s) in the phases' own trace config:
    one trace per request instead of two, keyed by the host yarl has already parsed rather than by a
    URL turned back into text and split again, and nothing done for an answer other than 429 or 503,
    the only ones `HostLimits.observe` reads."""

    async def on_start(_s: Any, ctx: SimpleNamespace, params: aiohttp.TraceRequestStartParams) -> None:
        if t := _timer(ctx):
            t.mark("req_start")
        await politeness.for_host(params.url.host or str(params.url)).request()

    async def on_end(s: Any, ctx: SimpleNamespace, params: aiohttp.TraceRequestEndParams) -> None:
        await _on_response(s, ctx, params)
        if params.response.status in (429, 503):
            limits = politeness.for_host(params.url.host or str(params.url))
            limits.observe(params.response.status, params.response.headers)

    return on_start, on_end


def trace_config(politeness: Politeness | None = None) -> aiohttp.TraceConfig:
    """Marks every phase; with `politeness`, also waits for the host's turn and honours `Retry-After`."""
    tc = aiohttp.TraceConfig()
    on_start, on_end = (
        _politely(politeness) if politeness is not None else (_marker("req_start"), _on_response)
    )
    tc.on_request_start.append(on_start)
    tc.on_dns_resolvehost_start.append(_marker("dns_start"))
    tc.on_dns_resolvehost_end.append(_marker("dns_end"))
    tc.on_connection_create_start.append(_marker("conn_start"))
    tc.on_connection_create_end.append(_marker("conn_end"))
    tc.on_request_headers_sent.append(_marker("headers_sent"))
    tc.on_request_redirect.append(_on_redirect)
    tc.on_request_end.append(on_end)
    return tc
