"""Politeness toward portals that are not ours: per-host limits, `Retry-After`, an honest User-Agent.

A mystery shopper on a production portal shares it with citizens filing real dossiers, so dvcwatch
behaves like a careful crawler there: at most a few browser contexts per host at once, about one request
per second per host (what crawlers of the national portal's JSON endpoint kept to), a pause of exactly
as long as the portal asks for when it answers 429/503 with `Retry-After`, and a User-Agent that says who
is knocking and how to reach the operator. Loopback hosts (the sandbox, the test fixtures) are ours and
run unlimited, so load tests and the suite are not slowed.

`Politeness.for_host(url)` gives a host's `HostLimits`: `async with limits.context():` around a browser
context, `await limits.request()` before a request, `limits.observe(status, headers)` after it. Probes
plug in with `aiohttp_trace_config()`, browsers with `install_on_context()`.
"""

from __future__ import annotations

import asyncio
import email.utils
import ipaddress
import time
import urllib.parse
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from dvcwatch import __version__
from dvcwatch.core.errors import ConfigError

PROJECT_URL = "https://github.com/dvcwatch/dvcwatch"


class PolitenessConfig(BaseModel):
    """The `politeness:` block of a profile; the defaults are deliberately conservative."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    max_contexts: int = Field(2, ge=1, le=16, description="parallel browser contexts per host")
    requests_per_second: float = Field(1.0, gt=0, le=50, description="sustained request rate per host")
    burst: int = Field(1, ge=1, le=50, description="requests allowed back to back before the rate applies")
    max_retry_after: float = Field(
        300.0, ge=0, description="seconds; a longer Retry-After fails the request instead of waiting"
    )
    contact: str = Field("", description="operator's e-mail or URL, sent in the User-Agent")
    counted_resources: list[str] = Field(
        ["document", "xhr", "fetch"],
        description="browser resource types that count against the rate (not scripts, styles, images)",
    )
    limit_loopback: bool = Field(False, description="also limit 127.0.0.0/8 and ::1 (for tests)")


def is_loopback(host: str) -> bool:
    """Literal loopback addresses and `localhost`; a name is never resolved (that would be a request)."""
    h = host.strip("[]").lower()
    if h == "localhost" or h.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(h).is_loopback
    except ValueError:
        return False


def host_of(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    if not parts.hostname:
        raise ValueError(f"not an absolute URL: {url!r}")
    return parts.hostname


def user_agent(contact: str, version: str = __version__) -> str:
    """`dvcwatch/0.1.0 (+project URL; contact: ...)`: who is testing and how to reach them."""
    who = contact.strip() or "no contact given"
    return f"dvcwatch/{version} (+{PROJECT_URL}; mystery-shopper test; contact: {who})"


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` value: delta-seconds or an HTTP date; None if unreadable."""
    if value is None:
        return None
    v = value.strip()
    if v.isdigit():
        return float(v)
    try:
        when = email.utils.parsedate_to_datetime(v)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = datetime.fromtimestamp(time.time() if now is None else now, UTC)
    return max(0.0, (when - current).total_seconds())


class RetryAfterTooLong(Exception):
    """The portal asked for a longer pause than the profile allows: fail the step, say why."""


