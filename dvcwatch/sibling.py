"""Run another `dvcwatch` sub-command as its own process, as a user would, its output kept in a log.

The demo and the rehearsal drive the instruments through their command lines, not their internals, so
what they prove is what a user gets from `dvcwatch shop` or `dvcwatch load`.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

TIMED_OUT = 124


def run_dvcwatch(args: list[str], log: Path, timeout: float) -> int:
    """Exit code of `dvcwatch ARGS`; TIMED_OUT when it did not finish within `timeout` seconds."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as f:
        try:
            proc = subprocess.run(
                [sys.executable, "-m", "dvcwatch", *args],
                stdout=f,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return TIMED_OUT
    return proc.returncode
