"""The scorecard as a leader sees it: rendered by chromium at desktop and phone width (screenshots go to
test-artifacts/ for a person to look at), readable without horizontal scrolling, Vietnamese first."""

from __future__ import annotations

from pathlib import Path

import pytest
from journey_samples import sample_run

from dvcwatch.catalog import load_catalog
from playwright_journeys.browser import CHROMIUM, CHROMIUM_ARGS
from playwright_journeys.personas import load_personas
from playwright_journeys.report import write_report

pytestmark = pytest.mark.browser

WIDTHS = {"desktop": (1366, 900), "phone": (390, 844)}


@pytest.fixture
def scorecard(tmp_path: Path) -> Path:
    write_report(sample_run(tmp_path, ("desktop", "phone")), load_catalog(), load_personas(), tmp_path)
    return tmp_path / "scorecard.html"


def test_scorecard_reads_at_desktop_and_phone_width_and_switches_to_english(
    scorecard: Path, artifacts_dir: Path
) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            for name, (width, height) in WIDTHS.items():
                page = browser.new_page(viewport={"width": width, "height": height})
                page.goto(scorecard.as_uri())
                page.screenshot(path=str(artifacts_dir / f"scorecard-{name}.png"))
                page.screenshot(path=str(artifacts_dir / f"scorecard-{name}-full.png"), full_page=True)
                assert page.evaluate("document.documentElement.scrollWidth") <= width, "no sideways scrolling"
                headline = page.get_by_test_id("headline-desktop")
                assert "19/25" in headline.inner_text().replace(" ", "")
                assert "dịch vụ làm được trọn vẹn trực tuyến" in headline.inner_text()
                tile = page.get_by_test_id("tile-dang-ky-khai-sinh")
                assert tile.get_attribute("data-verdict") == "fail"
                assert "hỏng ở bước Nộp hồ sơ" in tile.inner_text()
                failure = page.get_by_test_id("failure-dang-ky-khai-sinh-desktop")
                assert "Cổng không phản hồi sau 5 giây" in failure.inner_text()
                shot = failure.locator("img")
                shot.scroll_into_view_if_needed()
                page.wait_for_function("i => i.complete && i.naturalWidth > 0", arg=shot.element_handle())
                assert "Thực tế: Một phần" in page.get_by_test_id("tile-cap-doi-gplx").inner_text()
                page.get_by_role("button", name="English").click()
                assert "services work online end to end" in headline.inner_text()
                assert "breaks at Submit" in tile.inner_text()
                assert not page.get_by_text("dịch vụ làm được trọn vẹn trực tuyến").first.is_visible()
                page.screenshot(path=str(artifacts_dir / f"scorecard-{name}-en.png"))
                page.close()
        finally:
            browser.close()
