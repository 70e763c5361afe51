"""Fill the e-form, page after page, with the values a real citizen would type (from the catalog).

Fields are filled wherever they appear, so a portal that splits the form differently needs no code.
A portal whose form is one long page sets `form_next: null`; fields are found by the profile's `field`
selector (a data-testid on the sandbox, the visible label `{label}` elsewhere, matched exactly so that
"Ngày sinh" never finds "Ngày sinh của trẻ"), then the cascading place selects are chosen in order.

Each portal asks its own questions, so the profile's `forms:` section (per service, over `default`)
relabels catalog fields, marks those the portal does not ask, words options the portal's way and adds
the fields only the portal asks. A required control left empty after that is the profile's gap,
named by its label: a `HarnessError` (verdict `error`), never the portal's failure.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from playwright.async_api import TimeoutError as PlaywrightTimeout

from dvcwatch.core.catalog.models import FormField, Service
from dvcwatch.core.formdata import field_value, profile_value
from dvcwatch.core.profile import By, ExtraField, FieldForm, Profile, Sel, ServiceForm, describe_selector
from playwright_journeys.journey import Journey
from playwright_journeys.outcome import HarnessError, StepFailure
from playwright_journeys.steps.choose import choose, choose_nth
from playwright_journeys.steps.kind import JourneyStep, have

if TYPE_CHECKING:
    from playwright.async_api import Locator

MAX_PAGES = 6

# Required controls still empty: the names a citizen reads next to them (label, aria, legend).
_UNFILLED = """skip => {
  const text = s => (s || '').replace(/\\(\\s*\\*\\s*\\)/g, ' ').replace(/\\s+/g, ' ').replace(/[*:\\s]+$/, '').trim();
  const shown = e => !!(e.offsetWidth || e.offsetHeight || e.getClientRects().length);
  const nameOf = e => {
    if (e.labels && e.labels.length) return text(e.labels[0].innerText);
    if (e.getAttribute('aria-label')) return text(e.getAttribute('aria-label'));
    const by = e.getAttribute('aria-labelledby');
    if (by) return text(by.split(/\\s+/).map(id => (document.getElementById(id) || {}).innerText).join(' '));
    const legend = e.closest('fieldset') && e.closest('fieldset').querySelector('legend');
    if (legend) return text(legend.innerText);
    return text(e.placeholder || e.name || e.id);
  };
  const groupName = e => {
    const g = e.closest('fieldset, [role=radiogroup], [role=group]');
    if (!g) return nameOf(e);
    const legend = g.querySelector('legend');
    if (legend) return text(legend.innerText);
    if (g.getAttribute('aria-label')) return text(g.getAttribute('aria-label'));
    const by = g.getAttribute('aria-labelledby');
    return by ? text((document.getElementById(by) || {}).innerText) : nameOf(e);
  };
  const out = [], radios = new Set();
  for (const e of document.querySelectorAll('input, select, textarea')) {
    if (e === skip || e.disabled || ['hidden', 'file', 'submit', 'button', 'reset', 'image'].includes(e.type)) continue;
    const aspnet = e.hasAttribute('data-val-required') && e.type !== 'checkbox';  // a bool is always "required"
    if (!(e.required || aspnet || e.getAttribute('aria-required') === 'true')) continue;
    const label = e.labels && e.labels[0];
    if (!shown(e) && !(label && shown(label))) continue;
    if (e.type === 'radio') {
      if (radios.has(e.name)) continue;
      radios.add(e.name);
      const group = e.name ? document.querySelectorAll(`input[type=radio][name="${CSS.escape(e.name)}"]`) : [e];
      if (![...group].some(r => r.checked)) out.push(groupName(e));
    } else if (e.type === 'checkbox') {
      if (!e.checked) out.push(nameOf(e));
    } else if (!String(e.value || '').trim()) {
      out.push(nameOf(e));
    }
  }
  return out;
}"""


async def form(j: Journey) -> None:
    await j.expect("start_submission", "the 'Nộp hồ sơ trực tuyến' button")
    await j.click_and_wait("start_submission")
    section = j.profile.form_for(j.service.id)
    fields = [f for f in j.catalog.all_fields(j.service) if not _absent(section, f)]
    extras = dict(section.extra)
    filled: set[str] = set()
    one_page = not j.has("form_next")
    for _ in range(MAX_PAGES):
        if not one_page and await _on_upload_page(j):
            break
        if one_page:
            await _expect_form(j, section, fields, extras)
        else:
            await j.expect("form_next", "the e-form")
        await _fill_page(j, section, fields, extras, filled)
        if one_page:
            await _choose_places(j)
            break
        await _no_gap(j)
        await j.click_and_wait("form_next")
        if await j.present("form_errors"):
            await j.check_refusal()  # its words, and whose gap it is
            raise StepFailure("the e-form refused the answers", seen=await j.seen_text("form_errors"))
    else:
        raise StepFailure("the e-form never reached the documents page", seen=await j.seen_text())
    missing = [f.name for f in fields if f.required and f.name not in filled]
    missing += [name for name, x in extras.items() if x.required and f"extra:{name}" not in filled]
    j.detail = f"{len(filled)} fields on the form" + (f"; not asked: {', '.join(missing)}" if missing else "")
    if one_page and missing:  # everything is on this page, so a field not found is a wrong selector
        where = _describe(j, section, fields, extras, missing[0])
        raise StepFailure(
            f"the e-form has no field for {', '.join(missing)} ({where})",
            seen=await j.seen_text(),
            selector=where,
        )
    if one_page:
        await _no_gap(j)


def _absent(section: ServiceForm, f: FormField) -> bool:
    spec = section.fields.get(f.name)
    return spec is not None and spec.absent


def field_sel(j: Journey, section: ServiceForm, f: FormField) -> Sel:
    """Where a catalog field is: the section's own locator, else the profile's `field` selector with
    the portal's label; a relabelled field on a portal whose `field` selector does not use `{label}`
    (the sandbox's data-testids) is found by that label directly."""
    spec = section.fields.get(f.name)
    if spec is not None and spec.selector is not None:
        return spec.selector
    label = j.profile.field_label(j.service.id, f)
    if spec is not None and spec.label and not _uses_label(j.profile.selectors.spec("field")):
        return By(label=label)
    return j.sel("field", field=f.name, label=label)


def extra_sel(extra: ExtraField) -> Sel:
    return extra.selector if extra.selector is not None else By(label=extra.label)


def _uses_label(spec: Sel) -> bool:
    if isinstance(spec, By):
        return any(
            "{label}" in (getattr(spec, k) or "") for k in ("label", "name", "text", "placeholder", "css")
        )
    return spec is not None and "{label}" in spec


def _describe(
    j: Journey, section: ServiceForm, fields: list[FormField], extras: dict[str, ExtraField], name: str
) -> str:
    if name in extras:
        return f"forms.{j.service.id}.extra.{name}: {describe_selector(extra_sel(extras[name]))}"
    f = next(x for x in fields if x.name == name)
    return f"field: {describe_selector(field_sel(j, section, f))}"


async def _expect_form(
    j: Journey, section: ServiceForm, fields: list[FormField], extras: dict[str, ExtraField]
) -> None:
    """One long page: wait for its first required field to be rendered (a form drawn by script comes
    late); an optional one may rightly be missing and would only cost the wait."""
    asked = [f for f in fields if f.required] or fields
    first = field_sel(j, section, asked[0]) if asked else next((extra_sel(x) for x in extras.values()), None)
    if first is None:
        return
    trouble = j.locate(j.sel("error_page")).or_(j.locate(j.sel("error_banner")))
    try:
        await j.locate(first).first.or_(trouble).first.wait_for(state="attached", timeout=j.remaining_ms())
    except PlaywrightTimeout:
        pass
    await j.check_page()


async def _fill_page(
    j: Journey, section: ServiceForm, fields: list[FormField], extras: dict[str, ExtraField], filled: set[str]
) -> None:
    todo = [f for f in fields if f.name not in filled]
    todo_extra = [(n, x) for n, x in extras.items() if f"extra:{n}" not in filled]
    sels = [field_sel(j, section, f) for f in todo] + [extra_sel(x) for _, x in todo_extra]
    kinds = await j.element_kinds(sels)
    for f, kind in zip(todo, kinds[: len(todo)], strict=True):
        if kind:
            await _fill(j, section.fields.get(f.name), f, kind, j.locate(field_sel(j, section, f)).first)
            filled.add(f.name)
    for (name, x), kind in zip(todo_extra, kinds[len(todo) :], strict=True):
        if kind:
            await _fill_extra(j, name, x, kind, j.locate(extra_sel(x)).first)
            filled.add(f"extra:{name}")
    seen = (j.step_name, f"field: {describe_selector(j.profile.selectors.spec('field'))}")
    if filled and seen not in j.resolved:
        j.resolved.append(seen)


async def _no_gap(j: Journey) -> None:
    """A required control still empty once everything the profile covers is filled: the profile's gap."""
    skip = None
    if await j.present("declaration"):
        skip = await j.loc("declaration").element_handle(timeout=j.remaining_ms())
    gaps: list[str] = await j.page.evaluate(_UNFILLED, skip)
    if gaps:
        names = ", ".join(f"«{g}»" for g in dict.fromkeys(gaps))
        raise HarnessError(
            f"the profile does not cover the required field(s) {names} of this e-form: map a catalog field "
            f"to it or add it under forms.{j.service.id}.extra (a profile gap, not the portal's fault)",
            selector=f"forms.{j.service.id}: {names}",
        )


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


async def _fill(j: Journey, spec: FieldForm | None, f: FormField, kind: str, box: Locator) -> None:
    try:
        value = (
            profile_value(spec.value, j.citizen)
            if spec and spec.value is not None
            else field_value(f, j.citizen)
        )
    except (ValueError, KeyError) as exc:
        raise HarnessError(f"catalog cannot fill {f.name}: {exc}") from None
    where = f"field {f.name} ({describe_selector(field_sel(j, j.profile.form_for(j.service.id), f))})"
    if value is None:  # generate: option
        await choose_nth(j, box, spec.value.index, what=f"the field {f.label_vi}", selector=where)  # type: ignore[union-attr]
        return
    wording = spec.options.get(value, value) if spec else value
    await _enter(
        j, kind, box, wording, is_date=f.type == "date", what=f"the field {f.label_vi}", selector=where
    )


async def _fill_extra(j: Journey, name: str, x: ExtraField, kind: str, box: Locator) -> None:
    where = f"forms.{j.service.id}.extra.{name} ({describe_selector(extra_sel(x))})"
    try:
        value = profile_value(x.value, j.citizen)
    except KeyError as exc:
        raise HarnessError(f"cannot fill {where}: {exc}") from None
    if value is None:
        await choose_nth(j, box, x.value.index, what=f"the field {name}", selector=where)  # type: ignore[union-attr]
        return
    is_date = getattr(x.value, "generate", None) == "date" or (getattr(x.value, "attr", "") == "birth_date")
    await _enter(j, kind, box, value, is_date=is_date, what=f"the field {name}", selector=where)


async def _enter(
    j: Journey, kind: str, box: Locator, value: str, *, is_date: bool, what: str, selector: str
) -> None:
    """Type or choose `value` as the control needs: a select, a group of radios or tiles, a box to tick,
    a date picker (ISO), a text box (dates in the profile's `date_format`)."""
    tag, _, typ = kind.partition(":")
    if tag not in ("input", "textarea"):  # a select, or a group of radios or tiles
        await choose(j, box, value, what=what, selector=selector)
    elif typ in ("checkbox", "radio"):
        if value not in ("off", "false", "0", ""):
            await choose(j, box, None, what=what, selector=selector)
    elif typ == "date" and value.count("/") == 2:
        d, m, y = value.split("/")
        await box.fill(f"{y}-{m}-{d}", timeout=j.remaining_ms())
    elif is_date:
        await box.fill(_typed(j, value), timeout=j.remaining_ms())
    else:
        await box.fill(value, timeout=j.remaining_ms())


def needs(profile: Profile, service: Service) -> list[tuple[str, ...]]:
    fields = any(not profile.form_absent(service.id, f) for f in service.fields)
    return have(profile, "start_submission", "form_next") + ([("field",)] if fields else [])


STEP = JourneyStep("form", form, needs=needs)
