"""A recording stopped mid-sweep leaves no raw HAR behind: Playwright writes a context's HAR (password
and all) into a private folder when the context closes, and the recorder scrubs it from there; a
journey stopped by Ctrl-C or SIGTERM never gets scrubbed, so its raw folder must go. That folder, and
Playwright's trace files, live in the run's own folders, never in the system's temporary folder: a
SIGKILL leaves them there (issue 31.15), and the next recording into the same folder removes them."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from proctree import descendants, wait_gone

pytestmark = pytest.mark.browser
SERVICES = ["cap-doi-cccd", "dang-ky-thuong-tru", "khai-bao-tam-vang", "cap-ho-chieu"]


RAW = ".dvcwatch-har-"
LEFT_IN_TMP = ("dvcwatch-har-*", "playwright-tracing-*")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL])
def test_a_stopped_recording_leaves_no_raw_har(sandbox, tmp_path: Path, sig: signal.Signals, request) -> None:  # type: ignore[no-untyped-def]
    tmp = Path(tempfile.mkdtemp(prefix="rec-tmp-"))  # short: chromium's own files go there too
    request.addfinalizer(lambda: shutil.rmtree(tmp, ignore_errors=True))
    rec = tmp_path / "rec"
    argv = [sys.executable, "-m", "dvcwatch", "shop", "--target", sandbox.url, "--out", str(tmp_path / "out")]
    argv += ["--record", str(rec), "--parallel", "1"]
    for s in SERVICES:
        argv += ["--service", s]
    err = tmp_path / "stderr.txt"
    with err.open("wb") as f:
        proc = subprocess.Popen(
            argv,
            stdout=subprocess.DEVNULL,
            stderr=f,
            start_new_session=True,
            env={**os.environ, "TMPDIR": str(tmp)},
        )
    deadline = time.monotonic() + 180
    # the first journey is kept (its folder written), the second is under way (its raw folder exists)
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"shop ended before the signal: {err.read_text()}")
        if any(rec.glob("*/recording.har")) and list(rec.glob(f"{RAW}*")):
            break
        time.sleep(0.05)
    else:
        proc.kill()
        pytest.fail("no second journey under way in time")
    procs = descendants(proc.pid)
    # Ctrl-C from a terminal, and SIGKILL to the whole group (kill -9 -PGID): the driver cannot tidy up
    os.killpg(proc.pid, sig) if sig in (signal.SIGINT, signal.SIGKILL) else proc.send_signal(sig)
    proc.wait(timeout=60)
    assert wait_gone(procs) == []
    assert [p.name for pattern in LEFT_IN_TMP for p in tmp.glob(pattern)] == []
    kept = [p.parent.name for p in rec.glob("*/recording.har")]
    assert kept and len(kept) < len(SERVICES)
    if sig != signal.SIGKILL:
        assert list(rec.glob(f"{RAW}*")) == [], "a raw HAR (with the password) was left behind"
    else:  # nothing could remove it: the next recording into this folder does
        from dvcwatch.core.profile import load_profile
        from playwright_journeys.record import Recorder

        Recorder(rec, load_profile(sandbox.url))
        assert list(rec.glob(f"{RAW}*")) == []
