"""Ask for the result: an electronic copy means the service really is fully online; "come to the
One-Stop counter" means it is only partly online, whatever its page promised.

A result still being processed is looked at again for `journey.result_wait_seconds` (the sandbox
finishes in about a second; a real portal takes days, so its profile sets 0 and the level stays
unknown rather than guessed)."""

from __future__ import annotations

import asyncio
import time
from urllib.parse import urljoin

from dvcwatch.core.catalog.models import Service
from dvcwatch.core.profile import Profile
from playwright_journeys.journey import Journey, StepSkipped
from playwright_journeys.outcome import HarnessError, StepFailure
from playwright_journeys.steps.kind import JourneyStep

RECHECK_SECONDS = 0.5


async def _look(j: Journey, url: str) -> str:
    await j.goto(url)
    return await j.expect_any(
        ["result_download", "result_in_person", "result_pending"], "how the result is delivered"
    )


async def result(j: Journey) -> None:
    if j.profile.journey.result_path is None:
        raise StepSkipped("this portal delivers results elsewhere (no result page in the profile)")
    if not j.dossier_code:
        raise HarnessError("result without a dossier code")
    url = j.profile.url(j.profile.journey.result_path, dossier=j.dossier_code)
    found = await _look(j, url)
    waited_until = time.monotonic() + min(j.profile.journey.result_wait_seconds, j.remaining_ms() / 1000 - 1)
    while found == "result_pending" and time.monotonic() < waited_until:
        await asyncio.sleep(RECHECK_SECONDS)
        found = await _look(j, url)
    if found == "result_in_person":
        j.level_delivered = "partial"
        j.detail = await j.seen_text("result_in_person")
    elif found == "result_download":
        href = await j.loc("result_download").get_attribute("href")
        if not href:
            raise StepFailure("the download link leads nowhere", seen=await j.seen_text())
        resp = await j.context.request.get(urljoin(j.page.url, href), timeout=j.remaining_ms())
        body = await resp.body()
        if not resp.ok or not body.startswith(b"%PDF"):
            raise StepFailure(
                "the electronic result is not a PDF", seen=await j.seen_text(), http_status=resp.status
            )
        if not j.payment_offline:
            j.level_delivered = "full"
        j.detail = f"electronic copy, {len(body):,} bytes"
    else:
        j.detail = "result not ready yet: " + await j.seen_text("result_pending")
        if j.level_delivered is None and j.service.level == "partial":
            j.level_delivered = "partial"


def needs(profile: Profile, service: Service) -> list[tuple[str, ...]]:
    return [("result_download", "result_in_person", "result_pending")] if profile.journey.result_path else []


STEP = JourneyStep("result", result, needs=needs)
