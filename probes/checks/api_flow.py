"""A citizen's API path as one probe: log in, receive the OTP, fetch a form schema, check a dossier.

The home page can be up while login or the form service is down (VNeID overloaded in Aug 2025 while
portals answered), so one probe walks the steps a citizen needs and reports the step that failed,
named with the shared step vocabulary. Credentials come from environment variables, a target profile's
test account, or a synthetic sandbox citizen; the OTP from any source a profile can name (sandbox
endpoint, SMS forwarder, command, TOTP). Neither ever appears in a failure reason.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import ssl
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal
from urllib.parse import urlsplit

import aiohttp
from pydantic import Field, field_validator, model_validator

from dvcwatch.core.credentials import Secret
from dvcwatch.core.errors import ConfigError
from dvcwatch.core.otp_sources import OtpConfig, OtpRequest, OtpSource, OtpUnavailable, make_source
from dvcwatch.core.steps import STEPS
from probes.checks import (
    ENV_RE,
    HARMLESS_HEADERS,
    SOFT_FAILURE_MARKERS,
    CheckContext,
    Kind,
    Observation,
    Strict,
    TargetBase,
)
from probes.checks.http import describe_error
from probes.phases import ssl_context

log = logging.getLogger("dvcwatch.probes")

API_FLOW_STEPS = ("login", "otp", "form", "tracking")
assert set(API_FLOW_STEPS) <= set(STEPS), "named with the shared step vocabulary"


def http_base_url(v: str) -> str:
    """A portal base URL as the flow kinds take it: http(s), no trailing slash (paths are appended)."""
    if not v.startswith(("http://", "https://")):
        raise ValueError("url must start with http:// or https://")
    return v.rstrip("/")


class Credentials(Strict):
    """Who logs in. Secrets live in environment variables named here and are never printed.

    `synthetic` picks a deterministic test citizen (dvcwatch.core.identities) and is only for the sandbox,
    whose pre-registered citizens are derived from the same seed. `profile` + `account` log in as one
    of a target profile's test accounts (its `accounts:`, secrets from the environment or its private
    secrets file), so the prober and the mystery shopper share one place where credentials are kept."""

    cccd: str | None = Field(None, pattern=r"^\d{12}$")
    cccd_env: str | None = Field(None, pattern=ENV_RE.pattern)
    password_env: str | None = Field(None, pattern=ENV_RE.pattern)
    synthetic: dict[str, int] | None = Field(None, description="{seed: 42, index: 0}")
    profile: str | None = Field(None, description="a target profile file; relative to this config")
    account: str | None = Field(None, description="one of the profile's accounts; default its `account`")

    @model_validator(mode="after")
    def _one_source(self) -> Credentials:
        direct = bool(self.cccd or self.cccd_env or self.password_env)
        given = [
            n for n, on in (("synthetic", self.synthetic is not None), ("profile", bool(self.profile))) if on
        ]
        if direct:
            given.append("cccd/password_env")
        if len(given) > 1:
            raise ValueError(f"one source of credentials, not {' and '.join(given)}")
        if self.account and not self.profile:
            raise ValueError("account names one of a profile's accounts: give profile too")
        if self.synthetic is not None:
            if set(self.synthetic) - {"seed", "index"}:
                raise ValueError("synthetic takes only seed and index")
            return self
        if self.profile:
            return self
        if not (self.cccd or self.cccd_env) or not self.password_env:
            raise ValueError(
                "give cccd (or cccd_env) and password_env, profile (+ account), or synthetic: {seed, index}"
            )
        return self

    def env_names(self) -> list[str]:
        return [n for n in (self.cccd_env, self.password_env) if n]


class ApiFlowTarget(TargetBase):
    """A citizen's API path as one probe: log in, OTP, fetch a form schema, check a dossier."""

    steps: ClassVar[tuple[str, ...]] = API_FLOW_STEPS

    kind: Literal["api_flow"]
    url: str = Field(description="the API base, e.g. https://portal/api/v1")
    credentials: Credentials
    otp_url: str = Field(
        "/_sandbox/otp?cccd={cccd}", description="where the OTP is read; relative to the portal origin"
    )
    otp: OtpConfig | None = Field(
        None,
        description="an OTP source as in a profile's `otp:` block (http, command, totp…); wins over otp_url",
    )
    form_service: str | None = Field(None, description="whose form schema to fetch; default `service`")
    dossier: str | None = Field(None, description="a dossier code whose status is checked")
    dossier_env: str | None = Field(None, pattern=ENV_RE.pattern)
    headers: dict[str, str] = {}

    @field_validator("url")
    @classmethod
    def _http_url(cls, v: str) -> str:
        return http_base_url(v)

    @model_validator(mode="after")
    def _has_form(self) -> ApiFlowTarget:
        if not (self.form_service or self.service):
            raise ValueError("an api_flow needs `service` (or `form_service`) to fetch a form schema")
        if self.otp is not None and self.otp.source == "prompt":
            raise ValueError("a prober runs unattended: an OTP source of `prompt` cannot work here")
        return self

    def has_content_rule(self) -> bool:
        return True  # every answer is judged: JSON, and no soft-failure banner

    def env_names(self) -> list[str]:
        otp_env = [n for n in (getattr(self.otp, k, None) for k in ("token_env", "totp_secret_env")) if n]
        return [*self.credentials.env_names(), *([self.dossier_env] if self.dossier_env else []), *otp_env]

    def secrets(self) -> tuple[Any, ...]:
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HARMLESS_HEADERS}
        return ("api_flow", self.credentials, self.otp, self.otp_url, self.dossier, self.dossier_env, headers)

    def check_on_load(self) -> None:
        """A missing secret, a private file others may read or a TOTP source without a seed stops the
        prober before it starts, not every round after."""
        if not (self.credentials.profile or self.otp is not None):
            return
        key = "credentials"
        try:
            login = profile_login(self.credentials) if self.credentials.profile else None
            if self.otp is not None:
                key = "otp"
                parts = urlsplit(self.url)
                build_otp_source(self, login or Login("", Secret("")), f"{parts.scheme}://{parts.netloc}")
        except ConfigError as exc:
            raise ConfigError(str(exc), field=key) from None