class TokenBucket:
    """An async token bucket: `rate` tokens a second, at most `burst` saved up; FIFO among waiters.

    `pause(seconds)` holds everyone until then (a `Retry-After`); one request may go when it ends.
    Not aiolimiter's AsyncLimiter (rate + burst would fit): it has no such pause, and it times itself on
    the event loop's clock, so the rate could not be tested in virtual time as it is here.
    """

    def __init__(
        self,
        rate: float,
        burst: int = 1,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")
        self.rate = rate
        self.burst = burst
        self.clock = clock
        self.sleep = sleep
        self._tokens = float(burst)
        self._stamp = clock()
        self._paused_until = 0.0
        self._lock: asyncio.Lock | None = None

    def _refill(self, now: float) -> None:
        start = max(self._stamp, self._paused_until)
        if now > start:
            self._tokens = min(float(self.burst), self._tokens + (now - start) * self.rate)
        self._stamp = max(now, self._stamp)

    def pause(self, seconds: float) -> None:
        now = self.clock()
        self._paused_until = max(self._paused_until, now + seconds)
        self._tokens = 1.0  # exactly one request goes when the pause ends, then the normal rate
        self._stamp = now

    @property
    def paused_until(self) -> float:
        return self._paused_until

    async def acquire(self) -> float:
        """Wait for a token; returns the seconds waited."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        waited = 0.0
        async with self._lock:  # one waiter at a time keeps the order fair
            while True:
                now = self.clock()
                if now < self._paused_until:
                    delay = self._paused_until - now
                else:
                    self._refill(now)
                    if self._tokens >= 1.0:
                        self._tokens -= 1.0
                        return waited
                    delay = (1.0 - self._tokens) / self.rate
                await self.sleep(delay)
                waited += delay


class HostLimits:
    """The limits of one host: a semaphore for browser contexts and a token bucket for requests."""

    def __init__(
        self, host: str, config: PolitenessConfig, *, unlimited: bool = False, **bucket: Any
    ) -> None:
        self.host = host
        self.config = config
        self.unlimited = unlimited
        self.bucket = TokenBucket(config.requests_per_second, config.burst, **bucket)
        self._contexts: asyncio.Semaphore | None = None
        self.open_contexts = 0
        self.peak_contexts = 0

    @asynccontextmanager
    async def context(self) -> AsyncIterator[None]:
        if self.unlimited:
            yield
            return
        if self._contexts is None:
            self._contexts = asyncio.Semaphore(self.config.max_contexts)
        async with self._contexts:
            self.open_contexts += 1
            self.peak_contexts = max(self.peak_contexts, self.open_contexts)
            try:
                yield
            finally:
                self.open_contexts -= 1

    async def request(self) -> float:
        """Wait until this host may be sent one more request; returns the seconds waited."""
        if self.unlimited:
            return 0.0
        return await self.bucket.acquire()

    def observe(self, status: int, headers: Mapping[str, str]) -> float | None:
        """After a response: honour `Retry-After` on 429 and 503; returns the pause taken."""
        if status not in (429, 503):
            return None
        # aiohttp's headers ignore case; Playwright's arrive as a dict with lower-case names
        value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
        seconds = parse_retry_after(value)
        if seconds is None:
            return None
        if seconds > self.config.max_retry_after:
            raise RetryAfterTooLong(
                f"{self.host} asked to retry after {seconds:.0f} s, longer than "
                f"max_retry_after {self.config.max_retry_after:.0f} s"
            )
        self.bucket.pause(seconds)
        return seconds


class Politeness:
    """Per-host limits for one run, shared by every journey and probe of that run."""

    def __init__(self, config: PolitenessConfig | None = None, **bucket: Any) -> None:
        self.config = config or PolitenessConfig()
        self._bucket_args = bucket
        self._hosts: dict[str, HostLimits] = {}

    @property
    def user_agent(self) -> str:
        return user_agent(self.config.contact)

    def for_host(self, url_or_host: str) -> HostLimits:
        host = host_of(url_or_host) if "://" in url_or_host else url_or_host.lower()
        if host not in self._hosts:
            unlimited = is_loopback(host) and not self.config.limit_loopback
            self._hosts[host] = HostLimits(host, self.config, unlimited=unlimited, **self._bucket_args)
        return self._hosts[host]

    def check_target(self, url: str) -> None:
        """A run against someone else's portal must say who is running it."""
        if not is_loopback(host_of(url)) and not self.config.contact.strip():
            raise ConfigError(
                f"{host_of(url)} is not a loopback host: set politeness.contact in the profile "
                "(an e-mail or URL the portal's operator can reach you at; it goes into the User-Agent)",
                field="politeness.contact",
            )

    def aiohttp_trace_config(self) -> Any:
        """An aiohttp TraceConfig that waits for the host's turn before each request and reads
        `Retry-After` from each response; pass it in `ClientSession(trace_configs=[...])`."""
        import aiohttp

        async def on_start(_s: Any, _ctx: Any, params: aiohttp.TraceRequestStartParams) -> None:
            await self.for_host(str(params.url)).request()

        async def on_end(_s: Any, _ctx: Any, params: aiohttp.TraceRequestEndParams) -> None:
            self.for_host(str(params.url)).observe(params.response.status, params.response.headers)

        tc = aiohttp.TraceConfig()
        tc.on_request_start.append(on_start)
        tc.on_request_end.append(on_end)
        return tc

    async def install_on_context(self, context: Any) -> None:
        """Route a Playwright BrowserContext's counted requests through the host limits.

        Documents, XHR and fetch count (they reach the portal's application servers); scripts, styles
        and images are usually static files and cached, and counting them would make one page take
        a minute at 1 request/s.
        """
        counted = set(self.config.counted_resources)

        async def handle(route: Any) -> None:
            req = route.request
            if req.resource_type in counted and req.url.startswith(("http://", "https://")):
                await self.for_host(req.url).request()
            await route.continue_()

        async def on_response(response: Any) -> None:
            url = response.url
            if url.startswith(("http://", "https://")):
                try:
                    self.for_host(url).observe(response.status, response.headers)
                except RetryAfterTooLong:
                    # Raised again by the next request's wait is not possible from an event
                    # handler; hold the host for the longest allowed pause instead.
                    self.for_host(url).bucket.pause(self.config.max_retry_after)

        await context.route("**/*", handle)
        context.on("response", on_response)
        await context.set_extra_http_headers({"User-Agent": self.user_agent})
