"""A target profile comes from a file, a bare base URL, or the sandbox default; a bad one fails early."""

from __future__ import annotations

from pathlib import Path

import pytest

from dvcwatch.errors import ConfigError
from dvcwatch.profile import SANDBOX_PROFILE, load_profile

WARD_PORTAL = """\
version: 1
name: ward-portal
base_url: https://staging.example.invalid/
environment: staging
paths:
  service: /thu-tuc-hanh-chinh/{code}
  payment_gateway: https://thanhtoan.example.invalid/
otp:
  source: command
  url: null
  command: ./read-otp.sh {cccd}
identities:
  seed: 7
  count: 20
selectors:
  error_banner: "div.alert-danger:has-text('Hệ thống đang bận')"
"""


def test_default_is_the_sandbox_profile() -> None:
    prof = load_profile()
    assert prof.name == "sandbox" and prof.environment == "sandbox"
    assert prof.base_url == "http://127.0.0.1:8480"
    assert prof.paths.api_base == "/api/v1"
    assert prof.paths.health == "/api/v1/health"
    assert prof.otp.source == "sandbox"
    assert (prof.identities.seed, prof.identities.count) == (42, 200)


def test_a_base_url_points_the_sandbox_profile_elsewhere() -> None:
    prof = load_profile("http://127.0.0.1:9123/")
    assert prof.base_url == "http://127.0.0.1:9123"
    assert prof.paths == load_profile(SANDBOX_PROFILE).paths
    assert prof.url(prof.paths.health) == "http://127.0.0.1:9123/api/v1/health"


def test_a_profile_file_is_read_with_its_own_paths_and_selectors(tmp_path: Path) -> None:
    path = tmp_path / "ward.yaml"
    path.write_text(WARD_PORTAL, encoding="utf-8")
    prof = load_profile(path)
    assert prof.name == "ward-portal" and prof.environment == "staging"
    assert prof.base_url == "https://staging.example.invalid"
    assert prof.paths.login == "/dang-nhap", "paths a profile leaves out keep the defaults"
    assert prof.url(prof.paths.service, code="1.001193") == (
        "https://staging.example.invalid/thu-tuc-hanh-chinh/1.001193"
    )
    assert prof.url(prof.paths.payment_gateway) == "https://thanhtoan.example.invalid/"
    assert prof.url("tra-cuu") == "https://staging.example.invalid/tra-cuu"
    assert prof.otp.command == "./read-otp.sh {cccd}"
    assert prof.identities.count == 20
    assert prof.selectors.error_banner == "div.alert-danger:has-text('Hệ thống đang bận')"
    assert prof.selectors.error_page == load_profile().selectors.error_page, "unset selectors keep defaults"


def test_a_missing_profile_file_is_a_config_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "khong-co.yaml"
    with pytest.raises(ConfigError) as info:
        load_profile(path)
    assert info.value.path == str(path)
    assert str(info.value).startswith(f"{path}: profile file not found")
    assert "http(s)://" in str(info.value)


def test_a_profile_error_names_file_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "ward.yaml"
    path.write_text(WARD_PORTAL.replace("  count: 20", "  count: lots"), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_profile(path)
    assert (info.value.line, info.value.field) == (14, "identities.count")
    assert "got 'lots'" in str(info.value)


def test_a_profile_without_base_url_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ward.yaml"
    path.write_text(WARD_PORTAL.replace("base_url: https://staging.example.invalid/\n", ""), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"base_url: required field is missing"):
        load_profile(path)
