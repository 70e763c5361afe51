"""Choosing, the way the element asks for it: one action for the bank and every option a citizen picks.

Portals draw a choice as a radio button, a checkbox, a `<select>`, or a tile, card, link or button to
click; `.check()` on a tile is a Playwright usage error, not the portal failing. `choose` looks at the
element first and does what it needs, then checks that the choice took wherever the page says so
(a checked box, the selected option, `aria-checked`/`aria-selected`/`aria-pressed` on a tile).
"""

from __future__ import annotations

import asyncio
import unicodedata
from typing import TYPE_CHECKING, Any

from playwright_journeys.outcome import StepFailure

if TYPE_CHECKING:
    from playwright.async_api import Locator

    from playwright_journeys.journey import Journey

VERIFY_TRIES = 20  # x VERIFY_PAUSE: time for the page's script to mark a clicked tile as chosen
VERIFY_PAUSE = 0.1

_KIND = """e => ({
  tag: e.tagName.toLowerCase(),
  type: (e.type || '').toLowerCase(),
  role: e.getAttribute('role') || '',
})"""

_OPTIONS = "e => Array.from(e.options).map(o => [o.value, o.text.trim(), o.disabled])"

# the choosable things inside a group (a radiogroup, a fieldset, a list of tiles)
_CLICKABLE = "xpath=ancestor-or-self::*[self::label or self::button or self::a or @role or @tabindex][1]"
_CHOICES = "input[type=radio], input[type=checkbox], [role=radio], [role=option], [role=tab], [role=button]"


def plain(text: str) -> str:
    """Case-, space- and diacritics-insensitive form: «Hạng B2» and «hang  b2» are one wording."""
    text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return " ".join("".join(c for c in text if not unicodedata.combining(c)).lower().split())


async def kind_of(box: Locator, timeout: float) -> dict[str, str]:
    return await box.evaluate(_KIND, timeout=timeout)  # type: ignore[no-any-return]


async def choose(j: Journey, box: Locator, option: str | None, *, what: str, selector: str) -> str:
    """Choose with `box` and return what was chosen. With an `option`, `box` may be a `<select>` or a
    group (radiogroup, fieldset, list of tiles) holding it, matched by value or wording, exactly first,
    then ignoring case and diacritics; without one, `box` is the choice itself (a radio, a tile), or a
    `<select>` whose first real option is taken."""
    kind = await kind_of(box, j.remaining_ms())
    if kind["tag"] == "select":
        return await _select(j, box, option, what=what, selector=selector)
    if kind["tag"] == "input" and kind["type"] in ("radio", "checkbox"):
        await _check(j, box)
        return option or what
    if option is not None:
        inner = await _inner_choice(box, option)
        if inner is not None:
            await choose(j, inner, None, what=what, selector=selector)
            return option
        if await _is_group(box):
            raise StepFailure(
                f"{what} offers no {option!r}", seen=await j.seen_text(), selector=f"{selector} → {option!r}"
            )
    await box.click(timeout=j.remaining_ms())
    await _verify_clicked(j, box, what=what, selector=selector)
    return option or what


async def _check(j: Journey, box: Locator) -> None:
    """Tick a radio or checkbox; one drawn as a tile hides its input, so its label is clicked instead."""
    if await box.is_visible():
        await box.check(timeout=j.remaining_ms())
        return
    label = box.locator("xpath=ancestor::label[1]")
    if not await label.count():
        ident = await box.get_attribute("id", timeout=j.remaining_ms())
        label = box.page.locator(f'label[for="{ident}"]') if ident else label
    await label.first.click(timeout=j.remaining_ms())
    if not await box.is_checked(timeout=j.remaining_ms()):
        raise StepFailure("the choice was clicked but is not checked", seen=await j.seen_text())


