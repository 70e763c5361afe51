"""A citizen's way in on any portal as one probe: replay a recorded flow from login to the e-form.

The sandbox's `api_flow` speaks a JSON API other portals do not have. A flow recorded with
`dvcwatch shop --record` is the portal's own exchange (its pages, forms, redirects, tokens), so
replaying it proves what a citizen needs, on whatever portal it was recorded. The probe replays only
the steps up to the form (login, otp, find_service, form) and only opens the form: it never saves a
draft unless told (`save_form`), and never uploads, pays or submits. The planner is the one load uses
(`dvcwatch.core.flows.Replay`, sans-IO); here aiohttp sends, redirects not followed, with a cookie jar
of its own per run, so one probe's session never leaks into another.

Secrets are handled as api_flow's: the account comes from the environment, a profile's accounts or
a synthetic sandbox citizen; the OTP from any source a profile can name; neither appears in a reason;
and every request goes only to the target's own origin or one of its `origins` (the profile's identity
provider or payment platform on other hosts, `${origin.<role>}` in the flow), checked before a byte is
sent.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import ssl
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

import aiohttp
from pydantic import Field, ValidationInfo, field_validator, model_validator
from yarl import URL

from dvcwatch.core.credentials import Secret
from dvcwatch.core.errors import ConfigError
from dvcwatch.core.flows import Answer, Bindings, Flow, FlowStep, Prepared, Replay, load_flow
from dvcwatch.core.flows.replay import citizen_values
from dvcwatch.core.otp_sources import OtpConfig, OtpRequest, OtpUnavailable
from dvcwatch.core.page_markers import check_selector
from dvcwatch.core.steps import STEPS
from dvcwatch.core.yamlconfig import check_regex
from probes.checks import CheckContext, Kind, Observation, TargetBase
from probes.checks.api_flow import (
    Credentials,
    Login,
    StepFailed,
    build_otp_source,
    credentials,
    http_base_url,
    otp_source,
    profile_login,
)
from probes.checks.http import MAX_BODY_BYTES, describe_error
from probes.phases import ssl_context

log = logging.getLogger("dvcwatch.probes")

PROBE_STEPS = STEPS[: STEPS.index("form") + 1]
"""login, otp, find_service, form: what a probe may replay; upload, payment, submit never."""
READS = frozenset({"GET", "HEAD"})


class FlowTarget(TargetBase):
    """Replay one recorded flow, login → form; healthy when every answer is what the recording got."""

    steps: ClassVar[tuple[str, ...]] = PROBE_STEPS

    kind: Literal["flow"]
    url: str = Field(description="the portal's base URL: ${base} in the flow")
    flow: str = Field(description="a <service>.flow.yaml file; relative to this config")
    credentials: Credentials | None = Field(None, description="who logs in; as api_flow's")
    citizen: dict[str, int] | None = Field(
        None,
        description="{seed, index}: the synthetic citizen whose identity fills ${citizen.*}; default "
        "the synthetic credentials' citizen, else seed 42 index 0",
    )
    otp: OtpConfig | None = Field(None, description="an OTP source as in a profile's `otp:` block")
    error_selectors: list[str] = Field(default=[], description="the profile's error page")
    busy_selectors: list[str] = Field(default=[], description="the profile's busy banner")
    origins: dict[str, str] = Field(
        default={},
        description="the profile's other origins, role → scheme://host[:port]: `${origin.<role>}` in the "
        "flow, and the only hosts besides `url` a request may go to",
    )
    save_form: bool = Field(
        False, description="also send the form step's writes (saving a draft); default: only open the form"
    )
    step_pages: dict[str, list[str]] = Field(
        default={},
        description="the profile's journey.step_pages (step → URL path regexes): a page that fails is "
        "blamed on the later step it serves, as journeys blame it",
    )

    @field_validator("error_selectors", "busy_selectors")
    @classmethod
    def _readable_selectors(cls, v: list[str], info: ValidationInfo) -> list[str]:
        """Refused when the config is read, as `http`'s `must_not_match`: a selector the matcher cannot
        read would otherwise fail every probe of this target, a limit of the config, not the portal's."""
        try:
            return [check_selector(s) for s in v]
        except ValueError as exc:
            raise ValueError(f"{info.field_name}: {exc}") from None

    @field_validator("step_pages")
    @classmethod
    def _step_pages(cls, v: dict[str, list[str]]) -> dict[str, list[str]]:
        for step, patterns in v.items():
            if step not in STEPS:
                raise ValueError(f"step_pages: {step!r} is not a step of the vocabulary")
            for p in patterns:
                check_regex(p)
        return v

    def owner(self, step: str, url: str) -> str:
        """The step a request's failure is blamed on: its recorded step, unless the page it asked for is
        a later step's own (`step_pages`): a login through the service's button starts on
        find_service's page, so a hung service page is find_service's failure, not login's."""
        path = URL(url).path
        serving = {s for s, pats in self.step_pages.items() if any(re.search(p, path) for p in pats)}
        if not serving or step in serving or step not in STEPS:
            return step
        later = STEPS[STEPS.index(step) + 1 :]
        return next((s for s in later if s in serving and s in PROBE_STEPS), step)

    @field_validator("url")
    @classmethod
    def _http_url(cls, v: str) -> str:
        return http_base_url(v)

    @field_validator("origins")
    @classmethod
    def _origins(cls, v: dict[str, str]) -> dict[str, str]:
        for entry in v.values():
            try:
                u = URL(entry)
            except ValueError:
                u = None
            if u is None or u.scheme not in ("http", "https") or not u.host:
                raise ValueError(f"{entry!r} is not an origin: use scheme://host[:port]")
        return v

    @field_validator("citizen")
    @classmethod
    def _citizen(cls, v: dict[str, int] | None) -> dict[str, int] | None:
        if v is not None and set(v) - {"seed", "index"}:
            raise ValueError("citizen takes only seed and index")
        return v

    @model_validator(mode="after")
    def _unattended(self) -> FlowTarget:
        if self.otp is not None and self.otp.source == "prompt":
            raise ValueError("a prober runs unattended: an OTP source of `prompt` cannot work here")
        return self

    def has_content_rule(self) -> bool:
        return True  # every answer is judged: status as recorded, extractions, error pages

    def env_names(self) -> list[str]:
        otp_env = [n for n in (getattr(self.otp, k, None) for k in ("token_env", "totp_secret_env")) if n]
        return [*(self.credentials.env_names() if self.credentials else []), *otp_env]

    def secrets(self) -> tuple[Any, ...]:
        return ("flow", self.credentials, self.otp, self.flow, tuple(sorted(self.origins.items())))

    def allowed(self) -> set[tuple[str, str, int | None]]:
        """Where this target's requests may go: its own origin and the profile's other origins."""
        return {_origin(u) for u in (self.url, *self.origins.values())}

    def check_on_load(self) -> None:
        """A flow file that does not load or goes past the form, a missing secret or an OTP source that
        cannot work stops the prober before it starts, not every round after."""
        try:
            probe_flow(self.flow, save_form=self.save_form)
        except ConfigError as exc:
            raise ConfigError(str(exc), field="flow") from None
        key = "credentials"
        try:
            login = profile_login(self.credentials) if self.credentials and self.credentials.profile else None
            if self.otp is not None:
                key = "otp"
                build_otp_source(self, login or Login("", Secret("")), self.url)
        except ConfigError as exc:
            raise ConfigError(str(exc), field=key) from None


