"""A target profile comes from a file, a bare base URL, or the sandbox default; a bad one fails early."""

from __future__ import annotations

from pathlib import Path

import pytest

from dvcwatch.core.catalog import load_catalog
from dvcwatch.core.errors import ConfigError
from dvcwatch.core.profile import SANDBOX_PROFILE, load_profile

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


# ---- profile v2 ---------------------------------------------------------------------------------------

FIXTURE_PROFILE = Path(__file__).resolve().parents[2] / "fixtures" / "other_portal" / "profile.yaml"
V2 = "version: 2\nname: x\nbase_url: https://dvc.example.invalid\n"

# (what the user wrote after the v2 header, line, field, words of the message)
V2_MISTAKES = [
    (
        "environmen: staging\n",
        4,
        "environmen",
        "unknown field (check the spelling); did you mean environment?",
    ),
    (
        "selectors:\n  login_cccd: {label: Số định danh, role: textbox}\n",
        5,
        "selectors.login_cccd",
        "give exactly one of label, role (with name), text, placeholder or css; got label, role",
    ),
    (
        "selectors:\n  submit_button: {role: buton, name: Nộp}\n",
        5,
        "selectors.submit_button",
        "unknown role 'buton'",
    ),
    ("selectors:\n  submit_button: {name: Nộp}\n", 5, "selectors.submit_button", "name goes with role"),
    (
        "selectors:\n  upload_done: {text: '([', regex: true}\n",
        5,
        "selectors.upload_done",
        "not a valid regular",
    ),
    (
        "selectors:\n  otp_input: null\n",
        5,
        "selectors.otp_input",
        "every portal has one: give a selector, not null",
    ),
    (
        "origins:\n  identity: sso.example.invalid\n",
        5,
        "origins.identity",
        "must start with http:// or https://",
    ),
    ("account: tester\n", 4, "account", "no account 'tester' under accounts (known: none)"),
    ("journey:\n  plugins: {pay: ward:pay}\n", 5, "journey.plugins.pay", "not a step of the vocabulary"),
    ("journey:\n  payment: later\n", 5, "journey.payment", "'before_submit' or 'after_submit'"),
    ("journey:\n  dossier_code_pattern: '(\\d'\n", 5, "journey.dossier_code_pattern", "not a valid regular"),
    ("allow_submit: true\n", 4, "allow_submit", "allow_submit only means something in production"),
    (
        "otp:\n  source: totp\n",
        4,
        "otp",
        "a totp source needs totp_secret_env, or `account:` naming an account with totp_secret",
    ),
    (
        "accounts:\n  - name: can-bo\n    username: '001099012345'\n    password: hunter22-secret\n",
        7,
        "accounts[0](can-bo).password",
        "a secret is never written in the profile",
    ),
]


@pytest.mark.parametrize(("body", "line", "field", "words"), V2_MISTAKES, ids=[m[2] for m in V2_MISTAKES])
def test_v2_mistakes_name_file_line_field_and_what_was_expected(
    tmp_path: Path, body: str, line: int, field: str, words: str
) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(V2 + body, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_profile(path)
    assert (info.value.path, info.value.line, info.value.field) == (str(path), line, field)
    assert words in str(info.value)
    assert "hunter22" not in str(info.value)


@pytest.mark.parametrize(
    ("body", "line", "field"),
    [
        ("services:\n  a: {code: '1.0'}\n", 4, "services"),
        ("selectors:\n  otp_input: {label: OTP}\n", 5, "selectors.otp_input"),
    ],
)
def test_v2_keys_in_a_v1_file_ask_for_version_2(tmp_path: Path, body: str, line: int, field: str) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(V2.replace("version: 2", "version: 1") + body, encoding="utf-8")
    with pytest.raises(ConfigError, match="version: 2") as info:
        load_profile(path)
    assert (info.value.field, info.value.line) == (field, line)


def test_the_worked_examples_load_as_v2_and_describe_things_as_a_citizen_sees_them() -> None:
    sandbox = load_profile(SANDBOX_PROFILE)
    assert sandbox.version == 2 and sandbox.journey.payment == "before_submit"
    fixture = load_profile(FIXTURE_PROFILE)
    assert fixture.version == 2 and fixture.journey.payment == "after_submit"
    assert fixture.origins["identity"].startswith("http://127.0.0.2:")
    assert fixture.selectors.form_next is None and fixture.journey.otp_boxes == 6
    assert fixture.selectors.get("field", label="Ngày sinh").label == "Ngày sinh"
    upload = fixture.selectors.get("upload", document_name="Giấy (bản sao)")
    assert (
        upload.regex and upload.label == r"^Giấy\ \(bản\ sao\) \("
    )  # values are escaped, the pattern is not
    assert fixture.selectors.get("dossier_code").describe() == 'text "Số hồ sơ:"'
    catalog = load_catalog()
    assert fixture.code_of(catalog.service("cap-doi-gplx")) == "9.900020"  # the profile's map
    assert fixture.code_of(catalog.service("dang-ky-thuong-tru")) == "1.004222"  # the catalog's code
    assert sandbox.code_of(catalog.service("cap-doi-gplx")) == "cap-doi-gplx"
