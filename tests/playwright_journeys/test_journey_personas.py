"""Personas are data: the shipped file loads, names its devices correctly, and a bad one is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from dvcwatch.core.errors import ConfigError
from playwright_journeys.personas import load_personas


def test_the_three_personas_ship_and_their_devices_exist_in_playwright() -> None:
    from playwright.sync_api import sync_playwright

    personas = load_personas()
    assert [p.name for p in personas.personas] == ["desktop", "phone", "slow-3g"]
    slow = personas.get("slow-3g")
    assert slow.network is not None and slow.network.cdp()["latency"] == 150
    with sync_playwright() as pw:
        for p in personas.personas:
            assert p.device is None or p.device in pw.devices


def test_an_unknown_persona_names_the_known_ones() -> None:
    with pytest.raises(ConfigError, match="unknown persona 'tablet'; one of desktop, phone, slow-3g"):
        load_personas().get("tablet")


def test_a_bad_personas_file_names_line_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "personas.yaml"
    bad.write_text(
        "personas:\n  - name: kiosk\n    label_vi: Ki-ốt\n    label_en: Kiosk\n    budget_seconds: -5\n"
    )
    with pytest.raises(ConfigError) as info:
        load_personas(bad)
    assert (info.value.line, info.value.field) == (5, "personas[0](kiosk).budget_seconds")


@pytest.mark.browser
async def test_the_slow_3g_persona_really_throttles_the_link(serve_app) -> None:
    """A 400 kB page at 200 kB/s cannot arrive in under 2 s on the throttled link; the phone persona,
    same device without throttling, gets it at loopback speed. The bound is what the throttle
    guarantees, not a guess about this machine's speed."""
    from aiohttp import web
    from playwright.async_api import async_playwright

    from playwright_journeys.browser import BrowserHost

    body = "<!doctype html><title>t</title><p>" + "x" * 400_000 + "</p>"

    async def page(_r: web.Request) -> web.Response:
        return web.Response(text=body, content_type="text/html", headers={"Cache-Control": "no-store"})

    app = web.Application()
    app.router.add_get("/", page)
    url = f"{await serve_app(app)}/"
    personas = load_personas()
    took: dict[str, float] = {}
    async with async_playwright() as pw:
        host = BrowserHost(pw)
        try:
            for name in ("slow-3g", "phone"):
                context, tab = await host.new_context(personas.get(name))
                await tab.goto(url, wait_until="load", timeout=60_000)
                took[name] = await tab.evaluate(
                    "performance.getEntriesByType('navigation')[0].responseEnd"
                    " - performance.getEntriesByType('navigation')[0].requestStart"
                )
                await context.close()
        finally:
            await host.close()
    assert took["slow-3g"] >= 1800, took  # 400 kB / 200 kB/s, less a little for timer rounding
    # the throttle belongs to the slow-3g context alone: the phone persona loads the same page unthrottled
    # (said by its persona, not by a clock that a busy machine slows)
    assert personas.get("phone").network is None and took["phone"] > 0, took
