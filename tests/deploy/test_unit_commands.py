"""The command lines in deploy/systemd/ as the processes would get them, with docs/deploy.md's example
settings: every variable is set (systemd would pass an empty word for one that is not, silently), and
dvcwatch's own parser accepts every flag. The browser server's command starts a real `playwright
launch-server` with the example launch options, which serves the right path and no other.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from unitfiles import (
    DEPLOYED_VENV,
    EXAMPLES,
    UNIT_DIR,
    BrowserUnit,
    command_lines,
    read_unit,
    unit_environment,
    unit_files,
)

from dvcwatch.commands.cli import build_parser

DVCWATCH_UNITS = [u for u in unit_files() if any(DEPLOYED_VENV + "dvcwatch" in s.value for s in read_unit(u))]
START_SECONDS = 90.0


def dvcwatch_commands(unit: Path, credentials: Path) -> list[list[str]]:
    lines = command_lines(unit, "phuong-vinh-hung", unit_environment(unit), credentials)
    return [argv[1:] for argv in lines if argv[0] == DEPLOYED_VENV + "dvcwatch"]


def parser_refusal(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """What dvcwatch's parser says against `argv`; empty when it accepts it."""
    try:
        build_parser().parse_args(argv)
    except SystemExit:
        return capsys.readouterr().err or "refused"
    return ""


def test_units_run_dvcwatch() -> None:
    assert {u.name for u in DVCWATCH_UNITS} >= {"dvcwatch-ward@.service", "dvcwatch-prober@.service"}


@pytest.mark.parametrize("unit", DVCWATCH_UNITS, ids=lambda p: p.name)
def test_dvcwatch_accepts_the_units_command_line(
    unit: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    commands = dvcwatch_commands(unit, tmp_path)  # KeyError: a ${VAR} no environment file sets
    assert commands
    for argv in commands:
        assert parser_refusal(argv, capsys) == "", argv


def test_the_ward_runner_sweeps_as_the_issue_asks(tmp_path: Path) -> None:
    (argv,) = dvcwatch_commands(UNIT_DIR / "dvcwatch-ward@.service", tmp_path)
    args = build_parser().parse_args(argv)
    assert args.command == "shop"
    assert args.vantage == "phuong-vinh-hung"
    assert args.every == "1h"
    assert args.history.startswith("postgresql://dvcwatch@db.tinh-x.internal/dvcwatch?sslmode=verify-full&")
    assert args.browser == [f"@{tmp_path / 'browsers'}"]  # one endpoint a line, out of `ps`
    assert args.target == str(tmp_path / "profile.yaml")


def test_a_misspelt_flag_is_caught(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (argv,) = dvcwatch_commands(UNIT_DIR / "dvcwatch-ward@.service", tmp_path)
    spoilt = [("--vantge" if a == "--vantage" else a) for a in argv]
    assert "--vantge" in parser_refusal(spoilt, capsys)


@pytest.mark.browser
def test_the_browser_unit_serves_its_path_only(tmp_path: Path) -> None:
    from playwright.sync_api import Error, sync_playwright

    from playwright_journeys.browser import CHROMIUM_ARGS, HEADLESS_SHELL

    options = json.loads((EXAMPLES / "launch.json").read_text(encoding="utf-8"))
    # the servers run chromium as a local sweep does
    assert (options["executablePath"], options["args"]) == (HEADLESS_SHELL, CHROMIUM_ARGS)
    server = BrowserUnit(tmp_path)
    try:
        server.wait_listening()
        with sync_playwright() as pw:
            browser = pw.chromium.connect(server.url, timeout=60_000)
            page = browser.new_page()
            page.set_content("<p id=x>xin chào</p>")
            assert page.text_content("#x") == "xin chào"
            browser.close()
            with pytest.raises(Error) as refused:
                pw.chromium.connect(server.url.replace(server.path, "/not-the-path"), timeout=20_000)
            assert "400 Bad Request" in str(refused.value)  # refused at once, not timed out
    finally:
        server.stop()
