"""Issue 17: two weeks of sweeps give a report whose figures are the stored rows' figures, with trend
arrows the right way, and the page renders in chromium in Vietnamese and English and prints to A4.

How the two weeks are made (honestly): two REAL short sweeps run on the sandbox through `dvcwatch shop`
(a child process, which writes the history beside its results): in the first, service A breaks at
submission (an error fault); in the second, service B does. Those four real journey rows are then
copied through the real store API (`HistoryStore.add_journeys`) with a clock offset, one sweep a day for
fourteen days from two vantage points: A works all of last week and breaks on four days of this week;
B is broken on five days of last week and works all of this week. The sandbox's clock speed is not
used: a day of sweeps at 86400× would still take the sweeps' real time, and the offset rows are the
same rows the store would hold. The report is then made by `dvcwatch report` (another child process),
and every figure in its JSON is recomputed here from the rows read back from the store.
"""

from __future__ import annotations

import dataclasses
import json
import re
import statistics
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from dvcwatch_process import run_dvcwatch

from dvcwatch.core.history_store import HistoryStore, iso

REPO = Path(__file__).resolve().parents[3]
A = "khai-bao-tam-vang"  # breaks in the second week
B = "dang-ky-khai-tu"  # broken in the first week, recovered
DEADLINE = 240


