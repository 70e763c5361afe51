"""Run another `dvcwatch` sub-command as its own process, as a user would, its output kept in a log.

The demo and the rehearsal drive the instruments through their command lines, not their internals, so
what they prove is what a user gets from `dvcwatch shop` or `dvcwatch load`. The child is started with
`procs.child_kwargs`: its own process group (stopped as a whole, its browser or Locust workers with
it) that the kernel signals when the calling thread dies, so even a SIGKILL to the demo leaves nothing.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

from dvcwatch.core.processes import child_kwargs

TIMED_OUT = 124
STOP_GRACE = 15.0  # a stopped `shop` closes its browser and writes what it has: give it that time


def run_dvcwatch(args: list[str], log: Path, timeout: float) -> int:
    """Exit code of `dvcwatch ARGS`; TIMED_OUT when it did not finish within `timeout` seconds (it is
    then stopped). Whatever interrupts the wait (Ctrl-C, a SIGTERM turned into an exception) stops
    the child's whole group first, then goes on up."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as f:
        proc = subprocess.Popen(
            [sys.executable, "-m", "dvcwatch", *args],
            stdout=f,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            **child_kwargs(),  # type: ignore[arg-type]
        )
        try:
            return proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            stop_group(proc)
            return TIMED_OUT
        except BaseException:
            stop_group(proc)
            raise


def stop_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the child's group (it stops as it would for a person), SIGKILL if it lingers."""
    for sig, wait in ((signal.SIGTERM, STOP_GRACE), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue
