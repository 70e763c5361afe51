"""Probes keep the politeness limits: a User-Agent naming dvcwatch and the operator, one request at a
time per host at the configured rate, `Retry-After` honoured. Loopback is unlimited unless a test asks
(`limit_loopback`), so the limiter is exercised here on a local server."""

from __future__ import annotations

import itertools
import time
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from dvcwatch.core.politeness import Politeness, PolitenessConfig
from probes.runner import new_session


@pytest.fixture
async def portal(serve_app) -> AsyncIterator[tuple[str, list[tuple[float, str]]]]:
    seen: list[tuple[float, str]] = []
    busy = {"left": 1}

    async def page(request: web.Request) -> web.Response:
        seen.append((time.monotonic(), request.headers.get("User-Agent", "")))
        if request.path == "/busy" and busy["left"]:
            busy["left"] -= 1
            return web.Response(status=503, headers={"Retry-After": "1"})
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/{tail:.*}", page)
    yield await serve_app(app), seen


async def test_user_agent_names_dvcwatch_and_the_contact(portal: tuple[str, list]) -> None:
    url, seen = portal
    polite = Politeness(PolitenessConfig(contact="it@phuong.example"))
    async with new_session(politeness=polite) as s, s.get(url + "/") as r:
        assert r.status == 200
    assert seen[0][1].startswith("dvcwatch/") and "contact: it@phuong.example" in seen[0][1]


async def test_requests_are_spaced_and_retry_after_is_honoured(portal: tuple[str, list]) -> None:
    url, seen = portal
    polite = Politeness(PolitenessConfig(requests_per_second=5, limit_loopback=True))
    async with new_session(politeness=polite) as s:
        for _ in range(3):
            async with s.get(url + "/") as r:
                await r.read()
        async with s.get(url + "/busy") as r:
            assert r.status == 503
        async with s.get(url + "/busy") as r:
            assert r.status == 200
    times = [t for t, _ in seen]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert all(g >= 0.15 for g in gaps[:3]), gaps  # 5 per second, burst 1
    assert gaps[3] >= 0.9, "the request after a 503 with Retry-After: 1 waited about a second"
