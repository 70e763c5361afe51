"""`dvcwatch probe` as a real child process on a loopback port, the one way the probe tests start it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def start_prober(cfg: Path, port: int, log: Path, *extra: str) -> subprocess.Popen[bytes]:
    """Start the prober with `cfg` listening on 127.0.0.1:`port`, its output in `log`; the caller waits
    for it to answer (plain HTTP or TLS) and stops it."""
    with open(log, "wb") as out:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "dvcwatch",
                "probe",
                "--config",
                str(cfg),
                "--listen",
                f"127.0.0.1:{port}",
                *extra,
            ],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
