"""Getting from one page of a wizard to the next without filing anything.

A multi-page e-form shows its later pages (and its document slots) only once the first is accepted,
so the scaffold fills each still-empty required control with a value of its kind: a matched catalog
field gets the catalog's own value (in the portal's option wording), anything else a made-up one (a
date two weeks ahead, the smallest number allowed, a phone number, the first real option, the closest
catalog field's example for a text box). Only `form_next` is ever pressed, and only when its words
are not those of filing or paying; the values typed are never written to the profile.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from dvcwatch.core.catalog.models import Catalog, FormField, Service
from dvcwatch.core.formdata import GENERATED_TEXT, field_value
from dvcwatch.core.identities import Citizen
from dvcwatch.core.profile import Profile
from playwright_journeys.journey import Journey
from playwright_journeys.scaffold.draft import match_controls
from playwright_journeys.scaffold.labels import normalize, ranked, same
from playwright_journeys.scaffold.reader import Control
from playwright_journeys.steps.choose import choose

# The words of a button that would file, send or pay: the scaffold never presses one.
FILING_WORDS = ("gui ho so", "nop ho so", "thanh toan", "xac nhan nop", "submit", "pay", "send", "gui")


def files_or_pays(button_text: str) -> bool:
    words = normalize(button_text)
    return any(w == words or w in words.split() or (" " in w and w in words) for w in FILING_WORDS)


def value_for(
    c: Control,
    field: FormField | None,
    spare: dict[str, FormField],
    who: Citizen,
    profile: Profile,
    attempt: int = 0,
) -> str | None:
    """What to type into `c` (None: choose its first real option); `attempt` counts the times the
    page refused a made-up text, each of which tries the next catalog example."""
    if field is not None:
        try:
            value = field_value(field, who)
        except ValueError:
            value = None
        if value is not None and c.options:
            return next((o for o in c.options if same(o, value)), None)
        if value is not None:
            return _as_date(value, c, profile) if field.type == "date" else value
    if c.kind in ("select", "radio"):
        return None
    if c.kind == "date":
        return (date.today() + timedelta(days=14)).isoformat()
    if c.kind == "number":
        return c.min if c.min not in (None, "") else "1"
    if c.kind == "tel":
        return who.phone
    if c.kind == "email":
        return who.email
    if c.kind == "checkbox":
        return "on"
    tries = [GENERATED_TEXT]  # a text box: the catalog's examples, closest label first, then plain text
    for name in ranked(c.label, {n: f.label_vi for n, f in spare.items()}):
        try:
            tries.insert(-1, field_value(spare[name], who))
        except ValueError:
            continue
    return tries[min(attempt, len(tries) - 1)]


def _as_date(value: str, c: Control, profile: Profile) -> str:
    try:
        d = datetime.strptime(value, "%d/%m/%Y")
    except ValueError:
        return value
    return d.strftime("%Y-%m-%d") if c.kind == "date" else d.strftime(profile.journey.date_format)


async def fill_required(
    j: Journey,
    catalog: Catalog,
    service: Service,
    controls: list[Control],
    who: Citizen,
    *,
    attempt: int = 0,
    refused: str | None = None,
) -> int:
    """Fill every required control the portal left empty, or (after the page refused the values,
    `refused` being its error text) again each control the error names; returns how many."""
    by_field, _, _, _ = match_controls(catalog, j.profile, service, controls)
    field_of = {id(c): f for f in catalog.all_fields(service) if (c := by_field.get(f.name)) is not None}
    spare = {f.name: f for f in catalog.all_fields(service) if f.name not in by_field}
    filled = 0
    for c in controls:
        if not c.css or not c.required or (c.label not in refused if refused else bool(c.value)):
            continue
        value = value_for(c, field_of.get(id(c)), spare, who, j.profile, attempt)
        box = j.page.locator(c.css)
        where = f"the control «{c.label}»"
        if c.kind == "radio":
            index = c.options.index(value) if value in c.options else 0
            await choose(j, box.nth(index), None, what=where, selector=c.css)
        elif c.kind == "select":
            await choose(j, box.first, value, what=where, selector=c.css)
        elif c.kind == "checkbox":
            await choose(j, box.first, None, what=where, selector=c.css)
        else:
            await box.first.fill(value or GENERATED_TEXT, timeout=j.remaining_ms())
        filled += 1
    return filled
