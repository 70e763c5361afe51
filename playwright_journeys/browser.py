"""One chromium for the whole sweep, many isolated contexts, and a new chromium if it dies.

A crashed browser must not end the run (a leader still wants the other 24 answers), so contexts are
opened through `BrowserHost`, which relaunches under a lock when the browser is gone and counts it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dvcwatch.core.scratch import private_dir
from playwright_journeys.personas import Persona

if TYPE_CHECKING:
    from playwright.async_api import Browser, BrowserContext, Page, Playwright

FULL_CHROMIUM = "/usr/bin/chromium"
# the binary itself: /usr/bin/chromium-headless-shell is a shell script that runs it without `exec`, so
# a signal to the process Playwright started (a kill, a crash test) would reach the script, not the browser
HEADLESS_SHELL = "/usr/lib/chromium/chromium-headless-shell"


def default_executable() -> str:
    """The browser a journey runs in. Debian's `chromium-headless-shell` is the shell Playwright itself
    uses for headless runs: the same Blink and V8 without the desktop browser's UI layers, measured here at
    about 0.7 of a sweep's time and memory with the same verdicts, screenshots, traces and HARs. A full
    `chromium` stays one variable away (`DVCWATCH_CHROMIUM=/usr/bin/chromium`) for a portal that needs
    it, and is the fallback where the shell is not installed."""
    chosen = os.environ.get("DVCWATCH_CHROMIUM", "").strip()
    if chosen:
        return chosen
    return HEADLESS_SHELL if os.path.exists(HEADLESS_SHELL) else FULL_CHROMIUM


CHROMIUM = default_executable()
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--disable-dev-shm-usage",
    # Each journey's context already has its own renderer processes; strict site isolation only adds a
    # process spawn at every hop between the portal, the identity provider and the payment origin.
    # Measured on a 2-core machine, a 25-service sweep at parallel 4: 57-60 s instead of 61-66 s.
    # Contexts never share a renderer either way, so one hung page still stalls only its own journey.
    # (The switch's name is historical: it turns site isolation off. `--disable-features` is not used,
    # because a second copy would replace the features Playwright itself turns off.)
    "--disable-site-isolation-trials",
]


def quiet_driver_teardown() -> None:
    """Called as a stop signal comes. A Ctrl-C reaches the browser too: as it goes down, Playwright's
    driver may still deliver a message for an object it already disposed ("Object with guid
    response@… was not bound"), and logs it with a traceback. That is teardown noise from the stop
    itself, not a finding about the portal (seen once under two `yes`), so it is not shown."""
    logging.getLogger("playwright._impl.connection").setLevel(logging.CRITICAL)


TRACES_PREFIX = ".playwright-traces-"


class BrowserHost:
    """One browser for a sweep, relaunched if it dies. `scratch`: the run's output folder, where
    Playwright's trace files go while journeys run (a private folder removed at `close`, and by the
    next run in that folder if this one was killed), instead of `playwright-tracing-*` in /tmp."""

    def __init__(
        self, playwright: Playwright, executable: str = CHROMIUM, scratch: Path | None = None
    ) -> None:
        self.playwright = playwright
        self.executable = executable
        self.scratch = scratch
        self.traces_dir: Path | None = None
        self.browser: Browser | None = None
        self.launches = 0
        self._lock = asyncio.Lock()

    async def ensure(self) -> Browser:
        async with self._lock:
            if self.browser is None or not self.browser.is_connected():
                if self.browser is not None:
                    try:
                        await self.browser.close()
                    except Exception:
                        pass
                if self.scratch is not None and self.traces_dir is None:
                    self.traces_dir = private_dir(self.scratch, TRACES_PREFIX)
                self.browser = await self.playwright.chromium.launch(
                    executable_path=self.executable,
                    headless=True,
                    args=CHROMIUM_ARGS,
                    traces_dir=self.traces_dir,
                )
                self.launches += 1
            return self.browser

    def alive(self) -> bool:
        return self.browser is not None and self.browser.is_connected()

    def lost(self, page: Page | None) -> bool:
        """Whether what went wrong is this browser gone (the journey is then run again, relaunched)."""
        return not self.alive()

    async def new_context(
        self,
        persona: Persona,
        user_agent: str | None = None,
        storage_state: Any = None,
        record: dict[str, Any] | None = None,
    ) -> tuple[BrowserContext, Page]:
        """`user_agent` (politeness toward someone else's portal) replaces the browser's, for every
        request the page makes, scripts' fetches included. `storage_state` (cookies and storage of a
        context that logged in) starts the context logged in: one login per account per sweep.
        `record`: Playwright's record_har_* options (`shop --record`)."""
        browser = await self.ensure()
        options = context_options(self.playwright, persona, user_agent, storage_state, record)
        return await open_page(await browser.new_context(**options), persona)

    async def close(self) -> None:
        if self.browser is not None:
            try:
                await self.browser.close()
            except Exception:
                pass
            self.browser = None
        if self.traces_dir is not None:
            shutil.rmtree(self.traces_dir, ignore_errors=True)
            self.traces_dir = None


def context_options(
    playwright: Playwright,
    persona: Persona,
    user_agent: str | None,
    storage_state: Any,
    record: dict[str, Any] | None,
) -> dict[str, Any]:
    """A journey's context, the same on the local browser and on a browser server elsewhere."""
    options: dict[str, Any] = {"locale": "vi-VN", "timezone_id": "Asia/Ho_Chi_Minh"}
    if persona.device:
        options.update(playwright.devices[persona.device])
        options.pop("default_browser_type", None)
    if user_agent:
        options["user_agent"] = user_agent
    if persona.viewport:
        options["viewport"] = persona.viewport.model_dump()
    if storage_state is not None:
        options["storage_state"] = storage_state
    options.update(record or {})
    return options


async def open_page(context: BrowserContext, persona: Persona) -> tuple[BrowserContext, Page]:
    """The context's page, with the persona's network (slow-3g) emulated through CDP."""
    page = await context.new_page()
    if persona.network:
        cdp = await context.new_cdp_session(page)
        await cdp.send("Network.enable")
        await cdp.send("Network.emulateNetworkConditions", persona.network.cdp())
    return context, page