class StepFailed(Exception):
    def __init__(self, step: str, reason: str) -> None:
        super().__init__(reason)
        self.step = step
        self.reason = reason


@dataclass(frozen=True)
class Login:
    username: str
    password: Secret = field(repr=False)
    account: str = ""
    totp_secret: Secret | None = field(default=None, repr=False)


def profile_login(c: Credentials) -> Login:
    """One of a target profile's test accounts; a ConfigError names what is missing, never a value."""
    from dvcwatch.core.credentials import AccountResolver
    from dvcwatch.core.profile import load_profile

    path = Path(c.profile or "")
    profile = load_profile(path)
    name = c.account or profile.account
    if not name:
        raise ConfigError(f"profile {path} names no `account:`; give credentials.account")
    acc = AccountResolver(profile.accounts_config(), base_dir=path.parent).account(name)
    return Login(acc.username, acc.password, acc.name, acc.totp_secret)


def credentials(target: ApiFlowTarget | Any) -> Login:
    """Who the target logs in as (any kind with `credentials` and `name`: api_flow, flow); a
    StepFailed at `login` when a secret is missing, naming no value."""
    c = target.credentials
    if c.synthetic is not None:
        from dvcwatch.core.identities import citizen

        who = citizen(c.synthetic.get("seed", 42), c.synthetic.get("index", 0))
        return Login(who.cccd, Secret(who.password))
    if c.profile:
        try:
            return profile_login(c)
        except ConfigError as exc:
            log.warning("target %s: credentials: %s", target.name, exc)  # names variables, never values
            raise StepFailed("login", "credentials: the profile's account could not be resolved") from None
    cccd = c.cccd or os.environ.get(c.cccd_env or "", "")
    password = os.environ.get(c.password_env or "", "")
    if not cccd or not password:
        raise StepFailed("login", "credentials: environment variable not set")
    return Login(cccd, Secret(password))


