"""`dvcwatch stack` without a running stack, and `down` never signals a pid that is not its own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dvcwatch.commands.cli import main
from dvcwatch.core import processes
from dvcwatch.orchestration.stack import Stack


def test_status_without_a_stack_is_one_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["stack", "--run-dir", str(tmp_path), "status"]) == 2
    err = capsys.readouterr().err
    assert "no stack state" in err and "dvcwatch stack up" in err


def test_down_without_a_stack_is_harmless(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["stack", "--run-dir", str(tmp_path), "down"]) == 0
    assert "nothing to stop" in capsys.readouterr().out


def test_bad_intervals_are_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["stack", "--run-dir", str(tmp_path), "up", "--scrape-interval", "ten"]) == 2
    assert "--scrape-interval" in capsys.readouterr().err
    assert (
        main(["stack", "--run-dir", str(tmp_path), "up", "--probe-interval", "2", "--probe-timeout", "5"])
        == 2
    )
    assert "longer than the interval" in capsys.readouterr().err
    assert not (tmp_path / "state.json").exists()


def test_down_stops_recorded_pids_and_leaves_a_recycled_pid_alone(tmp_path: Path) -> None:
    ours = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True)
    stranger = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True)
    try:
        # a child shows its own command line only once it has exec'd; before that it looks like pytest
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not all(
            any("time.sleep" in part for part in processes.pid_command(p.pid)) for p in (ours, stranger)
        ):
            time.sleep(0.02)
        state = {
            "started_at": time.time(),
            "settings": {"run_dir": str(tmp_path), "wards": []},
            "urls": {},
            "components": [
                {"name": "sleeper", "pid": ours.pid, "url": "", "expect": "time.sleep", "log": ""},
                # the state says prometheus, but this pid now belongs to something else
                {"name": "prometheus", "pid": stranger.pid, "url": "", "expect": "prometheus", "log": ""},
            ],
        }
        (tmp_path / "state.json").write_text(json.dumps(state))
        stopped = Stack.load(tmp_path).down()
        assert stopped == ["sleeper"]
        ours.wait(timeout=10)
        assert processes.pid_alive(stranger.pid)
    finally:
        for p in (ours, stranger):
            p.kill()
            p.wait()


@pytest.mark.parametrize("extra", [[], ["--fast"], ["--detach"]], ids=["default", "fast", "detach"])
def test_an_unusable_run_folder_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str]
) -> None:
    readonly = tmp_path / "readonly"
    readonly.mkdir()
    readonly.chmod(0o500)
    for run_dir in ("/proc/x", str(readonly)):
        if run_dir == str(readonly) and os.access(readonly, os.W_OK):
            continue  # root writes anywhere: only /proc/x is unwritable for it
        assert main(["stack", "--run-dir", run_dir, "up", *extra]) == 2
        lines = capsys.readouterr().err.strip().splitlines()
        assert len(lines) == 1 and f"cannot use the run folder {Path(run_dir).resolve()}" in lines[0], lines