def _origin(url: str) -> tuple[str, str, int | None]:
    u = URL(url)
    return (u.scheme, (u.host or "").lower().rstrip("."), u.port)


def up_to_form(flow: Flow, *, save_form: bool = False) -> Flow:
    """The part of a flow a probe replays: its steps while they are login, otp, find_service or form,
    and in the form steps only the reads unless `save_form` (opening the form, not saving a draft).
    A ConfigError when no form request is left: the probe would prove nothing about the form."""
    kept: list[FlowStep] = []
    for step in flow.steps:
        if step.step not in PROBE_STEPS:
            break
        requests = step.requests
        if step.step == "form" and not save_form:
            cut = next((i for i, r in enumerate(requests) if r.method not in READS), len(requests))
            requests = requests[:cut]
            if not requests:
                break
            kept.append(step.model_copy(update={"requests": requests}))
            if cut < len(step.requests):
                break
            continue
        kept.append(step)
    if not any(s.step == "form" for s in kept):
        after = next((s.step for s in flow.steps if s.step not in PROBE_STEPS), None)
        raise ConfigError(
            "the flow opens no form"
            + (f" before its {after} step" if after else "")
            + " (a probe replays login → form; its first form request must be a GET, or set save_form)"
        )
    return flow.model_copy(update={"steps": kept})


