"""`shop --browser ws://…`: journeys on Playwright browser servers (`playwright launch-server`) instead
of a local chromium. Both servers are used, a server killed mid-sweep costs no verdict and blames
nothing on the portal, the evidence still lands beside the results, and with no server left a journey
is a harness error.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from dvcwatch.core.catalog import load_catalog
from dvcwatch.orchestration.sandbox_process import EmbeddedSandbox
from playwright_journeys.browser import CHROMIUM_ARGS, default_executable

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
PLAYWRIGHT = Path(sys.executable).parent / "playwright"
START_SECONDS = 90.0
SWEEP_SECONDS = 900.0
NEW_CONTEXT = "Target.createBrowserContext"  # chromium's own protocol, logged by DEBUG=pw:protocol
DISPOSE_CONTEXT = "Target.disposeBrowserContext"
KEPT = rf"^ws://|Listening at|serving connection|disconnected|{NEW_CONTEXT}|{DISPOSE_CONTEXT}"
RESULT_LINE = re.compile(r"^[✔~✘?◐] ", re.M)
FAULTS = "faults:\n  - {kind: error, service: dang-ky-thuong-tru, step: upload, status: 503}\n"


class BrowserServer:
    """One `playwright launch-server` on loopback, its own port and secret ws path, its log in a file."""

    def __init__(self, folder: Path, name: str) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.log = folder / f"{name}.log"
        config = folder / f"{name}.json"
        self.path = "/" + secrets.token_hex(8)
        config.write_text(
            json.dumps(
                {
                    "executablePath": default_executable(),
                    "args": CHROMIUM_ARGS,
                    "host": "127.0.0.1",
                    "port": 0,
                    "wsPath": self.path,
                    "headless": True,
                }
            )
        )
        env = {**os.environ, "DEBUG": "pw:server,pw:protocol"}
        self.proc = subprocess.Popen(
            [str(PLAYWRIGHT), "launch-server", "--browser", "chromium", "--config", str(config)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,  # its node driver and chromium: one group to kill
        )
        # the protocol log runs to hundreds of MB in a sweep (trace snapshots): keep only what counts
        with self.log.open("wb") as out:
            self.grep = subprocess.Popen(
                ["grep", "--line-buffered", "-aE", KEPT], stdin=self.proc.stdout, stdout=out
            )
        assert self.proc.stdout is not None
        self.proc.stdout.close()  # grep holds it now
        self.url = self._wait_for_endpoint()

    def _wait_for_endpoint(self) -> str:
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline and self.proc.poll() is None:
            found = re.search(r"^(ws://127\.0\.0\.1:\d+/\w+)$", self.text(), re.M)
            if found:
                return found.group(1)
            time.sleep(0.2)
        self.kill()
        raise AssertionError(f"launch-server did not start: {self.text()[-2000:]}")

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def contexts(self) -> int:
        """Browser contexts opened for clients (the one chromium makes at launch comes before any)."""
        served = self.text().partition("serving connection")[2]
        return served.count(NEW_CONTEXT)

    def open_contexts(self) -> int:
        served = self.text().partition("serving connection")[2]
        return served.count(NEW_CONTEXT) - served.count(DISPOSE_CONTEXT)

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)
        self.grep.wait(timeout=30)  # ends with its input


@pytest.fixture
def servers(tmp_path: Path):  # type: ignore[no-untyped-def]
    started: list[BrowserServer] = []
    try:
        for name in ("a", "b"):
            started.append(BrowserServer(tmp_path / "servers", name))
        yield started
    finally:
        for s in started:
            s.kill()


def shop(args: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "dvcwatch", "shop", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def finish(proc: subprocess.Popen[str]) -> tuple[int, str]:
    try:
        out, _ = proc.communicate(timeout=SWEEP_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        raise AssertionError(f"shop did not finish: {out[-3000:]}") from None
    return proc.returncode, out


def read_until(proc: subprocess.Popen[str], seen: list[str], done) -> None:  # type: ignore[no-untyped-def]
    """Read the sweep's console until `done(lines so far)` holds (bounded by the sweep's own end)."""
    assert proc.stdout is not None
    for line in proc.stdout:
        seen.append(line)
        if done(seen):
            return
    raise AssertionError("the sweep ended before the moment the test waited for: " + "".join(seen)[-3000:])


def results(out: Path) -> list[dict[str, Any]]:
    return json.loads((out / "results.json").read_text(encoding="utf-8"))["results"]


def portal_blamed(rows: list[dict[str, Any]]) -> list[tuple[str, str, Any]]:
    return [(r["service"], r["verdict"], r["failure"]) for r in rows if r["verdict"] == "fail"]


def test_a_sweep_uses_both_servers_and_its_evidence_comes_back(servers, tmp_path: Path) -> None:
    a, b = servers
    out, rec = tmp_path / "out", tmp_path / "rec"
    faults = tmp_path / "faults.yaml"
    faults.write_text(FAULTS)
    with EmbeddedSandbox(faults=faults) as sandbox:
        assert sandbox.url
        args = ["--target", sandbox.url, "--out", str(out), "--parallel", "4", "--record", str(rec)]
        proc = shop([*args, "--browser", a.url, "--browser", b.url])
        code, console = finish(proc)
    rows = results(out)
    assert len(rows) == 25, console[-3000:]
    assert a.contexts() > 0 and b.contexts() > 0, (a.contexts(), b.contexts())
    assert a.contexts() + b.contexts() >= 25
    assert [service for service, _, _ in portal_blamed(rows)] == ["dang-ky-thuong-tru"]
    assert {r["verdict"] for r in rows if r["service"] != "dang-ky-thuong-tru"} <= {"pass", "degraded"}
    assert code == 1
    # the failed journey's screenshot and trace, and every journey's HAR, were written here
    art = rows_by(rows)["dang-ky-thuong-tru"]["artifacts"]
    assert (out / art["screenshot"]).read_bytes().startswith(b"\x89PNG")
    assert (out / art["trace"]).read_bytes().startswith(b"PK")
    hars = sorted(rec.glob("*/recording.har"))
    assert len(hars) == 25
    assert all(json.loads(h.read_text(encoding="utf-8"))["log"]["entries"] for h in hars)
    # the servers' secret paths appear nowhere in what the sweep wrote
    written = console + (out / "results.json").read_text(encoding="utf-8")
    assert a.path not in written and b.path not in written


def rows_by(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["service"]: r for r in rows}


def test_a_server_killed_mid_sweep_costs_no_verdict(servers, tmp_path: Path) -> None:
    a, b = servers
    out = tmp_path / "out"
    proc = shop(["--out", str(out), "--parallel", "4", "--browser", a.url, "--browser", b.url])
    seen: list[str] = []
    # once a journey finished and the first server holds a journey right now
    read_until(proc, seen, lambda lines: RESULT_LINE.search("".join(lines)) and a.open_contexts() > 0)
    a.kill()
    before = b.contexts()
    code, rest = finish(proc)
    console = "".join(seen) + rest
    rows = results(out)
    assert len(rows) == 25, console[-3000:]
    assert portal_blamed(rows) == [], console[-3000:]
    assert [r["service"] for r in rows if r["verdict"] == "error"] == [], console[-3000:]
    assert sum(r["harness_restarts"] for r in rows) >= 1  # the killed server's journeys ran again
    assert b.contexts() > before
    assert code in (0, 1)  # 1 only for a journey slowed past its budget on this busy machine


def test_with_every_server_gone_the_journeys_left_are_harness_errors(servers, tmp_path: Path) -> None:
    a, b = servers
    out = tmp_path / "out"
    picked = [s.id for s in load_catalog().services[:6]]
    args = ["--out", str(out), "--parallel", "2", "--browser", a.url, "--browser", b.url]
    proc = shop(args + [x for s in picked for x in ("--service", s)])
    seen: list[str] = []
    read_until(proc, seen, lambda lines: RESULT_LINE.search("".join(lines)))
    a.kill()
    b.kill()
    code, rest = finish(proc)
    rows = results(out)
    assert len(rows) == 6
    assert portal_blamed(rows) == []
    errors = [r for r in rows if r["verdict"] == "error"]
    assert errors, "".join(seen) + rest
    assert all("no browser server left" in r["failure"]["message"] for r in errors), errors
    assert code == 1


def test_no_server_answering_is_one_line_and_exit_2(tmp_path: Path) -> None:
    """The endpoint read from a file (@FILE), as a deployment keeps its secret path out of `ps`."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once the socket is closed
    endpoints = tmp_path / "browsers"
    endpoints.write_text(f"# the ward's browser server\n\nws://127.0.0.1:{port}/the-secret-path\n")
    proc = shop(
        ["--out", str(tmp_path / "out"), "--service", "dang-ky-khai-sinh", "--browser", f"@{endpoints}"]
    )
    code, console = finish(proc)
    assert code == 2, console
    assert "no browser server answered: ws://127.0.0.1:" in console
    assert "the-secret-path" not in console and "Traceback" not in console


def test_a_mistake_in_an_endpoints_file_names_its_line(tmp_path: Path) -> None:
    endpoints = tmp_path / "browsers"
    endpoints.write_text("ws://127.0.0.1:3000/a\n# next one is wrong\nhttp://127.0.0.1:3001/b\n")
    code, console = finish(shop(["--out", str(tmp_path / "out"), "--browser", f"@{endpoints}"]))
    assert code == 2 and f"{endpoints}:3: --browser http://127.0.0.1:3001/…" in console, console


@pytest.mark.parametrize(
    "value, said",
    [
        ("http://127.0.0.1:3000/x", "give a Playwright server endpoint"),
        ("ws://127.0.0.1:3000/x#capacity=0", "#capacity=N"),
        ("ws://127.0.0.1:3000/x#workers=2", "#capacity=N"),
    ],
)
def test_a_browser_value_that_is_no_endpoint_is_refused(tmp_path: Path, value: str, said: str) -> None:
    code, console = finish(shop(["--out", str(tmp_path / "out"), "--browser", value]))
    assert code == 2 and said in console and "Traceback" not in console, console
