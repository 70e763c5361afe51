"""`dvcwatch load` keeps earlier results and refuses bad input before any load starts: a non-empty
--out, an unwritable --out, a --metrics-port in use, a --host port out of range, a gates file naming an
unknown step (reported at its line), and a host off the allow-list given to Locust directly."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from proctree import descendants

from dvcwatch.commands.cli import main
from dvcwatch.core.processes import free_port, pid_command

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).with_name("data")
LONG = DATA / "long-steady.yaml"


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["load", *args])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def one_line_error(out: str) -> str:
    lines = [line for line in out.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), out
    assert "Traceback" not in out
    return lines[0]


def old_results(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "report.json").write_text('{"old": true}')
    (folder / "notes.txt").write_text("mine")
    return folder


def test_a_folder_with_results_is_refused_without_overwrite(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, counting_target: Any
) -> None:
    out = old_results(tmp_path / "out")
    code, text = run_cli(capsys, "--profile", "smoke", "--host", counting_target.url, "--out", str(out))
    assert code == 2
    assert "already holds results" in one_line_error(text) and "--overwrite" in text
    assert (out / "report.json").read_text() == '{"old": true}'
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt", "report.json"]
    assert counting_target.count == 0


@pytest.mark.slow
def test_overwrite_keeps_the_old_results_when_the_new_run_has_no_report(
    tmp_path: Path, counting_target: Any
) -> None:
    """The run starts, then its master dies without a report: the earlier report must survive."""
    out = old_results(tmp_path / "out")
    proc = subprocess.Popen(
        [sys.executable, "-m", "dvcwatch", "load", "--profile", str(LONG), "--host", counting_target.url,
         "--out", str(out), "--overwrite"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT,
    )  # fmt: skip
    try:
        counting_target.wait_for(5, proc)
        master = next(p for p in descendants(proc.pid) if "locust" in pid_command(p.pid))
        os.kill(master.pid, signal.SIGKILL)
        output, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 2, output
    assert "stopped without a report" in output and f"{out} is untouched" in output
    assert (out / "report.json").read_text() == '{"old": true}'
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt", "report.json"]


@pytest.mark.slow
def test_overwrite_replaces_the_results_once_the_new_run_has_a_report(
    tmp_path: Path, counting_target: Any, run_load: Any
) -> None:
    out = old_results(tmp_path / "out")
    (out / "locust-master.log").write_text("an old run's log\n")
    code, report = run_load(
        "--profile", "smoke", "--host", counting_target.url, "--out", str(out), "--overwrite",
        "--max-duration", "3",
    )  # fmt: skip
    assert code == 1  # the counting target fails every login: gates broken, but a report
    assert report is not None and "old" not in report
    assert "an old run's log" not in (out / "locust-master.log").read_text()
    assert (out / "notes.txt").read_text() == "mine"  # not a result: left alone
    assert (out / "report.html").exists()
    assert not list(tmp_path.glob(".out.new-*"))


def test_an_unwritable_out_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, text = run_cli(capsys, "--profile", "smoke", "--host", "http://127.0.0.1:8480", "--out", "/proc/x")
    assert code == 2
    assert "--out /proc/x: cannot write there" in one_line_error(text)


def test_a_metrics_port_in_use_is_an_error_before_any_load(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, counting_target: Any
) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code, text = run_cli(
            capsys, "--profile", "smoke", "--host", counting_target.url, "--out", str(tmp_path / "out"),
            "--metrics-port", str(port),
        )  # fmt: skip
    assert code == 2
    assert f"--metrics-port {port}: cannot listen on 127.0.0.1:{port} (already in use)" in one_line_error(
        text
    )
    assert counting_target.count == 0
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("port", ["99999", "0", "http"])
def test_a_host_port_out_of_range_is_exit_2_at_once(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, port: str
) -> None:
    code, text = run_cli(
        capsys, "--profile", "smoke", "--host", f"http://127.0.0.1:{port}", "--out", str(tmp_path / "out")
    )
    assert code == 2
    assert "the port must be a number from 1 to 65535" in one_line_error(text)
    assert not (tmp_path / "out").exists()


def test_a_gates_file_with_an_unknown_step_names_its_line_and_field(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    gates = tmp_path / "gates.yaml"
    gates.write_text(
        "version: 1\nstep_classes:\n  browse: [find_service, form]\n  auth:\n    - login\n    - otpp\n"
        "latency:\n  browse: {p95: 1.0}\n"
    )
    code, text = run_cli(capsys, "--profile", "smoke", "--gates", str(gates), "--out", str(tmp_path / "out"))
    assert code == 2
    assert f"{gates}:6: step_classes.auth[1]: 'otpp' is not a step" in one_line_error(text)


def test_an_unknown_gates_name_lists_the_built_in_gates(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, text = run_cli(capsys, "--profile", "smoke", "--gates", "strictest", "--out", str(tmp_path / "o"))
    assert code == 2
    assert "built-in gates: default, go-live" in one_line_error(text)


def locust(*args: str) -> subprocess.Popen[str]:
    """Locust run directly on the locustfile, as a vendor's own run does (docs/load.md)."""
    return subprocess.Popen(
        [sys.executable, "-m", "locust", "-f", str(ROOT / "loadtests" / "locustfile.py"), *args],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT,
    )  # fmt: skip


@pytest.mark.slow
def test_locust_on_the_locustfile_refuses_a_host_off_the_allowlist(tmp_path: Path) -> None:
    proc = locust(
        "--headless", "--host", "http://portal.invalid", "--dvc-profile", "smoke",
        "--dvc-out", str(tmp_path / "out"),
    )  # fmt: skip
    output, _ = proc.communicate(timeout=120)
    assert proc.returncode == 2, output
    assert "refusing to load portal.invalid" in output and "--i-have-authorisation" in output
    assert "Shape test updating" not in output and "Traceback" not in output
    assert not (tmp_path / "out" / "report.json").exists()


@pytest.mark.slow
def test_the_web_ui_starts_no_citizen_for_a_host_off_the_allowlist(tmp_path: Path) -> None:
    """A host typed into the web UI is checked when the test starts: not one request is attempted
    (Locust counts even a failed name lookup as a request)."""
    port = free_port()
    proc = locust(
        "--web-host", "127.0.0.1", "--web-port", str(port), "--dvc-profile", "smoke",
        "--dvc-out", str(tmp_path / "out"),
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert proc.poll() is None and time.monotonic() < deadline
            try:
                urllib.request.urlopen(base + "/", timeout=2).close()
                break
            except OSError:
                time.sleep(0.2)
        form = urllib.parse.urlencode({"user_count": 3, "spawn_rate": 3, "host": "http://portal.invalid"})
        urllib.request.urlopen(base + "/swarm", data=form.encode(), timeout=10).close()
        deadline = time.monotonic() + 30
        while True:  # the refused test is stopped again
            with urllib.request.urlopen(base + "/stats/requests", timeout=5) as r:
                stats = json.loads(r.read())
            if stats["state"] == "stopped":
                break
            assert time.monotonic() < deadline, stats
            time.sleep(0.2)
        time.sleep(1.0)  # a negative check: a citizen would have tried a request by now
        with urllib.request.urlopen(base + "/stats/requests", timeout=5) as r:
            stats = json.loads(r.read())
    finally:
        proc.send_signal(signal.SIGINT)
        output, _ = proc.communicate(timeout=60)
    assert stats["user_count"] == 0
    assert sum(row["num_requests"] for row in stats["stats"]) == 0
    assert "refusing to load portal.invalid" in output
