"""`shop --record` is refused where it must be, before any browser or folder (no portal needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dvcwatch.commands.cli import main
from dvcwatch.core.profile import SANDBOX_PROFILE


def _profile(path: Path, environment: str) -> Path:
    text = SANDBOX_PROFILE.read_text(encoding="utf-8").replace(
        "environment: sandbox", f"environment: {environment}"
    )
    path.write_text(
        text.replace("base_url: http://127.0.0.1:8480", "base_url: http://127.0.0.1:1"), encoding="utf-8"
    )
    return path


def test_recording_a_production_portal_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    prod = _profile(tmp_path / "prod.yaml", "production")
    argv = ["shop", "--target", str(prod), "--out", str(tmp_path / "out"), "--record", str(tmp_path / "rec")]
    assert main(argv) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "--record is for the sandbox and staging" in err and "environment" in err
    assert not (tmp_path / "rec").exists() and not (tmp_path / "out").exists()
    # the same refusal with the authorisation to submit: recording is never for production
    assert main([*argv, "--i-have-authorisation"]) == 2


def test_recording_is_one_sweep(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    staging = _profile(tmp_path / "staging.yaml", "staging")
    argv = ["shop", "--target", str(staging), "--record", str(tmp_path / "rec"), "--every", "1m"]
    assert main(argv) == 2
    assert "--record keeps one sweep's journeys" in capsys.readouterr().err


@pytest.mark.parametrize("where", ["/proc/x", "a-file/below"])
def test_a_recording_folder_that_cannot_be_written_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], where: str
) -> None:
    """Issue 31.10: `--record /proc/x` ended in a traceback once the sweep had started."""
    (tmp_path / "a-file").write_text("")
    rec = where if where.startswith("/") else str(tmp_path / where)
    staging = _profile(tmp_path / "staging.yaml", "staging")
    argv = ["shop", "--target", str(staging), "--out", str(tmp_path / "out"), "--record", rec]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert f"--record {rec}: cannot write there" in err and "Traceback" not in err, err
    assert len(err.strip().splitlines()) == 1, err
