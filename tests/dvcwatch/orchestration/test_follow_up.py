"""Issue 17: filed dossiers are followed to their result; one made late by a fault is reported late by
the right amount; no look goes faster than the profile's politeness (counted on the portal's side).

What is real and what is staged, honestly: the sweep is a real `dvcwatch shop` child process on the
sandbox, which files two dossiers and writes them into the history beside its results; the follow-up
is the real `FollowUp` in a real chromium, through a loopback proxy that stands for the portal and
counts the page requests it receives. The sandbox's back office answers one sandbox second after
reception, so the slow back office is staged with faults: service A's tracking page answers 503 (its
status cannot be seen), service B's result page answers 503 (done, but no result to collect), each for
a window on the sandbox clock that ends two seconds after the follow-up has met both faults. Due dates
(ngày hẹn trả) are days away, so the follow-up runs on a test calendar: it stands one hour before A's
due moment until the follow-up's first page reaches the portal, then advances half an hour per real
second. Without its fault A would be answered at that first look, on time; with it, A is answered a
pass after the fault ends, hours late on the calendar; B (due days later) is on time.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path

from aiohttp import ClientSession, web

from dvcwatch.core.history_store import HistoryStore, due_end, judge, parse_iso
from dvcwatch.core.politeness import PolitenessConfig
from dvcwatch.core.profile import load_profile
from dvcwatch.orchestration.follow_up import FollowUp

REPO = Path(__file__).resolve().parents[3]
A = "thong-bao-luu-tru"  # 12 hours: due today; made late by the fault
B = "dang-ky-ket-hon"  # 5 working days: on time
RATE = 0.5  # the profile's requests per second toward the portal: a page every 2 s
SPEEDUP = 1800.0  # calendar seconds per real second: half an hour
FAULT_TAIL_S = 2.0  # the faults end this long after the follow-up has met both
MAX_PASSES = 40


def counting_proxy(upstream: str, seen: list[tuple[float, str]]) -> web.Application:
    """Forwards every request to the sandbox and notes when each page (not a style or script) came."""
    session: dict[str, ClientSession] = {}

    async def forward(request: web.Request) -> web.Response:
        if request.path.startswith(("/tra-cuu", "/ho-so/")):
            seen.append((time.monotonic(), request.path_qs))
        if "s" not in session:
            session["s"] = ClientSession()
        async with session["s"].request(
            request.method, upstream + request.path_qs, data=await request.read(), allow_redirects=False
        ) as r:
            headers = {k: v for k, v in r.headers.items() if k.lower() in ("content-type", "location")}
            return web.Response(status=r.status, body=await r.read(), headers=headers)

    async def close(_app: web.Application) -> None:
        if "s" in session:
            await session["s"].close()

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", forward)
    app.on_cleanup.append(close)
    return app


def too_close(times: list[float], jitter: float = 0.2) -> list[tuple[int, int, float]]:
    """Pairs of pages closer than a token bucket (burst 1) allows: k pages after one need k / RATE
    seconds; `jitter` allows for a request reaching the portal a little later than it was sent."""
    return [
        (i, j, round(times[j] - times[i], 3))
        for i in range(len(times))
        for j in range(i + 1, len(times))
        if times[j] - times[i] < (j - i) / RATE - jitter
    ]


async def test_dossiers_followed_to_their_result_one_late_by_the_fault_politely(
    sandbox_factory: Callable[..., object],
    put_faults: Callable[[object, object], None],
    serve_app: Callable[[object], Awaitable[str]],
    tmp_path: Path,
) -> None:
    sandbox = sandbox_factory()
    faults = [
        {"kind": "error", "service": A, "step": "tracking", "status": 503},
        {"kind": "error", "service": B, "step": "result", "status": 503},
    ]
    put_faults(sandbox, faults)
    env = {k: v for k, v in os.environ.items() if k != "DVCWATCH_HISTORY"}
    argv = ["shop", "--target", sandbox.url, "--service", A, "--service", B, "--out", str(tmp_path / "s1")]  # type: ignore[attr-defined]
    proc = subprocess.run(
        [sys.executable, "-m", "dvcwatch", *argv],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert proc.returncode == 1, proc.stderr
    history = tmp_path / "history.sqlite3"
    with HistoryStore.open(history) as store:
        filed = {d.service: d for d in store.dossiers(open_only=True)}
    assert set(filed) == {A, B}, "both journeys filed, neither got its result"
    assert all(d.due_date for d in filed.values())

    # the faults end once the follow-up has met each of them; the calendar starts at its first page
    local = datetime.now().astimezone().tzinfo  # the sandbox dates dossiers in its own local time
    a_due = due_end(filed[A].due_date, local)  # type: ignore[arg-type]
    c0 = a_due - timedelta(hours=1)
    seen: list[tuple[float, str]] = []
    marks: dict[str, float] = {}

    def calendar() -> datetime:
        if not seen:
            return c0
        return c0 + timedelta(seconds=(time.monotonic() - seen[0][0]) * SPEEDUP)

    async def end_faults_once_met() -> None:
        wanted = (f"ma={filed[A].code}", f"/ho-so/{filed[B].code}/ket-qua")
        for _ in range(2400):  # 0.1 s apiece: a broken run ends within four minutes
            if all(any(w in q for _, q in seen) for w in wanted):
                now_s = sandbox.state.clock.now()  # type: ignore[attr-defined]
                window = {"end": now_s + FAULT_TAIL_S}
                put_faults(sandbox, [{**f, "window": window} for f in faults])
                marks["fault_end"] = time.monotonic() + FAULT_TAIL_S
                return
            await asyncio.sleep(0.1)

    proxy = await serve_app(counting_proxy(sandbox.url, seen))  # type: ignore[attr-defined]
    politeness = PolitenessConfig(requests_per_second=RATE, burst=1, limit_loopback=True)
    profile = load_profile(sandbox.url).model_copy(update={"base_url": proxy, "politeness": politeness})  # type: ignore[attr-defined]
    follow = FollowUp(history, profile, clock=calendar, timeout_s=10, tz=local)
    ender = asyncio.create_task(end_faults_once_met())
    passes = await follow.until_settled(interval_s=0.5, max_passes=MAX_PASSES)
    await ender

    assert passes[-1].still_open == 0, "followed until done"
    with HistoryStore.open(history) as store:
        done = {d.service: d for d in store.dossiers()}
    assert all(d.status == "done" and d.result_mode == "download" for d in done.values())
    assert done[A].checks >= 2 and done[A].last_problem is None

    # A: late, by exactly when its result came; that was the first pass to start after its fault ended
    a_at = parse_iso(done[A].result_at)  # type: ignore[arg-type]
    verdict = judge(done[A], calendar(), local)
    assert verdict.state == "late"
    assert verdict.by_seconds == (a_at - a_due).total_seconds()
    fault_end_on_calendar = c0 + timedelta(seconds=(marks["fault_end"] - seen[0][0]) * SPEEDUP)
    assert a_at >= fault_end_on_calendar - timedelta(seconds=SPEEDUP)  # not before its fault ended (±1 s)
    after = [p for p in passes if p.started >= fault_end_on_calendar]  # type: ignore[operator]
    assert a_at <= (after[0] if after else passes[-1]).ended  # type: ignore[operator]
    assert any(code == done[A].code for p in passes for code, _ in p.problems), "the fault was seen"
    assert judge(done[B], calendar(), local).state == "on_time"
    standing = follow.standing()
    assert (standing[A]["late"], standing[A]["late_by_max_s"]) == (1, round(verdict.by_seconds))
    assert standing[B]["on_time"] == 1

    # politeness, counted where the portal stands: no two pages closer than the profile's pace allows
    times = [t for t, _ in seen]
    assert len(times) >= 6
    assert too_close(times) == [], seen


def test_each_scheduled_sweep_records_its_journeys_and_follows_the_open_dossiers(
    sandbox_factory: Callable[..., object],
    put_faults: Callable[[object, object], None],
    tmp_path: Path,
) -> None:
    """`shop --every` on a profile: after each sweep its journeys go into the history beside OUT, and
    one follow-up pass looks at every dossier still open (here B's result page answers
    503 throughout, so each dossier stays open and each pass looks at all of them again)."""
    sandbox = sandbox_factory()
    put_faults(sandbox, [{"kind": "error", "service": B, "step": "result", "status": 503}])
    out = tmp_path / "every"
    argv = [
        "shop",
        "--target",
        sandbox.url,
        "--service",
        B,
        "--every",
        "1s",
        "--max-runs",
        "2",
        "--out",
        str(out),
    ]  # type: ignore[attr-defined]
    env = {k: v for k, v in os.environ.items() if k != "DVCWATCH_HISTORY"}
    proc = subprocess.run(
        [sys.executable, "-m", "dvcwatch", *argv],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 1, proc.stderr
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith("run-")) == []  # only sweeps in OUT
    with HistoryStore.open(tmp_path / "history.sqlite3") as store:  # beside OUT
        journeys = store.journeys()
        dossiers = sorted(store.dossiers(), key=lambda d: d.filed_at + d.code)
    assert [j.failed_step for j in journeys] == ["result", "result"]
    assert [d.checks for d in dossiers] == [2, 1], "the first sweep's dossier was looked at after both sweeps"
    assert all(d.status is None and "error page" in (d.last_problem or "") for d in dossiers)
    assert "follow-up: 2 dossier(s) looked up, 0 settled, 2 still open" in proc.stderr
