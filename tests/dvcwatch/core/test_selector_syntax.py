"""A selector Playwright would refuse is refused when the profile is read (file, line, field), never
left to fail every journey in the browser; valid ones, whether or not a browser is needed to judge
them, load."""

from __future__ import annotations

from pathlib import Path

import pytest

from dvcwatch.core.errors import ConfigError
from dvcwatch.core.profile import load_profile
from dvcwatch.core.selector_syntax import problem

VALID = [
    "div.loi",
    'div.validation-summary-errors, .alert-danger:has-text("Lỗi"), #loi-he-thong',
    "main >> div.loi",
    'text="Hệ thống đang bận"',
    "text=Lỗi (mã 500)",
    "text=/l[ỗo]i/i",
    '"Lỗi hệ thống"',
    'role=alert[name="Hệ thống đang bận"]',
    "xpath=//div[@class='loi']",
    "//div[@id='x']",
    "//p[text()='Đang tải...']",
    "xpath=//div/..",
    "..",
    "div:visible",
    "p:before",
    "> div.loi",
    'div:text-matches("l[ỗo]i", "i")',
    "li:focus-within",
    "a:nth-match(li, 2)",
    ".md\\:flex",
    'input[name="a:b"]',
    "div:has(> span.loi)",
    'div >> text="a >> b"',
    "css=div.x, div.y",
    "id=loi",
    "internal:role=button",
]
INVALID = [
    ("div[", "an unclosed ["),
    ("..x", "not a valid XPath"),
    ("a:has-text(", "an unclosed ("),
    ("a:has-text()", "with nothing in it"),
    ("div.loi,, .x", "an empty part of the list"),
    ("div.loi,", "an empty part of the list"),
    ("div:loi", "no pseudo-class :loi"),
    ("div >> ", "an empty part of the >> chain"),
    ("txt=Lỗi", "no selector engine 'txt'"),
    ("text=/lỗi(/", "not a regular expression"),
    ("div)", "closes nothing"),
    ("div..loi", "not valid CSS"),
    ("p::before", "no pseudo-element"),
    ("div:has-text(Lỗi)", "takes a quoted text"),
    ("#1x", "cannot start with a digit"),
]


@pytest.mark.parametrize("selector", VALID)
def test_a_valid_selector_has_no_problem(selector: str) -> None:
    assert problem(selector) is None


@pytest.mark.parametrize(("selector", "said"), INVALID)
def test_an_invalid_selector_is_named_with_its_fault(selector: str, said: str) -> None:
    why = problem(selector)
    assert why is not None and said in why, why


def _profile(tmp_path: Path, selectors: str) -> Path:
    path = tmp_path / "p.yaml"
    path.write_text(
        f"version: 2\nname: p\nbase_url: http://127.0.0.1:9\nselectors:\n  content: main\n{selectors}",
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ("  error_page: 'div['\n", "selectors.error_page"),
        ("  error_banner: '..x'\n", "selectors.error_banner"),
        ("  submit_button: 'a:has-text('\n", "selectors.submit_button"),
        ("  upload: {css: 'input[type=file'}\n", "selectors.upload"),
        ("  field: '#f-{field} >> '\n", "selectors.field"),
    ],
)
def test_a_profile_with_an_invalid_selector_is_refused_naming_file_line_field(
    tmp_path: Path, line: str, field: str
) -> None:
    path = _profile(tmp_path, line)
    with pytest.raises(ConfigError) as refused:
        load_profile(path)
    text = str(refused.value)
    assert f"{path}:6" in text and field in text and "invalid selector" in text, text


def test_a_profile_with_a_selector_list_and_placeholders_loads(tmp_path: Path) -> None:
    path = _profile(
        tmp_path,
        "  error_page: 'div.validation-summary-errors, .alert-danger:has-text(\"Lỗi\"), #loi-he-thong'\n"
        "  error_banner: 'div:visible >> text=Hệ thống đang bận'\n"
        "  field: '#f-{field}, [data-label=\"{label}\"]'\n",
    )
    assert load_profile(path).selectors.error_page.startswith("div.validation-summary-errors")


@pytest.mark.browser
def test_playwright_itself_agrees_with_both_tables() -> None:
    """The tables above are Playwright's word, not ours: each valid selector is taken by a real
    locator, each invalid one refused."""
    from playwright.sync_api import Error, sync_playwright

    from playwright_journeys.browser import CHROMIUM

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM)
        try:
            page = browser.new_page()
            page.set_content("<main><div class='loi'>Lỗi</div></main>")
            for selector in VALID:
                page.locator(selector).count()
            for selector, _ in INVALID:
                with pytest.raises(Error):
                    page.locator(selector).count()
        finally:
            browser.close()