def dvcwatch(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_dvcwatch(list(argv), cwd, DEADLINE)


def sweep(sandbox: object, out: Path, tmp: Path) -> None:
    proc = dvcwatch(
        "shop", "--target", sandbox.url, "--service", A, "--service", B, "--parallel", "2",  # type: ignore[attr-defined]
        "--out", str(out), cwd=tmp,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr  # one service broke in each sweep


def broken_days(service: str, day: int) -> bool:
    """Days ago (0–13) on which the service's journey fails."""
    if service == A:
        return day in (0, 1, 3, 5)
    return day in (7, 8, 9, 11, 13)


def two_weeks(real: HistoryStore, into: HistoryStore, now: datetime) -> None:
    rows = real.journeys()
    by = {(r.service, r.verdict == "fail"): r for r in rows}
    assert set(by) == {(A, True), (A, False), (B, True), (B, False)}, [(r.service, r.verdict) for r in rows]
    copies = []
    for day in range(14):
        for vantage in ("local", "phuong-7") if day % 2 else ("local",):
            at = now - timedelta(days=day, hours=1)
            for service in (A, B):
                r = by[(service, broken_days(service, day))]
                due = (
                    r.due_date
                    and (datetime.fromisoformat(r.due_date) - timedelta(days=day)).date().isoformat()
                )
                code = r.dossier_code and f"{r.dossier_code}-{day}-{vantage}"
                copies.append(  # journey_id "": each copy is a journey of its own
                    dataclasses.replace(
                        r, at=iso(at), vantage=vantage, dossier_code=code, due_date=due, journey_id=""
                    )
                )
    assert into.add_journeys(copies) == len(copies)


def recompute(rows: list, service: str) -> dict[str, object]:
    """The figures as the issue defines them, written again here without the report's code."""
    mine = [r for r in rows if r.service == service and r.verdict in ("pass", "degraded", "fail")]
    worked = [r for r in mine if r.verdict != "fail"]
    times = [r.submit_seconds for r in worked if r.submit_seconds is not None]
    broke = [r.failed_step for r in mine if r.verdict == "fail"]
    return {
        "tried": len(mine),
        "worked": len(worked),
        "share": round(len(worked) / len(mine), 4) if mine else None,
        "median_submit_seconds": round(statistics.median(times), 2) if times else None,
        "broke_most": max(set(broke), key=broke.count) if broke else None,
    }


@pytest.mark.slow
def test_two_weeks_of_sweeps_give_a_report_the_rows_bear_out(
    sandbox_factory: Callable[..., object],
    put_faults: Callable[[object, object], None],
    tmp_path: Path,
    artifacts_dir: Path,
) -> None:
    sandbox = sandbox_factory()
    for n, broken in enumerate((A, B), 1):
        put_faults(sandbox, [{"kind": "error", "service": broken, "step": "submit", "status": 500}])
        sweep(sandbox, tmp_path / "sweeps" / f"s{n}", tmp_path)
    history = tmp_path / "sweeps" / "history.sqlite3"  # shop keeps it beside its results
    now = datetime.now(UTC)
    weeks = tmp_path / "two-weeks.sqlite3"
    with HistoryStore.open(history) as real, HistoryStore.open(weeks) as into:
        assert len(real.journeys()) == 4
        two_weeks(real, into, now)
        rows = into.journeys()

    out = tmp_path / "report"
    proc = dvcwatch("report", "--since", "7d", "--history", str(weeks), "--out", str(out), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    fig = json.loads((out / "report.json").read_text(encoding="utf-8"))

    until = datetime.fromisoformat(fig["until"])
    this = [r for r in rows if datetime.fromisoformat(r.at) >= until - timedelta(days=7)]
    last = [
        r
        for r in rows
        if until - timedelta(days=14) <= datetime.fromisoformat(r.at) < until - timedelta(days=7)
    ]
    lines = {s["service"]: s for s in fig["services"]}
    assert set(lines) == {A, B}
    for service in (A, B):
        for period, subset in (("this", this), ("last", last)):
            got = {
                k: lines[service][period][k]
                for k in ("tried", "worked", "share", "median_submit_seconds", "broke_most")
            }
            assert got == recompute(subset, service), (service, period)
        filed = [r for r in this if r.service == service and r.dossier_code]
        assert lines[service]["dossiers"]["filed"] == len(filed)
        assert lines[service]["dossiers"]["on_time"] == sum(1 for r in filed if r.result_mode)
    assert lines[A]["trend"] == "down" and lines[B]["trend"] == "up"
    assert lines[A]["this"]["broke_most"] == "submit"
    assert set(fig["per_vantage"]) == {"local", "phuong-7"}

    worst = fig["fixes"][0]
    assert (worst["service"], worst["step"]) == (A, "submit")
    assert worst["count"] == sum(1 for r in this if r.service == A and r.verdict == "fail")
    html = (out / "report.html").read_text(encoding="utf-8")
    assert re.search(rf'data-service="{A}" data-trend="down"', html)
    assert re.search(rf'data-service="{B}" data-trend="up"', html)
    shot = re.search(r'href="([^"]+\.png)"', html)
    assert shot and (out / shot.group(1)).is_file(), "the worst fix links its real screenshot"

    render_in_chromium(out / "report.html", artifacts_dir)


def render_in_chromium(report: Path, artifacts: Path) -> None:
    from playwright.sync_api import sync_playwright

    from playwright_journeys.browser import CHROMIUM, CHROMIUM_ARGS

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1000, "height": 1300})
            page.goto(report.as_uri())
            assert page.locator('h1 [lang="vi"]').is_visible()
            assert not page.locator('h1 [lang="en"]').is_visible()
            assert page.locator("section svg:visible").count() == 2
            page.screenshot(path=str(artifacts / "report-vi.png"), full_page=True)
            page.get_by_role("button", name="English").click()
            assert page.locator('h1 [lang="en"]').is_visible()
            assert "weekly report" in page.locator("h1").inner_text()
            page.screenshot(path=str(artifacts / "report-en.png"), full_page=True)
            pdf = page.pdf(prefer_css_page_size=True, print_background=True)
        finally:
            browser.close()
    (artifacts / "report-en.pdf").write_bytes(pdf)
    assert pdf.startswith(b"%PDF")
    boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
    assert boxes, "the PDF has pages"
    assert all(abs(float(w) - 595.9) < 1.5 and abs(float(h) - 842.9) < 1.5 for w, h in boxes), boxes  # A4
