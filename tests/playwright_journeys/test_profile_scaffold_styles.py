"""The scaffold's reader on the e-form corpus (tests/fixtures/eform_styles/): one page per form stack
provincial portals are built on (ASP.NET MVC, Angular Material, Ant Design, Element UI, Bootstrap, a
bare table layout). On each, read in a real browser as `profile scaffold` reads a portal: every
required mark is found in the stack's own way and no optional control is marked; every document name
is found, in its table or list; labels come without their marks; the select its script fills after
load is read with its options (the reader waits for them). The page's catalog labels and document
names then match the catalog, and what the profile covers (the declaration box, a place select under
`journey.places`) is not left to decide."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp import web

from dvcwatch.core.catalog import load_catalog
from dvcwatch.core.profile import Place, load_profile
from playwright_journeys.scaffold.draft import Reading, draft_section
from playwright_journeys.scaffold.reader import FormPage, read_page

pytestmark = pytest.mark.browser

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "eform_styles"
EXPECTED: dict[str, dict[str, Any]] = yaml.safe_load((CORPUS / "expected.yaml").read_text(encoding="utf-8"))
CATALOG = load_catalog()
PROFILE = load_profile()  # the sandbox's: forms: {}, no places


@pytest.fixture
async def read_style(
    serve_app: Callable[[object], Awaitable[str]],
) -> AsyncIterator[Callable[[str], Awaitable[FormPage]]]:
    """`await read_style("bootstrap")`: the page served from 127.0.0.1 and read by the scaffold's reader,
    right after it loads (its script has not filled its select yet)."""
    from playwright.async_api import async_playwright

    from playwright_journeys.browser import BrowserHost
    from playwright_journeys.personas import load_personas

    app = web.Application()
    app.router.add_static("/", CORPUS)
    base = await serve_app(app)
    async with async_playwright() as pw:
        host = BrowserHost(pw)
        try:
            context, page = await host.new_context(load_personas(None).get("desktop"))

            async def read(style: str) -> FormPage:
                await page.goto(f"{base}/{style}.html", wait_until="domcontentloaded")
                declaration = EXPECTED[style].get("declaration")
                covered = await page.locator(declaration).element_handles() if declaration else []
                return await read_page(page, None, covered)

            yield read
            await context.close()
        finally:
            await host.close()


@pytest.mark.parametrize("style", list(EXPECTED))
async def test_each_style_is_read_with_its_marks_documents_and_late_options_and_matches_the_catalog(
    style: str, read_style: Callable[[str], Awaitable[FormPage]]
) -> None:
    want = EXPECTED[style]
    page = await read_style(style)
    asked = [c for c in page.controls if not c.covered]
    required = {c.label for c in asked if c.required}
    optional = {c.label for c in asked if not c.required}
    assert required == set(want["required"]), page.controls
    assert optional == set(want["optional"]), page.controls
    assert {s.label: s.required for s in page.slots} == want["documents"], page.slots
    for label, options in want["filled_by_script"].items():
        control = next(c for c in page.controls if c.label == label)
        assert list(control.options) == options
    for text in [c.label for c in page.controls] + [s.label for s in page.slots]:
        assert "*" not in text and not text.endswith((":", " ")), text
    if want.get("declaration"):
        assert [c.covered for c in page.controls if c.covered] == ["declaration"]

    # the page's catalog labels and document names match; what the profile covers is not to decide
    service = CATALOG.service(want["service"])
    places = [Place(label=k, option=v[0]) for k, v in want["filled_by_script"].items() if "Tỉnh" in k]
    profile = PROFILE.model_copy(update={"journey": PROFILE.journey.model_copy(update={"places": places})})
    draft = draft_section(CATALOG, profile, Reading(service, [page], all_pages=True))
    assert set(want["matched"]) <= set(draft.matched), draft.matched
    decide = draft.section.decide
    assert not [k for k in decide if k.startswith(("slot", "document"))], decide  # every catalog document
    covered = {c.label for c in page.controls if c.covered} | {p.label for p in places}
    assert bool(covered) == ("declaration" in want or bool(places))
    assert not [k for k in decide if any(k == f"control «{x}»" for x in covered)], decide
    assert not [n for n in want["matched"] if f"field {n}" in decide], decide
