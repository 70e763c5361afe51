"""`dvcwatch demo` and its processes, with real signals: a SIGKILL to the demo mid-sweep leaves
nothing (the stack and the `dvcwatch shop` child die with it), a SIGTERM or SIGHUP stops them all and
exits 143 or 129, and `--keep-running` really keeps the stack up, in the foreground, until Ctrl-C (or a
SIGHUP, exit 129).

Children die with the thread that started them (PR_SET_PDEATHSIG), so "keep running" can only mean
the demo stays and supervises; before that, it printed "still running" and exited, taking them along.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path

import pytest
from proctree import Proc, descendants, wait_gone

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[3]
DEADLINE = 240.0  # bounds a broken run only: the stack comes up, then the first sweep starts


def start_demo(
    tmp_path: Path, *argv: str, sigint_ignored: bool = False
) -> tuple[subprocess.Popen[bytes], Path]:
    """`sigint_ignored`: started as a script's background job is (or a test runner's worker may be):
    with SIGINT ignored, which Python keeps, so only a handler of the demo's own hears Ctrl-C."""
    log = tmp_path / "demo.log"
    with log.open("wb") as f:
        proc = subprocess.Popen(
            argv or [sys.executable, "-m", "dvcwatch", "demo", "--healthy", "--out", str(tmp_path / "demo")],
            cwd=REPO,
            stdout=f,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # our signals go to the demo alone, never to this test's group
            preexec_fn=(lambda: signal.signal(signal.SIGINT, signal.SIG_IGN)) if sigint_ignored else None,
        )
    return proc, log


def wait_for(what: str, check, proc: subprocess.Popen[bytes], log: Path):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        if proc.poll() is not None:
            pytest.fail(f"the demo ended (exit {proc.returncode}) before {what}:\n{log.read_text()[-2000:]}")
        time.sleep(0.3)
    proc.kill()
    pytest.fail(f"no {what} within {DEADLINE:.0f} s:\n{log.read_text()[-2000:]}")


def sweeping(proc: subprocess.Popen[bytes]) -> list[Proc] | None:
    """Every process under the demo once its `dvcwatch shop` child has a browser running."""
    procs = descendants(proc.pid)
    shop = any("dvcwatch shop" in p.command for p in procs)
    browser = any("chrom" in p.command for p in procs)
    return procs if shop and browser else None


def test_sigkill_to_the_demo_mid_sweep_leaves_no_process(tmp_path: Path) -> None:
    proc, log = start_demo(tmp_path)
    procs = wait_for("a sweep with its browser", lambda: sweeping(proc), proc, log)
    assert any("prometheus" in p.command for p in procs)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert wait_gone(procs, timeout=60) == []


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_a_stop_signal_to_the_demo_mid_sweep_stops_its_children_and_exits_128_plus_it(
    tmp_path: Path, sig: signal.Signals
) -> None:
    """SIGHUP is a closed terminal or SSH session: without a handler the demo would die at once."""
    proc, log = start_demo(tmp_path)
    procs = wait_for("a sweep with its browser", lambda: sweeping(proc), proc, log)
    os.kill(proc.pid, sig)
    assert proc.wait(timeout=300) == 128 + sig, log.read_text()[-2000:]
    assert wait_gone(procs, timeout=60) == []


# The whole demo takes minutes (two sweeps, a freeze, a capacity ramp); what --keep-running changes is
# only what happens after them, so here the phases are cut short and the rest is the real command.
SHORT_DEMO = textwrap.dedent(
    """
    import faulthandler
    import signal
    import sys
    from dvcwatch.orchestration import demo

    faulthandler.register(signal.SIGUSR2, all_threads=True)  # where it is stuck, should it not stop
    from dvcwatch.commands.cli import main

    for phase in ("sweep", "freeze", "capacity", "_settle_alerts"):
        setattr(demo.Demo, phase, lambda self, *a: None)
    sys.exit(main(["demo", "--healthy", "--keep-running", "--out", sys.argv[1]]))
    """
)


@pytest.mark.parametrize(
    "sig, code, said",
    [(signal.SIGINT, 0, "stack stopped"), (signal.SIGHUP, 129, "")],
    ids=["SIGINT", "SIGHUP"],
)
def test_keep_running_keeps_the_stack_up_until_ctrl_c(
    tmp_path: Path, sig: signal.Signals, code: int, said: str
) -> None:
    """Ctrl-C is the normal end: the demo's own code. A hang-up (a closed terminal) is not: 129."""
    script = tmp_path / "short_demo.py"
    script.write_text(SHORT_DEMO)
    proc, log = start_demo(tmp_path, sys.executable, str(script), str(tmp_path / "demo"), sigint_ignored=True)
    wait_for("'Ctrl-C stops it'", lambda: "Ctrl-C stops it" in log.read_text(), proc, log)
    procs = descendants(proc.pid)
    prometheus = next(
        line.split()[1] for line in log.read_text().splitlines() if line.startswith("Prometheus:")
    )
    # the summary is printed and the stack still answers: the demo stayed to keep it
    with urllib.request.urlopen(f"{prometheus}/-/ready", timeout=10) as r:
        assert r.status == 200
    assert proc.poll() is None and any("prometheus" in p.command for p in procs)
    os.kill(proc.pid, sig)
    try:
        got = proc.wait(timeout=300)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGUSR2)  # every thread's stack into the log, then give up on it
        wait_for("a stack dump", lambda: "most recent call first" in log.read_text(), proc, log)
        proc.kill()
        pytest.fail(f"the demo did not stop within 300 s of {sig.name}:\n{log.read_text()[-6000:]}")
    assert got == code, log.read_text()[-2000:]
    assert wait_gone(procs, timeout=60) == []
    assert said in log.read_text()
