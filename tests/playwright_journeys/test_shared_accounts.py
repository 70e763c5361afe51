"""One test account, many journeys: the sandbox's OTP endpoint shows an account's newest code, as an
SMS forwarder does, so journeys that log in with one account at once would take each other's codes.
Login+OTP is one at a time per account; a pool spreads journeys over accounts; production logs in once
per account per sweep."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from dvcwatch.commands.cli import main
from dvcwatch.core.identities import citizen
from dvcwatch.core.profile import SANDBOX_PROFILE
from playwright_journeys.runner import REUSED

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(1200)]

SERVICES = [
    "dang-ky-khai-sinh",
    "cap-ho-chieu",
    "khai-bao-tam-vang",
    "xac-nhan-so-cmnd",
    "thong-bao-luu-tru",
    "dang-ky-thuong-tru",
    "cap-doi-gplx",
    "doi-chu-the-hop-dong-dien",
]


def profile_with_accounts(
    path: Path, base_url: str, monkeypatch: pytest.MonkeyPatch, n: int, extra: str = ""
) -> Path:
    """The sandbox profile, logging in with n test accounts (the sandbox's first citizens)."""
    accounts = []
    for i in range(n):
        who = citizen(42, i)
        monkeypatch.setenv(f"DVC_TESTER{i}_PASSWORD", who.password)
        accounts.append(
            f"{{name: tester{i}, username: '{who.cccd}', password: {{env: DVC_TESTER{i}_PASSWORD}}}}"
        )
    text = SANDBOX_PROFILE.read_text(encoding="utf-8")
    text = text.replace("base_url: http://127.0.0.1:8480", f"base_url: {base_url}")
    text = text.replace("accounts: []", f"accounts: [{', '.join(accounts)}]")
    pool = "account: tester0" if n == 1 else f"account_pool: [{', '.join(f'tester{i}' for i in range(n))}]"
    text = text.replace("account: null", pool)
    path.write_text(text + extra, encoding="utf-8")
    return path


def shop(profile: Path, out: Path, *extra: str, services: list[str] = SERVICES) -> int:
    argv = ["shop", "--target", str(profile), "--out", str(out), "--parallel", "4", "--fail-on", "fail"]
    argv += extra
    for s in services:
        argv += ["--service", s]
    return main(argv)


def results(out: Path) -> list[dict[str, Any]]:
    return json.loads((out / "results.json").read_text(encoding="utf-8"))["results"]


def otp_alarms(rs: list[dict[str, Any]]) -> list[tuple[str, str | None, str]]:
    """Journeys that failed (a slow one on a busy machine is degraded, not an alarm about the OTP)."""
    return [
        (r["service"], r["failed_step"], (r["failure"] or {}).get("message", ""))
        for r in rs
        if r["verdict"] in ("fail", "error")
    ]


@pytest.mark.timeout(1800)  # three sweeps on a 2-core machine other tests share
def test_one_account_at_parallel_4_gives_no_otp_false_alarm_over_3_sweeps(
    sandbox_factory: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = sandbox_factory()
    profile = profile_with_accounts(tmp_path / "one.yaml", server.url, monkeypatch, 1)
    out = tmp_path / "mon"
    monkeypatch.setenv("DVCWATCH_SHOP_MIN_EVERY", "1s")  # the sweeps back to back, not a minute apart
    # four journeys at --parallel 4 all want the one account's OTP at once: the contention is the point
    code = shop(profile, out, "--every", "1s", "--max-runs", "3", services=SERVICES[:4])
    runs = sorted(out.iterdir())
    assert len(runs) == 3
    for run in runs:
        rs = results(run)
        assert len(rs) == 4
        assert otp_alarms(rs) == [], run.name
        logins = {next(s["detail"] for s in r["steps"] if s["name"] == "login") for r in rs}
        assert len(logins) == 1, "every journey logged in with the one account"
    assert code == 0


def test_a_pool_spreads_journeys_over_its_accounts(
    sandbox_factory: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = sandbox_factory()
    profile = profile_with_accounts(
        tmp_path / "pool.yaml", server.url, monkeypatch, 2, extra="sessions_per_account: 1\n"
    )
    code = shop(profile, tmp_path / "out", services=SERVICES[:4])
    rs = results(tmp_path / "out")
    assert otp_alarms(rs) == []
    used = Counter(next(s["detail"] for s in r["steps"] if s["name"] == "login") for r in rs)
    assert sorted(used.values()) == [2, 2], used
    assert code == 0


def test_production_logs_in_once_per_account_per_sweep(
    sandbox_factory: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = sandbox_factory()
    profile = profile_with_accounts(tmp_path / "prod.yaml", server.url, monkeypatch, 1)
    profile.write_text(
        profile.read_text(encoding="utf-8").replace("environment: sandbox", "environment: production"),
        encoding="utf-8",
    )
    code = shop(profile, tmp_path / "out")
    rs = results(tmp_path / "out")
    assert {r["verdict"] for r in rs} == {"not_filed"}, otp_alarms(rs)
    login = Counter(next(s["status"] for s in r["steps"] if s["name"] == "login") for r in rs)
    assert login == {"passed": 1, "skipped": len(SERVICES) - 1}
    reused = [s for r in rs for s in r["steps"] if s["name"] in ("login", "otp") and s["status"] == "skipped"]
    assert all(s["detail"] == REUSED for s in reused)
    assert code == 0


def test_one_session_per_account_means_its_journeys_never_overlap(
    sandbox_factory: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import itertools
    import time

    from dvcwatch.core.catalog import load_catalog
    from dvcwatch.core.profile import load_profile
    from playwright_journeys.personas import load_personas
    from playwright_journeys.runner import SweepConfig, run_sweep

    server = sandbox_factory()
    path = profile_with_accounts(
        tmp_path / "one.yaml", server.url, monkeypatch, 1, extra="sessions_per_account: 1\n"
    )
    catalog = load_catalog()
    spans: list[tuple[float, float]] = []

    def finished(r: Any) -> None:
        end = time.monotonic()
        spans.append((end - r.duration_seconds, end))

    cfg = SweepConfig(
        profile=load_profile(path),
        catalog=catalog,
        services=[catalog.service(s) for s in SERVICES[:4]],
        personas=[load_personas().get("desktop")],
        out_dir=tmp_path / "out",
        parallel=3,
        on_result=finished,
    )
    run = run_sweep(cfg)
    assert otp_alarms([r.model_dump() for r in run.results]) == []
    spans.sort()
    overlaps = [(a, b) for a, b in itertools.pairwise(spans) if b[0] < a[1] - 0.05]
    assert overlaps == [], "two journeys of the one account ran at once"
