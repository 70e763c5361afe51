"""The scorecard as a leader sees it: rendered by chromium at desktop and phone width (screenshots go to
test-artifacts/ for a person to look at), readable without horizontal scrolling, Vietnamese first."""

from __future__ import annotations

from pathlib import Path

import pytest
from journey_samples import sample_run

from dvcwatch.core.catalog import load_catalog
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


def test_a_mixed_production_sweep_counts_not_filed_apart_from_end_to_end(tmp_path: Path) -> None:
    """Journeys that stopped before filing (production) get their own count and wording; the
    end-to-end share is of the journeys that could be tried end to end."""
    from playwright_journeys.results import summarize

    run = sample_run(tmp_path)
    stopped = [r.service for r in run.results if r.verdict == "pass"][:5]
    results = [
        r.model_copy(update={"verdict": "not_filed", "checked_to": "submit"}) if r.service in stopped else r
        for r in run.results
    ]
    run = run.model_copy(update={"results": results, "summary": summarize(results)})
    assert run.summary.not_filed == 5 and run.summary.share_end_to_end == round(14 / 20, 4)
    write_report(run, load_catalog(), load_personas(), tmp_path)
    html = (tmp_path / "scorecard.html").read_text(encoding="utf-8")
    head = html.split('data-testid="headline-desktop"')[1].split("</section>")[0]
    assert "14<small>/20</small>" in head and "(70%)" in head
    assert "và 5 dịch vụ làm được đến bước nộp, chưa nộp: môi trường thật" in head
    first = stopped[0]
    tile = (
        html.split(f'data-testid="tile-{first}"')[0].rsplit("<a ", 1)[1]
        + html.split(f'data-testid="tile-{first}"')[1].split("</a>")[0]
    )
    assert 'class="tile v-not_filed"' in tile
    assert "Làm được đến bước nộp, chưa nộp: môi trường thật" in tile and "«Nộp hồ sơ»" in tile


def test_a_fee_charged_other_than_the_published_one_is_shown_on_its_tile(tmp_path: Path) -> None:
    import json

    run = sample_run(tmp_path)
    published = next(r for r in run.results if r.fee_promised and r.verdict == "pass")
    over = published.model_copy(
        update={
            "verdict": "degraded",
            "degraded_reasons": ["fee_differs"],
            "fee_charged": published.fee_promised + 20_000,
        }
    )
    run = run.model_copy(update={"results": [over if r is published else r for r in run.results]})
    write_report(run, load_catalog(), load_personas(), tmp_path)
    page = (tmp_path / "scorecard.html").read_text(encoding="utf-8")
    vi = f"{over.fee_charged:,}".replace(",", "."), f"{over.fee_promised:,}".replace(",", ".")
    tile = page[page.index(f'data-testid="tile-{over.service}"') :]
    tile = tile[: tile.index("</a>")]
    assert f'data-testid="fee-{over.service}"' in tile
    assert f"thu {vi[0]} ₫, công bố {vi[1]} ₫" in tile
    assert f"charged {over.fee_charged:,} ₫, published {over.fee_promised:,} ₫" in tile
    assert "lệ phí thu khác lệ phí công bố" in tile
    saved = next(
        r
        for r in json.loads((tmp_path / "results.json").read_text())["results"]
        if r["service"] == over.service
    )
    assert saved["degraded_reasons"] == ["fee_differs"] and saved["fee_charged"] == over.fee_charged


def test_a_refusal_reads_in_vietnamese_with_the_portals_own_words() -> None:
    from playwright_journeys.scorecard import message_vi

    words = "«Số điện thoại»: «Số điện thoại không hợp lệ»"
    assert message_vi(f"the portal refused the dossier: {words}") == f"Cổng không nhận hồ sơ: {words}"
    assert message_vi(f"the portal refused the form: {words}") == f"Cổng không nhận tờ khai: {words}"
    assert message_vi("the portal refused Giấy báo tử") == "Cổng không nhận giấy tờ: Giấy báo tử"
