"""One citizen's journey through one service: the page, the data it needs, what it has learnt so far.

Steps talk to the portal only through these helpers, so that every step sees hangs, error pages and
"the system is busy" banners the same way and reports them in the citizen's words.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import TimeoutError as PlaywrightTimeout

from dvcwatch.core.catalog.models import Catalog, Service
from dvcwatch.core.credentials import Redactor, Secret
from dvcwatch.core.identities import Citizen
from dvcwatch.core.profile import By, Profile, Sel, describe_selector
from playwright_journeys import refusal
from playwright_journeys.locate import locate
from playwright_journeys.outcome import StepFailure
from playwright_journeys.personas import Persona

if TYPE_CHECKING:
    from playwright.async_api import BrowserContext, Locator, Page, Response

    from dvcwatch.core.credentials import Account
    from dvcwatch.core.otp_sources import OtpSource

SEEN_CHARS = 400


class StepSkipped(Exception):
    """The step did not apply on this visit (e.g. payment moved offline); the reason is kept."""


# The steps where the portal judges what the citizen gave it, and what it refuses there; and the
# buttons that hand it over (before one is pressed, a red notice on the page is not a refusal).
REFUSED_WHAT = {
    "form": "the form",
    "upload": "the documents",
    "submit": "the dossier",
    "payment": "the payment",
}
HANDING_OVER = frozenset({"form_next", "upload_submit", "submit_button", "confirm_button", "payment_confirm"})

STEP_WAITS = 3  # a step's whole time, in answers' patience (step_timeout): see Journey.step_limit


@dataclass(frozen=True)
class Tab:
    """The browser page a journey drives, and its context (for CDP, cookies, tracing)."""

    page: Page
    context: BrowserContext


@dataclass(frozen=True)
class Errand:
    """Which portal (its profile, the catalog it serves) and which of its services the citizen wants."""

    profile: Profile
    catalog: Catalog
    service: Service


@dataclass
class Login:
    """Who logs in: the synthetic citizen on the sandbox, a test account (secret password) elsewhere.

    The citizen's identity fills the forms either way; the account replaces what is typed at login,
    and, with `journey.form_identity: account`, the CCCD on the form too (see Journey.__post_init__)."""

    citizen: Citizen
    username: str = ""
    password: Secret | None = field(default=None, repr=False)
    account: str = ""  # the profile's account name, "" for a synthetic citizen
    totp_secret: Secret | None = None  # the account's own TOTP seed, when the OTP source is totp
    otp_source: OtpSource | None = (
        None  # the sweep's one source (steps/otp.py); None: the step builds its own
    )

    def __post_init__(self) -> None:
        if not self.username:
            self.username = self.citizen.cccd
        if self.password is None:
            self.password = Secret(self.citizen.password)

    @classmethod
    def of(cls, citizen: Citizen, account: Account | None, otp_source: OtpSource | None) -> Login:
        """The citizen alone, or the citizen filling forms while `account` logs in."""
        if account is None:
            return cls(citizen, otp_source=otp_source)
        return cls(
            citizen,
            username=account.username,
            password=account.password,
            account=account.name,
            totp_secret=account.totp_secret,
            otp_source=otp_source,
        )


@dataclass(frozen=True)
class Options:
    """How the journey goes: the persona's device and patience, one answer's patience
    (`step_timeout`, already scaled by the persona), and whether it may only look (production)."""

    persona: Persona
    step_timeout: float
    look_only: bool = False  # production: stop at the last reversible point


def _learnt(default: object = None) -> Any:
    """A field the journey fills in as it goes, never passed in."""
    return field(default=default, init=False)


@dataclass
class Journey:
    """One citizen's journey, built from four parts; what it learns on the way is not given, only kept.

    The parts' fields are readable on the journey itself (`j.page`, `j.profile`, `j.username`, ...), as
    steps and step plugins use them."""

    tab: Tab
    errand: Errand
    login: Login
    options: Options
    redactor: Redactor = field(default_factory=Redactor, repr=False)  # the run's: it learns the password
    # learnt on the way
    level_advertised: str | None = _learnt()
    level_delivered: str | None = _learnt()
    payment_offline: bool = _learnt(False)
    dossier_code: str | None = _learnt()
    expected_date: str | None = _learnt()
    fee_charged: int | None = _learnt()
    login_started: float | None = _learnt()
    submitted_at: float | None = _learnt()
    last_status: int | None = _learnt()
    nav_url: str | None = _learnt()  # the page being loaded or last loaded: where a failure happened
    nav_started: float = _learnt(0.0)
    # the paths the current step navigated to
    step_pages_seen: list[str] = field(default_factory=list, init=False)
    detail: str = _learnt("")
    checked_to: str | None = _learnt()
    step_name: str = _learnt("")
    resolved: list[tuple[str, str]] = field(default_factory=list, init=False)  # (step, selector found)
    handed_over: bool = _learnt(False)  # this step gave the portal something to judge (check_refusal)
    _deadline: float = field(default=0.0, init=False, repr=False)

    def __post_init__(self) -> None:
        self.redactor.add(self.password)
        if self.account and self.profile.journey.form_identity == "account":
            # the account's own CCCD on the e-form (a portal may check it against the login)
            self.login.citizen = dataclasses.replace(self.login.citizen, cccd=self.login.username)
        self._in_flight: dict[object, float] = {}  # requests sent and not yet answered, when sent

    # --- the parts, as steps read them ----------------------------------------------------------
    @property
    def page(self) -> Page:
        return self.tab.page

    @property
    def context(self) -> BrowserContext:
        return self.tab.context

    @property
    def profile(self) -> Profile:
        return self.errand.profile

    @property
    def catalog(self) -> Catalog:
        return self.errand.catalog

    @property
    def service(self) -> Service:
        return self.errand.service

    @property
    def citizen(self) -> Citizen:
        return self.login.citizen

    @property
    def username(self) -> str:
        return self.login.username

    @property
    def password(self) -> Secret | None:
        return self.login.password

    @property
    def account(self) -> str:
        return self.login.account

    @property
    def totp_secret(self) -> Secret | None:
        return self.login.totp_secret

    @property
    def otp_source(self) -> OtpSource | None:
        return self.login.otp_source

    @property
    def persona(self) -> Persona:
        return self.options.persona

    @property
    def step_timeout(self) -> float:
        return self.options.step_timeout

    @property
    def look_only(self) -> bool:
        return self.options.look_only

    def params(self, **extra: str) -> dict[str, str]:
        """Placeholders every selector and path may use, plus the step's own."""
        return {
            "service": self.service.id,
            "code": self.profile.code_of(self.service),
            "name_vi": self.service.name_vi,
            "bank": self.profile.journey.bank,
            **extra,
        }

    def watch_navigation(self) -> None:
        def on_request(request) -> None:  # type: ignore[no-untyped-def]
            if request.is_navigation_request() and request.frame == self.page.main_frame:
                if request.redirected_from is None:
                    self.nav_started = time.monotonic()
                self.nav_url = request.url
                self.step_pages_seen.append(request.url)

        def on_done(request) -> None:  # type: ignore[no-untyped-def]
            self._in_flight.pop(request, None)

        def on_any(request) -> None:  # type: ignore[no-untyped-def]
            self._in_flight[request] = time.monotonic()

        self.page.on("request", on_request)
        self.page.on("request", on_any)
        self.page.on("requestfinished", on_done)
        self.page.on("requestfailed", on_done)

    def unanswered_since(self, t: float) -> bool:
        """Whether a request sent since `t` is still waiting for its answer: the portal, not the
        page, is what the step is waiting for (an upload that hangs)."""
        return any(sent >= t for sent in self._in_flight.values())

    # --- timing -------------------------------------------------------------------------------
    def begin_step(self, name: str = "") -> None:
        self.step_name = name
        self.detail = ""
        self.step_pages_seen = []
        self.handed_over = False
        self.last_status = None
        self._deadline = time.monotonic() + self.step_limit

    @property
    def step_limit(self) -> float:
        """A slow portal is not a hung one: `step_timeout` bounds each wait for an answer, so "no
        answer in N s" is literally true, while a step of several pages that each answer slowly may
        take up to STEP_WAITS of them and end as a slow (degraded) journey rather than a failure."""
        return self.step_timeout * STEP_WAITS

    def remaining_ms(self) -> float:
        """The timeout for the next wait: one answer's patience, or what is left of the step's."""
        return max(1.0, min(self.step_timeout, self._deadline - time.monotonic()) * 1000)

    def no_answer(self) -> StepFailure:
        if time.monotonic() >= self._deadline - 0.05:
            return StepFailure(f"step not done in {self.step_limit:g} s", seen="", http_status=None)
        return StepFailure(f"no answer in {self.step_timeout:g} s", seen="", http_status=None)

    # --- selectors ----------------------------------------------------------------------------
    def sel(self, name: str, **params: str) -> Sel:
        return self.profile.selectors.get(name, **self.params(**params))

    def has(self, name: str) -> bool:
        """Whether this portal has the thing at all (a profile sets `null` where it has not)."""
        return self.profile.selectors.has(name)

    def describe(self, name: str, **params: str) -> str:
        return f"{name}: {describe_selector(self.sel(name, **params))}"

    def _found(self, name: str, **params: str) -> None:
        seen = (self.step_name, self.describe(name, **params))
        if seen not in self.resolved:
            self.resolved.append(seen)

    def locate(self, spec: Sel) -> Locator:
        return locate(self.page, spec)

    def loc(self, name: str, **params: str) -> Locator:
        return self.locate(self.sel(name, **params)).first

    async def element_kinds(self, selectors: list[Sel]) -> list[str | None]:
        """For each selector, "tag:type" of its first element on the page, or None if absent.

        One round trip for plain CSS selectors: the e-form checks every catalog field on every page,
        and one call each is slow on a busy machine. Others (labels, roles, text=) ask Playwright."""
        css = [s if isinstance(s, str) else (s.css if isinstance(s, By) and s.css else "") for s in selectors]
        found = await self.page.evaluate(
            """sels => sels.map(s => {
                 if (!s) return null;
                 try { const e = document.querySelector(s);
                       return e ? e.tagName.toLowerCase() + ':' + (e.type || '') : ''; }
                 catch (err) { return null; } })""",
            css,
        )
        out: list[str | None] = []
        for sel, kind in zip(selectors, found, strict=True):
            if kind is None:  # not CSS: ask Playwright
                loc = self.locate(sel)
                kind = (
                    await loc.first.evaluate("e => e.tagName.toLowerCase() + ':' + (e.type || '')")
                    if await loc.count()
                    else ""
                )
            out.append(kind or None)
        return out

    async def present(self, name: str, **params: str) -> bool:
        if not self.has(name):
            return False
        for _ in range(2):
            try:
                return await self.locate(self.sel(name, **params)).count() > 0
            except PlaywrightError as exc:
                if "context was destroyed" not in str(exc):
                    return False
                await self.settled()  # the page left by itself: look at the one it went to
        return False

    async def settled(self) -> None:
        """Wait (one answer's patience at most) for the page a script navigated to."""
        with contextlib.suppress(PlaywrightError):
            await self.page.wait_for_load_state("domcontentloaded", timeout=self.remaining_ms())

    # --- what the citizen sees ----------------------------------------------------------------
    async def seen_text(self, name: str | None = None, **params: str) -> str:
        try:
            if name:
                target = self.loc(name, **params)
            elif await self.present("content"):
                target = self.loc("content")
            else:
                target = self.page.locator("body")
            text = await target.inner_text(timeout=1000)
        except PlaywrightError:
            return ""
        return " ".join(text.split())[:SEEN_CHARS]

    async def check_page(self, response: Response | None = None) -> None:
        """Fail the step if the portal shows an error page, a 'busy' banner or an HTTP error."""
        if response is not None:
            self.last_status = response.status
        try:
            seen_trouble = await self._trouble().count() > 0  # one look, the precise ones only if needed
        except PlaywrightError:
            seen_trouble = True  # let the precise checks decide
        if seen_trouble and await self.present("error_page"):
            raise StepFailure(
                "the portal showed an error page",
                seen=await self.seen_text("error_page"),
                http_status=self.last_status,
            )
        if seen_trouble and await self.present("error_banner"):
            raise StepFailure(
                "the portal said it is busy (soft failure)",
                seen=await self.seen_text("error_banner"),
                http_status=self.last_status,
            )
        if self.last_status is not None and self.last_status >= 400:
            raise StepFailure(
                f"the portal answered HTTP {self.last_status}",
                seen=await self.seen_text(),
                http_status=self.last_status,
            )

    async def check_refusal(self) -> None:
        """Where the portal refuses what the citizen gave it (the form, the documents, the dossier,
        the payment), say so in its words and blame whoever left it unfilled, rather than name the
        element that never came (refusal.py)."""
        if self.step_name not in REFUSED_WHAT or not self.handed_over:
            return
        found = await refusal.read(self)
        if not found:
            return
        if self.step_name == "payment":
            raise StepFailure("the payment did not go through", seen=found.words())
        raise refusal.blame(self, found, REFUSED_WHAT[self.step_name])

    # --- actions ------------------------------------------------------------------------------
    async def stop_loading(self) -> None:
        """Give up on a page that never answers, as a citizen presses Stop: until then chromium
        blocks every look at the page (screenshot, text), so evidence could not be taken."""
        try:
            cdp = await self.context.new_cdp_session(self.page)
            await asyncio.wait_for(cdp.send("Page.stopLoading"), timeout=2)
            await cdp.detach()
        except Exception:
            pass

    async def goto(self, url: str) -> None:
        try:
            response = await self.page.goto(url, wait_until="domcontentloaded", timeout=self.remaining_ms())
        except PlaywrightTimeout:
            await self.stop_loading()
            raise self.no_answer() from None
        await self.check_page(response)

    async def click_and_wait(self, name: str, **params: str) -> None:
        """Click something that loads a new page (a form POST, a link) and wait for that page."""
        clicked_at = time.monotonic()
        self.handed_over = self.handed_over or name in HANDING_OVER
        try:
            async with self.page.expect_navigation(
                wait_until="domcontentloaded", timeout=self.remaining_ms()
            ) as nav:
                await self.loc(name, **params).click(timeout=self.remaining_ms())
            response = await nav.value
            self._found(name, **params)
        except PlaywrightTimeout:
            if self.nav_started >= clicked_at:  # the portal was asked and never answered
                await self.stop_loading()
                raise self.no_answer() from None
            raise await self.missing(name, **params) from None
        await self.check_page(response)

    def _trouble(self) -> Locator:
        return self.page.locator(self.sel("error_page")).or_(self.page.locator(self.sel("error_banner")))

    async def expect(self, name: str, what: str, **params: str) -> Locator:
        """Wait for an element the citizen needs; if it never comes, say what was on screen instead.

        An error page or a "busy" banner ends the wait at once: a script-rendered page that failed
        shows its banner instead of the content, and waiting out the step's time would hide that."""
        if not self.has(name):
            raise StepFailure(f"the profile gives no selector for {what} ({name} is null)", selector=name)
        target = self.loc(name, **params)
        try:
            await target.or_(self._trouble()).first.wait_for(state="attached", timeout=self.remaining_ms())
        except PlaywrightTimeout:
            pass
        if await self.present(name, **params):
            self._found(name, **params)
            return target
        await self.check_page()
        await self.check_refusal()
        raise StepFailure(
            f"the page did not show {what} ({self.describe(name, **params)})",
            seen=await self.seen_text(),
            selector=self.describe(name, **params),
        )

    async def expect_any(self, names: list[str], what: str) -> str:
        """Wait for the first of several elements; returns the name of the one that appeared."""
        return await self.expect_any_of([(n, {}) for n in names], what)

    async def expect_any_of(self, wanted: list[tuple[str, dict[str, str]]], what: str) -> str:
        """`expect_any` where each selector has its own placeholders (a file's name, a document)."""
        wanted = [(n, p) for n, p in wanted if self.has(n)]
        union = self._trouble()
        for n, p in wanted:
            union = self.locate(self.sel(n, **p)).or_(union)
        try:
            await union.first.wait_for(state="attached", timeout=self.remaining_ms())
        except PlaywrightTimeout:
            pass
        for n, p in wanted:
            if await self.present(n, **p):
                self._found(n, **p)
                return n
        await self.check_page()
        await self.check_refusal()
        described = "; ".join(self.describe(n, **p) for n, p in wanted)
        raise StepFailure(
            f"the page did not show {what} ({described})", seen=await self.seen_text(), selector=described
        )

    async def click(self, name: str, **params: str) -> None:
        """Click something that changes the page by script (no new page): a search, a modal."""
        self.handed_over = self.handed_over or name in HANDING_OVER
        try:
            await self.loc(name, **params).click(timeout=self.remaining_ms())
            self._found(name, **params)
        except PlaywrightTimeout:
            raise await self.missing(name, **params) from None

    async def missing(self, name: str, **params: str) -> StepFailure:
        await self.check_page()
        await self.check_refusal()
        return StepFailure(
            f"the page has no {name.replace('_', ' ')} ({self.describe(name, **params)})",
            seen=await self.seen_text(),
            selector=self.describe(name, **params),
        )
