"""The report's entry points: read the history, compute the figures, write the pages and their JSON.
`build` is one weekly report; `build_by_portal` is the roll-up of every portal in the history, with each
portal's own weekly report written beside it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from dvcwatch.core.history_store import PORTAL_TZ, DossierRow, HistoryLocation, HistoryStore, JourneyRow
from dvcwatch.orchestration.weekly_report import portals_render, render
from dvcwatch.orchestration.weekly_report.figures import Figures, compute
from dvcwatch.orchestration.weekly_report.portals import Rollup, portal_dir, rollup


def _read(
    history: Path | HistoryLocation, start: datetime, until: datetime
) -> tuple[list[JourneyRow], list[DossierRow]]:
    """Both periods' journeys, and the dossiers; reads only, never changes the history."""
    with HistoryStore.open(history, readonly=True) as store:
        return store.journeys(since=start, until=until), store.dossiers()


def build(
    history: Path | HistoryLocation,
    since: timedelta,
    out_dir: Path,
    *,
    now: datetime | None = None,
    tz: str = PORTAL_TZ,
) -> tuple[Figures, Path, Path]:
    """The period [now - since, now) against the one before it."""
    until = now or datetime.now(UTC)
    start = until - since
    rows, dossiers = _read(history, start - since, until)
    fig = compute(rows, dossiers, since=start, until=until, tz=ZoneInfo(tz))
    html, data = render.write(fig, out_dir, until)
    return fig, html, data


def build_by_portal(
    history: Path | HistoryLocation,
    since: timedelta,
    out_dir: Path,
    *,
    now: datetime | None = None,
    tz: str = PORTAL_TZ,
) -> tuple[Rollup, Path, Path]:
    """One weekly report per portal (under `portals/`), then the page that puts them side by side
    and links each: the roll-up's figures are those same reports' figures, so the two never differ."""
    until = now or datetime.now(UTC)
    start = until - since
    rows, dossiers = _read(history, start - since, until)
    zone = ZoneInfo(tz)
    names = sorted({r.portal for r in rows})
    figures = {}
    for portal in names:
        fig = compute(
            [r for r in rows if r.portal == portal],
            [d for d in dossiers if d.portal == portal],
            since=start,
            until=until,
            tz=zone,
        )
        render.write(fig, out_dir / portal_dir(portal), until)
        figures[portal] = fig
    roll = rollup(figures, dossiers, since=start, until=until, tz=zone)
    html, data = portals_render.write(roll, out_dir, until)
    return roll, html, data
