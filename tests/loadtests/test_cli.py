"""`dvcwatch load` from outside: refusals, bad input, and runs stopped by Ctrl-C or a lost worker."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from dvcwatch.commands.cli import main
from dvcwatch.core.errors import ConfigError
from dvcwatch.core.processes import free_port
from loadtests.safety import AllowList, check_target, is_loopback

DATA = Path(__file__).with_name("data")
INVALID = DATA / "invalid"


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["load", *args])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_a_host_outside_the_allowlist_is_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out = run_cli(
        capsys, "--profile", "smoke", "--host", "https://dichvucong.gov.vn", "--out", str(tmp_path / "out")
    )
    assert code == 2
    assert "refusing to load dichvucong.gov.vn" in out
    assert "--i-have-authorisation" in out
    assert not (tmp_path / "out" / "report.json").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--profile", "steped-ramp"], "unknown load profile 'steped-ramp'"),
        (["--profile", str(INVALID / "think-backwards.yaml")], "think-backwards.yaml:5"),
        (["--profile", "smoke", "--host", "ftp://127.0.0.1/"], "must be an http(s):// URL"),
        (["--profile", "smoke", "--workers", "-1"], "--workers cannot be negative"),
        (["--profile", "smoke", "--gates", "strictest"], "unknown gates 'strictest'"),
        (["--profile", str(INVALID / "surge-unknown-service.yaml")], "did you mean dang-ky-thi-thpt"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, args: list[str], message: str
) -> None:
    code, out = run_cli(capsys, *args, "--out", str(tmp_path / "out"))
    assert code == 2
    assert message in out
    assert "Traceback" not in out


def test_help_shows_examples_and_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["load", "--help"])
    out = capsys.readouterr().out
    assert "dvcwatch load --profile smoke" in out and "--i-have-authorisation" in out and "exit codes" in out


def test_the_allowlist_and_loopback_rules() -> None:
    allow = AllowList(staging_hosts=["staging.dvc.example.vn", "*.test.example.vn"])
    where = Path("allowed_hosts.yaml")
    assert check_target("http://127.0.0.5:8480", AllowList(), where, False) == "127.0.0.5"
    assert check_target("http://[::1]:8480", AllowList(), where, False) == "::1"
    assert check_target("https://staging.dvc.example.vn", allow, where, False) == "staging.dvc.example.vn"
    assert check_target("https://a.test.example.vn", allow, where, False) == "a.test.example.vn"
    with pytest.raises(ConfigError, match="refusing"):
        check_target("https://dvc.example.vn", allow, where, False)
    assert check_target("https://dvc.example.vn", allow, where, True) == "dvc.example.vn"
    assert not is_loopback("127.example.com") and is_loopback("localhost")


def test_the_cli_never_loads_locust_into_its_own_process() -> None:
    """Locust patches the interpreter with gevent on import; it must stay in the child processes."""
    code = (
        "import sys; from dvcwatch.commands.cli import build_parser; build_parser();"
        "import dvcwatch.orchestration.load_runs, loadtests.report, loadtests.report_html, loadtests.knee;"
        "print('locust' in sys.modules or 'gevent' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def start_cli(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "dvcwatch", "load", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )


def wait_for_a_request(port: int, timeout: float = 120) -> None:
    """Until the live metrics count one request sent (dvc_load_requests_total > 0)."""
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
                text = r.read().decode()
        except OSError:
            text = ""
        for line in text.splitlines():
            if line.startswith("dvc_load_requests_total{") and float(line.rsplit(" ", 1)[1]) > 0:
                return
        time.sleep(0.2)
    raise AssertionError(f"no request counted on :{port}/metrics in {timeout:g} s")


def wait_for_log(path: Path, needle: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and needle in path.read_text(errors="replace"):
            return
        time.sleep(0.2)
    raise AssertionError(f"{needle!r} never appeared in {path}")


def children(pid: int) -> list[int]:
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        out += [int(x) for x in text]
    return out


@pytest.mark.slow
def test_ctrl_c_stops_cleanly_and_writes_a_partial_report_within_the_user_cap(
    sandbox: Any, tmp_path: Path
) -> None:
    proc = start_cli(
        "--profile",
        str(DATA / "worker-loss.yaml"),
        "--host",
        sandbox.url,
        "--out",
        str(tmp_path / "out"),
        "--max-users",
        "5",
        "--metrics-port",
        str(metrics_port := free_port()),
    )
    try:
        # the events: Locust says every citizen the capped shape asked for is running, and a request
        # has been answered (a busy machine may take a while between the two)
        wait_for_log(tmp_path / "out" / "locust-master.log", "All users spawned")
        wait_for_a_request(metrics_port)
        kids = children(proc.pid)
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, out
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["partial"] is True
    assert "interrupted" in report["stop_reason"]
    assert report["totals"]["requests"] > 0
    assert "PARTIAL" in (tmp_path / "out" / "report.html").read_text()
    # the profile asks for 12 citizens; --max-users 5 caps them
    assert report["limits"]["max_users"] == 5
    assert max(row["users"] for row in report["timeline"]) <= 5
    spawned = (tmp_path / "out" / "locust-master.log").read_text(errors="replace")
    assert "(5 total users)" in spawned and "(12 total users)" not in spawned
    for kid in kids:
        assert not Path(f"/proc/{kid}").exists() or "Z" in Path(f"/proc/{kid}/stat").read_text().split()[2]


@pytest.mark.slow
def test_losing_a_worker_stops_the_run_with_a_partial_report(sandbox: Any, tmp_path: Path) -> None:
    proc = start_cli(
        "--profile",
        str(DATA / "worker-loss.yaml"),
        "--host",
        sandbox.url,
        "--out",
        str(tmp_path / "out"),
        "--workers",
        "2",
    )
    try:
        wait_for_log(tmp_path / "out" / "locust-master.log", "Shape test updating")
        time.sleep(1)
        workers = [k for k in children(proc.pid) if "--worker" in Path(f"/proc/{k}/cmdline").read_text()]
        assert len(workers) == 2
        os.kill(workers[0], signal.SIGKILL)
        out, _ = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 1, out
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["partial"] is True
    assert report["stop_reason"].startswith("worker lost")
    assert "run.workers_lost" in report["broken_gates"]
    assert "PARTIAL run: worker lost" in out