async def choose_nth(j: Journey, box: Locator, index: int, *, what: str, selector: str) -> str:
    """The `index`-th real option of a `<select>` or a group: for a portal-only field whose answer
    does not matter to the test (`generate: option`)."""
    kind = await kind_of(box, j.remaining_ms())
    if kind["tag"] == "select":
        options: list[list[Any]] = await box.evaluate(_OPTIONS, timeout=j.remaining_ms())
        real = [t for v, t, disabled in options if v != "" and not disabled]
        if index >= len(real):
            raise StepFailure(f"{what} offers {len(real)} options, not {index + 1}", selector=selector)
        return await _select(j, box, real[index], what=what, selector=selector)
    choices = box.locator(_CHOICES)
    if index >= await choices.count():
        return await choose(j, box, None, what=what, selector=selector)
    return await choose(j, choices.nth(index), None, what=what, selector=selector)


async def _select(j: Journey, box: Locator, option: str | None, *, what: str, selector: str) -> str:
    options: list[list[Any]] = await box.evaluate(_OPTIONS, timeout=j.remaining_ms())
    real = [(v, t) for v, t, disabled in options if v != "" and not disabled]
    if option is None:
        match = real[0] if real else None
    else:
        match = next((o for o in real if option in o), None) or next(
            (o for o in real if plain(option) in (plain(o[0]), plain(o[1]))), None
        )
    if match is None:
        wanted = repr(option) if option is not None else "any option"
        raise StepFailure(
            f"{what} offers no {wanted} (offered: {', '.join(t for _, t in real)[:200]})",
            seen=await j.seen_text(),
            selector=selector,
        )
    await box.select_option(value=match[0], timeout=j.remaining_ms())
    if await box.input_value(timeout=j.remaining_ms()) != match[0]:
        raise StepFailure(
            f"{what}: choosing {match[1]!r} did not take", seen=await j.seen_text(), selector=selector
        )
    return match[1]


async def _is_group(box: Locator) -> bool:
    return await box.locator(_CHOICES).count() > 0


async def _inner_choice(box: Locator, option: str) -> Locator | None:
    """Inside a group: the choice with this wording, by accessible name, label or exact text (a text
    inside a tile stands for the nearest clickable thing around it)."""
    for candidate in (
        box.get_by_role("radio", name=option, exact=True),
        box.get_by_role("option", name=option, exact=True),
        box.get_by_role("checkbox", name=option, exact=True),
        box.get_by_label(option, exact=True),
        box.get_by_text(option, exact=True).locator(_CLICKABLE),
    ):
        if await candidate.count():
            return candidate.first
    choices = box.locator(f"{_CHOICES}, label")  # the same words, ignoring case, spaces and diacritics
    words: list[str] = await choices.evaluate_all(
        "els => els.map(e => (e.labels && e.labels.length ? e.labels[0].innerText"
        " : e.innerText || e.getAttribute('aria-label') || ''))"
    )
    wanted = plain(option)
    return next((choices.nth(i) for i, w in enumerate(words) if plain(w) == wanted), None)


async def _verify_clicked(j: Journey, box: Locator, *, what: str, selector: str) -> None:
    """A tile that says whether it is chosen (ARIA state, or a radio inside it) must say yes."""
    check = """e => {
      const el = e.closest('[aria-checked],[aria-selected],[aria-pressed]') ||
                 e.querySelector('[aria-checked],[aria-selected],[aria-pressed]');
      if (el) { for (const a of ['aria-checked', 'aria-selected', 'aria-pressed'])
                  if (el.hasAttribute(a)) return el.getAttribute(a) === 'true'; }
      const input = e.matches('input') ? e : e.querySelector('input[type=radio],input[type=checkbox]');
      return input ? input.checked : null;
    }"""
    for _ in range(VERIFY_TRIES):
        state = await box.evaluate(check, timeout=j.remaining_ms())
        if state is None or state:
            return
        await asyncio.sleep(VERIFY_PAUSE)
    raise StepFailure(
        f"{what} was clicked but the page does not show it chosen",
        seen=await j.seen_text(),
        selector=selector,
    )
