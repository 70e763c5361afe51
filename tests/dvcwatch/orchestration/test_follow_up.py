"""Issue 17: on the sandbox with a slow back office, filed dossiers are followed until done; one made
late by a fault is reported late by the right amount; no look goes faster than the profile's politeness
(counted on the portal's side).

What is real: the sandbox's back office answers each dossier in its service's own processing time
(`backoffice: real`) on the sandbox clock, run at an hour per real second; its due dates (ngày hẹn trả)
are on that same clock. A `backoffice_delay` fault makes service A's agency answer 60 sandbox hours
after the moment it promised, so A's result comes at least a day and a half after its due day ended.
The sweep is a real `dvcwatch shop` child process filing both dossiers (their results still pending
when it ends) into the history beside its results; the follow-up is the real `FollowUp` in a real
chromium, reading only the portal's pages, through a loopback proxy that stands for the portal and
counts the page requests it receives. It dates each result by the portal's own "Ngày trả kết quả", so
A's lateness is the sandbox's (the follow-up's wall clock is days behind the sandbox calendar: dated by
it, A would look early). The right amount is computed from the sandbox's own record of when A was
received, on its calendar: + 12 h promised, + 60 h late, against the end of its due day.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

import pytest
from aiohttp import ClientSession, web
from dvcwatch_process import run_dvcwatch

from dvcwatch.core.history_store import PORTAL_TZ, HistoryStore, due_end, judge, parse_iso
from dvcwatch.core.politeness import PolitenessConfig
from dvcwatch.core.profile import load_profile
from dvcwatch.orchestration.follow_up import FollowUp

REPO = Path(__file__).resolve().parents[3]
A = "thong-bao-luu-tru"  # promised in 12 hours; answered 36 hours after that by the fault
B = "khai-bao-tam-vang"  # promised in 1 working day; answered then, on time
SPEED = 3600.0  # sandbox seconds per real second: a day in 24 s
A_LATE_S = 60 * 3600  # the fault: sandbox seconds past the promised moment (72 real s after filing)
RATE = 1.0  # the profile's requests per second toward the portal
MAX_PASSES = 80
B_EVERY = "dang-ky-ket-hon"


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


def too_close(times: list[float], jitter: float = 1.0 / RATE) -> list[tuple[int, int, float]]:
    """Pairs of pages closer than a token bucket (burst 1) allows: k pages after one need k / RATE
    seconds; `jitter` allows for one request reaching the portal late (a whole interval: on a busy
    machine a page let go on time can arrive that late, and the next then follows it closely). Pages
    sent without pacing still fail it: any three within one interval."""
    return [
        (i, j, round(times[j] - times[i], 3))
        for i in range(len(times))
        for j in range(i + 1, len(times))
        if times[j] - times[i] < (j - i) / RATE - jitter
    ]


@pytest.mark.slow
async def test_dossiers_followed_on_a_slow_back_office_one_late_by_the_fault_politely(
    sandbox_factory: Callable[..., object],
    put_faults: Callable[[object, object], None],
    serve_app: Callable[[object], Awaitable[str]],
    tmp_path: Path,
) -> None:
    from zoneinfo import ZoneInfo

    sandbox = sandbox_factory(clock_speed=SPEED, backoffice="real")
    put_faults(sandbox, [{"kind": "backoffice_delay", "service": A, "seconds": A_LATE_S}])
    argv = ["shop", "--target", sandbox.url, "--service", A, "--service", B, "--out", str(tmp_path / "s1")]  # type: ignore[attr-defined]
    proc = run_dvcwatch(argv, tmp_path, timeout=240)
    assert proc.returncode == 0, proc.stderr
    history = tmp_path / "history.sqlite3"
    with HistoryStore.open(history) as store:
        filed = {d.service: d for d in store.dossiers(open_only=True)}
    assert set(filed) == {A, B}, "both journeys filed, neither saw its result"
    assert all(d.due_date for d in filed.values())

    seen: list[tuple[float, str]] = []
    proxy = await serve_app(counting_proxy(sandbox.url, seen))  # type: ignore[attr-defined]
    politeness = PolitenessConfig(requests_per_second=RATE, burst=1, limit_loopback=True)
    profile = load_profile(sandbox.url).model_copy(update={"base_url": proxy, "politeness": politeness})  # type: ignore[attr-defined]
    follow = FollowUp(history, profile, timeout_s=10)  # its own clock: the wall clock
    passes = await follow.until_settled(interval_s=1.0, max_passes=MAX_PASSES)

    assert passes[-1].still_open == 0, "followed until done"
    with HistoryStore.open(history) as store:
        done = {d.service: d for d in store.dossiers()}
    assert all(d.status == "done" and d.result_mode == "download" for d in done.values())
    assert done[A].checks >= 2, "A was seen still open before its result came"

    # the right amount, from the sandbox's own record: received, + 12 h promised, + 60 h late
    vn = ZoneInfo(PORTAL_TZ)
    st = sandbox.state  # type: ignore[attr-defined]
    received = {s: st.clock.calendar(st.storage.dossiers[d.code].received_at) for s, d in filed.items()}
    a_came = (received[A] + timedelta(hours=12) + timedelta(seconds=A_LATE_S)).replace(microsecond=0)
    assert parse_iso(done[A].result_at) == a_came  # type: ignore[arg-type]
    verdict = judge(done[A], a_came, vn)
    assert verdict.state == "late"
    a_due_end = due_end(filed[A].due_date, vn)  # type: ignore[arg-type]
    assert verdict.by_seconds == (a_came - a_due_end).total_seconds()
    assert verdict.by_seconds >= 36 * 3600, "72 h after reception, less what was left of its due day"
    assert judge(done[B], a_came, vn).state == "on_time"
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
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`shop --every` on a profile: after each sweep its journeys go into the history beside OUT, and
    one follow-up pass looks at every dossier still open (here its result page answers
    503 throughout, so each dossier stays open and each pass looks at all of them again)."""
    monkeypatch.setenv("DVCWATCH_SHOP_MIN_EVERY", "1s")  # the sweeps back to back, not a minute apart
    sandbox = sandbox_factory()
    put_faults(sandbox, [{"kind": "error", "service": B_EVERY, "step": "result", "status": 503}])
    out = tmp_path / "every"
    argv = [
        "shop",
        "--target",
        sandbox.url,
        "--service",
        B_EVERY,
        "--every",
        "1s",
        "--max-runs",
        "2",
        "--out",
        str(out),
    ]  # type: ignore[attr-defined]
    proc = run_dvcwatch(argv, tmp_path, timeout=300)
    assert proc.returncode == 1, proc.stderr
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith("run-")) == []  # only sweeps in OUT
    with HistoryStore.open(tmp_path / "history.sqlite3") as store:  # beside OUT
        journeys = store.journeys()
        dossiers = sorted(store.dossiers(), key=lambda d: d.filed_at + d.code)
    assert [j.failed_step for j in journeys] == ["result", "result"]
    assert [d.checks for d in dossiers] == [2, 1], "the first sweep's dossier was looked at after both sweeps"
    assert all(d.status is None and "error page" in (d.last_problem or "") for d in dossiers)
    assert "follow-up: 2 dossier(s) looked up, 0 settled, 2 still open" in proc.stderr
