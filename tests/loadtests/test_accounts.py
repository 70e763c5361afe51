"""A target profile with test accounts: the built-in citizens log in with them, not with synthetic ones."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
import yaml

from dvcwatch.core.identities import citizen
from dvcwatch.core.profile import SANDBOX_PROFILE

DATA = Path(__file__).with_name("data")

pytestmark = pytest.mark.slow


def test_every_login_uses_the_profiles_account(
    sandbox_factory: Any, tmp_path: Path, run_load: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "portal.sqlite3"
    sandbox = sandbox_factory(db_path=db)
    tester = citizen(42, 7)  # a citizen the sandbox registers, standing in for the operator's account
    monkeypatch.setenv("DVC_LOAD_TESTER_PASSWORD", tester.password)
    profile = yaml.safe_load(Path(SANDBOX_PROFILE).read_text(encoding="utf-8"))
    profile.update(
        base_url=sandbox.url,
        accounts=[
            {"name": "tester-7", "username": tester.cccd, "password": {"env": "DVC_LOAD_TESTER_PASSWORD"}}
        ],
        account="tester-7",
    )
    target = tmp_path / "with-account.yaml"
    target.write_text(yaml.safe_dump(profile, allow_unicode=True), encoding="utf-8")

    code, report = run_load(
        "--profile", str(DATA / "short-steady.yaml"), "--host", sandbox.url, "--target", str(target),
        "--max-duration", "8", "--out", str(tmp_path / "out"),
    )  # fmt: skip
    assert report is not None, code
    with sqlite3.connect(db) as conn:
        owners = {row[0] for row in conn.execute("SELECT cccd FROM dossiers")}
    assert owners == {tester.cccd}  # 12 users, one account: every dossier is the account's
    assert report["totals"]["requests"] > 0
    assert tester.password not in (tmp_path / "out" / "report.json").read_text(encoding="utf-8")


def test_an_account_whose_secret_is_missing_stops_the_run_before_it_starts(
    tmp_path: Path, run_load: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("DVC_LOAD_NO_SUCH_PASSWORD", raising=False)
    profile = yaml.safe_load(Path(SANDBOX_PROFILE).read_text(encoding="utf-8"))
    profile["accounts"] = [
        {"name": "t", "username": "001099000001", "password": {"env": "DVC_LOAD_NO_SUCH_PASSWORD"}}
    ]
    target = tmp_path / "missing.yaml"
    target.write_text(yaml.safe_dump(profile, allow_unicode=True), encoding="utf-8")
    code, report = run_load(
        "--profile", "smoke", "--host", "http://127.0.0.1:9", "--target", str(target), "--out", str(tmp_path / "o")
    )  # fmt: skip
    assert code == 2 and report is None
    assert "DVC_LOAD_NO_SUCH_PASSWORD" in capsys.readouterr().err
