"""Fill the e-form, page after page, with the values a real citizen would type (from the catalog).

Fields are filled wherever they appear, so a portal that splits the form differently needs no code.
A portal whose form is one long page sets `form_next: null`; fields are found by the profile's `field`
selector (a data-testid on the sandbox, the visible label `{label}` elsewhere, matched exactly so that
"Ngày sinh" never finds "Ngày sinh của trẻ"), then the cascading place selects are chosen in order.
"""

from __future__ import annotations

from datetime import datetime

from playwright.async_api import TimeoutError as PlaywrightTimeout

from dvcwatch.catalog.models import FormField
from dvcwatch.formdata import field_value
from playwright_journeys.outcome import HarnessError, StepFailure
from playwright_journeys.session import Journey
from playwright_journeys.steps import step

MAX_PAGES = 6


@step("form")
async def form(j: Journey) -> None:
    await j.expect("start_submission", "the 'Nộp hồ sơ trực tuyến' button")
    await j.click_and_wait("start_submission")
    fields = j.catalog.all_fields(j.service)
    filled: set[str] = set()
    one_page = not j.has("form_next")
    for _ in range(MAX_PAGES):
        if not one_page and await _on_upload_page(j):
            break
        await j.expect("form_next" if not one_page else "field", "the e-form", **_field_params(j, fields[0]))
        todo = [f for f in fields if f.name not in filled]
        kinds = await j.element_kinds([j.sel("field", **_field_params(j, f)) for f in todo])
        for f, kind in zip(todo, kinds, strict=True):
            if kind:
                await _fill(j, f, kind)
                filled.add(f.name)
        if one_page:
            await _choose_places(j)
            break
        await j.click_and_wait("form_next")
        if await j.present("form_errors"):
            raise StepFailure("the e-form refused the answers", seen=await j.seen_text("form_errors"))
    else:
        raise StepFailure("the e-form never reached the documents page", seen=await j.seen_text())
    missing = [f.name for f in fields if f.required and f.name not in filled]
    j.detail = f"{len(filled)} fields on the form" + (f"; not asked: {', '.join(missing)}" if missing else "")
    if one_page and missing:  # everything is on this page, so a field not found is a wrong selector
        first = next(f for f in fields if f.name == missing[0])
        where = j.describe("field", **_field_params(j, first))
        raise StepFailure(
            f"the e-form has no field for {', '.join(missing)} ({where})",
            seen=await j.seen_text(),
            selector=where,
        )


def _field_params(j: Journey, f: FormField) -> dict[str, str]:
    return {"field": f.name, "label": j.profile.journey.field_labels.get(f.name, f.label_vi)}


async def _on_upload_page(j: Journey) -> bool:
    return await j.present("upload_submit")


async def _choose_places(j: Journey) -> None:
    """Province, district, ward: each select is filled by script once the one above is chosen, so
    each waits (Playwright's own wait for an enabled control) for its options to arrive."""
    for place in j.profile.journey.places:
        box = j.page.get_by_label(place.label, exact=True).first
        try:
            await box.select_option(label=place.option, timeout=j.remaining_ms())
        except PlaywrightTimeout:
            raise StepFailure(
                f"the e-form offers no {place.option!r} under {place.label!r}",
                seen=await j.seen_text(),
                selector=f'places: label "{place.label}"',
            ) from None


def _typed(j: Journey, value: str) -> str:
    """Catalog dates are dd/mm/yyyy; a portal that wants another format says so in the profile."""
    try:
        return datetime.strptime(value, "%d/%m/%Y").strftime(j.profile.journey.date_format)
    except ValueError:
        return value


async def _fill(j: Journey, f: FormField, kind: str) -> None:
    try:
        value = field_value(f, j.citizen)
    except (ValueError, KeyError) as exc:
        raise HarnessError(f"catalog cannot fill {f.name}: {exc}") from None
    box = j.loc("field", **_field_params(j, f))
    if kind.startswith("select"):
        # the catalog holds what the citizen reads; portals differ on whether that is the value or label
        options = await box.evaluate("e => Array.from(e.options).map(o => [o.value, o.text.trim()])")
        match = next((v for v, label in options if value in (v, label)), None)
        if match is None:
            raise StepFailure(
                f"the e-form offers no option {value!r} for {f.label_vi}", seen=await j.seen_text()
            )
        await box.select_option(value=match, timeout=j.remaining_ms())
    elif kind in ("input:checkbox", "input:radio"):
        await box.check(timeout=j.remaining_ms())
    elif kind == "input:date" and value.count("/") == 2:
        d, m, y = value.split("/")
        await box.fill(f"{y}-{m}-{d}", timeout=j.remaining_ms())
    elif f.type == "date":
        await box.fill(_typed(j, value), timeout=j.remaining_ms())
    else:
        await box.fill(value, timeout=j.remaining_ms())
