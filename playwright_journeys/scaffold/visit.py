"""The browser part: log in once as the journeys do, then open each service's e-form and read it.

The login and OTP are the journeys' own steps (`steps/login.py`, `steps/otp.py`), so a profile that
logs in for `shop` logs in here, through a service's own button if it says so. Each service is
reached as a citizen reaches it: its page, then its own start button. On a sandbox or staging profile
a wizard is walked page after page (required boxes filled with made-up values, only `form_next`
pressed) until the documents page, where the slots are read and the walk stops: nothing is uploaded,
submitted or paid. On a production profile only the first page is read: going on would save a draft
on a portal citizens use. The profile's politeness (rate, User-Agent) applies to other hosts.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from playwright.async_api import ElementHandle
from playwright.async_api import Error as PlaywrightError

from dvcwatch.core.catalog.models import Catalog, Service
from dvcwatch.core.credentials import Account, AccountResolver
from dvcwatch.core.identities import Citizen, citizen
from dvcwatch.core.interrupts import Interrupts
from dvcwatch.core.politeness import Politeness, host_of, is_loopback
from dvcwatch.core.profile import Profile
from playwright_journeys.journey import Errand, Journey, Login, Options, Tab
from playwright_journeys.outcome import HarnessError, StepFailure
from playwright_journeys.personas import Persona
from playwright_journeys.scaffold.advance import files_or_pays, fill_required
from playwright_journeys.scaffold.draft import Reading
from playwright_journeys.scaffold.reader import Control, read_page

MAX_PAGES = 6
FILL_TRIES = 4  # made-up values tried on a page that refuses them


class BrowserGone(Exception):
    """The browser went away mid-read (killed, crashed): every later service would fail the same way
    and a file of such failures would blame the portal's e-forms, so nothing is written."""


class LoginFailed(Exception):
    """The login or the OTP did not go through: nothing can be read (the portal's answer, or the
    profile's login selectors)."""


@dataclass
class VisitConfig:
    profile: Profile
    catalog: Catalog
    services: list[Service]
    persona: Persona
    step_timeout: float
    profile_dir: Path = Path(".")
    first_page_only: bool = False


def polite(profile: Profile) -> bool:
    return profile.politeness.limit_loopback or not all(is_loopback(host_of(u)) for u in profile.hosts())


def prepare(cfg: VisitConfig) -> tuple[Account | None, Politeness]:
    """What can be wrong before a browser starts: the account's secrets, the politeness contact."""
    prof = cfg.profile
    politeness = Politeness(prof.politeness)
    if polite(prof):
        for url in prof.hosts():
            politeness.check_target(url)
    account = None
    if prof.account or prof.account_pool:
        name = prof.account or prof.account_pool[0]
        account = AccountResolver(prof.accounts_config(), base_dir=cfg.profile_dir).account(name)
    return account, politeness


async def visit(cfg: VisitConfig, progress: Callable[[str, Reading | None], None]) -> list[Reading]:
    """One reading per service, in order; `progress(service id, reading or None when starting)`."""
    # Ctrl-C and SIGHUP (a closed terminal): SIGTERM keeps its default action (the process ends, the
    # atomic write leaves no file)
    from playwright_journeys.browser import quiet_driver_teardown

    with Interrupts((signal.SIGINT, signal.SIGHUP), on_signal=quiet_driver_teardown) as interrupts:
        return await _read_all(cfg, progress, interrupts)


async def _read_all(
    cfg: VisitConfig, progress: Callable[[str, Reading | None], None], interrupts: Interrupts
) -> list[Reading]:
    from playwright.async_api import async_playwright

    from playwright_journeys.browser import BrowserHost
    from playwright_journeys.steps import get
    from playwright_journeys.steps.otp import source_for

    prof = cfg.profile
    account, politeness = prepare(cfg)
    otp_source = source_for(prof, account.totp_secret if account else None)
    who = citizen(prof.identities.seed, 0)
    limits = politeness.for_host(prof.base_url)
    readings: list[Reading] = []
    async with async_playwright() as pw:
        host = BrowserHost(pw)
        try:
            async with limits.context():
                ua = politeness.user_agent if polite(prof) else None
                context, page = await host.new_context(cfg.persona, ua)
                if polite(prof):
                    await politeness.install_on_context(context)
                page.set_default_timeout(cfg.step_timeout * 1000)

                tab, login = Tab(page, context), Login.of(who, account, otp_source)
                options = Options(cfg.persona, cfg.step_timeout, look_only=True)

                def journey(service: Service) -> Journey:
                    return Journey(tab, Errand(prof, cfg.catalog, service), login, options)

                first = journey(cfg.services[0])
                for name in ("login", "otp"):
                    first.begin_step(name)
                    try:
                        await get(name)(first)
                    except (StepFailure, HarnessError) as exc:
                        interrupts.check()
                        raise LoginFailed(f"{name}: {exc}") from None
                for service in cfg.services:
                    progress(service.id, None)
                    reading = await read_service(journey(service), cfg, who)
                    interrupts.check()
                    if reading.error and not host.alive():
                        await asyncio.sleep(0.5)  # a signal on its way lands here (our handler runs)
                        interrupts.check()
                        raise BrowserGone(f"the browser closed while reading {service.id}: {reading.error}")
                    readings.append(reading)
                    progress(service.id, reading)
        finally:
            await host.close()
    return readings


