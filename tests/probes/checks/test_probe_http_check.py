"""The http check against a local portal: each failure mode gives the observation it should."""

from __future__ import annotations

import pytest

from probes.config import load_config_text
from probes.runner import new_session, run_probe


def target(url: str, **extra: object):  # type: ignore[no-untyped-def]
    lines = [
        "  - name: t",
        f"    url: '{url}'",
        "    module: portal_page",
        "    interval: 5",
        "    timeout: 1",
    ]
    lines += [f"    {k}: {v}" for k, v in extra.items()]
    return load_config_text("targets:\n" + "\n".join(lines) + "\n").targets[0]


async def probe(t):  # type: ignore[no-untyped-def]
    async with new_session() as session:
        return await run_probe(t, session)


async def test_healthy_page_succeeds_with_phases(portal) -> None:
    r = await probe(target(portal.url + "/ok", must_contain="['service-name']"))
    assert r.success, r.observation.failure
    assert r.observation.status_code == 200
    assert r.observation.content_match is True
    assert {"connect", "ttfb", "transfer", "total"} <= set(r.phases)
    assert r.phases["total"] >= r.phases["ttfb"] > 0


@pytest.mark.parametrize(
    ("path", "status", "why"),
    [
        ("/fail", 503, "HTTP 503"),
        ("/soft", 200, "error-banner"),
        ("/reset", None, "reset"),
    ],
)
async def test_failures_are_named(portal, path: str, status: int | None, why: str) -> None:
    r = await probe(target(portal.url + path))
    assert not r.success
    assert r.observation.status_code == status
    assert why in r.observation.failure


async def test_soft_failure_is_a_content_mismatch(portal) -> None:
    r = await probe(target(portal.url + "/soft"))
    assert r.observation.content_match is False
    assert 'data-testid="error-banner"' in r.observation.failure


async def test_hang_costs_one_timeout(portal) -> None:
    r = await probe(target(portal.url + "/hang", timeout="300ms"))
    assert not r.success
    assert "timeout after 0.3 s" in r.observation.failure
    assert r.phases["total"] >= 0.3  # a timeout never ends early (no upper bound: a busy machine may be late)


async def test_latency_budget_fails_a_slow_answer(portal) -> None:
    r = await probe(target(portal.url + "/slow?s=0.3", latency_budget_seconds="100ms"))
    assert not r.success
    assert r.budget_exceeded is True
    assert "budget" in r.observation.failure
    fast = await probe(target(portal.url + "/ok", latency_budget_seconds=2))
    assert fast.success and fast.budget_exceeded is False


async def test_redirect_is_followed(portal) -> None:
    r = await probe(target(portal.url + "/redirect"))
    assert r.success and r.observation.status_code == 200


async def test_connection_refused(portal) -> None:
    from dvcwatch.core.processes import free_port

    r = await probe(target(f"http://127.0.0.1:{free_port()}/"))
    assert not r.success and r.observation.failure.startswith("connect:")


async def test_https_phases_and_certificate_expiry(tls_portal, cert_expiry: float) -> None:
    r = await probe(target(tls_portal.url + "/ok", insecure_skip_verify="true"))
    assert r.success, r.observation.failure
    assert r.phases["tls"] > 0 and r.phases["connect"] > 0
    assert r.observation.tls_expiry == cert_expiry


async def test_untrusted_certificate_fails_unless_trusted(tls_portal, self_signed) -> None:
    r = await probe(target(tls_portal.url + "/ok"))
    assert not r.success and r.observation.failure.startswith("tls:")
    trusted = await probe(target(tls_portal.url + "/ok", ca_file=str(self_signed[0])))
    assert trusted.success, trusted.observation.failure


async def test_the_profiles_error_selectors_judge_what_the_page_shows(serve_app) -> None:  # type: ignore[no-untyped-def]
    from aiohttp import web

    pages = {
        "/busy": '<main><div class="qua-tai" role="alert">Hệ thống đang quá tải</div></main>',
        "/banner": "<main><p>Hệ thống   đang bận, vui lòng thử lại sau</p></main>",
        # a script that could write the banner is not the banner
        "/script": "<main>Tra cứu</main><script>out.textContent = 'Hệ thống đang bận';</script>",
    }
    app = web.Application()
    for path, html in pages.items():
        app.router.add_get(path, _html(html))
    url = await serve_app(app)
    shows = "['div.thong-bao-loi, div.qua-tai', 'text=Hệ thống đang bận']"

    def page(path: str):  # type: ignore[no-untyped-def]
        text = f"targets:\n  - {{name: t, kind: http, url: '{url}{path}', must_not_match: {shows}}}\n"
        return load_config_text(text).targets[0]

    busy = await probe(page("/busy"))
    assert busy.observation.failure == "content: page shows div.thong-bao-loi, div.qua-tai"
    assert busy.observation.content_match is False and busy.observation.status_code == 200
    banner = await probe(page("/banner"))
    assert banner.observation.failure == "content: page shows text=Hệ thống đang bận"
    script = await probe(page("/script"))
    assert script.success, script.observation.failure
    assert script.observation.content_match is True


def _html(html: str):  # type: ignore[no-untyped-def]
    from aiohttp import web

    async def handler(request: web.Request) -> web.Response:
        return web.Response(text=f"<html><body>{html}</body></html>", content_type="text/html")

    return handler


def test_an_unreadable_must_not_match_selector_is_refused_when_the_config_is_read() -> None:
    from dvcwatch.core.errors import DvcwatchError

    text = "targets:\n  - {name: t, kind: http, url: 'http://127.0.0.1:9/', must_not_match: ['a:visible']}\n"
    with pytest.raises(DvcwatchError, match="a:visible"):
        load_config_text(text)


def test_must_not_match_judges_as_load_and_replay_do() -> None:
    from probes.checks.http import content_verdict

    page = "<main><p>Hệ thống đang bận</p><div class='qua-tai'></div></main>"
    assert content_verdict(page, [], [], ["text=HỆ THỐNG ĐANG BẬN"]) == (
        False,
        "content: page shows text=HỆ THỐNG ĐANG BẬN",
    )
    assert content_verdict(page, [], [], ['text="Hệ thống"', "div.qua-tai"]) == (True, "")
