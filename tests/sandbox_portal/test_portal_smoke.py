"""The healthy sandbox: one service end to end through the pages and the API, quickly."""

from __future__ import annotations

import re

from portal_flows import CATALOG, api_journey, html_journey

CODE_RE = re.compile(r"^G22\.99\.08-\d{6}-\d{6}$")
DATE_RE = re.compile(r"^\d{2}/\d{2}/\d{4}$")


async def test_paid_full_service_end_to_end_through_pages(sandbox) -> None:
    out = await html_journey(sandbox.url, CATALOG.service("cap-phieu-ly-lich-tu-phap"))
    assert CODE_RE.match(out.code)
    assert DATE_RE.match(out.expected_date)
    assert out.payment == "paid"
    assert out.final_status == "done"
    assert out.result == "download"


async def test_partial_service_end_to_end_through_the_api(sandbox) -> None:
    out = await api_journey(sandbox.url, CATALOG.service("dang-ky-thuong-tru"))
    assert CODE_RE.match(out.code)
    assert out.payment == "paid"
    assert out.final_status == "done"
    assert out.result == "in_person"
