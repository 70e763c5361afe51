"""The api_flow check against a small fake of contracts §4: each broken step is named."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from aiohttp import web

from dvcwatch.core.identities import citizen
from probes.config import load_config_text
from probes.runner import new_session, run_probe


class FakeApi:
    """Just enough of the sandbox's JSON API; `broken` names the step that misbehaves."""

    def __init__(self) -> None:
        self.broken: str | None = None
        self.seen_passwords: list[str] = []
        self.who = citizen(42, 0)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/api/v1/auth/login", self.login)
        app.router.add_get("/_sandbox/otp", self.otp_source)
        app.router.add_post("/api/v1/auth/otp", self.otp)
        app.router.add_get("/api/v1/services/{sid}/form", self.form)
        app.router.add_get("/api/v1/dossiers/{code}", self.dossier)
        return app

    async def login(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.seen_passwords.append(body["password"])
        if self.broken == "login" or body["password"] != self.who.password:
            return web.json_response({"error": "sai mật khẩu"}, status=401)
        return web.json_response({"challenge": "c1", "otp_sent_to": "09******51"})

    async def otp_source(self, request: web.Request) -> web.Response:
        if self.broken == "otp":
            return web.json_response({"error": "no otp"}, status=404)
        return web.json_response({"otp": "123456"})

    async def otp(self, request: web.Request) -> web.Response:
        body = await request.json()
        assert body == {"challenge": "c1", "otp": "123456"}
        return web.json_response({"token": "tok", "expires_in": 3600})

    async def form(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != "Bearer tok":
            return web.json_response({}, status=401)
        if self.broken == "hang-form":
            await asyncio.sleep(30)
        if self.broken == "form":
            return web.Response(
                text='<div data-testid="error-banner">Hệ thống đang bận</div>', content_type="text/html"
            )
        return web.json_response({"service": request.match_info["sid"], "pages": [{"id": "applicant"}]})

    async def dossier(self, request: web.Request) -> web.Response:
        if self.broken == "tracking":
            return web.json_response({"error": "internal"}, status=500)
        return web.json_response({"code": request.match_info["code"], "status": "processing"})


@pytest.fixture
async def api() -> Iterator[tuple[FakeApi, str]]:
    from aiohttp.test_utils import TestServer

    fake = FakeApi()
    server = TestServer(fake.app(), host="127.0.0.1")
    await server.start_server()
    yield fake, str(server.make_url("")).rstrip("/")
    await server.close()


def flow(base: str, creds: str = "{synthetic: {seed: 42, index: 0}}", **extra: str):  # type: ignore[no-untyped-def]
    text = f"""
targets:
  - name: flow
    kind: api_flow
    service: dang-ky-khai-sinh
    url: {base}/api/v1
    credentials: {creds}
    dossier: G22.99.08-000001
    interval: 10
    timeout: 5
""" + "".join(f"    {k}: {v}\n" for k, v in extra.items())
    return load_config_text(text).targets[0]


async def probe(t):  # type: ignore[no-untyped-def]
    async with new_session() as session:
        return await run_probe(t, session)


async def test_whole_flow_succeeds(api) -> None:
    _, base = api
    r = await probe(flow(base))
    assert r.success, r.observation.failure
    assert set(r.observation.steps) == {"login", "otp", "form", "tracking"}
    assert r.observation.content_match is True


@pytest.mark.parametrize("step", ["login", "otp", "form", "tracking"])
async def test_broken_step_is_named(api, step: str) -> None:
    fake, base = api
    fake.broken = step
    r = await probe(flow(base))
    assert not r.success
    assert r.observation.failed_step == step
    assert r.observation.failure.startswith(f"{step}:")


async def test_soft_failure_in_api_is_seen(api) -> None:
    fake, base = api
    fake.broken = "form"
    r = await probe(flow(base))
    assert "soft failure" in r.observation.failure and r.observation.content_match is False


async def test_password_from_env_is_used_and_never_reported(api, monkeypatch: pytest.MonkeyPatch) -> None:
    fake, base = api
    monkeypatch.setenv("PROBE_CCCD", fake.who.cccd)
    monkeypatch.setenv("PROBE_PASSWORD", "wrong-secret-xyz")
    r = await probe(flow(base, "{cccd_env: PROBE_CCCD, password_env: PROBE_PASSWORD}"))
    assert fake.seen_passwords == ["wrong-secret-xyz"]
    assert not r.success and r.observation.failed_step == "login"
    assert "wrong-secret-xyz" not in repr(r)
    monkeypatch.setenv("PROBE_PASSWORD", fake.who.password)
    assert (await probe(flow(base, "{cccd_env: PROBE_CCCD, password_env: PROBE_PASSWORD}"))).success


async def test_a_hang_names_the_step_it_hung_on(api) -> None:
    fake, base = api
    fake.broken = "hang-form"
    r = await probe(flow(base, timeout="500ms"))
    assert not r.success
    assert r.observation.failed_step == "form"
    assert r.observation.failure == "form: timeout after 0.5 s"
    assert r.observation.status_code is None  # login and OTP answered 200; the form never did
    # the step waited its whole timeout (no upper bound: a busy machine may be late)
    assert r.phases["total"] >= 0.5
