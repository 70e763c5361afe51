"""Issue 30.3: `report --by portal` puts every portal of a history on one page, each linking its own
weekly report; the page renders in chromium and prints to A4.

The history is written through the store's own API (`HistoryStore.add_journeys`, `record_check`), as
sweeps from two vantage points of three portals would write it, over two weeks; one portal's name is
hostile markup. The figures expected below are counted by hand from the rows written here.
"""

from __future__ import annotations

import base64
import json
import re
import subprocess
from datetime import UTC, date, datetime, timedelta
from itertools import count
from pathlib import Path

from dvcwatch_process import run_dvcwatch

from dvcwatch.core.history_store import HistoryStore, JourneyRow, iso

HANOI = "Cổng DVC Hà Nội"
HOSTILE = '<img src=x onerror="alert(1)"> & "Cổng" </td>'
NEW = "cong-moi"  # swept this week only
NAMES = {"s1": ("Khai sinh", "Birth"), "s2": ("Khai tử", "Death"), "s3": ("Tạm vắng", "Absence")}
VANTAGES = ("phuong-1", "phuong-2")
_ids = count()


def journey(portal: str, days_ago: float, service: str, verdict: str, **kw: object) -> JourneyRow:
    n = next(_ids)
    return JourneyRow(
        at=iso(datetime.now(UTC) - timedelta(days=days_ago, minutes=n)), portal=portal,
        environment="production", vantage=VANTAGES[n % 2], persona="desktop", service=service,
        name_vi=NAMES[service][0], name_en=NAMES[service][1], verdict=verdict, duration_seconds=30.0,
        submit_seconds=20.0 if verdict in ("pass", "degraded") else None,
        failed_step="submit" if verdict == "fail" else None, journey_id=f"j-{n}", **kw,  # type: ignore[arg-type]
    )  # fmt: skip


def journeys(portal: str, days_ago: float, service: str, verdicts: str) -> list[JourneyRow]:
    """One journey per letter: p(ass), d(egraded), f(ail), e(rror)."""
    full = {"p": "pass", "d": "degraded", "f": "fail", "e": "error"}
    return [journey(portal, days_ago + i / 10, service, full[v]) for i, v in enumerate(verdicts)]


def day(days_from_now: float) -> str:
    return (date.today() + timedelta(days=days_from_now)).isoformat()


def write_history(path: Path) -> dict[str, int]:
    """Returns how many journeys each portal has in the two periods."""
    rows = [
        # Hà Nội: last week every journey worked; this week s2 works 1 in 4, s3 3 in 4 (worst: s2)
        *journeys(HANOI, 9, "s1", "pppp"), *journeys(HANOI, 9, "s2", "pppp"), *journeys(HANOI, 10, "s3", "pp"),
        *journeys(HANOI, 2, "s1", "pdpp"), *journeys(HANOI, 2, "s2", "fpff"), *journeys(HANOI, 3, "s3", "pfpp"),
        *journeys(HANOI, 1, "s1", "e"),  # the harness could not run it: counted, not tried
        # hostile: last week s1 broke every time; this week s2 1 in 2 and s3 2 in 4 tie on share,
        # s3 failed more journeys, so s3 is the worst
        *journeys(HOSTILE, 8, "s1", "fff"), *journeys(HOSTILE, 8, "s2", "p"),
        *journeys(HOSTILE, 4, "s1", "pp"), *journeys(HOSTILE, 4, "s2", "pf"), *journeys(HOSTILE, 5, "s3", "ppff"),
        # new: this week only, everything worked
        *journeys(NEW, 1, "s1", "ppp"),
    ]  # fmt: skip
    # dossiers: Hà Nội files two last week (both answered on time), three this week: one on time, one
    # late, one still open past its due date
    filed = {
        "HN-L1": journey(HANOI, 10, "s1", "pass", dossier_code="HN-L1", due_date=day(-8)),
        "HN-L2": journey(HANOI, 9, "s1", "pass", dossier_code="HN-L2", due_date=day(-8)),
        "HN-T1": journey(HANOI, 4, "s1", "pass", dossier_code="HN-T1", due_date=day(-2)),
        "HN-T2": journey(HANOI, 4, "s1", "pass", dossier_code="HN-T2", due_date=day(-3)),
        "HN-T3": journey(HANOI, 4, "s1", "pass", dossier_code="HN-T3", due_date=day(-2)),
    }
    answered = {"HN-L1": 9, "HN-L2": 8.5, "HN-T1": 3, "HN-T2": 1}  # days ago; HN-T2 was due 3 days ago
    with HistoryStore.open(path) as store:
        assert store.add_journeys([*rows, *filed.values()]) == len(rows) + len(filed)
        for code, ago in answered.items():
            at = datetime.now(UTC) - timedelta(days=ago)
            store.record_check(HANOI, code, at, status="done", result_mode="download", result_at=at)
    counted: dict[str, int] = {}
    for r in [*rows, *filed.values()]:
        counted[r.portal] = counted.get(r.portal, 0) + 1
    return counted


