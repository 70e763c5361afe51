"""Issue 30.2, done when: several `shop --every` runners write one history at once and nothing is lost.

Four runner processes, from two vantage points, sweep two portals (the one sandbox, under two profile
names) into a real PostgreSQL at the same time. Every journey each runner wrote in its results.json is
then in the history, under its portal and vantage, and `report --by portal` counts every one of them.
The same test passes on SQLite with one runner. Along the way: `report import` of a sweep already
recorded adds nothing, `follow-up` works on the shared history, and a password given in the URL reaches
no output and no file.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from postgres_server import PASSWORD, Postgres, postgres  # noqa: F401  (the session's server)

from dvcwatch.core.history_store import HistoryStore
from dvcwatch.core.profile import SANDBOX_PROFILE
from playwright_journeys.results import read_results

SERVICES = ["dang-ky-ket-hon", "khai-bao-tam-vang"]
RUNS = 2
DEADLINE = 900  # four runners' chromium on a two-core machine, two sweeps each


def profile(tmp: Path, url: str, name: str) -> Path:
    """The sandbox under another portal name (a province's profile, as the office would hold it)."""
    text = SANDBOX_PROFILE.read_text(encoding="utf-8").replace("http://127.0.0.1:8480", url)
    assert "\nname: sandbox\n" in text
    path = tmp / f"{name}.yaml"
    path.write_text(text.replace("\nname: sandbox\n", f"\nname: {name}\n"), encoding="utf-8")
    return path


def runner_argv(target: Path, vantage: str, out: Path, history: str | None) -> list[str]:
    argv = [sys.executable, "-m", "dvcwatch", "shop", "--target", str(target), "--vantage", vantage]
    for s in SERVICES:
        argv += ["--service", s]
    argv += ["--parallel", "1", "--every", "1s", "--max-runs", str(RUNS), "--out", str(out)]
    return argv + (["--history", history] if history else [])


def start_runners(runners: list[tuple[list[str], dict[str, str]]], cwd: Path) -> list[tuple[int, str, str]]:
    """All at once; (exit code, stdout, stderr) of each."""
    procs = [
        subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for argv, env in runners
    ]
    done = []
    try:
        for p in procs:
            out, err = p.communicate(timeout=DEADLINE)
            done.append((p.returncode, out, err))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait(timeout=30)
    return done


def written(out: Path) -> dict[str, tuple[str, str]]:
    """journey id → (portal, vantage), from every results.json the runner wrote under OUT."""
    ids: dict[str, tuple[str, str]] = {}
    sweeps = sorted(out.glob("run-*/results.json"))
    assert len(sweeps) == RUNS, sweeps
    for path in sweeps:
        run = read_results(path)
        for r in run.results:
            assert r.journey_id
            ids[r.journey_id] = (run.target.name, run.vantage)
    return ids


def dvcwatch(argv: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dvcwatch", *argv],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def check_history_and_report(
    history: str,
    expected: dict[str, tuple[str, str]],
    tmp: Path,
    env: dict[str, str],
    direct: str | None = None,
) -> list[str]:
    """The history holds exactly the journeys the runners wrote (read here through `direct`: this
    process has no PGPASSFILE); `report --by portal` counts them all. Returns what the commands printed."""
    with HistoryStore.open(direct or history, readonly=True) as store:
        rows = store.journeys()
        assert {r.journey_id: (r.portal, r.vantage) for r in rows} == expected
        assert len(rows) == len(expected)  # no journey twice
        assert store.portals() == sorted({p for p, _ in expected.values()})
    per_portal = Counter(p for p, _ in expected.values())
    report = dvcwatch(["report", "--by", "portal", "--since", "1d", "--out", str(tmp / "report"), "--history", history], tmp, env)  # fmt: skip
    assert report.returncode == 0, report.stderr
    doc = json.loads((tmp / "report" / "portals.json").read_text(encoding="utf-8"))
    assert {line["portal"]: line["this"]["journeys"] for line in doc["portals"]} == dict(per_portal)
    for line in doc["portals"]:
        assert sorted(line["vantages"]) == sorted({v for p, v in expected.values() if p == line["portal"]})
    return [report.stdout, report.stderr]


@pytest.mark.browser
@pytest.mark.timeout(DEADLINE + 300)
def test_four_runners_write_one_postgresql_history_at_once_and_lose_nothing(
    sandbox_factory: Callable[..., object],
    postgres: Postgres,  # noqa: F811
    tmp_path: Path,
) -> None:
    sandbox = sandbox_factory()
    url_with_password = postgres.fresh_database("shared_history")
    url = url_with_password.replace(f":{PASSWORD}@", "@")  # the password comes from PGPASSFILE
    env = {k: v for k, v in postgres.env().items() if k != "DVCWATCH_HISTORY"}
    env["DVCWATCH_SHOP_MIN_EVERY"] = "1s"
    portals = [profile(tmp_path, sandbox.url, name) for name in ("tinh-a", "tinh-b")]  # type: ignore[attr-defined]
    plan = [(portals[0], "ward-1"), (portals[1], "ward-1"), (portals[0], "ward-2"), (portals[1], "ward-2")]
    runners = []
    for n, (target, vantage) in enumerate(plan):
        out = tmp_path / f"runner-{n}"
        if n == 3:  # the URL with its password, through the environment: it must show nowhere
            runners.append(
                (runner_argv(target, vantage, out, None), {**env, "DVCWATCH_HISTORY": url_with_password})
            )
        else:
            runners.append((runner_argv(target, vantage, out, url), env))
    said: list[str] = []
    for code, out_text, err_text in start_runners(runners, tmp_path):
        assert code in (0, 1), err_text  # 1: a journey degraded on a busy machine; the history is what counts
        assert "history not written" not in err_text and "Traceback" not in err_text, err_text
        said += [out_text, err_text]

    expected: dict[str, tuple[str, str]] = {}
    for n in range(len(plan)):
        expected.update(written(tmp_path / f"runner-{n}"))
    assert len(expected) == len(plan) * RUNS * len(SERVICES)
    assert set(expected.values()) == {("tinh-a", "ward-1"), ("tinh-b", "ward-1"), ("tinh-a", "ward-2"), ("tinh-b", "ward-2")}  # fmt: skip
    said += check_history_and_report(url, expected, tmp_path, env, url_with_password)

    # a sweep already recorded, imported again, adds nothing; follow-up reads and writes the same history
    again = dvcwatch(
        [
            "report",
            "import",
            str(next((tmp_path / "runner-0").glob("run-*"))),
            "--history",
            url_with_password,
        ],
        tmp_path,
        env,
    )
    assert again.returncode == 0, again.stderr
    assert "0 new" in again.stderr and "dvcwatch:***@" in again.stderr
    follow = dvcwatch(
        ["follow-up", "--target", str(portals[0]), "--history", url_with_password], tmp_path, env
    )
    assert follow.returncode == 0, follow.stderr
    said += [again.stdout, again.stderr, follow.stdout, follow.stderr]
    with HistoryStore.open(url_with_password, readonly=True) as store:
        assert len(store.journeys()) == len(expected)

    assert not [s for s in said if PASSWORD in s], "the password was printed"
    leaked = [p for p in tmp_path.rglob("*") if p.is_file() and PASSWORD.encode() in p.read_bytes()]
    assert leaked == [], leaked


@pytest.mark.browser
@pytest.mark.timeout(DEADLINE + 300)
def test_one_runner_on_sqlite_passes_the_same_checks(
    sandbox_factory: Callable[..., object], tmp_path: Path
) -> None:
    sandbox = sandbox_factory()
    history = f"sqlite://{tmp_path / 'shared' / 'history.sqlite3'}"
    env = {k: v for k, v in os.environ.items() if k != "DVCWATCH_HISTORY"}
    env["DVCWATCH_SHOP_MIN_EVERY"] = "1s"
    target = profile(tmp_path, sandbox.url, "tinh-a")  # type: ignore[attr-defined]
    ((code, _, err),) = start_runners(
        [(runner_argv(target, "ward-1", tmp_path / "runner", history), env)], tmp_path
    )
    assert code in (0, 1), err
    assert "history not written" not in err and "Traceback" not in err, err
    assert (tmp_path / "shared" / "history.sqlite3").is_file()
    assert not (tmp_path / "history.sqlite3").exists()  # --history, not beside OUT
    check_history_and_report(history, written(tmp_path / "runner"), tmp_path, env)


@pytest.mark.parametrize("command", [["report"], ["report", "import", "nothing.json"], ["shop"]])
def test_a_history_url_of_another_kind_is_one_line_and_exit_2_without_its_password(
    command: list[str], tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DVCWATCH_HISTORY"}
    proc = dvcwatch([*command, "--history", "mysql://ward:Hidden-pw1@db.invalid/dvc"], tmp_path, env)
    assert proc.returncode == 2, proc.stderr
    assert "mysql:// history is not supported" in proc.stderr and "Traceback" not in proc.stderr
    assert "Hidden-pw1" not in proc.stdout + proc.stderr and "ward:***@db.invalid" in proc.stderr
