"""`dvcwatch profile check` walks one service step by step and names the selector that did not resolve.
By default it never submits or pays (the sandbox's database stays empty) and lists the selectors it
could not reach; exit 0 means every selector the journeys use was found, which on a sandbox or staging
profile takes `--through result` (one dossier filed and paid)."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fixtures.other_portal import OtherPortal
from fixtures.other_portal.target import profile_for

from dvcwatch.commands.cli import main
from dvcwatch.core.profile import SANDBOX_PROFILE


def sandbox_profile(path: Path, url: str, old: str = "", new: str = "") -> Path:
    text = SANDBOX_PROFILE.read_text(encoding="utf-8").replace("http://127.0.0.1:8480", url)
    if old:
        assert old in text
        text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")
    return path


def flat(text: str) -> str:
    return " ".join(text.split())


def counts(server: Any) -> tuple[int, int]:
    with sqlite3.connect(server.db_path) as db:
        return (
            db.execute("SELECT count(*) FROM dossiers").fetchone()[0],
            db.execute("SELECT count(*) FROM payments").fetchone()[0],
        )


@pytest.mark.browser
def test_looking_only_files_nothing_and_what_it_never_reached_is_not_verified(
    sandbox_factory: Callable[..., Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = sandbox_factory()
    prof = sandbox_profile(tmp_path / "sandbox.yaml", server.url)
    code = main(["profile", "check", str(prof), "--service", "cap-ho-chieu", "--out", str(tmp_path / "out")])
    out = flat(capsys.readouterr().out)
    assert code == 1, out  # a sandbox profile's journeys pay, submit and track: those went unproved
    assert "✔ home 200" in out and "✔ tracking 200" in out
    assert 'found search_input: [data-testid="search-input"]' in out
    assert "not verified (run with --through result" in out
    for unproved in (
        "payment bank",
        "payment payment_confirm",
        "submit dossier_code",
        "tracking dossier_status",
    ):
        assert f"? {unproved}" in out, unproved
    assert "pay_button" not in out.split("not verified")[1]  # seen before the check stopped
    assert "submit_button" not in out.split("not verified")[1]  # seen on the documents page
    assert "NOT VERIFIED" in out
    assert counts(server) == (0, 0)


@pytest.mark.browser
def test_through_the_result_files_one_dossier_and_proves_every_selector(
    sandbox_factory: Callable[..., Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = sandbox_factory()
    prof = sandbox_profile(tmp_path / "sandbox.yaml", server.url)
    args = ["profile", "check", str(prof), "--service", "cap-ho-chieu", "--out", str(tmp_path / "out")]
    code = main([*args, "--through", "result"])
    out = flat(capsys.readouterr().out)
    assert code == 0, out
    assert "files and pays one dossier" in out and "not verified" not in out
    assert 'found bank: [data-testid="bank-vcb"]' in out and "found dossier_status" in out
    assert "OK: checked to the end; every URL and selector the journeys use was found" in out
    assert counts(server) == (1, 1)


@pytest.mark.browser
def test_in_production_what_journeys_never_reach_is_listed_but_does_not_fail(
    sandbox_factory: Callable[..., Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = sandbox_factory()
    prof = sandbox_profile(
        tmp_path / "prod.yaml", server.url, "environment: sandbox ", "environment: production "
    )
    args = ["profile", "check", str(prof), "--service", "cap-ho-chieu", "--out", str(tmp_path / "out")]
    assert main([*args, "--through", "result"]) == 2
    assert "only on a sandbox or staging profile" in capsys.readouterr().err
    code = main(args)
    out = flat(capsys.readouterr().out)
    assert code == 0, out
    assert "not verified (production journeys stop at the last reversible point" in out
    assert "? payment bank" in out
    assert counts(server) == (0, 0)


@pytest.mark.browser
def test_a_selector_that_is_not_even_a_selector_is_a_harness_error_naming_it(
    sandbox_factory: Callable[..., Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = sandbox_factory()
    prof = sandbox_profile(
        tmp_path / "bad.yaml",
        server.url,
        "service_name: '[data-testid=\"service-name\"]'",
        "service_name: 'div[[ten'",
    )
    code = main(["profile", "check", str(prof), "--step-timeout", "4", "--out", str(tmp_path / "out")])
    err = flat(capsys.readouterr().err)
    # refused when the profile is read (#31.12): such a selector is wrong on every page, no browser runs
    assert code == 2
    assert f"{prof}:" in err and "selectors.service_name: invalid selector: an unclosed [" in err, err


@pytest.mark.browser
def test_one_wrong_selector_is_named_with_its_step_and_a_screenshot(
    sandbox_factory: Callable[..., Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = sandbox_factory()
    wrong = '[data-testid="search-box"]'
    prof = sandbox_profile(
        tmp_path / "wrong.yaml",
        server.url,
        "search_input: '[data-testid=\"search-input\"]'",
        f"search_input: '{wrong}'",
    )
    out_dir = tmp_path / "out"
    code = main(["profile", "check", str(prof), "--step-timeout", "4", "--out", str(out_dir)])
    out = flat(capsys.readouterr().out)
    assert code == 1
    assert f"FAILED at step find_service: search_input: {wrong}" in out
    assert "✔ login" in out and "✔ otp" in out and "· form not_run" in out
    shots = list(out_dir.rglob("*.png"))
    assert len(shots) == 1 and str(shots[0]) in out


@pytest.mark.browser
def test_the_fixture_portal_profile_checks_and_a_wrong_label_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with OtherPortal(citizens_count=20) as portal:
        good = profile_for(portal, tmp_path / "good.yaml")
        args = [
            "profile",
            "check",
            str(good),
            "--service",
            "dang-ky-thuong-tru",
            "--out",
            str(tmp_path / "a"),
        ]
        assert main([*args, "--through", "result"]) == 0
        assert "OK: checked to the end" in flat(capsys.readouterr().out)
        assert portal.counts()["dossiers"] == 1
        bad = profile_for(
            portal,
            tmp_path / "bad.yaml",
            replace={"login_password: {label: Mật khẩu}": "login_password: {label: Mat khau}"},
        )
        code = main(["profile", "check", str(bad), "--step-timeout", "4", "--out", str(tmp_path / "b")])
        assert code == 1
        assert 'FAILED at step login: login_password: label "Mat khau"' in flat(capsys.readouterr().out)
        assert portal.counts()["dossiers"] == 1  # only the one --through result filed


def test_a_broken_profile_is_exit_2_with_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    prof = sandbox_profile(
        tmp_path / "v2.yaml",
        "http://127.0.0.1:1",
        "  field: '[data-testid=\"field-{field}\"]'",
        "  field: null",
    )
    assert main(["profile", "check", str(prof)]) == 2
    err = flat(capsys.readouterr().err)
    assert "selectors.field" in err and "give a selector, not null" in err and f"{prof}:" in err


@pytest.mark.parametrize("command", ["profile", "shop"])
def test_a_forms_section_naming_what_the_catalog_lacks_is_exit_2_before_any_browser(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    prof = sandbox_profile(
        tmp_path / "forms.yaml",
        "http://127.0.0.1:1",
        "forms: {}",
        "forms:\n  cap-doi-gplx:\n    fields:\n      hang: Hạng GPLX\n",
    )
    args = (
        ["profile", "check", str(prof)]
        if command == "profile"
        else ["shop", "--target", str(prof), "--service", "cap-doi-gplx", "--out", str(tmp_path / "out")]
    )
    assert main(args) == 2
    err = flat(capsys.readouterr().err)
    assert re.search(rf"{re.escape(str(prof))}:\d+: forms\.cap-doi-gplx\.fields\.hang:", err), err
    assert "the catalog's cap-doi-gplx form has no field 'hang'" in err
