"""`dvcwatch profile check`: walk one service with a profile and say, step by step, what was found.

It is how a district's IT staff write and maintain their profile: the same journey the shopper runs.
By default it is forced into look-don't-touch (it stops at the filled form or the payment page,
whatever the profile's environment says), so a check files nothing and pays nothing; on a sandbox or
staging profile `--through result` files one dossier, so that the payment, receipt, tracking and
result selectors are proved too. Each step lists the selectors that resolved; the first that did not
is named with a screenshot of the page it looked at, and the selectors the journeys need that the
check never reached are listed as not verified: exit 0 means every one of them was found.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from dvcwatch.core.catalog.models import Catalog, Service
from dvcwatch.core.errors import ConfigError
from dvcwatch.core.profile import Profile, Sel, Selectors, describe_selector
from playwright_journeys.journeys import journey_for
from playwright_journeys.personas import Persona
from playwright_journeys.results import ServiceResult
from playwright_journeys.steps import KINDS

if TYPE_CHECKING:
    from playwright_journeys.runner import Sweep

URL_TIMEOUT = 10.0
LOOK = "last-reversible"
THROUGH = (LOOK, "result")


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
    bad_selectors: list[tuple[str, str]] = field(default_factory=list)  # (where, why) before any page
    failure_selector: str | None = None
    unverified: list[tuple[str, str]] = field(default_factory=list)  # (step, selector name) never reached
    through: str = LOOK

    @property
    def unverified_matter(self) -> bool:
        """Selectors the journeys use that the check never reached. In production (without
        allow_submit) journeys stop where the check stopped, so what lies beyond is never used."""
        if not self.unverified:
            return False
        return not (self.profile.environment == "production" and not self.profile.allow_submit)

    @property
    def ok(self) -> bool:
        return (
            all(u.ok for u in self.urls)
            and not self.bad_selectors
            and worked(self.result)
            and not self.unverified_matter
        )


def worked(result: ServiceResult | None) -> bool:
    """The walk got as far as it was to go: end to end, or (looking only) to the last reversible
    point, whatever verdict word production journeys get for that."""
    return result is not None and (
        result.completed or (result.checked_to is not None and result.verdict == "not_filed")
    )


def needed_selectors(profile: Profile, service: Service) -> list[tuple[str, tuple[str, ...]]]:
    """(step, names) for every selector a healthy journey of this service cannot pass without, in
    step order; several names are alternatives (one of them appears). What only shows on failure
    (error banners, refusals) is not here: a healthy portal never shows it."""
    return [
        (step, names)
        for step in journey_for(service, profile)
        for names in KINDS[step].needs(profile, service)
    ]


def unverified(
    report_result: ServiceResult | None, needed, resolved: dict[str, list[str]]
) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """The needed selectors of the steps the check did not finish (not run, or stopped at the last
    reversible point) that it never found; a skipped step (payment moved offline) needs none."""
    if report_result is None:
        return []
    status = {s.name: s.status for s in report_result.steps}
    unfinished = {s.name for s in report_result.steps if s.status == "not_run"}
    if report_result.checked_to:
        unfinished.add(report_result.checked_to)
    found = {entry.split(":", 1)[0] for entries in resolved.values() for entry in entries}
    return [
        (step, " or ".join(names))
        for step, names in needed
        if step in unfinished and status.get(step) != "skipped" and not found.intersection(names)
    ]


def pick_service(profile: Profile, catalog: Catalog, service_id: str | None) -> Service:
    """The service asked for; else the first the profile maps; else the first with a fee (it shows
    the most pages: documents and the amount to pay)."""
    if service_id:
        return catalog.service(service_id)
    for sid in profile.services:
        return catalog.service(sid)
    return next((s for s in catalog.services if s.charges_fee), catalog.services[0])


def all_selectors(profile: Profile) -> list[tuple[str, Sel]]:
    """Every selector the profile gives, with each placeholder filled by a stand-in: a selector that
    does not even parse is wrong on every page, so it can be named before any page is visited."""
    stand_in = dict.fromkeys(
        (
            "service",
            "code",
            "name_vi",
            "field",
            "label",
            "document",
            "document_name",
            "filename",
            "agency",
            "bank",
        ),
        "x",
    )
    out: list[tuple[str, Sel]] = []
    for name in Selectors.model_fields:
        spec = profile.selectors.spec(name)
        if spec is not None and not name.endswith("_attr"):
            out.append((f"selectors.{name}", profile.selectors.get(name, **stand_in)))
    for sid, section in profile.forms.items():
        for fname, f in section.fields.items():
            if f.selector is not None:
                out.append((f"forms.{sid}.fields.{fname}.selector", f.selector))
        for xname, x in section.extra.items():
            if x.selector is not None:
                out.append((f"forms.{sid}.extra.{xname}.selector", x.selector))
        for dname, d in section.extra_documents.items():
            if d.selector is not None:
                out.append((f"forms.{sid}.extra_documents.{dname}.selector", d.selector))
    return out


async def check_syntax(profile: Profile) -> list[tuple[str, str]]:
    """(where, Playwright's words) for each selector Playwright cannot parse, on an empty page."""
    from playwright.async_api import Error as PlaywrightError
    from playwright.async_api import async_playwright

    from playwright_journeys.browser import BrowserHost
    from playwright_journeys.locate import locate

    bad: list[tuple[str, str]] = []
    async with async_playwright() as pw:
        host = BrowserHost(pw)
        try:
            browser = await host.ensure()
            page = await browser.new_page()
            for where, spec in all_selectors(profile):
                try:
                    await locate(page, spec).count()
                except PlaywrightError as exc:
                    bad.append((f"{where}: {describe_selector(spec)}", str(exc).splitlines()[0]))
        finally:
            await host.close()
    return bad


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
    from dvcwatch.core.politeness import user_agent

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
    through: str = LOOK,
) -> CheckReport:
    from playwright_journeys.runner import Sweep, SweepConfig

    if through not in THROUGH:
        raise ConfigError(f"--through is one of {', '.join(THROUGH)}")
    if through != LOOK and profile.environment == "production":
        raise ConfigError(
            "profile check files a dossier (--through result) only on a sandbox or staging profile; "
            "in production it stops at the last reversible point and lists what it could not verify"
        )
    profile.check_forms(catalog)
    bad = asyncio.run(check_syntax(profile))
    urls = asyncio.run(check_urls(profile, service))
    cfg = SweepConfig(
        profile=_walked_as(profile, through),
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
    resolved = _resolved_by_step(sweep)
    failure_selector = result.failure.selector if result is not None and result.failure else None
    missing = unverified(result, needed_selectors(profile, service), resolved) if worked(result) else []
    return CheckReport(profile, service, urls, result, resolved, bad, failure_selector, missing, through)


def _walked_as(profile: Profile, through: str) -> Profile:
    """The profile the check walks with: looking only (the default) files nothing, as in production;
    documents still go up to a sandbox or staging portal (proving the upload selectors), in production
    only where the profile allows it (journey.production_uploads)."""
    if through != LOOK:
        return profile
    uploads = profile.environment != "production" or profile.journey.production_uploads
    looking = profile.looking_only()
    looking.journey = profile.journey.model_copy(update={"production_uploads": uploads})
    return looking


def _resolved_by_step(sweep: Sweep) -> dict[str, list[str]]:
    """The selectors the check's journey found, by step (its last attempt)."""
    resolved: dict[str, list[str]] = {}
    for j in sweep.journeys[-1:]:
        for step, selector in j.resolved:
            resolved.setdefault(step, []).append(selector)
    return resolved
