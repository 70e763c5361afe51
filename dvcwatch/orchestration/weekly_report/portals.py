"""The roll-up's figures: one line per portal, made from that portal's own weekly figures.

For the Project 06 office, which watches every provincial portal: per portal the share of journeys that
worked (as the weekly report counts it), dossiers answered on time, the worst service, and each against
the previous period of the same length. Dossiers on time are counted over the dossiers whose outcome
against the due date is known (answered on time, answered late, or still open past due); a dossier
still within its due date, or answered with no date promised, says nothing yet. The worst service is
the one with the lowest share that worked this period, below 100 %; on a tie, the one that failed more
journeys. A portal's name is the target profile's name, as the sweeps recorded it: it may be anything,
so its folder is made from it (`portal_dir`) and every page escapes it.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from dvcwatch.core.history_store import DossierRow, parse_iso
from dvcwatch.orchestration.weekly_report.figures import (
    Dossiers,
    Figures,
    Period,
    ServiceLine,
    direction,
    dossier_figures,
    period,
)

PORTALS_DIR = "portals"


@dataclass
class WorstService:
    service: str
    name_vi: str
    name_en: str
    share: float
    worked: int
    tried: int
    broke_most: str | None


@dataclass
class PortalLine:
    portal: str
    report: str  # the portal's weekly report, relative to the roll-up page
    vantages: list[str]
    this: Period
    last: Period
    trend: str
    share_change_points: float | None  # this period's share minus the last's, in percentage points
    dossiers: Dossiers
    dossiers_last: Dossiers
    on_time_share: float | None
    on_time_share_last: float | None
    on_time_trend: str
    worst: WorstService | None


@dataclass
class Rollup:
    since: str
    until: str
    previous_since: str
    vantages: list[str]
    overall_this: Period
    overall_last: Period
    overall_trend: str
    portals: list[PortalLine]


def portal_dir(portal: str) -> str:
    """A folder name for the portal's report: readable, only [a-z0-9-], and told apart by a hash so
    that two names that read alike (Cổng A, cong-a) never share a folder."""
    plain = unicodedata.normalize("NFKD", portal.replace("đ", "d").replace("Đ", "D"))
    base = re.sub(r"[^a-z0-9]+", "-", plain.encode("ascii", "ignore").decode().lower()).strip("-")[:40]
    digest = hashlib.sha256(portal.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"{PORTALS_DIR}/{base.strip('-') or 'portal'}-{digest}"


def on_time_share(d: Dossiers) -> float | None:
    known = d.on_time + d.late + d.open_past_due
    return round(d.on_time / known, 4) if known else None


def worst_service(lines: list[ServiceLine]) -> WorstService | None:
    below = [s for s in lines if s.this.share is not None and s.this.share < 1]
    if not below:
        return None
    s = min(below, key=lambda s: (s.this.share, -(s.this.tried - s.this.worked), s.name_vi, s.service))
    return WorstService(
        service=s.service,
        name_vi=s.name_vi,
        name_en=s.name_en,
        share=s.this.share or 0.0,
        worked=s.this.worked,
        tried=s.this.tried,
        broke_most=s.this.broke_most,
    )


def _points(this: float | None, last: float | None) -> float | None:
    return None if this is None or last is None else round(100 * (this - last), 1)


def portal_line(portal: str, fig: Figures, dossiers_last: Dossiers) -> PortalLine:
    now_share, last_share = on_time_share(fig.dossiers), on_time_share(dossiers_last)
    return PortalLine(
        portal=portal,
        report=f"{portal_dir(portal)}/report.html",
        vantages=fig.vantages,
        this=fig.overall_this,
        last=fig.overall_last,
        trend=fig.overall_trend,
        share_change_points=_points(fig.overall_this.share, fig.overall_last.share),
        dossiers=fig.dossiers,
        dossiers_last=dossiers_last,
        on_time_share=now_share,
        on_time_share_last=last_share,
        on_time_trend=direction(now_share, last_share),
        worst=worst_service(fig.services),
    )


def rollup(
    figures: dict[str, Figures],
    dossiers: list[DossierRow],
    *,
    since: datetime,
    until: datetime,
    tz: object,
) -> Rollup:
    """`figures`: each portal's weekly figures for [since, until); `dossiers` every dossier, of which
    the previous period's are judged here (at `until`, as this period's are)."""
    prev = since - (until - since)
    lines = []
    for portal, fig in figures.items():
        filed_last = [d for d in dossiers if d.portal == portal and prev <= parse_iso(d.filed_at) < since]
        lines.append(portal_line(portal, fig, dossier_figures(filed_last, until, tz)))
    # the office reads from the top: the portal where the fewest journeys worked first
    lines.sort(key=lambda ln: (ln.this.share is None, ln.this.share or 0.0, ln.trend != "down", ln.portal))
    this = _sum([ln.this for ln in lines])
    last = _sum([ln.last for ln in lines])
    return Rollup(
        since=since.isoformat(timespec="seconds"),
        until=until.isoformat(timespec="seconds"),
        previous_since=prev.isoformat(timespec="seconds"),
        vantages=sorted({v for f in figures.values() for v in f.vantages}),
        overall_this=this,
        overall_last=last,
        overall_trend=direction(this.share, last.share),
        portals=lines,
    )


def _sum(periods: list[Period]) -> Period:
    """Every portal's journeys together (counts only: a median of medians would mean nothing)."""
    out = period([])
    out.journeys = sum(p.journeys for p in periods)
    out.tried = sum(p.tried for p in periods)
    out.worked = sum(p.worked for p in periods)
    out.share = round(out.worked / out.tried, 4) if out.tried else None
    return out
