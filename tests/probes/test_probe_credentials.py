"""`/probe` never hands a module's account or secret headers to a host the config does not send them to.

The attacker's server here is real: an aiohttp app on loopback that records every request it gets.
A real prober process (`dvcwatch probe --config`) is asked to send its credentialed modules there; the
server must receive nothing carrying a secret (nothing at all, in fact), each request must be refused
with a reason, and the same modules must keep working against the sandbox they were configured for.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from prober_process import start_prober

from dvcwatch.core.identities import citizen
from dvcwatch.core.processes import free_port
from probes.config import TargetRefused, load_config_text, module_target

WHO = citizen(42, 1)
TOKEN = "Bearer prober-secret-token-5f1c"
API_KEY = "prober-api-key-77a2"


class Capture:
    """Records method, path, headers and body of every request; answers like a portal would."""

    def __init__(self) -> None:
        self.requests: list[str] = []

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        return app

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.text()
        self.requests.append(f"{request.method} {request.path_qs}\n{dict(request.headers)}\n{body}")
        if request.path.endswith("/auth/login"):
            return web.json_response({"otp_required": True, "challenge": "x"})
        return web.json_response({"status": "ok"})


def config(sandbox_url: str) -> str:
    port = sandbox_url.rsplit(":", 1)[1]
    return (
        "vantage: kiosk-1\n"
        "modules:\n"
        "  citizen: {kind: api_flow, service: cap-ho-chieu, credentials: {synthetic: {seed: 42, index: 1}}}\n"
        f"  with-token: {{kind: http, headers: {{Authorization: '{TOKEN}'}}}}\n"
        f"  scoped: {{kind: http, headers: {{X-Api-Key: {API_KEY}}}, allowed_targets: ['127.0.0.1:{port}']}}\n"
        "  plain: {kind: http, headers: {Accept: application/json}}\n"
        "targets:\n"
        f"  - {{name: api-flow, module: citizen, url: '{sandbox_url}/api/v1', interval: 60s, timeout: 20s}}\n"
        f"  - {{name: api-health, module: with-token, url: '{sandbox_url}/api/v1/health', interval: 60s}}\n"
    )


@pytest.fixture
async def prober(tmp_path: Path, sandbox) -> AsyncIterator[tuple[str, Path]]:  # type: ignore[no-untyped-def]
    cfg = tmp_path / "probes.yaml"
    cfg.write_text(config(sandbox.url), encoding="utf-8")
    port = free_port()
    log = tmp_path / "prober.log"
    proc = start_prober(cfg, port, log)
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as s:
            for _ in range(200):  # bounded: 20 s
                assert proc.poll() is None, log.read_text()
                try:
                    async with s.get(base + "/-/healthy") as r:
                        if r.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
            else:
                raise AssertionError("the prober did not start: " + log.read_text())
        yield base, log
    finally:
        proc.terminate()
        proc.wait(10)


async def probe(base: str, module: str, target: str) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession() as s,
        s.get(base + "/probe", params={"module": module, "target": target}) as r,
    ):
        return r.status, await r.text()


async def test_credentialed_modules_send_nothing_to_a_host_they_were_not_configured_for(
    prober: tuple[str, Path], sandbox, serve_app: Callable
) -> None:  # type: ignore[no-untyped-def]
    base, log = prober
    capture = Capture()
    evil = await serve_app(capture.app())
    sandbox_hostport = sandbox.url.removeprefix("http://")

    hostile = [
        ("citizen", f"{evil}/api/v1"),
        ("with-token", f"{evil}/"),
        ("scoped", f"{evil}/"),
        # the sandbox's address as user info: the request would still go to the capture server
        ("citizen", f"http://{sandbox_hostport}@{evil.removeprefix('http://')}/api/v1"),
        ("with-token", evil.removeprefix("http://")),  # a bare host:port, as blackbox_exporter accepts
    ]
    for module, target in hostile:
        status, text = await probe(base, module, target)
        assert status == 403, (module, target, status, text)
        assert f"module {module!r} carries" in text and "nothing was sent" in text
    await asyncio.sleep(0.5)  # a request sent anyway would have arrived by now
    assert capture.requests == []

    # a module without secrets is still an ordinary blackbox probe of any host
    status, text = await probe(base, "plain", f"{evil}/json")
    assert status == 200 and "probe_success 1.0" in text
    assert len(capture.requests) == 1
    seen = "\n".join(capture.requests)
    for secret in (WHO.cccd, WHO.password, TOKEN, API_KEY):
        assert secret not in seen

    # the hosts they were configured for still work
    status, text = await probe(base, "citizen", f"{sandbox.url}/api/v1")
    assert status == 200 and "probe_success 1.0" in text, text
    status, text = await probe(base, "with-token", f"{sandbox.url}/api/v1/health")
    assert status == 200 and "probe_success 1.0" in text, text
    status, text = await probe(base, "scoped", f"{sandbox.url}/api/v1/health")
    assert status == 200 and "probe_success 1.0" in text, text

    deadline = time.monotonic() + 5
    while "/probe refused" not in log.read_text() and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    text = log.read_text()
    assert "/probe refused" in text
    assert WHO.password not in text and TOKEN not in text and API_KEY not in text


def test_the_binding_compares_scheme_host_and_port_as_the_client_will() -> None:
    cfg = load_config_text(
        "modules:\n"
        "  tok: {kind: http, headers: {Cookie: s=1}}\n"
        "  any-port: {kind: http, headers: {Cookie: s=2}, allowed_targets: [portal.example]}\n"
        "  body: {kind: http, method: POST, body: 'password=x', url: 'https://portal.example/login'}\n"
        "targets:\n"
        "  - {name: a, module: tok, url: 'https://Portal.Example./x'}\n",
        "p.yaml",
        secrets=False,
    )
    assert module_target(cfg, "tok", "https://portal.example/other").url == "https://portal.example/other"
    assert module_target(cfg, "tok", "https://portal.example:443/").url == "https://portal.example:443/"
    for refused in (
        "http://portal.example/",  # the scheme differs: the cookie would cross in clear text
        "https://portal.example:8443/",
        "https://portal.example@evil.invalid/",
        "https://portal.example.evil.invalid/",
        "https://evil.invalid/?portal.example",
    ):
        with pytest.raises(TargetRefused):
            module_target(cfg, "tok", refused)
    assert module_target(cfg, "any-port", "http://portal.example:8080/").url == "http://portal.example:8080/"
    with pytest.raises(TargetRefused):
        module_target(cfg, "any-port", "http://evil.invalid/")
    assert module_target(cfg, "body", "https://portal.example/login").body == "password=x"
    with pytest.raises(TargetRefused):
        module_target(cfg, "body", "https://evil.invalid/login")


@pytest.mark.parametrize("bad", ["portal.example", "['ftp://x']", "['a/b']", "[1]"])
def test_allowed_targets_is_checked_on_load(bad: str) -> None:
    from dvcwatch.core.errors import ConfigError

    with pytest.raises(ConfigError) as exc:
        load_config_text(
            f"modules:\n  m:\n    kind: http\n    allowed_targets: {bad}\nprobe_only: true\n",
            "p.yaml",
            secrets=False,
        )
    assert "p.yaml:4: modules.m.allowed_targets:" in str(exc.value)


async def test_a_redirect_never_carries_secrets_to_another_host(serve_app: Callable) -> None:  # type: ignore[type-arg]
    """aiohttp drops Authorization and Cookie on a cross-origin redirect but keeps other headers and, on
    307/308, the body: a portal (or an open redirect on it) could forward a password. Refused instead."""
    from probes.runner import new_session, run_probe

    capture = Capture()
    evil = await serve_app(capture.app())
    seen_here: list[str] = []

    async def portal(request: web.Request) -> web.StreamResponse:
        seen_here.append(request.path)
        if request.path in ("/out", "/api/v1/auth/login"):
            raise web.HTTPTemporaryRedirect(f"{evil}{request.path}")  # 307: the body goes along
        if request.path == "/in":
            raise web.HTTPFound("/ok")
        return web.json_response({"ok": request.headers.get("X-Api-Key") == API_KEY})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", portal)
    here = await serve_app(app)
    cfg = load_config_text(
        f"modules:\n  key: {{kind: http, headers: {{X-Api-Key: {API_KEY}}}, allowed_targets: ['{here}']}}\n"
        "  citizen: {kind: api_flow, service: cap-ho-chieu, credentials: {synthetic: {seed: 42, index: 1}},"
        f" allowed_targets: ['{here}']}}\n"
        "probe_only: true\n",
        "p.yaml",
    )
    async with new_session() as session:
        refused = await run_probe(module_target(cfg, "key", f"{here}/out"), session)
        assert not refused.success and "redirect to another host refused" in refused.observation.failure
        flow = await run_probe(module_target(cfg, "citizen", f"{here}/api/v1"), session)
        assert not flow.success and flow.observation.failed_step == "login"
        assert "redirect to another host refused" in flow.observation.failure
        assert capture.requests == []
        same_host = await run_probe(module_target(cfg, "key", f"{here}/in"), session)
        assert same_host.success and seen_here[-1] == "/ok"  # a redirect on the same origin is followed
        plain = await run_probe(module_target(cfg, "http_2xx", f"{here}/out"), session)
        assert plain.success and len(capture.requests) == 1  # no secrets: followed, as blackbox does
    assert API_KEY not in capture.requests[0] and WHO.password not in capture.requests[0]
