"""Look the dossier up by its code, as a citizen checks on it; bundles (liên thông) must show one
sub-result per agency that processes them."""

from __future__ import annotations

from playwright_journeys.outcome import HarnessError, StepFailure
from playwright_journeys.session import Journey
from playwright_journeys.steps import step


@step("tracking")
async def tracking(j: Journey) -> None:
    if not j.dossier_code:
        raise HarnessError("tracking without a dossier code")
    page = j.profile.paths.tracking.split("?", 1)[0]
    await j.goto(j.profile.url(page))
    await (await j.expect("tracking_input", "the dossier lookup box")).fill(j.dossier_code)
    await j.click_and_wait("tracking_submit")
    status = await j.expect("dossier_status", "the dossier's status")
    value = await status.get_attribute(j.sel("dossier_status_attr")) or (
        await status.inner_text(timeout=j.remaining_ms())
    )
    if value not in j.profile.journey.tracking_statuses:
        raise StepFailure(f"the lookup shows status {value!r}", seen=await j.seen_text("dossier_status"))
    missing = [s.agency for s in j.service.sub_results if not await j.present("sub_result", agency=s.agency)]
    if missing:
        raise StepFailure(f"the bundle shows no progress for {', '.join(missing)}", seen=await j.seen_text())
    j.detail = f"status {value}" + (
        f", {len(j.service.sub_results)} agencies" if j.service.sub_results else ""
    )
