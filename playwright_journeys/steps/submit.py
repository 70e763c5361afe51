"""Tick the declaration and submit; success is the dossier code on the receipt, never a word like
"thành công" (real portals often print none).

Where the portal asks again in a modal ("Bạn có chắc chắn muốn nộp hồ sơ?"), the profile names its
confirm button. In production without authorisation the step stops with the filled form ready to
submit: that is the last point a citizen could still walk away from.
"""

from __future__ import annotations

import re
import time

from dvcwatch.core.catalog.models import Service
from dvcwatch.core.profile import Profile
from playwright_journeys.journey import Journey
from playwright_journeys.outcome import LookOnlyStop, StepFailure
from playwright_journeys.steps.choose import choose
from playwright_journeys.steps.kind import JourneyStep, have


async def submit(j: Journey) -> None:
    await j.expect("submit_button", "the submit button")
    if await j.present("payment_offline"):
        j.payment_offline = True
        j.level_delivered = "partial"
    if await j.present("declaration"):
        await choose(
            j, j.loc("declaration"), None, what="the declaration", selector=j.describe("declaration")
        )
        j.resolved.append((j.step_name, j.describe("declaration")))
    if j.look_only:
        raise LookOnlyStop(f"the filled form is ready to submit; not submitted ({j.profile.look_only_why})")
    if j.has("confirm_button"):
        await j.click("submit_button")
        await j.expect("confirm_button", "the confirmation dialog")
        await j.click_and_wait("confirm_button")
    else:
        await j.click_and_wait("submit_button")
    if await j.present("submit_button"):  # the form came back: refused, in the portal's words
        await j.check_refusal()
    wanted = ["dossier_code"]
    if j.profile.journey.payment == "after_submit" and j.service.charges_fee:
        wanted.insert(0, "payment_amount")
    if not j.has("form_next"):  # a one-page form comes back with its errors on the same page
        wanted.append("form_errors")
    found = await j.expect_any(wanted, "the receipt")
    if found == "form_errors":
        await j.check_refusal()
        raise StepFailure("the portal refused the form", seen=await j.seen_text("form_errors"))
    if found == "payment_amount":
        j.submitted_at = time.monotonic()
        j.detail = "filed; the portal asks for the fee next"
        return
    await read_receipt(j)
    j.submitted_at = time.monotonic()
    j.detail = f"dossier {j.dossier_code}" + (f", expected {j.expected_date}" if j.expected_date else "")


async def read_receipt(j: Journey) -> None:
    """The dossier code (and appointment date) on the receipt, by the profile's patterns."""
    box = await j.expect("dossier_code", "a dossier code (the receipt)")
    text = " ".join((await box.inner_text(timeout=j.remaining_ms())).split())
    m = re.search(j.profile.journey.dossier_code_pattern, text)
    if not m:
        raise StepFailure(
            f"the receipt shows no valid dossier code ({text[:80]!r})", seen=await j.seen_text()
        )
    j.dossier_code = m.group(1) if m.groups() else m.group(0)
    if await j.present("expected_date"):
        date = " ".join((await j.loc("expected_date").inner_text(timeout=j.remaining_ms())).split())
        pattern = j.profile.journey.expected_date_pattern
        found = re.search(pattern, date) if pattern else None
        j.expected_date = (found.group(1) if found and found.groups() else found.group(0)) if found else date


def needs(profile: Profile, service: Service) -> list[tuple[str, ...]]:
    paid_after = profile.journey.payment == "after_submit" and service.charges_fee
    return have(profile, "submit_button", "confirm_button") + (
        [] if paid_after else have(profile, "dossier_code")
    )


STEP = JourneyStep("submit", submit, needs=needs)