@dataclass(frozen=True)
class _Cached:
    stamp: tuple[int, int]
    flow: Flow


_FLOWS: dict[tuple[str, bool], _Cached] = {}
_FLOWS_MAX = 1024


def probe_flow(path: str, *, save_form: bool = False) -> Flow:
    """The flow file's probe part, read again only when the file changed (size or mtime)."""
    try:
        st = os.stat(path)
    except OSError as exc:
        raise ConfigError(f"cannot read the flow: {exc.strerror}", path=path) from None
    stamp = (st.st_mtime_ns, st.st_size)
    key = (path, save_form)
    hit = _FLOWS.get(key)
    if hit is not None and hit.stamp == stamp:
        return hit.flow
    flow = up_to_form(load_flow(Path(path)), save_form=save_form)
    if len(_FLOWS) >= _FLOWS_MAX:
        _FLOWS.clear()
    _FLOWS[key] = _Cached(stamp, flow)
    return flow


# One login at a time per account: a portal that texts the newest code to one phone would hand two
# overlapping probes each other's codes (the journeys take the same care).
_ACCOUNT_LOCKS: dict[tuple[int, str, str], asyncio.Lock] = {}


def _account_lock(origin: str, username: str) -> asyncio.Lock:
    key = (id(asyncio.get_running_loop()), origin, username)
    lock = _ACCOUNT_LOCKS.get(key)
    if lock is None:
        if len(_ACCOUNT_LOCKS) >= 1024:
            _ACCOUNT_LOCKS.clear()
        lock = _ACCOUNT_LOCKS[key] = asyncio.Lock()
    return lock


def _citizen(target: FlowTarget) -> dict[str, str]:
    from dvcwatch.core.identities import citizen

    spec = target.citizen or (target.credentials.synthetic if target.credentials else None) or {}
    return citizen_values(citizen(spec.get("seed", 42), spec.get("index", 0)))


def _needs_otp(flow: Flow, index: int) -> bool:
    requests = flow.requests()
    return index < len(requests) and "${otp}" in requests[index][1].model_dump_json()


