"""Follow filed dossiers to their result: `dvcwatch follow-up`, and a pass after each `shop --every` sweep.

A journey sees its dossier for seconds; a real portal answers in days. So every dossier a journey
filed is kept in the history (code, ngày hẹn trả) and looked up again later through the portal's
public tracking page (`playwright_journeys.lookup`), until it shows a final state. The first look that
finds the result sets when it came: the date the portal prints beside it ("Ngày trả kết quả", in
the portal's time zone) where it prints one, else the look's own time; the report judges that against
the due date. Looks go through
the profile's politeness (one browser context, counted requests rate-limited per host), and a pass
looks at each open dossier once: how often passes run is the caller's choice (`--every`).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from dvcwatch.core.history_store import (
    FILE_NAME,
    PORTAL_TZ,
    HistoryLocation,
    HistoryStore,
    judge,
    parse_location,
)

if TYPE_CHECKING:
    from dvcwatch.core.profile import Profile
    from dvcwatch.orchestration.shop_runs import SweepRecord

DEFAULT_HISTORY = Path("results") / FILE_NAME


def now_utc() -> datetime:
    return datetime.now(UTC)


def history_path_for(out: Path, named: str | None = None) -> HistoryLocation:
    """Where the sweeps written under `shop --out OUT` keep their history: `named` (`--history`), else
    $DVCWATCH_HISTORY (a path or a URL: `postgresql://…` for a history shared by several runners), else
    beside OUT, in the folder that collects sweeps (`results/shop-…` or `--every --out results/monitor`
    → `results/history.sqlite3`, where `report` and `follow-up` look by default)."""
    named = named or os.environ.get("DVCWATCH_HISTORY")
    return parse_location(named) if named else parse_location(out.resolve().parent / FILE_NAME)


@dataclass
class PassResult:
    started: datetime | None = None  # on the follow-up's clock
    ended: datetime | None = None
    looked: int = 0
    settled: list[str] = field(default_factory=list)  # codes that reached a final state in this pass
    problems: list[tuple[str, str]] = field(default_factory=list)  # (code, what went wrong)
    still_open: int = 0


@dataclass
class FollowUp:
    """Follow the open dossiers of one portal (the profile's name) in the history at `store_path` (a
    path or a URL)."""

    store_path: str | Path | HistoryLocation
    profile: Profile
    clock: Callable[[], datetime] = now_utc  # when a look happened; tests may run a faster calendar
    timeout_s: float = 20.0
    tz: object = field(default_factory=lambda: ZoneInfo(PORTAL_TZ))

    def __post_init__(self) -> None:
        from dvcwatch.core.politeness import Politeness

        # one Politeness for the follow-up's life: its per-host pace holds across passes, not per pass
        self._polite = Politeness(self.profile.politeness)
        self._polite.check_target(self.profile.base_url)

    def open_codes(self) -> list[str]:
        with HistoryStore.open(self.store_path) as store:
            return [d.code for d in store.dossiers(self.profile.name, open_only=True)]

    async def one_pass(self) -> PassResult:
        from playwright.async_api import async_playwright

        from playwright_journeys.browser import BrowserHost
        from playwright_journeys.lookup import look_up
        from playwright_journeys.personas import load_personas

        codes = self.open_codes()
        out = PassResult(started=self.clock())
        if not codes:
            out.ended = out.started
            return out
        polite = self._polite
        limits = polite.for_host(self.profile.base_url)
        async with async_playwright() as pw:
            host = BrowserHost(pw)
            try:
                async with limits.context():
                    context, page = await host.new_context(
                        load_personas().get("desktop"), user_agent=polite.user_agent
                    )
                    await polite.install_on_context(context)
                    with HistoryStore.open(self.store_path) as store:
                        for code in codes:
                            found = await look_up(page, self.profile, code, self.timeout_s)
                            came = found.result_at.replace(tzinfo=self.tz) if found.result_at else None  # type: ignore[arg-type]
                            store.record_check(
                                self.profile.name,
                                code,
                                self.clock(),
                                status=found.status,
                                result_mode=found.result_mode,
                                problem=found.problem,
                                result_at=came,
                            )
                            out.looked += 1
                            if found.problem:
                                out.problems.append((code, found.problem))
                            elif found.status == "done":
                                out.settled.append(code)
            finally:
                await host.close()
        out.still_open = len(self.open_codes())
        out.ended = self.clock()
        return out

    async def until_settled(self, interval_s: float, max_passes: int) -> list[PassResult]:
        """Passes `interval_s` apart (start to start) until nothing is open or `max_passes` ran; all in
        one event loop, so the politeness limits (asyncio locks and the host's pace) carry over."""
        passes: list[PassResult] = []
        for _ in range(max_passes):
            started = time.monotonic()
            passes.append(await self.one_pass())
            if passes[-1].still_open == 0:
                break
            await asyncio.sleep(max(0.0, interval_s - (time.monotonic() - started)))
        return passes

    def standing(self) -> dict[str, Counter[str]]:
        """Per service: how many dossiers are on_time, late, open_past_due, open, answered_no_due,
        at_office, as of now; plus `late_by_max_s` (seconds)."""
        now = self.clock()
        out: dict[str, Counter[str]] = {}
        with HistoryStore.open(self.store_path) as store:
            for d in store.dossiers(self.profile.name):
                j = judge(d, now, self.tz)
                c = out.setdefault(d.service, Counter())
                c[j.state] += 1
                c["at_office"] += j.at_office
                if j.state == "late":
                    c["late_by_max_s"] = max(c["late_by_max_s"], round(j.by_seconds))
        return out


def sweep_hooks(
    target: str | None, every: float | None, history: str | None = None
) -> list[Callable[[SweepRecord], None]]:
    """What `shop` does after each finished sweep: add its journeys to the history (`history`, a path or
    URL, else as `history_path_for` says); with `--every` on a profile, also one follow-up pass over that
    portal's open dossiers. Neither may cost the sweep its result: a history that cannot be written is
    said on stderr (its password masked) and the run goes on."""
    from rich.console import Console
    from rich.markup import escape

    from dvcwatch.core.errors import DvcwatchError
    from dvcwatch.core.history_db import database_errors
    from dvcwatch.core.terminal_text import safe_text
    from playwright_journeys.history import record_run

    console = Console(stderr=True, highlight=False)

    def where(rec: SweepRecord) -> HistoryLocation:  # --every: run-* in OUT
        return history_path_for(rec.out_dir if every is None else rec.out_dir.parent, history)

    def record(rec: SweepRecord) -> None:
        location = where(rec)
        try:
            record_run(location, rec.results, rec.out_dir)
        except (DvcwatchError, OSError, *database_errors()) as exc:
            said = location.scrub(safe_text(str(exc)))
            console.print(f"[yellow]history not written ({escape(location.shown)}):[/] {escape(said)}")

    hooks = [record]
    if every is not None and target:
        from dvcwatch.core.profile import load_profile

        profile = load_profile(target)

        def follow(rec: SweepRecord) -> None:
            try:
                done = asyncio.run(FollowUp(where(rec), profile).one_pass())
            except Exception as exc:  # a monitoring loop outlives one failed follow-up, as one bad sweep
                what = where(rec).scrub(safe_text(f"{type(exc).__name__}: {exc}"))  # it may quote the portal
                console.print(f"[yellow]follow-up failed:[/] {escape(what)}")
                return
            if done.looked:
                console.print(
                    f"follow-up: {done.looked} dossier(s) looked up, {len(done.settled)} settled, "
                    f"{done.still_open} still open"
                )

        hooks.append(follow)
    return hooks
