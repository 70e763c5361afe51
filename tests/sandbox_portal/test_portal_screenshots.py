"""What a citizen sees, in Debian's chromium: home, a form with validation errors, a receipt,
on a desktop and on a phone. The PNGs go to test-artifacts/ for a person to look at."""

from __future__ import annotations

import pytest
from portal_flows import CATALOG

from dvcwatch.core.identities import citizen
from playwright_journeys.browser import CHROMIUM, CHROMIUM_ARGS


@pytest.mark.browser
@pytest.mark.parametrize(
    "viewport", [{"width": 1280, "height": 900}, {"width": 390, "height": 844}], ids=["desktop", "phone"]
)
async def test_screenshots_of_home_form_errors_and_receipt(sandbox, artifacts_dir, viewport) -> None:
    from playwright.async_api import async_playwright

    who = citizen(42, 11)
    svc = CATALOG.service("dang-ky-tam-tru")
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport=viewport, locale="vi-VN")
            page.set_default_timeout(15_000)
            await page.goto(sandbox.url + "/")
            assert await page.get_by_text("CỔNG DỊCH VỤ CÔNG").first.is_visible()
            await page.screenshot(path=str(artifacts_dir / "home.png"), full_page=False)

            await page.goto(f"{sandbox.url}/dich-vu/{svc.id}")
            await page.get_by_test_id("start-submission").click()
            await page.get_by_test_id("login-cccd").fill(who.cccd)
            await page.get_by_test_id("login-password").fill(who.password)
            await page.get_by_test_id("login-submit").click()
            otp = await (await page.request.get(f"{sandbox.url}/_sandbox/otp?cccd={who.cccd}")).json()
            await page.get_by_test_id("otp-input").fill(otp["otp"])
            await page.get_by_test_id("otp-submit").click()
            await page.get_by_test_id("form-next").click()  # page 1 is prefilled
            await page.get_by_test_id("field-dia_chi_tam_tru").fill("")
            await page.get_by_test_id("field-thoi_han_thang").fill("36")
            await page.get_by_test_id("form-next").click()
            errors = page.get_by_test_id("form-errors")
            assert await errors.is_visible()
            assert (
                "Vui lòng nhập địa chỉ tạm trú"
                in await page.get_by_test_id("field-error-dia_chi_tam_tru").inner_text()
            )
            assert "từ 1 đến 24" in await page.get_by_test_id("field-error-thoi_han_thang").inner_text()
            await page.screenshot(path=str(artifacts_dir / "form-errors.png"), full_page=True)

            await page.get_by_test_id("field-dia_chi_tam_tru").fill(
                "Số 8 ngõ 102 Trường Chinh, Đống Đa, Hà Nội"
            )
            await page.get_by_test_id("field-thoi_han_thang").fill("12")
            await page.get_by_test_id("form-next").click()
            for doc in svc.documents:
                await page.get_by_test_id(f"upload-{doc.id}").set_input_files(
                    {"name": f"{doc.id}.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4\n%%EOF\n"}
                )
            await page.get_by_test_id("upload-submit").click()
            await page.get_by_test_id("pay-button").click()
            await page.get_by_test_id("bank-vcb").check()
            await page.get_by_test_id("payment-confirm").click()
            assert await page.get_by_test_id("payment-status").get_attribute("data-status") == "paid"
            await page.get_by_test_id("declaration").check()
            await page.get_by_test_id("submit-button").click()
            code = await page.get_by_test_id("dossier-code").inner_text()
            assert code.startswith("G22.99.08-")
            await page.screenshot(path=str(artifacts_dir / "receipt.png"), full_page=True)
        finally:
            await browser.close()
    for name in ("home.png", "form-errors.png", "receipt.png"):
        assert (artifacts_dir / name).stat().st_size > 10_000