class _Run:
    """One replay: its own cookie jar on the prober's connector and tracing (phases, politeness)."""

    def __init__(self, target: FlowTarget, ctx: CheckContext, http: aiohttp.ClientSession) -> None:
        self.target = target
        self.ctx = ctx
        self.obs = ctx.observation
        self.http = http
        self.ssl = ssl_context(target.insecure_skip_verify, target.ca_file)
        self.allowed = target.allowed()

    def _book(self, step: str, started: float) -> None:
        self.obs.steps[step] = self.obs.steps.get(step, 0.0) + time.perf_counter() - started

    async def send(self, prepared: Prepared, step: str) -> Answer:
        self.obs.current_step = step
        origin = _origin(prepared.url)
        if origin not in self.allowed:
            where = f"{origin[1]}:{origin[2]}"
            raise StepFailed(
                step, f"refused: {where} is not the portal's origin nor allowed; nothing was sent"
            )
        started = time.perf_counter()
        try:
            async with self.http.request(
                prepared.method,
                prepared.url,
                data=prepared.body,
                headers=prepared.headers,
                allow_redirects=False,
                ssl=self.ssl,
                trace_request_ctx=self.ctx.timer,
            ) as resp:
                self.obs.status_code = resp.status
                body = await resp.content.read(MAX_BODY_BYTES)
                self.ctx.timer.body_done()
                return Answer(resp.status, resp.headers, body, str(resp.url))
        except (aiohttp.ClientError, OSError, ssl.SSLError, asyncio.IncompleteReadError) as exc:
            raise StepFailed(step, describe_error(exc)) from None
        finally:
            self._book(step, started)

    async def otp(self, who: Login) -> str:
        """The code from the target's OTP source; the wait counts in the `otp` step."""
        started = time.perf_counter()
        self.obs.current_step = "otp"
        try:
            source = otp_source(self.target, who, self.target.url)
            code = await source.fetch(OtpRequest(cccd=who.username, account=who.account))
        except OtpUnavailable:
            raise StepFailed("otp", "no one-time code arrived") from None
        except ConfigError as exc:
            log.warning("target %s: OTP source: %s", self.target.name, exc.detail)  # never values
            raise StepFailed("otp", "the OTP source is not configured (see the prober's log)") from None
        finally:
            self._book("otp", started)
        return code.reveal()

    async def replay(self, flow: Flow, who: Login | None) -> None:
        t = self.target
        bindings = Bindings(
            base=t.url,
            citizen=_citizen(t),
            origins={role: url.rstrip("/") for role, url in t.origins.items()},
            username=who.username if who else None,
            password=who.password if who else None,
        )
        try:
            replay = Replay(
                flow, bindings, error_selectors=t.error_selectors, busy_selectors=t.busy_selectors
            )
        except ValueError as exc:
            raise StepFailed(flow.steps[0].step, str(exc)) from None
        requests = flow.requests()
        index = 0
        while True:
            if who is not None and t.otp is not None and _needs_otp(flow, index):
                code = await self.otp(who)
                bindings.otp = lambda code=code: code  # type: ignore[misc]
            prepared = replay.next_request()
            if prepared is None:
                break
            index = prepared.index + 1
            step = t.owner(prepared.step, prepared.url)
            answer = await self.send(prepared, step)
            reason = replay.answer(prepared, answer)
            if reason is not None:
                if not reason.startswith("status "):
                    self.obs.content_match = False
                raise StepFailed(step, reason)
        if replay.failure is not None:  # a value the next request needs was not there
            raise StepFailed(requests[min(index, len(requests) - 1)][0], replay.failure)


async def check(target: FlowTarget, ctx: CheckContext) -> Observation:
    obs = ctx.observation
    try:
        flow = probe_flow(target.flow, save_form=target.save_form)
    except ConfigError as exc:
        log.warning("target %s: %s", target.name, exc)
        return obs.fail("flow: the flow file cannot be used (see the prober's log)")
    try:
        who = credentials(target) if target.credentials is not None else None
    except StepFailed as exc:
        return obs.fail(f"{exc.step}: {exc.reason}", exc.step)
    session = ctx.session
    http = aiohttp.ClientSession(
        connector=session.connector,
        connector_owner=False,
        cookie_jar=aiohttp.CookieJar(unsafe=True),
        headers=session.headers,
        trace_configs=list(session.trace_configs),
        timeout=aiohttp.ClientTimeout(total=None),
        auto_decompress=True,
    )
    try:
        run = _Run(target, ctx, http)
        if who is None:
            await run.replay(flow, who)
        else:
            async with _account_lock(target.url, who.username):
                await run.replay(flow, who)
    except StepFailed as exc:
        return obs.fail(f"{exc.step}: {exc.reason}", exc.step)
    finally:
        await http.close()
    obs.content_match = True
    obs.success = True
    return obs


KIND = Kind(FlowTarget, check)
