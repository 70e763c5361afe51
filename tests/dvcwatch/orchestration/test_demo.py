"""`dvcwatch demo` end to end, as README command 1 runs it, and its evidence legible on a phone."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from playwright_journeys.browser import CHROMIUM_ARGS

ROOT = Path(__file__).resolve().parents[3]


async def _render(pages: dict[str, Path], out: Path) -> dict[str, dict[str, float]]:
    """Screenshot each page at a phone's and a desktop's width; measure overflow and the smallest text."""
    from playwright.async_api import async_playwright

    measures: dict[str, dict[str, float]] = {}
    async with async_playwright() as p:
        browser = await p.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS
        )
        try:
            for name, path in pages.items():
                for label, width in (("phone", 390), ("desktop", 1280)):
                    page = await browser.new_page(viewport={"width": width, "height": 844})
                    await page.goto(path.as_uri())
                    await page.wait_for_load_state("load")
                    await page.screenshot(path=str(out / f"{name}-{label}.png"), full_page=True)
                    measures[f"{name}-{label}"] = await page.evaluate(
                        """() => {
                          const texts = [...document.querySelectorAll('p, li, td, th, span, a, h1, h2, h3, div')]
                            .filter(e => e.offsetParent !== null && e.childNodes.length &&
                                    [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim()));
                          const sizes = texts.map(e => parseFloat(getComputedStyle(e).fontSize));
                          return {overflow: document.documentElement.scrollWidth - window.innerWidth,
                                  smallest_font: Math.min(...sizes), texts: texts.length};
                        }"""
                    )
                    await page.close()
        finally:
            await browser.close()
    return measures


@pytest.mark.browser
@pytest.mark.prometheus
@pytest.mark.slow
@pytest.mark.timeout(900)
def test_demo_names_the_broken_services_and_its_evidence_reads_on_a_phone(
    tmp_path: Path, artifacts_dir: Path
) -> None:
    out = tmp_path / "demo"
    proc = subprocess.run(
        [sys.executable, "-m", "dvcwatch", "demo", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=840,
        check=False,
        env={**os.environ, "COLUMNS": "160"},
    )
    (artifacts_dir / "demo-output.txt").write_text(proc.stdout + proc.stderr, encoding="utf-8")
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    summary = json.loads((out / "demo.json").read_text(encoding="utf-8"))
    assert summary["failed_steps"] == {"thong-bao-luu-tru": "upload", "dang-ky-khai-sinh": "submit"}
    assert summary["level_shortfall"] == ["cap-phieu-ly-lich-tu-phap"]
    assert summary["working_end_to_end"] == 22
    assert "DvcPortalDown" in summary["alerts_fired"]
    assert summary["knee"] and summary["knee"]["requests_per_second"] > 0
    for text in ("Đăng ký khai sinh", "dang-ky-khai-sinh", "Thông báo lưu trú", "Cấp Phiếu lý lịch tư pháp"):
        assert text in proc.stdout
    for key in ("scorecard", "capacity_report", "alerts_received"):
        assert Path(summary[key]).exists(), key
    assert "Prometheus:" in proc.stdout

    measures = asyncio.run(
        _render(
            {"scorecard": Path(summary["scorecard"]), "capacity-report": Path(summary["capacity_report"])},
            artifacts_dir,
        )
    )
    for name, m in measures.items():
        assert m["texts"] > 20, name
        assert m["overflow"] <= 1, f"{name} scrolls sideways by {m['overflow']} px"
        assert m["smallest_font"] >= 11, f"{name} has {m['smallest_font']} px text"
