"""Find the service as a citizen would: the home page's search box, then the service's own page,
which states the level it promises (toàn trình / một phần)."""

from __future__ import annotations

from playwright_journeys.session import Journey
from playwright_journeys.steps import step


@step("find_service")
async def find_service(j: Journey) -> None:
    how = j.profile.journey.search_by
    if how == "none":
        await j.goto(j.profile.url(j.profile.paths.service, service=j.service.id))
    else:
        await j.goto(j.profile.url(j.profile.paths.home))
        query = j.service.name_vi if how == "name_vi" else j.service.id
        await (await j.expect("search_input", "the search box")).fill(query)
        await j.click_and_wait("search_submit")
        await j.expect("service_link", "the service in the search results", service=j.service.id)
        await j.click_and_wait("service_link", service=j.service.id)
    await j.expect("service_name", "the service's page")
    level = await j.loc("service_level").get_attribute(j.sel("service_level_attr"))
    j.level_advertised = level if level in ("full", "partial") else None
    j.detail = f"page says level {level}"
