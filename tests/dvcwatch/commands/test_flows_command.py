"""`dvcwatch flows compile` and `flows check`: exit 0 with the flows written and shown; a recording or
flow file that cannot be used is one line naming it, exit 2."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from dvcwatch.commands.cli import main
from dvcwatch.core.profile import SANDBOX_PROFILE

_spec = importlib.util.spec_from_file_location(
    "har_builder", Path(__file__).parents[1] / "core" / "flows" / "har_builder.py"
)
assert _spec and _spec.loader
har_builder = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(har_builder)


def _profile(path: Path, extra: str = "") -> Path:
    text = SANDBOX_PROFILE.read_text(encoding="utf-8").replace("http://127.0.0.1:8480", har_builder.BASE)
    path.write_text(text + "origins:\n  identity: http://127.0.0.2:9999\n" + extra, encoding="utf-8")
    return path


def test_compile_writes_one_flow_per_service_and_check_shows_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rec = tmp_path / "rec"
    har_builder.portal_recording(rec, "dich-vu-mau")
    har_builder.portal_recording(rec, "dich-vu-khac")
    flows = tmp_path / "flows"
    profile = _profile(tmp_path / "p.yaml", "flows:\n  ignore: ['/thong-ke']\n")
    assert main(["flows", "compile", str(rec), "--out", str(flows), "--target", str(profile)]) == 0
    out = capsys.readouterr().out
    assert "2 flow(s)" in out and "steps login → otp → find_service → submit → payment" in out
    assert sorted(p.name for p in flows.iterdir()) == [
        "dich-vu-khac.flow.yaml",
        "dich-vu-mau.flow.yaml",
        "flows.yaml",
    ]
    assert "thong-ke" not in (flows / "dich-vu-mau.flow.yaml").read_text(encoding="utf-8")
    assert "profile: sandbox" in (flows / "flows.yaml").read_text(encoding="utf-8")

    assert main(["flows", "check", str(flows), "--target", str(profile)]) == 0
    out = capsys.readouterr().out
    assert "dich-vu-mau: 9 requests" in out and "POST identity:/login" in out and "2 flow(s) ok" in out


def test_check_refuses_an_origin_the_profile_lacks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    har_builder.portal_recording(tmp_path / "rec")
    assert main(["flows", "compile", str(tmp_path / "rec"), "--out", str(tmp_path / "flows")]) == 0
    bare = tmp_path / "bare.yaml"
    bare.write_text(SANDBOX_PROFILE.read_text(encoding="utf-8"), encoding="utf-8")
    capsys.readouterr()
    assert main(["flows", "check", str(tmp_path / "flows"), "--target", str(bare)]) == 2
    assert "origins.identity, which the profile does not have" in " ".join(capsys.readouterr().err.split())


def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["flows", "compile", str(tmp_path), "--out", str(tmp_path / "flows")]) == 2
    assert "no */recording.har here" in capsys.readouterr().err
    har_builder.portal_recording(tmp_path / "rec")
    (tmp_path / "rec" / "dich-vu-mau" / "recording.har").write_text("{not json", encoding="utf-8")
    assert main(["flows", "compile", str(tmp_path / "rec"), "--out", str(tmp_path / "flows")]) == 2
    assert "not a HAR file" in capsys.readouterr().err
    flows = tmp_path / "broken"
    flows.mkdir()
    (flows / "x.flow.yaml").write_text(
        "version: 1\nservice: x\nsteps:\n  - step: login\n    requests:\n"
        "      - {label: a, method: GET, url: '${base}/${nope}', expect_status: [200]}\n",
        encoding="utf-8",
    )
    assert main(["flows", "check", str(flows)]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "x.flow.yaml:6" in err and "${nope} is not extracted" in err


def test_a_recording_of_a_failed_journey_is_skipped_unless_asked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = har_builder.portal_recording(tmp_path / "rec")
    steps = folder / "steps.json"
    steps.write_text(steps.read_text(encoding="utf-8").replace('"service"', '"verdict": "fail", "service"'))
    argv = ["flows", "compile", str(tmp_path / "rec"), "--out", str(tmp_path / "flows")]
    assert main(argv) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "skipped, recorded from a journey that did not pass (fail)" in err and "no flow written" in err
    assert not (tmp_path / "flows" / "dich-vu-mau.flow.yaml").exists()
    assert main([*argv, "--include-failed"]) == 0
    assert "its flow stops where the journey did" in " ".join(capsys.readouterr().err.split())
    assert (tmp_path / "flows" / "dich-vu-mau.flow.yaml").exists()


def test_a_service_recorded_with_two_personas_gives_one_flow(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    har_builder.portal_recording(tmp_path / "rec", "dich-vu-mau--desktop")
    har_builder.portal_recording(tmp_path / "rec", "dich-vu-mau--phone")
    for folder in ("dich-vu-mau--desktop", "dich-vu-mau--phone"):
        steps = tmp_path / "rec" / folder / "steps.json"
        steps.write_text(
            steps.read_text(encoding="utf-8").replace(f'"service": "{folder}"', '"service": "dich-vu-mau"')
        )
    assert main(["flows", "compile", str(tmp_path / "rec"), "--out", str(tmp_path / "flows")]) == 0
    assert (
        "recorded more than once (dich-vu-mau--phone); the first recording is kept" in capsys.readouterr().err
    )
    assert [p.name for p in (tmp_path / "flows").glob("*.flow.yaml")] == ["dich-vu-mau.flow.yaml"]


@pytest.mark.parametrize(
    ("broken", "text", "said"),
    [
        ("recording.har", '{"log": {"entries": "not a list"}}', "entries is not a list"),
        ("recording.har", '{"log": {"entries": [{"request": {}, "response": {"status": 200}}]}}', "entry 1"),
        ("recording.har", '{"log": {"entries": [1, 2]}}', "entry 1"),
        ("steps.json", '{"service": "dich-vu-b", "citizen": {"cccd": "0010', "steps.json"),
        ("steps.json", '{"steps": [{"step": "login"}]}', "steps.json"),
    ],
)
def test_a_broken_recording_is_one_line_exit_2_and_writes_no_flow(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], broken: str, text: str, said: str
) -> None:
    """The good recording compiled before the broken one is not left written either (#31.15), and
    what the folder held before the failed compile is untouched."""
    rec, flows = tmp_path / "rec", tmp_path / "flows"
    har_builder.portal_recording(rec, "dich-vu-a")
    bad = har_builder.portal_recording(rec, "dich-vu-b")
    (bad / broken).write_text(text, encoding="utf-8")
    flows.mkdir()
    (flows / "older.flow.yaml").write_text("kept\n", encoding="utf-8")
    assert main(["flows", "compile", str(rec), "--out", str(flows)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert said in err and str(bad / broken) in " ".join(err.split()).replace(" ", ""), err
    assert sorted(p.name for p in flows.iterdir()) == ["older.flow.yaml"]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_a_har_that_is_a_fifo_is_refused_at_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A HAR named by mistake that is a FIFO (or a device) is refused on sight; reading it would block
    for good (#31.7). No writer ever opens the FIFO, so a read that waited would hang the test."""
    import os

    rec = tmp_path / "rec"
    bad = har_builder.portal_recording(rec, "dich-vu-a")
    (bad / "recording.har").unlink()
    os.mkfifo(bad / "recording.har")
    assert main(["flows", "compile", str(rec), "--out", str(tmp_path / "flows")]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert "FIFO" in err or "not a regular file" in err, err


def test_an_out_that_is_a_file_is_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    har_builder.portal_recording(tmp_path / "rec")
    (tmp_path / "flows").write_text("a file", encoding="utf-8")
    assert main(["flows", "compile", str(tmp_path / "rec"), "--out", str(tmp_path / "flows")]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "not a folder" in err, err
    assert (tmp_path / "flows").read_text(encoding="utf-8") == "a file"


def test_a_staging_folder_a_killed_compile_left_is_removed_by_the_next(tmp_path: Path) -> None:
    """SIGKILL runs no cleanup: the next compile removes a staging folder whose process is gone, and
    leaves a running one's alone."""
    import os
    import subprocess
    import sys

    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    abandoned = tmp_path / f".flows-compiling-{int(gone.stdout)}-x1"
    running = tmp_path / f".flows-compiling-{os.getppid()}-x2"
    for folder in (abandoned, running):
        folder.mkdir()
        (folder / "half.flow.yaml").write_text("version: 1\n", encoding="utf-8")
    har_builder.portal_recording(tmp_path / "rec")
    assert main(["flows", "compile", str(tmp_path / "rec"), "--out", str(tmp_path / "flows")]) == 0
    assert not abandoned.exists() and running.exists()
    assert sorted(p.name for p in (tmp_path / "flows").iterdir()) == ["dich-vu-mau.flow.yaml", "flows.yaml"]
