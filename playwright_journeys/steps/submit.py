"""Tick the declaration and submit; success is the dossier code on the receipt, never a word like
"thành công" (real portals often print none)."""

from __future__ import annotations

import re
import time

from playwright_journeys.outcome import StepFailure
from playwright_journeys.session import Journey
from playwright_journeys.steps import step


@step("submit")
async def submit(j: Journey) -> None:
    await j.expect("submit_button", "the submit button")
    if await j.present("payment_offline"):
        j.payment_offline = True
        j.level_delivered = "partial"
    if await j.present("declaration"):
        await j.loc("declaration").check(timeout=j.remaining_ms())
    await j.click_and_wait("submit_button")
    box = await j.expect("dossier_code", "a dossier code (the receipt)")
    code = (await box.inner_text(timeout=j.remaining_ms())).strip()
    if not re.fullmatch(j.profile.journey.dossier_code_pattern, code):
        raise StepFailure(f"the receipt shows no valid dossier code ({code!r})", seen=await j.seen_text())
    j.dossier_code = code
    j.submitted_at = time.monotonic()
    if await j.present("expected_date"):
        j.expected_date = (await j.loc("expected_date").inner_text(timeout=j.remaining_ms())).strip()
    j.detail = f"dossier {code}" + (f", expected {j.expected_date}" if j.expected_date else "")
