"""`dvcwatch ARGV` as its own process, for the tests that check where it writes its history."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def run_dvcwatch(argv: list[str], cwd: Path, timeout: float) -> subprocess.CompletedProcess[str]:
    """Run in `cwd` with the environment's DVCWATCH_HISTORY left out, so the history lands beside the
    run's --out as a person's first run would have it."""
    env = {k: v for k, v in os.environ.items() if k != "DVCWATCH_HISTORY"}
    return subprocess.run(
        [sys.executable, "-m", "dvcwatch", *argv],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
