"""The report's one entry point: read the history, compute the figures, write report.html and .json."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from dvcwatch.core.history_store import PORTAL_TZ, HistoryStore
from dvcwatch.orchestration.weekly_report import render
from dvcwatch.orchestration.weekly_report.figures import Figures, compute


def build(
    history: Path,
    since: timedelta,
    out_dir: Path,
    *,
    now: datetime | None = None,
    tz: str = PORTAL_TZ,
) -> tuple[Figures, Path, Path]:
    """The period [now - since, now) against the one before it; reads only, never changes the history."""
    until = now or datetime.now(UTC)
    start = until - since
    with HistoryStore.open(history, readonly=True) as store:
        rows = store.journeys(since=start - since, until=until)
        dossiers = store.dossiers()
    fig = compute(rows, dossiers, since=start, until=until, tz=ZoneInfo(tz))
    html, data = render.write(fig, out_dir, until)
    return fig, html, data
