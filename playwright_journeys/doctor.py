"""`dvcwatch profile check`: walk one service with a profile and say, step by step, what was found.

It is how a district's IT staff write and maintain their profile: the same journey the shopper runs,
forced into look-don't-touch (it stops at the filled form or the payment page, whatever the profile's
environment says), so a check on production files nothing and pays nothing. Each step lists the
selectors that resolved; the first that did not is named with a screenshot of the page it looked at.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

from dvcwatch.catalog.models import Catalog, Service
from dvcwatch.profile import Profile
from playwright_journeys.personas import Persona
from playwright_journeys.results import ServiceResult

URL_TIMEOUT = 10.0


@dataclass
class UrlCheck:
    what: str
    url: str
    status: int | None
    problem: str = ""

    @property
    def ok(self) -> bool:
        return not self.problem


@dataclass
class CheckReport:
    profile: Profile
    service: Service
    urls: list[UrlCheck]
    result: ServiceResult | None
    resolved: dict[str, list[str]] = field(default_factory=dict)
    failure_selector: str | None = None

    @property
    def ok(self) -> bool:
        ok_verdict = self.result is not None and self.result.completed
        return all(u.ok for u in self.urls) and ok_verdict


def pick_service(profile: Profile, catalog: Catalog, service_id: str | None) -> Service:
    """The service asked for; else the first the profile maps; else the first with a fee (it shows
    the most pages: documents and the amount to pay)."""
    if service_id:
        return catalog.service(service_id)
    for sid in profile.services:
        return catalog.service(sid)
    return next((s for s in catalog.services if s.charges_fee), catalog.services[0])


async def check_urls(profile: Profile, service: Service) -> list[UrlCheck]:
    """The pages a journey opens by address (not by clicking): they must answer without an error."""
    import aiohttp

    params = {"service": service.id, "code": profile.code_of(service)}
    wanted = [
        ("home", profile.url(profile.paths.home)),
        ("service", profile.url(profile.paths.service, **params)),
        ("tracking", profile.url(profile.paths.tracking.split("?", 1)[0])),
    ]
    out: list[UrlCheck] = []
    timeout = aiohttp.ClientTimeout(total=URL_TIMEOUT)
    headers = {"User-Agent": _user_agent(profile)}
    async with aiohttp.ClientSession(timeout=timeout, headers=headers) as http:
        for what, url in wanted:
            try:
                async with http.get(url) as r:
                    problem = f"HTTP {r.status}" if r.status >= 400 else ""
                    out.append(UrlCheck(what, url, r.status, problem))
            except (aiohttp.ClientError, TimeoutError) as exc:
                out.append(UrlCheck(what, url, None, f"no answer: {type(exc).__name__} {exc}".strip()))
    return out


def _user_agent(profile: Profile) -> str:
    from dvcwatch.politeness import user_agent

    return user_agent(profile.politeness.contact)


def check_profile(
    profile: Profile,
    catalog: Catalog,
    service: Service,
    persona: Persona,
    out_dir: Path,
    *,
    step_timeout: float | None = None,
    profile_dir: Path = Path("."),
) -> CheckReport:
    from playwright_journeys.runner import Sweep, SweepConfig

    urls = asyncio.run(check_urls(profile, service))
    looking = profile.model_copy(update={"environment": "production", "allow_submit": False})
    cfg = SweepConfig(
        profile=looking,
        catalog=catalog,
        services=[service],
        personas=[persona],
        out_dir=out_dir,
        parallel=1,
        step_timeout=step_timeout,
        trace="off",
        profile_dir=profile_dir,
    )
    sweep = Sweep(cfg)
    run = asyncio.run(sweep.run())
    result = run.results[0] if run.results else None
    resolved: dict[str, list[str]] = {}
    for j in sweep.journeys[-1:]:
        for step, selector in j.resolved:
            resolved.setdefault(step, []).append(selector)
    failure_selector = result.failure.selector if result is not None and result.failure else None
    return CheckReport(looking, service, urls, result, resolved, failure_selector)
