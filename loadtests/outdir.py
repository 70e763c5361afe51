"""Where a run writes, checked before anything starts, and how it replaces earlier results.

A load test takes minutes to hours and may fail or be stopped; the results it would replace may be
the only record of an earlier run. So `--out` must be new or empty, unless `--overwrite` says the
earlier results may go, and even then they go only once the new run has a report: until then the new
run writes into a fresh folder beside them (`.NAME.new-*`), whose files then take the place of the
earlier results. A run that ends without a report leaves the earlier results as they were (its own
logs stay in that fresh folder, named in the error). This is the rule `dvcwatch shop --out` follows.
"""

from __future__ import annotations

import errno
import os
import shutil
import socket
import tempfile
from pathlib import Path

from dvcwatch.core.errors import ConfigError

# What a run leaves in its folder; --overwrite replaces these and leaves anything else alone.
RESULT_PATTERNS = ("report.json", "report.html", "locust-*.log", "locust-*.out", "sandbox.log")


def prepare_out(out_dir: Path, overwrite: bool) -> Path:
    """The folder this run writes into: `out_dir` itself when new or empty; with --overwrite and
    earlier results there, a fresh folder beside it. Any problem is a ConfigError (exit 2)."""
    try:
        if out_dir.exists() and not out_dir.is_dir():
            raise ConfigError(f"--out {out_dir}: exists and is not a folder")
        held = sorted(p.name for p in out_dir.iterdir()) if out_dir.is_dir() else []
        if held and not overwrite:
            shown = ", ".join(held[:4]) + (", …" if len(held) > 4 else "")
            raise ConfigError(
                f"--out {out_dir} already holds results ({shown}); choose another folder, or pass "
                "--overwrite to replace them once this run has a report"
            )
        out_dir.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.new-", dir=out_dir.parent)) if held else out_dir
        probe = work / ".dvcwatch-write-check"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise ConfigError(f"--out {out_dir}: cannot write there ({exc.strerror or exc})") from None
    return work


def commit_out(work: Path, out_dir: Path) -> None:
    """Move a finished run's files from `work` into `out_dir`, in place of the earlier results."""
    if work == out_dir or not work.is_dir():
        return
    for pattern in RESULT_PATTERNS:
        for old in out_dir.glob(pattern):
            if old.is_file() or old.is_symlink():
                old.unlink()
    for new in sorted(work.iterdir(), key=lambda p: p.name.startswith("report.")):
        os.replace(new, out_dir / new.name)  # the reports last: a reader sees old or new, whole
    shutil.rmtree(work, ignore_errors=True)


def check_port_free(flag: str, host: str, port: int) -> None:
    """A port the run will listen on must be free now, before any load starts."""
    if not 0 < port < 65536:
        raise ConfigError(f"{flag} {port}: not a port number (1-65535)")
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the run's own server does
        try:
            s.bind((host, port))
        except OSError as exc:
            why = "already in use" if exc.errno == errno.EADDRINUSE else (exc.strerror or str(exc))
            raise ConfigError(f"{flag} {port}: cannot listen on {host}:{port} ({why})") from None
