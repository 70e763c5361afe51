"""Fill the e-form, page after page, with the values a real citizen would type (from the catalog).

Fields are filled wherever they appear, so a portal that splits the form differently needs no code.
"""

from __future__ import annotations

from dvcwatch.catalog.models import FormField
from dvcwatch.formdata import field_value
from playwright_journeys.outcome import HarnessError, StepFailure
from playwright_journeys.session import Journey
from playwright_journeys.steps import step

MAX_PAGES = 6


@step("form")
async def form(j: Journey) -> None:
    start = await j.expect("start_submission", "the 'Nộp hồ sơ trực tuyến' button")
    del start
    await j.click_and_wait("start_submission")
    fields = j.catalog.all_fields(j.service)
    filled: set[str] = set()
    for _ in range(MAX_PAGES):
        if await _on_upload_page(j):
            break
        await j.expect("form_next", "the e-form")
        todo = [f for f in fields if f.name not in filled]
        kinds = await j.element_kinds([j.sel("field", field=f.name) for f in todo])
        for f, kind in zip(todo, kinds, strict=True):
            if kind:
                await _fill(j, f, kind)
                filled.add(f.name)
        await j.click_and_wait("form_next")
        if await j.present("form_errors"):
            raise StepFailure("the e-form refused the answers", seen=await j.seen_text("form_errors"))
    else:
        raise StepFailure("the e-form never reached the documents page", seen=await j.seen_text())
    missing = [f.name for f in fields if f.required and f.name not in filled]
    j.detail = f"{len(filled)} fields on the form" + (f"; not asked: {', '.join(missing)}" if missing else "")


async def _on_upload_page(j: Journey) -> bool:
    return await j.present("upload_submit")


async def _fill(j: Journey, f: FormField, kind: str) -> None:
    try:
        value = field_value(f, j.citizen)
    except (ValueError, KeyError) as exc:
        raise HarnessError(f"catalog cannot fill {f.name}: {exc}") from None
    box = j.loc("field", field=f.name)
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
    else:
        await box.fill(value, timeout=j.remaining_ms())
