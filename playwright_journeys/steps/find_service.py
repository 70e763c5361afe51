"""Find the service as a citizen would: the home page's search box, then the service's own page,
which states the level it promises (toàn trình / một phần).

Portals that list services by script after the page has loaded are waited for, not polled: the
step waits for the service's link itself (or an error banner), never for a fixed time.
"""

from __future__ import annotations

from dvcwatch.core.catalog.models import Service
from dvcwatch.core.profile import Profile
from playwright_journeys.journey import Journey
from playwright_journeys.steps.kind import JourneyStep, have


async def find_service(j: Journey) -> None:
    how = j.profile.journey.search_by
    if how == "none" or not j.has("search_input"):
        await j.goto(j.profile.url(j.profile.paths.service, **j.params()))
    else:
        await j.goto(j.profile.url(j.profile.paths.home))
        query = {"name_vi": j.service.name_vi, "id": j.service.id, "code": j.params()["code"]}[how]
        await (await j.expect("search_input", "the search box")).fill(query)
        if j.profile.journey.search_navigates:
            await j.click_and_wait("search_submit")
        else:
            await j.click("search_submit")
        await j.expect("service_link", "the service in the search results")
        await j.click_and_wait("service_link")
    await j.expect("service_name", "the service's page")
    j.level_advertised = await _level(j)
    j.detail = f"page says level {j.level_advertised}"


async def _level(j: Journey) -> str | None:
    """The level as the page states it: an attribute where the portal has one, else its words."""
    if not await j.present("service_level"):
        return None
    box = j.loc("service_level")
    attr_name = j.profile.selectors.service_level_attr
    value = await box.get_attribute(attr_name) if attr_name else None
    if value in ("full", "partial"):
        return value
    text = " ".join((await box.inner_text(timeout=j.remaining_ms())).split())
    return next((lvl for words, lvl in j.profile.journey.service_levels.items() if words in text), None)


def needs(profile: Profile, service: Service) -> list[tuple[str, ...]]:
    searches = profile.journey.search_by != "none" and profile.selectors.has("search_input")
    search = have(profile, "search_input", "search_submit", "service_link") if searches else []
    return search + have(profile, "service_name")


STEP = JourneyStep("find_service", find_service, needs=needs)
