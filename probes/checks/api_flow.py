"""A citizen's API path as one probe: log in, receive the OTP, fetch a form schema, check a dossier.

The home page can be up while login or the form service is down (VNeID overloaded in Aug 2025 while
portals answered), so one probe walks the steps a citizen needs and reports the step that failed,
named with the shared step vocabulary. Credentials come from environment variables (or a synthetic
sandbox citizen) and never appear in a failure reason.
"""

from __future__ import annotations

import asyncio
import json
import os
import ssl
import time
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from probes.checks import CheckContext, Observation
from probes.checks.http import describe_error
from probes.config import SOFT_FAILURE_MARKERS, ApiFlowTarget
from probes.phases import ssl_context


class StepFailed(Exception):
    def __init__(self, step: str, reason: str) -> None:
        super().__init__(reason)
        self.step = step
        self.reason = reason


def credentials(target: ApiFlowTarget) -> tuple[str, str]:
    c = target.credentials
    if c.synthetic is not None:
        from dvcwatch.identities import citizen

        who = citizen(c.synthetic.get("seed", 42), c.synthetic.get("index", 0))
        return who.cccd, who.password
    cccd = c.cccd or os.environ.get(c.cccd_env or "", "")
    password = os.environ.get(c.password_env or "", "")
    if not cccd or not password:
        raise StepFailed("login", "credentials: environment variable not set")
    return cccd, password


class _Client:
    """Requests of one flow, each timed into the probe's phases and judged as JSON."""

    def __init__(self, target: ApiFlowTarget, ctx: CheckContext, obs: Observation) -> None:
        self.target = target
        self.ctx = ctx
        self.obs = obs
        parts = urlsplit(target.url)
        self.origin = f"{parts.scheme}://{parts.netloc}"
        self.headers = dict(target.headers)
        self.ssl = ssl_context(target.insecure_skip_verify, target.ca_file)

    async def json(self, step: str, method: str, url: str, body: dict[str, Any] | None = None) -> Any:
        started = time.perf_counter()
        self.obs.current_step = step
        try:
            async with self.ctx.session.request(
                method,
                url,
                json=body,
                headers=self.headers,
                ssl=self.ssl,
                trace_request_ctx=self.ctx.timer,
            ) as resp:
                self.obs.status_code = resp.status
                raw = await resp.read()
                self.ctx.timer.body_done()
        except (aiohttp.ClientError, OSError, ssl.SSLError, asyncio.IncompleteReadError) as exc:
            raise StepFailed(step, describe_error(exc)) from None
        finally:
            self.obs.steps[step] = self.obs.steps.get(step, 0.0) + time.perf_counter() - started
        text = raw.decode("utf-8", errors="replace")
        for marker in SOFT_FAILURE_MARKERS:
            if marker in text:
                self.obs.content_match = False
                raise StepFailed(step, f"soft failure: answer shows {marker!r}")
        if resp.status >= 400:
            raise StepFailed(step, f"HTTP {resp.status}")
        try:
            return json.loads(text)
        except ValueError:
            self.obs.content_match = False
            raise StepFailed(step, "answer is not JSON") from None


async def check(target: ApiFlowTarget, ctx: CheckContext) -> Observation:
    obs = ctx.observation
    client = _Client(target, ctx, obs)
    service = target.form_service or target.service
    try:
        cccd, password = credentials(target)
        login = await client.json(
            "login",
            "POST",
            f"{target.url}/auth/login",
            {"cccd": cccd, "password": password, **({"service": target.service} if target.service else {})},
        )
        challenge = _field(login, "challenge", "login")
        otp_url = target.otp_url.format(cccd=cccd)
        otp = _field(await client.json("otp", "GET", _absolute(client.origin, otp_url)), "otp", "otp")
        token = _field(
            await client.json("otp", "POST", f"{target.url}/auth/otp", {"challenge": challenge, "otp": otp}),
            "token",
            "otp",
        )
        client.headers["Authorization"] = f"Bearer {token}"
        form = await client.json("form", "GET", f"{target.url}/services/{service}/form")
        if not isinstance(form, dict) or not form.get("pages"):
            raise StepFailed("form", "form schema has no pages")
        code = target.dossier or (os.environ.get(target.dossier_env) if target.dossier_env else None)
        if code:
            dossier = await client.json("tracking", "GET", f"{target.url}/dossiers/{code}")
            _field(dossier, "status", "tracking")
    except StepFailed as exc:
        return obs.fail(f"{exc.step}: {exc.reason}", exc.step)
    obs.content_match = True
    obs.success = True
    return obs


def _absolute(origin: str, path: str) -> str:
    if path.startswith(("http://", "https://")):
        return path
    return origin + (path if path.startswith("/") else "/" + path)


def _field(data: Any, key: str, step: str) -> Any:
    if not isinstance(data, dict) or not data.get(key):
        raise StepFailed(step, f"answer has no {key!r}")
    return data[key]