# One OTP source per target, kept across rounds: polling sources remember the codes they returned, so a
# forwarder that still shows the last SMS is not mistaken for a new code. The key holds all a source is
# built from (origin, account, a digest of the TOTP seed, never the seed), so a reload that changes one of
# them, or two `/probe` targets of one module, never share a source.
_SOURCES: dict[tuple[str, ...], OtpSource] = {}
_SOURCES_MAX = 1024
# a probe's OTP wait ends this much before the probe's own timeout, so the source stops (and kills an
# OTP command) by itself instead of being cancelled
OTP_MARGIN = 0.8


def build_otp_source(target: ApiFlowTarget | Any, login: Login, origin: str) -> OtpSource:
    """The target's OTP source (any kind with `otp` and `timeout`: api_flow, flow), its wait bounded by
    the probe's timeout; a ConfigError if it cannot work."""
    assert target.otp is not None
    config = target.otp.model_copy(update={"timeout": min(target.otp.timeout, target.timeout * OTP_MARGIN)})
    return make_source(config, base_url=origin, totp_secret=login.totp_secret)


def otp_source(target: ApiFlowTarget | Any, login: Login, origin: str) -> OtpSource:
    """The target's OTP source, kept across rounds (see `_SOURCES`)."""
    assert target.otp is not None
    seed = hashlib.sha256(login.totp_secret.reveal().encode()).hexdigest() if login.totp_secret else ""
    key = (
        target.name,
        target.otp.model_dump_json(),
        str(target.timeout),
        origin,
        login.username,
        seed,
    )
    if key not in _SOURCES:
        if len(_SOURCES) >= _SOURCES_MAX:
            _SOURCES.clear()  # targets come and go with reloads: start over rather than grow
        _SOURCES[key] = build_otp_source(target, login, origin)
    return _SOURCES[key]


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
        who = credentials(target)
        login = await client.json(
            "login",
            "POST",
            f"{target.url}/auth/login",
            {
                "cccd": who.username,
                "password": who.password.reveal(),
                **({"service": target.service} if target.service else {}),
            },
        )
        challenge = _field(login, "challenge", "login")
        otp = await _fetch_otp(target, who, client)
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


async def _fetch_otp(target: ApiFlowTarget, who: Login, client: _Client) -> str:
    """The code from the target's OTP source, its wait counted in the `otp` step. Without a source,
    `otp_url` is read once through the probe's own session (the sandbox shows the code at once)."""
    if target.otp is None:
        url = _absolute(client.origin, target.otp_url.format(cccd=who.username))
        return str(_field(await client.json("otp", "GET", url), "otp", "otp"))
    started = time.perf_counter()
    client.obs.current_step = "otp"
    try:
        source = otp_source(target, who, client.origin)
        code = await source.fetch(OtpRequest(cccd=who.username, account=who.account))
    except OtpUnavailable:
        raise StepFailed("otp", "no one-time code arrived") from None
    except ConfigError as exc:
        log.warning("target %s: OTP source: %s", target.name, exc.detail)  # names variables, never values
        raise StepFailed("otp", "the OTP source is not configured (see the prober's log)") from None
    finally:
        client.obs.steps["otp"] = client.obs.steps.get("otp", 0.0) + time.perf_counter() - started
    return code.reveal()


def _absolute(origin: str, path: str) -> str:
    if path.startswith(("http://", "https://")):
        return path
    return origin + (path if path.startswith("/") else "/" + path)


def _field(data: Any, key: str, step: str) -> Any:
    if not isinstance(data, dict) or not data.get(key):
        raise StepFailed(step, f"answer has no {key!r}")
    return data[key]


KIND = Kind(ApiFlowTarget, check)
