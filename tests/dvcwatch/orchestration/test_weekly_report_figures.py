"""The report's dossier figures and trend rules on hand-made rows (no browser, no portal): late by how
much, open past due, answered at the office, the 5-point trend threshold, and portal text kept as text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from dvcwatch.core.history_store import DossierRow, JourneyRow, iso
from dvcwatch.orchestration.weekly_report import render
from dvcwatch.orchestration.weekly_report.figures import Period, compute, trend

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)


def journey(days_ago: float, verdict: str, service: str = "s1", **kw: object) -> JourneyRow:
    return JourneyRow(
        at=iso(NOW - timedelta(days=days_ago)), portal="p", environment="sandbox", vantage="local",
        persona="desktop", service=service, name_vi="Dịch vụ <b>một</b>", name_en="Service <b>one</b>",
        verdict=verdict, duration_seconds=10.0, submit_seconds=8.0 if verdict != "fail" else None, **kw,  # type: ignore[arg-type]
    )  # fmt: skip


def dossier(code: str, filed_days_ago: float, due: str, **kw: object) -> DossierRow:
    return DossierRow("p", code, "s1", "local", iso(NOW - timedelta(days=filed_days_ago)), due, **kw)  # type: ignore[arg-type]


def test_dossiers_on_time_late_past_due_and_at_the_office(tmp_path: Path) -> None:
    rows = [
        journey(1, "pass"),
        journey(2, "fail", failed_step="payment", failure="<script>alert(1)</script>", screenshot="/x/s.png"),
    ]
    dossiers = [
        dossier("on-time", 3, "2026-11-28", status="done", result_mode="download", result_at="2026-11-28T20:00:00+00:00"),
        dossier("late", 3, "2026-11-27", status="done", result_mode="in_person", result_at="2026-11-29T06:00:00+00:00"),
        dossier("past-due", 4, "2026-11-28", status="processing"),
        dossier("open", 1, "2026-12-03"),
        dossier("last-week", 9, "2026-11-22"),  # filed before the period: not this week's
    ]  # fmt: skip
    fig = compute(rows, dossiers, since=NOW - timedelta(days=7), until=NOW, tz=UTC)
    d = fig.dossiers
    assert (d.filed, d.on_time, d.late, d.open_past_due, d.open, d.at_office) == (4, 1, 1, 1, 1, 1)
    assert d.late_by_max_seconds == 30 * 3600  # due end 28/11 00:00, answered 29/11 06:00
    assert fig.services[0].this.broke_most == "payment"

    html, _ = render.write(fig, tmp_path, NOW)
    page = html.read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<b>một</b>" not in page and "Dịch vụ &lt;b&gt;một&lt;/b&gt;" in page  # in the table and the SVG
    assert "30.0 giờ" in page and "30.0 h" in page  # late, worst by 30 hours


def test_trend_moves_only_past_five_points() -> None:
    def p(share: float | None) -> Period:
        return Period(share=share)

    assert trend(p(0.80), p(0.76)) == "flat"
    assert trend(p(0.80), p(0.75)) == "up"
    assert trend(p(0.70), p(0.75)) == "down"
    assert trend(p(0.70), p(None)) == "new"
    assert trend(p(None), p(0.70)) == "none"
