"""Stopping `dvcwatch load` stops the load: SIGTERM, Ctrl-C and SIGKILL to the command, and SIGKILL to
its Locust master, each leave no Locust process, no embedded sandbox and no request reaching the
target afterwards. Real processes, real signals, a real counting target on loopback."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from proctree import Proc, descendants, wait_gone

from dvcwatch.core.processes import free_port, pid_command

ROOT = Path(__file__).resolve().parents[2]
LONG = Path(__file__).with_name("data") / "long-steady.yaml"
# How long after a stop signal every process may still be there. The issue asks for 5 s, which a quiet
# machine meets with room to spare (the citizens stop within a fraction of a second; the master's
# report takes one or two more); beside other test runs on two cores it can take longer, so this
# bound is twice that, still well below what it catches: workers left waiting 15 s after their master
# died, or a master that writes its report only when a 15-minute profile ends.
STOP_SECONDS = 10.0
START_SECONDS = 90.0  # only bounds a broken run: Locust and its workers start slowly on a busy machine

pytestmark = pytest.mark.slow


def start_load(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """`dvcwatch load` in its own session, as a shell starts a job: a signal to its group is what a
    terminal's Ctrl-C sends, and reaches nothing it started (they have sessions of their own)."""
    return subprocess.Popen(
        [sys.executable, "-m", "dvcwatch", "load", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        start_new_session=True,
    )


def locust_procs(pid: int, expected: int) -> list[Proc]:
    procs = descendants(pid)
    assert sum("locust" in p.command for p in procs) == expected, procs
    return procs


def assert_no_more_load(counting_target: Any, procs: list[Proc]) -> None:
    assert wait_gone(procs, timeout=STOP_SECONDS) == []
    settled = counting_target.settled()
    time.sleep(2.0)  # a negative check: nothing may arrive in a further short window
    assert counting_target.count == settled


def read_report(out: Path) -> dict[str, object]:
    return json.loads((out / "report.json").read_text())


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_a_stop_signal_stops_master_and_workers_and_reports_partial(
    counting_target: Any, tmp_path: Path, sig: signal.Signals
) -> None:
    out = tmp_path / "out"
    proc = start_load(
        "--profile", str(LONG), "--host", counting_target.url, "--out", str(out), "--workers", "2"
    )
    try:
        counting_target.wait_for(20, proc)
        procs = locust_procs(proc.pid, 3)
        if sig == signal.SIGINT:
            os.killpg(proc.pid, sig)  # the terminal's Ctrl-C: the whole foreground group
        else:
            proc.send_signal(sig)
        assert_no_more_load(counting_target, procs)  # timed from the signal
        output, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 128 + sig, output
    report = read_report(out)
    assert report["partial"] is True
    assert report["stop_reason"] == f"interrupted by {sig.name}"
    assert f"PARTIAL run: interrupted by {sig.name}" in output
    # what ran of the profile is no verdict on it: the console says partial, as the HTML does
    assert "all gates held" not in output
    assert report["totals"]["requests"] > 0  # the figures of what ran are kept
    assert "Traceback" not in output and "never retrieved" not in output


def test_a_partial_run_on_a_healthy_portal_says_partial_not_all_gates_held(tmp_path: Path) -> None:
    """A healthy portal, stopped by SIGHUP once dossiers are filed: what ran held every gate, and the
    console still says that the run was partial, as report.html does (issue 31, items 5 and 15)."""
    out = tmp_path / "out"
    token = "interrupt-test-token"
    proc = start_load("--profile", str(LONG), "--out", str(out), env={"DVCWATCH_SANDBOX_TOKEN": token})
    try:
        url = sandbox_url(proc)
        deadline = time.monotonic() + START_SECONDS
        while dossiers(url, token) < 3:
            assert proc.poll() is None and time.monotonic() < deadline, "no dossier was ever submitted"
            time.sleep(0.2)
        proc.send_signal(signal.SIGHUP)
        output, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 129, output
    report = read_report(out)
    assert report["partial"] is True and report["stop_reason"] == "interrupted by SIGHUP"
    assert report["totals"]["requests"] > 0
    assert "before the load started" not in output
    assert "PARTIAL" in output and "all gates held" not in output, output


def test_sigkill_to_load_takes_every_locust_process_and_the_sandbox_with_it(tmp_path: Path) -> None:
    """No --host: the embedded sandbox too. Load is flowing once the sandbox holds a dossier."""
    out = tmp_path / "out"
    token = "interrupt-test-token"
    proc = start_load(
        "--profile", str(LONG), "--out", str(out), "--workers", "2", env={"DVCWATCH_SANDBOX_TOKEN": token}
    )
    try:
        url = sandbox_url(proc)
        deadline = time.monotonic() + START_SECONDS
        while dossiers(url, token) == 0:
            assert proc.poll() is None and time.monotonic() < deadline, "no dossier was ever submitted"
            time.sleep(0.2)
        procs = locust_procs(proc.pid, 3)
        assert any("sandbox_portal" in p.command for p in procs)
        proc.kill()
        assert wait_gone(procs, timeout=STOP_SECONDS) == []
        proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    # the master, told by its parent-death signal, still wrote its partial report
    report = read_report(out)
    assert report["partial"] is True
    assert report["stop_reason"] == "interrupted by SIGTERM"


def test_a_killed_master_leaves_no_worker_loading_the_portal(counting_target: Any, tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = start_load(
        "--profile", str(LONG), "--host", counting_target.url, "--out", str(out), "--workers", "2"
    )
    try:
        counting_target.wait_for(20, proc)
        procs = locust_procs(proc.pid, 3)
        master = next(p for p in procs if "--master" in pid_command(p.pid))
        os.kill(master.pid, signal.SIGKILL)
        assert_no_more_load(counting_target, procs)  # timed from the kill
        output, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 2, output
    assert "stopped without a report" in output


def sandbox_url(proc: subprocess.Popen[str]) -> str:
    """The embedded sandbox's URL, from the ready file it writes (named on its command line)."""
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        assert proc.poll() is None
        for p in descendants(proc.pid):
            words = pid_command(p.pid)
            if "sandbox_portal" in words and "--ready-file" in words:
                ready = Path(words[words.index("--ready-file") + 1])
                try:
                    return json.loads(ready.read_text())["url"].rstrip("/")
                except (OSError, ValueError, KeyError):
                    pass
        time.sleep(0.1)
    raise AssertionError("the embedded sandbox never became ready")


def dossiers(url: str, token: str) -> int:
    req = urllib.request.Request(url + "/_sandbox/stats", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req, timeout=5) as r:
        return int(json.loads(r.read())["dossiers"])


def test_workers_on_another_machine_quit_when_their_master_dies(counting_target: Any, tmp_path: Path) -> None:
    """A master killed outright tells its remote workers nothing; they must stop on their own once it
    has gone silent (10 s here, Locust's default is a minute), and `dvcwatch load` on their machine
    then ends."""
    port = str(free_port())
    master = start_load(
        "--profile", str(LONG), "--host", counting_target.url, "--out", str(tmp_path / "m"),
        "--remote-workers", "1", "--master-port", port,
    )  # fmt: skip
    worker = start_load(
        "--profile", str(LONG), "--master-host", "127.0.0.1", "--master-port", port, "--workers", "1",
        "--out", str(tmp_path / "w"),
    )  # fmt: skip
    try:
        counting_target.wait_for(20, master)
        workers = locust_procs(worker.pid, 1)
        locust_master = locust_procs(master.pid, 1)[0]
        os.kill(locust_master.pid, signal.SIGKILL)
        assert wait_gone(workers, timeout=30) == []  # timed from the kill
        master.communicate(timeout=60)
        output, _ = worker.communicate(timeout=30)
    finally:
        for proc in (master, worker):
            if proc.poll() is None:
                proc.kill()
    settled = counting_target.settled()
    time.sleep(2.0)
    assert counting_target.count == settled
    assert "Traceback" not in output
