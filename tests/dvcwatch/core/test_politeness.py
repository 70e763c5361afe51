"""Politeness: other people's portals get few contexts, a slow steady rate and their Retry-After obeyed."""

from __future__ import annotations

import asyncio
import email.utils
import itertools
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

from dvcwatch import __version__
from dvcwatch.core.errors import ConfigError
from dvcwatch.core.politeness import (
    Politeness,
    PolitenessConfig,
    RetryAfterTooLong,
    TokenBucket,
    is_loopback,
    parse_retry_after,
    user_agent,
)


class FakeClock:
    """Virtual time: `sleep` advances it, so rate tests take no real time and cannot flake."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


def test_defaults_are_conservative() -> None:
    c = PolitenessConfig()
    assert (c.max_contexts, c.requests_per_second, c.burst) == (2, 1.0, 1)


@pytest.mark.parametrize(
    ("host", "loop"),
    [
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("dichvucong.gov.vn", False),
        ("10.0.0.5", False),
        ("127.example.vn", False),
    ],
)
def test_loopback(host: str, loop: bool) -> None:
    assert is_loopback(host) is loop


def test_user_agent_names_dvcwatch_version_and_contact() -> None:
    ua = user_agent("it@hoangmai.hanoi.gov.vn")
    assert ua.startswith(f"dvcwatch/{__version__} ") and "contact: it@hoangmai.hanoi.gov.vn" in ua
    assert Politeness(PolitenessConfig(contact="x@y.vn")).user_agent == user_agent("x@y.vn")


def test_non_loopback_target_needs_a_contact() -> None:
    with pytest.raises(ConfigError, match=r"politeness\.contact"):
        Politeness().check_target("https://dichvucong.gov.vn/p/home/dvc-trang-chu.html")
    Politeness().check_target("http://127.0.0.1:8480/")
    Politeness(PolitenessConfig(contact="x@y.vn")).check_target("https://dichvucong.gov.vn/")


def test_retry_after_seconds_and_http_date() -> None:
    now = 1_700_000_000.0
    assert parse_retry_after("120", now) == 120.0
    date = email.utils.formatdate(now + 90, usegmt=True)
    assert parse_retry_after(date, now) == pytest.approx(90, abs=1)
    assert parse_retry_after(email.utils.formatdate(now - 50, usegmt=True), now) == 0.0
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None


async def test_token_bucket_spaces_requests_at_the_rate() -> None:
    clock = FakeClock()
    bucket = TokenBucket(2.0, burst=1, clock=clock, sleep=clock.sleep)
    start = clock.now
    times = []
    for _ in range(5):
        await bucket.acquire()
        times.append(clock.now - start)
    assert times == pytest.approx([0.0, 0.5, 1.0, 1.5, 2.0])


async def test_token_bucket_burst_then_rate_and_concurrent_waiters() -> None:
    clock = FakeClock()
    bucket = TokenBucket(1.0, burst=3, clock=clock, sleep=clock.sleep)
    start = clock.now
    done: list[float] = []

    async def one() -> None:
        await bucket.acquire()
        done.append(clock.now - start)

    await asyncio.gather(*(one() for _ in range(6)))
    assert sorted(done) == pytest.approx([0, 0, 0, 1, 2, 3])


async def test_pause_holds_everyone_then_one_goes() -> None:
    clock = FakeClock()
    bucket = TokenBucket(1.0, burst=1, clock=clock, sleep=clock.sleep)
    await bucket.acquire()
    bucket.pause(30)
    start = clock.now
    await bucket.acquire()
    assert clock.now - start == pytest.approx(30)
    await bucket.acquire()
    assert clock.now - start == pytest.approx(31)


async def test_context_slots_per_host_and_loopback_unlimited() -> None:
    pol = Politeness(PolitenessConfig(max_contexts=2))
    remote = pol.for_host("https://dichvucong.gov.vn/x")
    assert pol.for_host("dichvucong.gov.vn") is remote
    local = pol.for_host("http://127.0.0.1:8480/")
    gate = asyncio.Event()

    async def hold(limits: object) -> None:
        async with limits.context():  # type: ignore[attr-defined]
            await gate.wait()

    tasks = [asyncio.create_task(hold(remote)) for _ in range(5)]
    tasks += [asyncio.create_task(hold(local)) for _ in range(5)]
    await asyncio.sleep(0.05)
    assert remote.open_contexts == 2
    gate.set()
    await asyncio.gather(*tasks)
    assert remote.peak_contexts == 2 and remote.open_contexts == 0
    assert local.unlimited and await local.request() == 0.0


def test_observe_honours_retry_after_and_refuses_absurd_pauses() -> None:
    pol = Politeness(PolitenessConfig(max_retry_after=60))
    limits = pol.for_host("portal.example.vn")
    assert limits.observe(200, {"Retry-After": "10"}) is None
    assert limits.observe(503, {}) is None
    assert limits.observe(429, {"Retry-After": "7"}) == 7.0
    assert limits.observe(503, {"retry-after": "5"}) == 5.0  # as Playwright reports headers
    assert limits.bucket.paused_until > time.monotonic() + 6
    with pytest.raises(RetryAfterTooLong, match="3600"):
        limits.observe(503, {"Retry-After": "3600"})


@pytest.fixture
async def busy_portal(serve_app) -> AsyncIterator[tuple[str, list[float], list[str]]]:
    """Answers 503 + Retry-After: 1 to the first request, 200 afterwards; records arrival times."""
    hits: list[float] = []
    agents: list[str] = []

    async def page(request: web.Request) -> web.Response:
        hits.append(time.monotonic())
        agents.append(request.headers.get("User-Agent", ""))
        if len(hits) == 1:
            return web.Response(status=503, headers={"Retry-After": "1"}, text="Hệ thống đang bận")
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/", page)
    yield f"{await serve_app(app)}/", hits, agents


async def test_aiohttp_trace_config_limits_rate_and_obeys_retry_after(
    busy_portal: tuple[str, list[float], list[str]],
) -> None:
    url, hits, agents = busy_portal
    pol = Politeness(PolitenessConfig(requests_per_second=5, limit_loopback=True, contact="qa@x.vn"))
    async with aiohttp.ClientSession(
        trace_configs=[pol.aiohttp_trace_config()], headers={"User-Agent": pol.user_agent}
    ) as http:
        statuses = []
        for _ in range(3):
            async with http.get(url) as r:
                statuses.append(r.status)
    assert statuses == [503, 200, 200]
    assert hits[1] - hits[0] >= 0.95  # waited out Retry-After: 1
    assert hits[2] - hits[1] >= 0.18  # then 5 requests/s
    assert all("dvcwatch/" in a and "qa@x.vn" in a for a in agents)


async def test_loopback_is_not_slowed(busy_portal: tuple[str, list[float], list[str]]) -> None:
    url, hits, _ = busy_portal
    pol = Politeness(PolitenessConfig(requests_per_second=0.1))
    async with aiohttp.ClientSession(trace_configs=[pol.aiohttp_trace_config()]) as http:
        for _ in range(4):
            async with http.get(url) as r:
                await r.read()
    assert hits[-1] - hits[0] < 10.0  # throttled at 0.1/s, even one gap would be 10 s


@pytest.mark.browser
async def test_browser_context_requests_are_paced_and_signed(serve_app) -> None:
    """A page's own fetches wait for the host's turn; static files do not; the User-Agent is ours."""
    from playwright.async_api import async_playwright

    from playwright_journeys.browser import CHROMIUM, CHROMIUM_ARGS

    seen: list[tuple[str, float, str]] = []

    async def record(request: web.Request) -> web.Response:
        seen.append((request.path, time.monotonic(), request.headers.get("User-Agent", "")))
        if request.path == "/":
            html = (
                "<script src='/a.js'></script><script src='/b.js'></script><script>"
                "window.done = (async () => { for (const i of [1, 2, 3]) await fetch('/api/' + i); })();"
                "</script>"
            )
            return web.Response(text=html, content_type="text/html")
        if request.path.endswith(".js"):
            return web.Response(text="1;", content_type="application/javascript")
        return web.json_response({})

    app = web.Application()
    app.router.add_get("/{tail:.*}", record)
    url = await serve_app(app)
    pol = Politeness(PolitenessConfig(requests_per_second=2, limit_loopback=True, contact="qa@x.vn"))
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            context = await browser.new_context(user_agent=pol.user_agent)
            await pol.install_on_context(context)
            page = await context.new_page()
            await page.goto(f"{url}/")
            await page.evaluate("window.done")
        finally:
            await browser.close()
    counted = [t for path, t, _ in seen if not path.endswith(".js")]
    assert [p for p, _, _ in seen if not p.endswith(".js")] == ["/", "/api/1", "/api/2", "/api/3"]
    # 2 requests/s: four requests span at least three half-seconds, less what the route may take. Only
    # the span: one late arrival (a busy machine) lets the next follow it closely at the server, though
    # the two were let go half a second apart.
    gaps = [b - a for a, b in itertools.pairwise(counted)]
    assert counted[-1] - counted[0] >= 1.3, gaps
    scripts = [t for path, t, _ in seen if path.endswith(".js")]
    # static files are not held back: they arrive before the paced requests are through (a relative
    # order, so that a busy machine cannot fail it)
    assert len(scripts) == 2 and all(t < counted[-1] for t in scripts), (scripts, counted)
    assert all("dvcwatch/" in ua and "qa@x.vn" in ua for _, _, ua in seen)
