"""Look the dossier up by its code, as a citizen checks on it; bundles (liên thông) must show one
sub-result per agency that processes them.

Portals that answer by script on the same page set `journey.tracking_navigates: false`; a status
without a machine-readable attribute is matched by its words (`journey.tracking_statuses`)."""

from __future__ import annotations

from dvcwatch.core.catalog.models import Service
from dvcwatch.core.profile import Profile
from playwright_journeys.journey import Journey
from playwright_journeys.outcome import HarnessError, StepFailure
from playwright_journeys.steps.kind import JourneyStep, have


async def tracking(j: Journey) -> None:
    if not j.dossier_code:
        raise HarnessError("tracking without a dossier code")
    page = j.profile.paths.tracking.split("?", 1)[0]
    await j.goto(j.profile.url(page))
    await (await j.expect("tracking_input", "the dossier lookup box")).fill(j.dossier_code)
    if j.profile.journey.tracking_navigates:
        await j.click_and_wait("tracking_submit")
    else:
        await j.click("tracking_submit")
    status = await j.expect("dossier_status", "the dossier's status")
    attr = j.profile.selectors.dossier_status_attr
    value = await status.get_attribute(attr) if attr else None
    known = j.profile.journey.tracking_statuses
    if value:
        ok = value in known
    else:
        value = " ".join((await status.inner_text(timeout=j.remaining_ms())).split())
        ok = value in known or any(s in value for s in known)
    if not ok:
        raise StepFailure(f"the lookup shows status {value[:80]!r}", seen=await j.seen_text("dossier_status"))
    if j.has("sub_result"):
        names = [j.profile.agency_name(j.service.id, s.agency) for s in j.service.sub_results]
        missing = [name for name in names if not await j.present("sub_result", agency=name)]
        if names and not missing:
            j.resolved.append((j.step_name, j.describe("sub_result", agency=names[0])))
        if missing:
            raise StepFailure(
                f"the bundle shows no progress for {', '.join(missing)}", seen=await j.seen_text()
            )
    shown = next((s for s in known if s in value), value)
    j.detail = f"status {shown}" + (
        f", {len(j.service.sub_results)} agencies" if j.service.sub_results else ""
    )


def needs(profile: Profile, service: Service) -> list[tuple[str, ...]]:
    bundle = have(profile, "sub_result") if service.sub_results else []
    return have(profile, "tracking_input", "tracking_submit", "dossier_status") + bundle


STEP = JourneyStep("tracking", tracking, needs=needs)