def dvcwatch(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_dvcwatch(list(argv), cwd, 120)


def test_report_by_portal_counts_compares_and_links_every_portal(tmp_path: Path, artifacts_dir: Path) -> None:
    history = tmp_path / "history.sqlite3"
    written = write_history(history)
    out = tmp_path / "roll-up"
    proc = dvcwatch("report", "--by", "portal", "--history", str(history), "--out", str(out), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "\x1b" not in proc.stderr
    roll = json.loads((out / "portals.json").read_text(encoding="utf-8"))
    lines = {p["portal"]: p for p in roll["portals"]}

    assert set(lines) == {HANOI, HOSTILE, NEW}
    for portal, n in written.items():
        assert lines[portal]["this"]["journeys"] + lines[portal]["last"]["journeys"] == n, portal
    assert roll["overall_this"]["journeys"] + roll["overall_last"]["journeys"] == sum(written.values())
    assert sorted(roll["vantages"]) == list(VANTAGES)

    hanoi = lines[HANOI]
    assert (hanoi["this"]["worked"], hanoi["this"]["tried"]) == (8 + 3, 12 + 3)  # the error is not tried
    assert (hanoi["last"]["worked"], hanoi["last"]["tried"]) == (10 + 2, 10 + 2)
    assert hanoi["trend"] == "down"
    assert hanoi["share_change_points"] == round(100 * (round(11 / 15, 4) - 1.0), 1)
    assert hanoi["worst"]["service"] == "s2" and hanoi["worst"]["broke_most"] == "submit"
    assert (hanoi["worst"]["worked"], hanoi["worst"]["tried"]) == (1, 4)
    assert hanoi["dossiers"] | {"filed": 3, "on_time": 1, "late": 1, "open_past_due": 1} == hanoi["dossiers"]
    assert (hanoi["dossiers_last"]["filed"], hanoi["dossiers_last"]["on_time"]) == (2, 2)
    assert (hanoi["on_time_share"], hanoi["on_time_share_last"]) == (round(1 / 3, 4), 1.0)
    assert hanoi["on_time_trend"] == "down"

    hostile = lines[HOSTILE]
    assert hostile["trend"] == "up" and hostile["last"]["share"] == 0.25
    assert hostile["worst"]["service"] == "s3", "a tie on share goes to the service that failed more"
    assert lines[NEW]["trend"] == "new" and lines[NEW]["worst"] is None
    assert lines[NEW]["share_change_points"] is None
    assert [p["portal"] for p in roll["portals"]] == [HOSTILE, HANOI, NEW], "fewest worked first"

    html = (out / "portals.html").read_text(encoding="utf-8")
    assert HOSTILE not in html and "&lt;img src=x onerror=" in html
    links = re.findall(r'<td class="portal"><a href="([^"]+)">', html)
    assert len(links) == 3
    for portal, link in zip([p["portal"] for p in roll["portals"]], links, strict=True):
        assert link == lines[portal]["report"]
        own = json.loads((out / link).with_suffix(".json").read_text(encoding="utf-8"))
        assert own["portals"] == [portal]
        assert own["overall_this"] == lines[portal]["this"], "the roll-up's line is that report's figures"
        assert HOSTILE not in (out / link).read_text(encoding="utf-8")

    render_in_chromium(out / "portals.html", artifacts_dir)


def render_in_chromium(page_path: Path, artifacts: Path) -> None:
    from playwright.sync_api import sync_playwright

    from playwright_journeys.browser import CHROMIUM, CHROMIUM_ARGS

    dialogs: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1000, "height": 900})
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.goto(page_path.as_uri())
            table = page.locator("table.portals")
            assert table.is_visible()
            assert table.locator("tbody tr").count() == 3
            assert page.locator('h1 [lang="vi"]').is_visible()
            assert HOSTILE in table.locator("td.portal").first.inner_text(), "the name shown as text"
            shot = page.screenshot(path=str(artifacts / "portals-vi.png"), full_page=True)
            assert ink(page, shot) > 0.01, "the screenshot is not blank"
            page.get_by_role("button", name="English").click()
            assert "roll-up" in page.locator("h1").inner_text()
            page.screenshot(path=str(artifacts / "portals-en.png"), full_page=True)
            pdf = page.pdf(format="A4", print_background=True)
            page.locator("td.portal a").nth(1).click()
            page.wait_for_url("**/report.html")
            assert page.locator("h1").is_visible(), "the link opens that portal's weekly report"
        finally:
            browser.close()
    assert dialogs == [], "no script of the portal's name ran"
    (artifacts / "portals-en.pdf").write_bytes(pdf)
    assert pdf.startswith(b"%PDF")
    boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
    assert boxes, "the PDF has pages"
    assert all(abs(float(w) - 595.9) < 1.5 and abs(float(h) - 842.9) < 1.5 for w, h in boxes), boxes  # A4


def ink(page: object, png: bytes) -> float:
    """The share of the screenshot's pixels that are not white, read back by the browser's own canvas."""
    data = base64.b64encode(png).decode()
    return float(
        page.evaluate(  # type: ignore[attr-defined]
            """async (src) => {
                const img = new Image(); img.src = src; await img.decode();
                const c = document.createElement("canvas"); c.width = img.width; c.height = img.height;
                const g = c.getContext("2d"); g.drawImage(img, 0, 0);
                const px = g.getImageData(0, 0, c.width, c.height).data;
                let dark = 0;
                for (let i = 0; i < px.length; i += 4) { if (px[i] + px[i + 1] + px[i + 2] < 600) dark++; }
                return dark / (px.length / 4);
            }""",
            "data:image/png;base64," + data,
        )
    )
