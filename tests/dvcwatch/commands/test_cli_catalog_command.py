"""`dvcwatch catalog` as a user and other tools see it: output, JSON shape and exit codes.

The installed console script is run as a subprocess (what a shell sees: stdout, stderr, exit code),
and `dvcwatch.commands.cli.main` in-process for the many cheap cases.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dvcwatch.commands.cli import main

ROOT = Path(__file__).resolve().parents[3]
INVALID = ROOT / "tests" / "data" / "invalid"
DVCWATCH = Path(sys.executable).with_name("dvcwatch")
ALLOWED_AGENCIES = {
    "mps",
    "justice",
    "social-insurance",
    "finance",
    "natural-resources",
    "transport",
    "education",
    "labour",
    "industry-trade",
}


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    env.pop("DVCWATCH_CATALOG", None)
    return subprocess.run(
        [str(DVCWATCH), *args], capture_output=True, text=True, timeout=60, env=env, cwd=ROOT, check=False
    )


@pytest.fixture(autouse=True)
def _wide_plain_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.delenv("DVCWATCH_CATALOG", raising=False)


# --- the installed command, as a shell runs it -------------------------------------------------------


def test_console_script_is_installed_next_to_the_interpreter() -> None:
    assert DVCWATCH.exists(), f"{DVCWATCH}: run `pip install -e .` in the venv"


def test_json_lists_the_25_services_other_tools_read() -> None:
    proc = _run("catalog", "--json")
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)
    assert isinstance(rows, list) and len(rows) == 25
    assert len({r["id"] for r in rows}) == 25
    for r in rows:
        assert {"id", "name_vi", "name_en", "agency", "level", "fee"} <= set(r)
        assert r["level"] in {"full", "partial"}
        assert type(r["fee"]) is int and r["fee"] >= 0
        assert r["agency"] in ALLOWED_AGENCIES
        assert r["name_vi"] and r["name_en"]
    by_id = {r["id"]: r for r in rows}
    assert by_id["dang-ky-khai-sinh"]["name_vi"] == "Đăng ký khai sinh", "Vietnamese kept, not \\u-escaped"
    assert "Đăng ký khai sinh" in proc.stdout
    assert by_id["xac-nhan-so-cmnd"]["fee"] == 0
    assert by_id["cap-ho-chieu"]["fee"] == 200_000


def test_unknown_service_exits_2_with_one_line_and_a_suggestion() -> None:
    proc = _run("catalog", "--service", "dang-ky-khai-sin")
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "unknown service id 'dang-ky-khai-sin'" in lines[0]
    assert "did you mean dang-ky-khai-sinh" in lines[0]
    assert "Traceback" not in proc.stderr


def test_does_not_exist_exits_2_pointing_at_the_listing() -> None:
    proc = _run("catalog", "--service", "does-not-exist")
    assert proc.returncode == 2
    assert "unknown service id 'does-not-exist'" in proc.stderr


def test_a_malformed_catalog_file_exits_2_naming_file_and_line() -> None:
    path = INVALID / "catalog-malformed-yaml.yml"
    proc = _run("catalog", "--file", str(path))
    assert proc.returncode == 2
    assert f"{path}:32: malformed YAML" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "Traceback" not in proc.stderr


def test_a_missing_catalog_file_exits_2_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "khong-co.yaml"
    proc = _run("catalog", "--file", str(path))
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"error: {path}: file not found"


def test_table_shows_all_25_services() -> None:
    proc = _run("catalog")
    assert proc.returncode == 0, proc.stderr
    assert "25 services" in proc.stdout
    for service_id in ("xac-nhan-so-cmnd", "dang-ky-khai-sinh", "doi-chu-the-hop-dong-dien"):
        assert service_id in proc.stdout
    assert "weight is an estimate" in proc.stdout


def test_catalog_help_in_a_shell_shows_an_example() -> None:
    proc = _run("catalog", "--help")
    assert proc.returncode == 0
    assert "examples:" in proc.stdout and "dvcwatch catalog --json" in proc.stdout


def test_python_dash_m_runs_the_same_cli() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "dvcwatch", "catalog", "--service", "nope"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        check=False,
    )
    assert proc.returncode == 2
    assert "unknown service id 'nope'" in proc.stderr


# --- in-process, through dvcwatch.commands.cli.main -----------------------------------------------------------


def _json(capsys: pytest.CaptureFixture[str], *args: str) -> object:
    assert main(["catalog", "--json", *args]) == 0
    return json.loads(capsys.readouterr().out)


def test_main_json_matches_the_catalog(capsys: pytest.CaptureFixture[str]) -> None:
    from dvcwatch.core.catalog import load_catalog

    rows = _json(capsys)
    assert [r["id"] for r in rows] == [s.id for s in load_catalog().services]


@pytest.mark.parametrize("level", ["full", "partial"])
def test_level_filter(capsys: pytest.CaptureFixture[str], level: str) -> None:
    rows = _json(capsys, "--level", level)
    assert rows and {r["level"] for r in rows} == {level}


def test_level_filters_split_the_25(capsys: pytest.CaptureFixture[str]) -> None:
    full = _json(capsys, "--level", "full")
    partial = _json(capsys, "--level", "partial")
    assert len(full) + len(partial) == 25
    assert {"dang-ky-thuong-tru", "dang-ky-tam-tru"} <= {r["id"] for r in partial}


def test_agency_filter(capsys: pytest.CaptureFixture[str]) -> None:
    rows = _json(capsys, "--agency", "justice")
    assert {r["agency"] for r in rows} == {"justice"}
    assert {"dang-ky-khai-sinh", "dang-ky-khai-tu", "dang-ky-ket-hon"} <= {r["id"] for r in rows}
    both = _json(capsys, "--agency", "mps", "--level", "full")
    assert both and all(r["agency"] == "mps" and r["level"] == "full" for r in both)


def test_unknown_agency_exits_2_listing_the_known_ones(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalog", "--agency", "cong-an"]) == 2
    err = capsys.readouterr().err
    assert "unknown agency 'cong-an'" in err and "mps" in err and "justice" in err


def test_one_service_as_json_is_the_full_entry(capsys: pytest.CaptureFixture[str]) -> None:
    entry = _json(capsys, "--service", "lien-thong-khai-sinh")
    assert isinstance(entry, dict)
    assert entry["id"] == "lien-thong-khai-sinh"
    assert entry["fields"] and entry["documents"] and len(entry["sub_results"]) == 3


def test_one_service_as_a_table_shows_fields_and_documents(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalog", "--service", "dang-ky-tam-tru"]) == 0
    out = capsys.readouterr().out
    assert "Đăng ký tạm trú" in out
    assert "level: partial" in out and "7,000 VND" in out
    for name in ("so_cccd", "dia_chi_tam_tru", "thoi_han_thang", "to-khai-ct01"):
        assert name in out
    assert r"^\d{12}$" in out, "the CCCD rule is shown"


def test_unknown_service_in_process(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalog", "--service", "dang-ky-ket-hn"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "unknown service id 'dang-ky-ket-hn'; did you mean dang-ky-ket-hon" in captured.err


def test_missing_catalog_file_exits_2_naming_it(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "khong-co.yaml"
    assert main(["catalog", "--file", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}: file not found" in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("name", "where"),
    [
        ("catalog-malformed-yaml", ":32: malformed YAML"),
        ("catalog-missing-field", ":26: services[1](dang-ky-tam-tru).name_en: required field is missing"),
        ("catalog-unknown-agency", ":29: services[1](dang-ky-tam-tru).agency:"),
        ("catalog-duplicate-id", ":26: services[1](dang-ky-khai-sinh).id:"),
    ],
)
def test_broken_catalog_files_exit_2_in_one_line(
    capsys: pytest.CaptureFixture[str], name: str, where: str
) -> None:
    path = INVALID / f"{name}.yml"
    assert main(["catalog", "--file", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert f"{path}{where}" in captured.err
    assert len(captured.err.strip().splitlines()) == 1


def test_env_catalog_is_used_when_no_file_is_given(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "DVCWATCH_CATALOG", str(ROOT / "tests" / "dvcwatch" / "core" / "data" / "minimal-catalog.yml")
    )
    rows = _json(capsys)
    assert [r["id"] for r in rows] == ["dang-ky-khai-sinh", "dang-ky-tam-tru"]


def test_catalog_help_shows_an_example(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["catalog", "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "examples:" in out
    assert "dvcwatch catalog --service dang-ky-khai-sinh" in out
    for option in ("--service", "--agency", "--level", "--json", "--file"):
        assert option in out


def test_top_level_help_lists_catalog_and_examples(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "catalog" in out and "examples:" in out and "exit codes" in out


def test_no_command_prints_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "usage: dvcwatch" in capsys.readouterr().out


def test_bad_option_value_is_a_usage_error_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["catalog", "--level", "toan-trinh"])
    assert info.value.code == 2
    assert "invalid choice: 'toan-trinh'" in capsys.readouterr().err
