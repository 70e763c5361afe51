"""Error pages and busy banners told with the profile's own selectors, in every form a profile writes them."""

from __future__ import annotations

from pathlib import Path

import pytest
from fixtures.other_portal.pages import error_page as other_error_page
from fixtures.third_portal.layout import busy_page, error_page, page

from dvcwatch.core.errors import ConfigError
from dvcwatch.core.page_markers import PageTrouble, compile_selector
from dvcwatch.core.profile import Selectors, load_profile

FIXTURES = Path(__file__).parents[2] / "fixtures"
BUSY = (
    b'<html><body><header>Cong</header><main><div class="banner-busy" data-testid="error-banner" '
    b'role="alert">H\xe1\xbb\x87 th\xe1\xbb\x91ng  \xc4\x91ang\n b\xe1\xba\xadn</div><p>L\xe1\xbb\x97i <b>500</b></p>'
    b"</main></body></html>"
)


@pytest.mark.parametrize(
    ("selector", "shown"),
    [
        ('[data-testid="error-banner"]', True),
        ("div.banner-busy", True),
        ("section.loi, div[role=alert]", True),  # a selector list
        ('css=[data-testid="error-banner"]', True),
        ("text=hệ thống đang bận", True),  # case and spacing do not matter
        ('text="Hệ thống đang bận"', True),  # exact: the element's whole text
        ('text="Hệ thống"', False),
        ("text=/^lỗi 500$/i", True),  # a pattern, element by element
        ("text=/bận$/", True),
        ('div:has-text("đang bận")', True),
        ('div:text-is("Hệ thống đang bận")', True),
        ('p:has-text("đang bận")', False),
        ("main >> text=Lỗi 500", True),
        ("header >> text=Lỗi 500", False),
        ("section.loi-he-thong", False),
        ("text=Máy chủ quá tải", False),
    ],
)
def test_each_form_of_selector_finds_what_playwright_would(selector: str, shown: bool) -> None:
    from selectolax.lexbor import LexborHTMLParser

    assert compile_selector(selector)(LexborHTMLParser(BUSY)) is shown
    # the cheap look before parsing never hides a page that shows it (entities, upper case included)
    trouble = PageTrouble.of(Selectors(error_page="", error_banner=selector))
    assert (trouble.reason(BUSY) is not None) is shown
    shouted = BUSY.replace(b"\xc4\x91ang", b"&#272;ANG").replace(b"L\xe1\xbb\x97i", b"L&#7894;I")
    parsed = compile_selector(selector)(LexborHTMLParser(shouted))
    assert (trouble.reason(shouted) is not None) is parsed


def test_a_healthy_page_is_told_apart_without_parsing_it() -> None:
    from dvcwatch.core.page_markers import _prefilter

    page = b'<html><body><main><h1 data-testid="service-name">Khai sinh</h1></main></body></html>'
    for selector in (
        '[data-testid="error-banner"]',
        "div.qua-tai, section.loi-he-thong",
        "text=Hệ thống đang bận",
    ):
        assert not _prefilter(selector)(page, lambda: page.decode().casefold())


def test_a_script_that_would_write_the_words_is_not_the_banner() -> None:
    """The other portal's page script holds "Hệ thống đang bận" for when a fetch fails: not shown."""
    trouble = PageTrouble.of(Selectors(error_banner="text=Hệ thống đang bận"))
    html = "<html><body><main>ok</main><script>x='Hệ thống đang bận, vui lòng thử lại sau.'</script></body></html>"
    assert trouble.reason(html.encode()) is None
    assert trouble.reason(
        b"<main><p>H\xe1\xbb\x87 th\xe1\xbb\x91ng \xc4\x91ang b\xe1\xba\xadn</p></main>"
    ) == ("busy banner: text=Hệ thống đang bận")


def test_the_fixture_portals_pages_are_told_by_their_own_profiles() -> None:
    third = PageTrouble.of(load_profile(FIXTURES / "third_portal" / "profile.yaml").selectors)
    assert third.reason(busy_page().body) == "error page: div.thong-bao-loi, div.qua-tai"
    assert third.reason(error_page(500).body) == "error page: div.thong-bao-loi, div.qua-tai"
    assert third.reason(page("Trang chủ", "<h1>Dịch vụ công</h1>").body) is None
    other = PageTrouble.of(load_profile(FIXTURES / "other_portal" / "profile.yaml").selectors)
    assert other.reason(other_error_page(502, "Máy chủ lỗi", brand="Cổng").body) == (
        "error page: section.loi-he-thong"
    )
    sandbox = PageTrouble.of(load_profile().selectors)
    assert sandbox.reason(BUSY) == 'busy banner: [data-testid="error-banner"]'


def test_a_selector_selectolax_cannot_read_is_a_config_error_naming_the_field() -> None:
    with pytest.raises(ConfigError, match=r"selectors\.error_banner.*a:visible"):
        PageTrouble.of(Selectors(error_banner="a:visible"), source="p.yaml")


# -- where the three matchers (load, Replay, probes) used to disagree: one rule now


