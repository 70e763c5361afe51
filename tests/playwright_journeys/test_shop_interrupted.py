"""An interrupted sweep keeps what it finished and leaves nothing running: a real `dvcwatch shop`
process on its embedded sandbox is stopped once results.json names a finished journey, by SIGTERM,
by Ctrl-C (SIGINT to its whole process group, as a terminal sends it) and by SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from proctree import Proc, descendants, wait_gone

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SERVICES = [
    "xac-nhan-so-cmnd",
    "khai-bao-tam-vang",
    "thong-bao-luu-tru",
    "doi-chu-the-hop-dong-dien",
    "dang-ky-khai-sinh",
    "cap-ho-chieu",
    "dang-ky-thuong-tru",
    "cap-doi-gplx",
]


@dataclass
class Running:
    proc: subprocess.Popen[bytes]
    out: Path
    err: Path
    procs: list[Proc]  # everything it had started, recorded before the signal
    sandbox_dir: Path


def start_and_wait_for_a_finished_journey(tmp_path: Path, *extra: str) -> Running:
    out, err = tmp_path / "out", tmp_path / "stderr.txt"
    argv = [sys.executable, "-m", "dvcwatch", "shop", "--out", str(out), "--parallel", "2", *extra]
    for s in SERVICES:
        argv += ["--service", s]
    with err.open("wb") as f:
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=f, start_new_session=True)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"shop ended before the signal: {err.read_text()}")
        data = _results(out)
        if data and data["results"] and data["partial"]:  # this sweep's, not an earlier one's
            break
        time.sleep(0.1)
    else:
        proc.kill()
        pytest.fail("no journey finished in time")
    procs = descendants(proc.pid)
    sandbox = [p for p in procs if "sandbox_portal" in p.command]
    assert sandbox and any("chromium" in p.command for p in procs), procs
    ready = sandbox[0].command.split("--ready-file ")[1].split()[0]
    return Running(proc, out, err, procs, Path(ready).parent)


def _results(out: Path) -> dict[str, Any] | None:
    try:
        return json.loads((out / "results.json").read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def assert_nothing_left(run: Running) -> None:
    assert wait_gone(run.procs) == []
    deadline = time.monotonic() + 10
    while run.sandbox_dir.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    if run.sandbox_dir.exists():  # what was left, and when each was written, says who wrote it
        left = {f.name: time.ctime(f.stat().st_mtime) for f in run.sandbox_dir.iterdir()}
        pytest.fail(
            f"the embedded sandbox's temporary folder was left behind, holding {left} (now "
            f"{time.ctime()}); processes seen: {run.procs}\n{run.err.read_text()[-3000:]}"
        )


def assert_kept(data: dict[str, Any] | None) -> dict[str, Any]:
    assert data is not None, "results.json is gone or half-written"
    assert data["results"] and data["planned"] == len(SERVICES)
    assert data["summary"]["total"] == len(data["results"])
    assert all(r["service"] in SERVICES and r["verdict"] == "pass" for r in data["results"])
    return data


def test_sigterm_keeps_finished_journeys_marks_partial_and_stops_every_child(tmp_path: Path) -> None:
    run = start_and_wait_for_a_finished_journey(tmp_path)
    run.proc.send_signal(signal.SIGTERM)
    assert run.proc.wait(timeout=60) == 143, run.err.read_text()
    assert_nothing_left(run)
    data = assert_kept(_results(run.out))
    assert data["partial"] is True and "SIGTERM" in data["partial_reason"]
    assert len(data["results"]) < len(SERVICES)
    html = (run.out / "scorecard.html").read_text(encoding="utf-8")
    assert 'data-testid="partial"' in html


def test_ctrl_c_stops_quietly_and_keeps_finished_journeys(tmp_path: Path) -> None:
    run = start_and_wait_for_a_finished_journey(tmp_path)
    os.killpg(run.proc.pid, signal.SIGINT)  # the terminal signals the whole foreground group
    assert run.proc.wait(timeout=60) == 130, run.err.read_text()
    assert_nothing_left(run)
    err = run.err.read_text()
    assert "Future exception was never retrieved" not in err and "Traceback" not in err, err
    data = assert_kept(_results(run.out))
    assert data["partial"] is True and "Ctrl-C" in data["partial_reason"]


def test_sigkill_keeps_finished_journeys_and_no_child_outlives_it(tmp_path: Path) -> None:
    run = start_and_wait_for_a_finished_journey(tmp_path)
    run.proc.kill()
    run.proc.wait(timeout=30)
    assert_nothing_left(run)
    data = assert_kept(_results(run.out))
    assert data["partial"] is True and "in progress" in data["partial_reason"]


def test_sigterm_between_scheduled_sweeps_stops_the_loop_and_its_sandbox(tmp_path: Path) -> None:
    out, err = tmp_path / "mon", tmp_path / "stderr.txt"
    argv = [sys.executable, "-m", "dvcwatch", "shop", "--out", str(out), "--service", SERVICES[0]]
    argv += ["--every", "1h", "--max-runs", "2"]
    with err.open("wb") as f:
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=f, start_new_session=True)
    deadline = time.monotonic() + 240
    first: dict[str, Any] | None = None
    while first is None and time.monotonic() < deadline and proc.poll() is None:
        runs = sorted(out.glob("run-*")) if out.exists() else []
        data = _results(runs[0]) if runs else None
        if data and not data["partial"] and data["results"] and "scorecard:" in err.read_text():
            first = data
        time.sleep(0.1)
    assert first is not None, err.read_text()
    procs = descendants(proc.pid)
    assert any("sandbox_portal" in p.command for p in procs), procs
    proc.send_signal(signal.SIGTERM)  # the loop now waits an hour for its next sweep
    assert proc.wait(timeout=60) == 143, err.read_text()
    assert wait_gone(procs) == []
    assert "Traceback" not in err.read_text()
    assert len(list(out.glob("run-*"))) == 1


def earlier_sweep(out: Path) -> int:
    """A complete earlier sweep in `out`, as `--overwrite` finds it; returns its number of journeys."""
    from journey_samples import sample_run

    from playwright_journeys.results import write_results

    run = sample_run(out)
    write_results(run, out)
    return len(run.results)


def kept_earlier(out: Path) -> dict[str, Any]:
    (folder,) = out.glob("earlier-*")
    data = _results(folder)
    assert data is not None, sorted(p.name for p in folder.iterdir())
    return data


def test_sighup_keeps_finished_journeys_exits_129_and_overwrite_keeps_the_fuller_earlier_sweep(
    tmp_path: Path,
) -> None:
    """Issue 31.5 and 31.4: a closed terminal stops shop like SIGTERM (docs/sre.md's promise), and the
    one-journey sweep it leaves does not replace the complete sweep --overwrite found."""
    earlier = earlier_sweep(tmp_path / "out")
    run = start_and_wait_for_a_finished_journey(tmp_path, "--overwrite")
    run.proc.send_signal(signal.SIGHUP)
    assert run.proc.wait(timeout=60) == 129, run.err.read_text()
    assert_nothing_left(run)
    data = assert_kept(_results(run.out))
    assert data["partial"] is True and "SIGHUP" in data["partial_reason"]
    assert len(kept_earlier(run.out)["results"]) == earlier
    err = " ".join(run.err.read_text().split())
    assert f"are kept in {run.out}/earlier-" in err and "Traceback" not in err, err


def test_sigkill_under_overwrite_leaves_the_earlier_sweep_whole(tmp_path: Path) -> None:
    earlier = earlier_sweep(tmp_path / "out")
    run = start_and_wait_for_a_finished_journey(tmp_path, "--overwrite")
    run.proc.kill()
    run.proc.wait(timeout=30)
    assert_nothing_left(run)
    assert len(kept_earlier(run.out)["results"]) == earlier
    assert "earlier results moved to" in " ".join(run.err.read_text().split())
