"""Look a filed dossier up later, as its citizen would: the public tracking page, then the result page.

`dvcwatch follow-up` uses this days after the journey that filed it. It finds things with the same
profile selectors and paths as the journey's `tracking` and `result` steps (so a profile that tracks in
a journey follows up too), in one browser context whose counted requests go through the profile's
politeness limits: a follow-up of a hundred dossiers on someone else's portal is still a careful crawler.

When the result came is the portal's word where it says so: portals print "Ngày trả kết quả" (or "Ngày
có kết quả") beside a finished dossier, in their own time (Vietnam time), and that is what the due
date is judged against. A follow-up that looks once a day would otherwise date a result up to a day
late; and a portal whose clock is not the follow-up's (the sandbox's fast clock) would be judged on the
wrong one. Only where neither page prints it does the look's own time stand in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from dvcwatch.core.profile import Profile
from playwright_journeys.locate import locate

if TYPE_CHECKING:
    from playwright.async_api import Page

DONE = "done"


@dataclass(frozen=True)
class Lookup:
    """What one look found: `status` is "done" once the portal shows its final status (the last of
    `journey.tracking_statuses`), else the status as shown; None with `problem` when the page failed.
    `result_mode`: "download" (an electronic copy is offered) or "in_person" (come to the office)."""

    status: str | None
    result_mode: str | None = None
    problem: str | None = None
    result_at: datetime | None = None  # naive, the portal's local time, as its page printed it


# "Ngày trả kết quả: 03/12/2026 14:05:09"; a date alone means "by the end of that day"
RESULT_DATE = re.compile(
    r"Ngày (?:trả|có) kết quả\s*:?\s*(\d{1,2})/(\d{1,2})/(\d{4})(?:,?\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?",
    re.IGNORECASE,
)


def result_date(text: str) -> datetime | None:
    """The result's date and time as the page prints it; a date without a time is read as the end of
    that day, so a result dated on its due day is on time and one a day later is a day late."""
    m = RESULT_DATE.search(" ".join(text.split()))
    if m is None:
        return None
    day, month, year, hour, minute, second = m.groups()
    try:
        moment = datetime(int(year), int(month), int(day))
        if hour is None:
            return moment + timedelta(days=1)
        return moment.replace(hour=int(hour), minute=int(minute), second=int(second or 0))
    except ValueError:  # 31/02: not a date, so not the portal's word
        return None


async def _result_date(page: Page) -> datetime | None:
    return result_date(await page.locator("body").inner_text())


TROUBLE = ("error_page", "error_banner")


class PortalTrouble(Exception):
    """The page showed the portal's error page or busy banner instead of what was asked for."""


async def _first_of(page: Page, profile: Profile, names: list[str], timeout_ms: float) -> str:
    """Wait for the first of the named elements; an error page or banner ends the wait at once."""
    sel = profile.selectors
    wanted = [(n, locate(page, sel.get(n))) for n in [*names, *TROUBLE] if sel.get(n) is not None]
    union = wanted[0][1]
    for _, loc in wanted[1:]:
        union = union.or_(loc)
    await union.first.wait_for(state="attached", timeout=timeout_ms)
    for name, loc in wanted:
        if await loc.count():
            if name in TROUBLE:
                text = " ".join((await loc.first.inner_text(timeout=1000)).split())
                raise PortalTrouble(f"the portal showed {name.replace('_', ' ')}: {text[:160]}")
            return name
    raise PortalTrouble("the page changed while it was read")


async def _status(page: Page, profile: Profile, code: str, timeout_ms: float) -> str:
    sel, journey = profile.selectors, profile.journey
    await page.goto(profile.url(profile.paths.tracking.split("?", 1)[0]), timeout=timeout_ms)
    await locate(page, sel.get("tracking_input")).fill(code, timeout=timeout_ms)
    await locate(page, sel.get("tracking_submit")).click(timeout=timeout_ms)
    await _first_of(page, profile, ["dossier_status"], timeout_ms)
    status = locate(page, sel.get("dossier_status")).first
    value = await status.get_attribute(sel.dossier_status_attr) if sel.dossier_status_attr else None
    if not value:
        value = " ".join((await status.inner_text(timeout=timeout_ms)).split())
    known = journey.tracking_statuses
    if value == known[-1] or (value not in known and known[-1] in value):
        return DONE
    return next((s for s in known if s == value or s in value), value[:80])


async def _result_mode(page: Page, profile: Profile, code: str, timeout_ms: float) -> str | None:
    path = profile.journey.result_path
    if path is None:
        return None
    await page.goto(profile.url(path, dossier=code), timeout=timeout_ms)
    modes = {"result_download": "download", "result_in_person": "in_person", "result_pending": None}
    return modes[await _first_of(page, profile, list(modes), timeout_ms)]


async def look_up(page: Page, profile: Profile, code: str, timeout_s: float) -> Lookup:
    """One look; never raises for what the portal does (a timeout, an error page): that is a problem
    to record and look again later, not a reason to stop following the other dossiers."""
    from playwright.async_api import Error as PlaywrightError

    timeout_ms = timeout_s * 1000
    came = None
    try:
        status = await _status(page, profile, code, timeout_ms)
        if status == DONE:
            came = await _result_date(page)
        mode = await _result_mode(page, profile, code, timeout_ms) if status == DONE else None
        if status == DONE and mode is None and profile.journey.result_path is not None:
            status = "result_pending"  # the lookup says done, the result page not yet: look again
        elif status == DONE and came is None and profile.journey.result_path is not None:
            came = await _result_date(page)
    except PortalTrouble as exc:
        return Lookup(None, problem=str(exc))
    except PlaywrightError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return Lookup(None, problem=first[:200])
    return Lookup(status, mode, result_at=came if status == DONE else None)
