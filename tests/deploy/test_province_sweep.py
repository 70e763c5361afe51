"""The ward runner's command line, filled from the example settings as systemd would, runs one scheduled
sweep end to end on loopback: on the two browser servers started by their own unit's command, pushing to a
real Pushgateway, recording into the history, under the ward's vantage. Only three things differ from a
ward box: the history is SQLite (tests/dvcwatch/test_shared_history.py runs many runners on PostgreSQL), `--out`
is a temporary folder, and two services with `--max-runs 1` keep it short.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from unitfiles import (
    DEPLOYED_VENV,
    ROOT,
    UNIT_DIR,
    BrowserUnit,
    command_lines,
    unit_environment,
)

from dvcwatch.orchestration.sandbox_process import EmbeddedSandbox

pytestmark = [pytest.mark.browser, pytest.mark.prometheus, pytest.mark.slow]

WARD = "phuong-vinh-hung"
SERVICES = ["dang-ky-khai-sinh", "dang-ky-tam-tru"]
SWEEP_SECONDS = 600.0
NEW_CONTEXT = "Target.createBrowserContext"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Pushgateway:
    def __init__(self, folder: Path) -> None:
        self.url = f"http://127.0.0.1:{free_port()}"
        self.proc = subprocess.Popen(
            [
                "/usr/bin/prometheus-pushgateway",
                f"--web.listen-address={self.url.removeprefix('http://')}",
                f"--persistence.file={folder / 'pushgateway.data'}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while not self._ready():
            assert self.proc.poll() is None and time.monotonic() < deadline, "pushgateway did not start"
            time.sleep(0.2)

    def _ready(self) -> bool:
        try:
            with urllib.request.urlopen(self.url + "/-/ready", timeout=2) as r:
                return r.status == 200
        except OSError:
            return False

    def metrics(self) -> str:
        with urllib.request.urlopen(self.url + "/metrics", timeout=10) as r:
            return r.read().decode()

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)


def ward_command(env: dict[str, str], credentials: Path, out: Path) -> list[str]:
    (argv,) = command_lines(UNIT_DIR / "dvcwatch-ward@.service", WARD, env, credentials)
    argv[0] = str(ROOT / ".venv/bin" / argv[0].removeprefix(DEPLOYED_VENV))
    at = argv.index("--out")
    assert argv[at + 1] == f"/srv/dvcwatch/results/{WARD}"
    argv[at + 1] = str(out)
    return [*argv, *(x for s in SERVICES for x in ("--service", s)), "--max-runs", "1"]


def test_the_ward_units_command_sweeps_on_both_browser_servers(tmp_path: Path) -> None:
    servers = [BrowserUnit(tmp_path / f"browser-{n}", {"DEBUG": "pw:server,pw:protocol"}) for n in (1, 2)]
    pushgateway = None
    try:
        for s in servers:
            s.wait_listening()
        pushgateway = Pushgateway(tmp_path)
        history = tmp_path / "history.sqlite3"
        env = unit_environment(UNIT_DIR / "dvcwatch-ward@.service") | {
            "DVCWATCH_HISTORY_URL": f"sqlite:///{history}",
            "DVCWATCH_PUSHGATEWAY": pushgateway.url,
        }
        credentials = tmp_path / "credentials"
        credentials.mkdir()
        (credentials / "browsers").write_text("".join(s.url + "\n" for s in servers), encoding="utf-8")
        out = tmp_path / "results"
        with EmbeddedSandbox() as sandbox:
            assert sandbox.url
            profile = (ROOT / "dvcwatch/core/profiles/sandbox.yaml").read_text(encoding="utf-8")
            profile = profile.replace("base_url: http://127.0.0.1:8480", f"base_url: {sandbox.url}", 1)
            (credentials / "profile.yaml").write_text(profile, encoding="utf-8")
            argv = ward_command(env, credentials, out)
            done = subprocess.run(
                argv, cwd=tmp_path, capture_output=True, text=True, timeout=SWEEP_SECONDS, check=False
            )
        console = done.stdout + done.stderr
        assert done.returncode in (0, 1), console[-3000:]  # 1: a journey slowed past its budget here
        (results,) = out.glob("*/results.json")
        rows = json.loads(results.read_text(encoding="utf-8"))["results"]
        assert sorted(r["service"] for r in rows) == sorted(SERVICES)
        assert all(r["verdict"] != "error" for r in rows), console[-3000:]
        for s in servers:  # both servers carried journeys
            assert s.text().partition("serving connection")[2].count(NEW_CONTEXT) > 0, s.text()[-1500:]
        assert f'vantage="{WARD}"' in pushgateway.metrics()
        assert history.stat().st_size > 0
        report = subprocess.run(
            [
                argv[0],
                "report",
                "--by",
                "portal",
                "--history",
                f"sqlite:///{history}",
                "--out",
                str(tmp_path / "r"),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert report.returncode == 0, report.stdout + report.stderr
        # the journeys are in the history: the roll-up counts them
        rollup = json.loads((tmp_path / "r" / "portals.json").read_text(encoding="utf-8"))
        (portal,) = rollup["portals"]
        assert (portal["portal"], portal["vantages"]) == ("sandbox", [WARD])
        assert portal["this"]["journeys"] == len(SERVICES)
    finally:
        for s in servers:
            s.stop()
        if pushgateway is not None:
            pushgateway.stop()
