"""What `dvcwatch profile check` says about itself: a look-only check of a staging profile never calls
the portal production, and a harness error is called one once, not twice."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from dvcwatch.commands.cli import main
from dvcwatch.core.profile import SANDBOX_PROFILE

pytestmark = pytest.mark.browser


def sandbox_profile(path: Path, url: str, old: str, new: str) -> Path:
    text = SANDBOX_PROFILE.read_text(encoding="utf-8").replace("http://127.0.0.1:8480", url)
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


def test_a_look_only_check_of_a_staging_profile_does_not_say_production(
    sandbox_factory: Callable[..., Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = sandbox_factory()
    prof = sandbox_profile(
        tmp_path / "staging.yaml", server.url, "environment: sandbox ", "environment: staging "
    )
    main(["profile", "check", str(prof), "--service", "cap-ho-chieu", "--out", str(tmp_path / "out")])
    out = " ".join(capsys.readouterr().out.split())
    assert "a look-only check of this staging profile" in out, out
    assert "production" not in out, out


def test_a_harness_error_is_called_one_once(
    sandbox_factory: Callable[..., Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = sandbox_factory()
    prof = sandbox_profile(  # a button where the CCCD is typed: Playwright refuses to fill it
        tmp_path / "wrong.yaml",
        server.url,
        "login_cccd: '[data-testid=\"login-cccd\"]'",
        "login_cccd: '[data-testid=\"login-submit\"]'",
    )
    code = main(["profile", "check", str(prof), "--step-timeout", "4", "--out", str(tmp_path / "out")])
    out = " ".join(capsys.readouterr().out.split())
    assert code == 1, out
    assert "FAILED at step login: a harness or profile error, not the portal: " in out, out
    assert not re.search(r"harness or profile error(, not the portal:)? harness or profile error", out), out