async def read_service(j: Journey, cfg: VisitConfig, who: Citizen) -> Reading:
    reading = Reading(j.service)
    j.begin_step("form")
    try:
        await j.goto(j.profile.url(j.profile.paths.service, **j.params()))
        await j.expect("start_submission", "the service's button that opens the e-form")
        await j.click_and_wait("start_submission")
        await _walk(j, cfg, who, reading)
    except (StepFailure, HarnessError) as exc:
        reading.error = str(exc) + (f" (seen: {exc.seen})" if getattr(exc, "seen", "") else "")
    except TimeoutError:
        reading.error = f"no answer in {cfg.step_timeout:g} s"
    except PlaywrightError as exc:  # a selector of the wrong kind, a strict-mode violation: the profile's
        reading.error = "harness or profile error: " + str(exc).splitlines()[0]
    return reading


async def _walk(j: Journey, cfg: VisitConfig, who: Citizen, reading: Reading) -> None:
    content = j.profile.selectors.content
    for number in range(1, MAX_PAGES + 1):
        j.begin_step("form")
        if j.has("form_next") or j.has("upload_submit"):
            await j.expect_any(["form_next", "upload_submit"], "the e-form")
        else:
            await j.page.wait_for_load_state("domcontentloaded")
        page = await read_page(j.page, content, await covered(j))
        reading.pages.append(page)
        if page.slots or await j.present("upload_submit"):
            reading.all_pages = True
            return
        if not j.has("form_next"):
            reading.stopped = (
                "a one-page e-form: its documents come after it is sent, which the scaffold never does"
            )
            return
        if j.profile.environment == "production":
            reading.stopped = "production: only the first page is read (going on would save a draft)"
            return
        if cfg.first_page_only:
            reading.stopped = "--first-page-only"
            return
        words = await j.loc("form_next").inner_text(timeout=j.remaining_ms())
        if files_or_pays(words):
            reading.stopped = f"the next button «{' '.join(words.split())}» would file or pay"
            return
        if not await _next_page(j, cfg, who, page.controls):
            reading.stopped = (
                f"page {number} refused the made-up values ({await j.seen_text('form_errors')}); "
                "later pages were not read"
            )
            return
    reading.stopped = f"more than {MAX_PAGES} pages"


async def covered(j: Journey) -> list[ElementHandle]:
    """The elements the profile's own selectors already handle on this page (the declaration box,
    which the submit step ticks): not questions for a person."""
    if not j.has("declaration"):
        return []
    try:
        return await j.locate(j.sel("declaration")).element_handles()
    except PlaywrightError:  # a selector this page cannot resolve: nothing is covered here
        return []


async def _next_page(j: Journey, cfg: VisitConfig, who: Citizen, controls: list[Control]) -> bool:
    """Fill the required boxes and press `form_next`; when the page refuses, try the boxes it names
    with the next made-up values, a bounded number of times. True once the page was accepted."""
    refused: str | None = None
    for attempt in range(FILL_TRIES):
        await fill_required(j, cfg.catalog, j.service, controls, who, attempt=attempt, refused=refused)
        j.begin_step("form")
        await j.click_and_wait("form_next")
        if not await j.present("form_errors"):
            return True
        refused = await j.seen_text("form_errors")
        controls = (await read_page(j.page, j.profile.selectors.content)).controls
    return False


def run_visit(cfg: VisitConfig, progress: Callable[[str, Reading | None], None]) -> list[Reading]:
    return asyncio.run(visit(cfg, progress))
