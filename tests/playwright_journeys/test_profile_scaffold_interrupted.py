"""An interrupted `dvcwatch profile scaffold` leaves nothing running and no file: a real process
reading the third portal's e-forms is stopped once it has read one, by SIGTERM, by SIGHUP, by Ctrl-C (SIGINT to
its whole process group, as a terminal sends it) and by SIGKILL. The output is written only at the
end, atomically, so an interrupted run leaves neither the output nor a temporary file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fixtures.third_portal import ThirdPortal
from fixtures.third_portal.target import password_env, profile_for
from proctree import descendants, wait_gone

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def portal() -> Iterator[ThirdPortal]:
    with ThirdPortal(result_delay=0.2) as p:
        yield p


@pytest.mark.parametrize("how", ["SIGTERM", "SIGHUP", "SIGINT-group", "SIGKILL"])
def test_an_interrupted_scaffold_leaves_no_process_and_no_file(
    portal: ThirdPortal, tmp_path: Path, how: str
) -> None:
    full = profile_for(portal, tmp_path / "full.yaml").read_text(encoding="utf-8")
    partial = tmp_path / "partial.yaml"
    partial.write_text(full[: full.index("\nforms:")] + "\n", encoding="utf-8")
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    stdout = tmp_path / "stdout.txt"
    argv = [
        sys.executable,
        "-m",
        "dvcwatch",
        "profile",
        "scaffold",
        str(partial),
        "--out",
        str(out_dir / "p.yaml"),
    ]
    env = {**os.environ, **password_env(portal), "PYTHONUNBUFFERED": "1"}
    with stdout.open("wb") as f:
        proc = subprocess.Popen(argv, stdout=f, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    deadline = time.monotonic() + 120
    while "✔" not in stdout.read_text(encoding="utf-8", errors="replace"):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"no e-form read before the signal: {stdout.read_text(errors='replace')}")
        time.sleep(0.1)
    procs = descendants(proc.pid)
    assert any("chromium" in p.command for p in procs), procs
    if how == "SIGTERM":
        proc.send_signal(signal.SIGTERM)
    elif how == "SIGHUP":  # a closed terminal or SSH session
        proc.send_signal(signal.SIGHUP)
    elif how == "SIGINT-group":
        os.killpg(proc.pid, signal.SIGINT)
    else:
        proc.kill()
    code = proc.wait(timeout=60)
    assert (
        code
        == {"SIGTERM": -signal.SIGTERM, "SIGHUP": 129, "SIGINT-group": 130, "SIGKILL": -signal.SIGKILL}[how]
    ), stdout.read_text(errors="replace")
    assert wait_gone(procs) == []
    assert list(out_dir.iterdir()) == []
