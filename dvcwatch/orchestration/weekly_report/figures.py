"""The weekly report's figures, computed from the history's rows only (so a test can recompute them).

A journey "worked" when the citizen got through (pass or degraded). Journeys the harness could not run
(error) and production journeys that stopped before filing (not_filed) say nothing about the portal,
so the share of journeys that worked is over pass + degraded + fail. The login→submit time is the
median `submit_seconds` of the journeys that worked, against the 5-minute aim. The trend compares this
period's share with the previous period of the same length: up or down when it moved by at least
`TREND_POINTS`, else flat; "new" when the previous period has no tried journey.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from dvcwatch.core.history_store import DossierRow, JourneyRow, judge, parse_iso

AIM_SECONDS = 300.0  # login → dossier code, Project 06's 5-minute aim for an online service
TREND_POINTS = 0.05
WORKED = ("pass", "degraded")
TRIED = ("pass", "degraded", "fail")


@dataclass
class Period:
    journeys: int = 0
    tried: int = 0
    worked: int = 0
    share: float | None = None
    median_submit_seconds: float | None = None
    over_aim: int = 0
    broke_most: str | None = None
    broke_most_count: int = 0


@dataclass
class Dossiers:
    filed: int = 0
    on_time: int = 0
    late: int = 0
    late_by_max_seconds: float = 0.0
    open: int = 0
    open_past_due: int = 0
    answered_no_due: int = 0
    at_office: int = 0


@dataclass
class ServiceLine:
    service: str
    name_vi: str
    name_en: str
    this: Period
    last: Period
    trend: str
    dossiers: Dossiers = field(default_factory=Dossiers)


@dataclass
class Fix:
    service: str
    name_vi: str
    name_en: str
    step: str
    count: int
    tried: int
    message: str | None
    scorecard: str | None
    screenshot: str | None
    vantages: list[str]


@dataclass
class Figures:
    since: str
    until: str
    previous_since: str
    portals: list[str]
    vantages: list[str]
    aim_seconds: float
    overall_this: Period
    overall_last: Period
    overall_trend: str
    services: list[ServiceLine]
    dossiers: Dossiers
    fixes: list[Fix]
    per_vantage: dict[str, list[ServiceLine]]


def period(rows: list[JourneyRow]) -> Period:
    tried = [r for r in rows if r.verdict in TRIED]
    worked = [r for r in tried if r.verdict in WORKED]
    times = [r.submit_seconds for r in worked if r.submit_seconds is not None]
    broke = Counter(r.failed_step for r in tried if r.verdict == "fail" and r.failed_step)
    top = sorted(broke.items(), key=lambda kv: (-kv[1], kv[0]))[:1]
    return Period(
        journeys=len(rows),
        tried=len(tried),
        worked=len(worked),
        share=round(len(worked) / len(tried), 4) if tried else None,
        median_submit_seconds=round(statistics.median(times), 2) if times else None,
        over_aim=sum(1 for t in times if t > AIM_SECONDS),
        broke_most=top[0][0] if top else None,
        broke_most_count=top[0][1] if top else 0,
    )


def trend(this: Period, last: Period) -> str:
    return direction(this.share, last.share)


def direction(this: float | None, last: float | None) -> str:
    """A share this period against the last: up, down or flat by `TREND_POINTS`; new, or none."""
    if this is None:
        return "none"
    if last is None:
        return "new"
    moved = this - last
    if moved >= TREND_POINTS:
        return "up"
    if moved <= -TREND_POINTS:
        return "down"
    return "flat"


def dossier_figures(dossiers: list[DossierRow], now: datetime, tz: object) -> Dossiers:
    out = Dossiers(filed=len(dossiers))
    for d in dossiers:
        j = judge(d, now, tz)
        setattr(out, j.state, getattr(out, j.state) + 1)
        if j.state == "late":
            out.late_by_max_seconds = max(out.late_by_max_seconds, round(j.by_seconds))
        out.at_office += j.at_office
    return out


def service_lines(
    this_rows: list[JourneyRow],
    last_rows: list[JourneyRow],
    dossiers: list[DossierRow],
    now: datetime,
    tz: object,
) -> list[ServiceLine]:
    names = {r.service: (r.name_vi, r.name_en) for r in last_rows + this_rows}
    lines = []
    for sid in sorted(names):
        this = period([r for r in this_rows if r.service == sid])
        last = period([r for r in last_rows if r.service == sid])
        lines.append(
            ServiceLine(
                service=sid,
                name_vi=names[sid][0],
                name_en=names[sid][1],
                this=this,
                last=last,
                trend=trend(this, last),
                dossiers=dossier_figures([d for d in dossiers if d.service == sid], now, tz),
            )
        )
    # the leader reads from the top: worst share first, a service that got worse before one that did not
    lines.sort(key=lambda ln: (ln.this.share is None, ln.this.share or 0.0, ln.trend != "down", ln.name_vi))
    return lines


def worst_fixes(rows: list[JourneyRow], n: int = 3) -> list[Fix]:
    """The (service, step) pairs that broke most often this period, each with its latest evidence."""
    broke = [r for r in rows if r.verdict == "fail"]
    groups: dict[tuple[str, str], list[JourneyRow]] = {}
    for r in broke:
        groups.setdefault((r.service, r.failed_step or "?"), []).append(r)
    ranked = sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))[:n]
    fixes = []
    for (sid, step), group in ranked:
        latest = max(group, key=lambda r: r.at)
        with_shot = [r for r in group if r.screenshot]
        fixes.append(
            Fix(
                service=sid,
                name_vi=latest.name_vi,
                name_en=latest.name_en,
                step=step,
                count=len(group),
                tried=sum(1 for r in rows if r.service == sid and r.verdict in TRIED),
                message=latest.failure,
                scorecard=latest.scorecard,
                screenshot=max(with_shot, key=lambda r: r.at).screenshot if with_shot else None,
                vantages=sorted({r.vantage for r in group}),
            )
        )
    return fixes


def compute(
    rows: list[JourneyRow],
    dossiers: list[DossierRow],
    *,
    since: datetime,
    until: datetime,
    tz: object,
) -> Figures:
    """`rows` may span more than both periods; only [since - length, until) is used."""
    length = until - since
    prev = since - length
    this_rows = [r for r in rows if since <= parse_iso(r.at) < until]
    last_rows = [r for r in rows if prev <= parse_iso(r.at) < since]
    filed = [d for d in dossiers if since <= parse_iso(d.filed_at) < until]
    vantages = sorted({r.vantage for r in this_rows + last_rows})
    per_vantage = {}
    if len(vantages) > 1:
        for v in vantages:
            per_vantage[v] = service_lines(
                [r for r in this_rows if r.vantage == v],
                [r for r in last_rows if r.vantage == v],
                [d for d in filed if d.vantage == v],
                until,
                tz,
            )
    overall_this, overall_last = period(this_rows), period(last_rows)
    return Figures(
        since=since.isoformat(timespec="seconds"),
        until=until.isoformat(timespec="seconds"),
        previous_since=prev.isoformat(timespec="seconds"),
        portals=sorted({r.portal for r in this_rows + last_rows}),
        vantages=vantages,
        aim_seconds=AIM_SECONDS,
        overall_this=overall_this,
        overall_last=overall_last,
        overall_trend=trend(overall_this, overall_last),
        services=service_lines(this_rows, last_rows, filed, until, tz),
        dossiers=dossier_figures(filed, until, tz),
        fixes=worst_fixes(this_rows),
        per_vantage=per_vantage,
    )


def window(since: timedelta, now: datetime) -> tuple[datetime, datetime]:
    return now - since, now