@pytest.mark.parametrize(
    ("selector", "page", "shown"),
    [
        # a hidden element is not shown, whatever form the selector takes (load used to match these)
        ("text=Hệ thống đang bận", "<main>ok</main><div hidden>Hệ thống đang bận</div>", False),
        ("div.qua-tai", '<main>ok</main><div class="qua-tai" aria-hidden="true">Quá tải</div>', False),
        (
            "div.qua-tai",
            '<main><section style="display: none"><div class="qua-tai">x</div></section></main>',
            False,
        ),
        # an empty placeholder the page's script fills only on failure is not the banner
        ("div.qua-tai", '<main>ok</main><div class="qua-tai"></div>', False),
        ("div.qua-tai", '<main><div class="qua-tai"><img src="/busy.png"></div></main>', True),
        # text= is Playwright's: case-insensitive (Replay and probes used to be case-sensitive) …
        ("text=HỆ THỐNG ĐANG BẬN", "<main><p>Hệ thống đang bận</p></main>", True),
        # … and a quoted text is the element's whole text (they used to read it as a substring)
        ('text="Hệ thống"', "<main><p>Hệ thống đang bận</p></main>", False),
        # script text is never the page's, for CSS text pseudo-classes too
        ('main:has-text("đang bận")', "<main>ok<script>s='đang bận'</script></main>", False),
    ],
)
def test_one_rule_for_what_a_page_shows(selector: str, page: str, shown: bool) -> None:
    trouble = PageTrouble.of(Selectors(error_page="", error_banner=selector))
    assert (trouble.reason(page.encode()) is not None) is shown


def test_an_unreadable_selector_is_an_error_not_a_silent_never_match() -> None:
    from dvcwatch.core.page_markers import check_selector, page_trouble

    for bad in ("div[", "a:visible", "main >> "):
        with pytest.raises(ValueError):
            check_selector(bad)
        with pytest.raises(ValueError):
            page_trouble((("error page", bad),))


def test_sentinels_that_share_a_long_part_are_looked_for_in_one_pass_and_still_each_found() -> None:
    trouble = PageTrouble.named(
        [("busy banner", '[data-testid="error-banner"]'), ("error page", '[data-testid="error-page"]')]
    )
    assert trouble.sentinels == (b"error-",)
    assert trouble.reason(b'<div data-testid="error-banner">Qu\xc3\xa1 t\xe1\xba\xa3i</div>') == "busy banner"
    assert trouble.reason(b'<div data-testid="error-page">L\xe1\xbb\x97i</div>') == "error page"
    assert trouble.reason(b'<div data-testid="service-name">ok</div>') is None
    # nothing long enough in common: each is looked for on its own
    apart = PageTrouble.named([("busy banner", ".qua-tai"), ("error page", "#loi")])
    assert apart.sentinels is not None and len(apart.sentinels) == 2
    assert apart.reason(b'<div class="qua-tai">x</div>') == "busy banner"


ASPNET_LIST = 'div.validation-summary-errors, .alert-danger:has-text("Lỗi"), #loi-he-thong'


@pytest.mark.parametrize(
    ("page", "shown"),
    [
        ('<main><div class="validation-summary-errors"><ul><li>Sai mã</li></ul></div></main>', True),
        ('<main><div class="alert alert-danger">Lỗi: hồ sơ chưa được nộp</div></main>', True),
        ('<main><div class="alert alert-danger">Phiên sắp hết hạn</div></main>', False),
        ('<main><section id="loi-he-thong"><h1>Hệ thống gặp sự cố</h1></section></main>', True),
        ('<main><div class="alert alert-success">Đã nộp. Lỗi chính tả? Sửa sau.</div></main>', False),
    ],
)
def test_a_selector_list_with_has_text_parts_is_read_part_by_part(page: str, shown: bool) -> None:
    """#27.8b: an ASP.NET portal's error page is any of three things; each is judged on its own."""
    trouble = PageTrouble.of(Selectors(error_page=ASPNET_LIST, error_banner="div.qua-tai"), source="p.yaml")
    assert (trouble.reason(page.encode()) == f"error page: {ASPNET_LIST}") is shown


def test_split_readable_keeps_the_parts_read_without_a_browser_and_names_the_others() -> None:
    from dvcwatch.core.page_markers import split_readable

    assert split_readable(ASPNET_LIST) == (ASPNET_LIST, ())
    assert split_readable('div.loi, div.loi:visible, .alert:has-text("Lỗi")') == (
        'div.loi, .alert:has-text("Lỗi")',
        ("div.loi:visible",),
    )
    assert split_readable("li:focus-within, p:lang(vi)") == (None, ("li:focus-within", "p:lang(vi)"))
    assert split_readable('role=alert[name="Lỗi"]') == (None, ('role=alert[name="Lỗi"]',))
    assert split_readable("main >> div.loi:visible") == (None, ("main >> div.loi:visible",))


def test_check_selector_says_invalid_or_needs_a_browser() -> None:
    from dvcwatch.core.page_markers import check_selector

    with pytest.raises(ValueError, match="invalid selector: an unclosed"):
        check_selector("a:has-text(")
    with pytest.raises(ValueError, match="needs a browser"):
        check_selector("a:visible")
    assert check_selector(ASPNET_LIST) == ASPNET_LIST


def test_a_lists_parts_that_need_a_browser_are_left_out_and_named_not_the_whole_profile_refused() -> None:
    """`load` reads the same selectors: a list is not refused for one part only a browser judges."""
    trouble = PageTrouble.of(
        Selectors(error_page="div.loi, div.ban:visible", error_banner="div.qua-tai"), source="p.yaml"
    )
    assert trouble.unseen == ("selectors.error_page: div.ban:visible",)
    assert trouble.reason(b'<main><div class="loi">L\xe1\xbb\x97i</div></main>') == (
        "error page: div.loi, div.ban:visible"
    )
    assert trouble.reason(b'<main><div class="ban">B\xe1\xba\xadn</div></main>') is None
    assert PageTrouble.of(Selectors(error_page=ASPNET_LIST, error_banner="div.qua-tai")).unseen == ()
