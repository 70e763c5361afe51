"""`probe --from-catalog` and the profile's error selectors (#27.8b, #31.12): a selector list is kept,
only its parts that need a browser are left out and named exactly; an invalid selector is called
invalid (exit 2, naming file, line and field), never "needs a browser"."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from dvcwatch.commands.cli import main
from probes.config import load_config

ASPNET_LIST = 'div.validation-summary-errors, .alert-danger:has-text("Lỗi"), #loi-he-thong'


def _profile(tmp_path: Path, error_page: str, error_banner: str) -> Path:
    path = tmp_path / "p.yaml"
    path.write_text(
        "version: 2\nname: p\nbase_url: http://127.0.0.1:9\nselectors:\n"
        f"  error_page: {error_page!r}\n  error_banner: {error_banner!r}\n",
        encoding="utf-8",
    )
    return path


def test_a_selector_list_is_kept_and_only_its_browser_parts_are_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    profile = _profile(tmp_path, ASPNET_LIST, "div.qua-tai, div.ban:visible")
    out = tmp_path / "probes.yaml"
    assert main(["probe", "--from-catalog", str(profile), "--out", str(out)]) == 0
    err = " ".join(capsys.readouterr().err.split())
    assert "'div.ban:visible' needs a browser" in err
    assert "validation-summary" not in err and "div.qua-tai" not in err, err
    data = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert data["modules"]["page"]["must_not_match"] == [ASPNET_LIST, "div.qua-tai"]
    assert "'div.ban:visible' needs a browser" in out.read_text(encoding="utf-8")
    load_config(out)  # the generated file loads: the prober reads the list as written


@pytest.mark.parametrize("bad", ["a:has-text(", "div[", "..x"])
def test_an_invalid_selector_is_invalid_not_needing_a_browser(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], bad: str
) -> None:
    profile = _profile(tmp_path, bad, "div.qua-tai")
    out = tmp_path / "probes.yaml"
    assert main(["probe", "--from-catalog", str(profile), "--out", str(out)]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert f"{profile}:5" in err and "selectors.error_page: invalid selector" in err, err
    assert "needs a browser" not in err and "Traceback" not in err
    assert not out.exists()
