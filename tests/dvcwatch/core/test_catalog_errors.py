"""Every mistake a user makes in a catalog or profile gets one line naming file, line, field and fix.

Like blackbox_exporter's `config/testdata/invalid-*.yml`: each file in tests/data/invalid/ is a small
valid config (tests/dvcwatch/data/minimal-catalog.yml for catalogs) with exactly one mistake, and the
table below says where the error must point and what it must say was expected.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import pytest
from pydantic import BaseModel

from dvcwatch.core.catalog import load_catalog
from dvcwatch.core.catalog.models import Catalog
from dvcwatch.core.errors import ConfigError, UnknownServiceError
from dvcwatch.core.profile import Profile, load_profile
from dvcwatch.core.yamlconfig import load_model

TESTS = Path(__file__).resolve().parents[2]
INVALID = TESTS / "data" / "invalid"
MINIMAL_CATALOG = Path(__file__).resolve().parent / "data" / "minimal-catalog.yml"


class Expected(NamedTuple):
    line: int
    field: str | None  # the location as the message prints it; None for YAML syntax errors
    says: str  # what was wrong or expected, as the user reads it


INVALID_CASES: dict[str, Expected] = {
    "catalog-malformed-yaml": Expected(32, None, "flow mapping started at line 31"),
    "catalog-tab-indent": Expected(29, None, "'\\t' that cannot start any token"),
    "catalog-missing-field": Expected(
        26, "services[1](dang-ky-tam-tru).name_en", "required field is missing"
    ),
    "catalog-wrong-type": Expected(31, "services[1](dang-ky-tam-tru).fee.amount", "valid integer"),
    "catalog-unknown-agency": Expected(
        29, "services[1](dang-ky-tam-tru).agency", "agency 'cong-an' is not one of ['justice', 'mps']"
    ),
    "catalog-duplicate-id": Expected(26, "services[1](dang-ky-khai-sinh).id", "duplicate service id"),
    "catalog-duplicate-field": Expected(
        22, "services[0](dang-ky-khai-sinh).fields[1](ho_ten_tre).name", "duplicate field name 'ho_ten_tre'"
    ),
    "catalog-duplicate-document": Expected(
        35,
        "services[1](dang-ky-tam-tru).documents[1](to-khai-ct01).id",
        "duplicate document id 'to-khai-ct01'",
    ),
    "catalog-bad-regex": Expected(
        36,
        "services[1](dang-ky-tam-tru).fields[0](dia_chi_tam_tru).pattern",
        "not a valid regular expression",
    ),
    "catalog-unknown-key": Expected(
        32,
        "services[1](dang-ky-tam-tru).procesing_time",
        "unknown field (check the spelling); did you mean processing_time?",
    ),
    "catalog-bad-level": Expected(
        30, "services[1](dang-ky-tam-tru).level", "'full' or 'partial', got 'toan-trinh'"
    ),
    "catalog-fee-kind": Expected(
        31, "services[1](dang-ky-tam-tru).fee", "kind must be 'none' exactly when amount is 0"
    ),
    "catalog-select-without-options": Expected(
        37, "services[1](dang-ky-tam-tru).fields[1](ly_do)", "a select field needs a non-empty options list"
    ),
    "catalog-full-in-person": Expected(
        23, "services[0](dang-ky-khai-sinh).result_delivery", "must deliver electronically or by post"
    ),
    "catalog-bad-file-type": Expected(
        34,
        "services[1](dang-ky-tam-tru).documents[0](to-khai-ct01).types[1]",
        "'pdf', 'jpg' or 'png', got 'docx'",
    ),
    "catalog-bad-field-type": Expected(
        22, "services[0](dang-ky-khai-sinh).fields[1](ngay_sinh_tre).type", "got 'datetime'"
    ),
    "catalog-field-repeats-applicant": Expected(
        21, "services[0](dang-ky-khai-sinh).fields[0](ho_ten).name", "'ho_ten' repeats an applicant field"
    ),
    "catalog-bad-id": Expected(
        26, "services[1](Dang Ky Tam Tru).id", "lowercase slug like dang-ky-khai-sinh"
    ),
    "catalog-no-documents": Expected(18, "services[0](dang-ky-khai-sinh).documents", "at least 1 item"),
    "catalog-wrong-version": Expected(2, "version", "Input should be 1, got 2"),
    "catalog-negative-weight": Expected(
        39, "services[1](dang-ky-tam-tru).volume.weight", "greater than 0, got -900"
    ),
    "profile-base-url-without-scheme": Expected(4, "base_url", "must start with http:// or https://"),
    "profile-unknown-path": Expected(8, "paths.tracknig", "unknown field (check the spelling)"),
    "profile-bad-environment": Expected(5, "environment", "'sandbox', 'staging' or 'production', got 'prod'"),
    "profile-zero-identities": Expected(7, "identities.count", "greater than or equal to 1, got 0"),
    "profile-bad-otp-source": Expected(6, "otp.source", "got 'sms'"),
}


def _model_for(name: str) -> type[BaseModel]:
    return Catalog if name.startswith("catalog-") else Profile


def test_the_table_covers_every_file_in_the_invalid_folder() -> None:
    assert {p.stem for p in INVALID.glob("*.yml")} == set(INVALID_CASES)


def test_the_minimal_catalog_the_invalid_files_start_from_is_valid() -> None:
    cat = load_catalog(MINIMAL_CATALOG)
    assert [s.id for s in cat.services] == ["dang-ky-khai-sinh", "dang-ky-tam-tru"]


@pytest.mark.parametrize("name", sorted(INVALID_CASES))
def test_error_names_file_line_field_and_what_was_expected(name: str) -> None:
    path = INVALID / f"{name}.yml"
    expected = INVALID_CASES[name]
    with pytest.raises(ConfigError) as info:
        load_model(_model_for(name), path)
    err = info.value
    message = str(err)
    assert "\n" not in message, "one line, no traceback-like dump"
    assert err.path == str(path)
    assert err.line == expected.line
    assert err.field == expected.field
    assert expected.says in message
    where = f"{path}:{expected.line}: " + (f"{expected.field}: " if expected.field else "")
    assert message.startswith(where)
    if name.startswith("catalog-") and expected.field and expected.field.startswith("services["):
        service = expected.field.split("(", 1)[1].split(")", 1)[0]
        assert service in message, "the message names the service"


@pytest.mark.parametrize("name", ["catalog-missing-field", "catalog-duplicate-id", "catalog-malformed-yaml"])
def test_the_same_errors_come_through_load_catalog(name: str) -> None:
    with pytest.raises(ConfigError, match=rf"{name}\.yml:{INVALID_CASES[name].line}: "):
        load_catalog(INVALID / f"{name}.yml")


def test_profile_errors_come_through_load_profile() -> None:
    path = INVALID / "profile-base-url-without-scheme.yml"
    with pytest.raises(ConfigError, match=r"profile-base-url-without-scheme\.yml:4: base_url: "):
        load_profile(path)


def test_unknown_service_id_suggests_the_close_ones() -> None:
    cat = load_catalog()
    with pytest.raises(UnknownServiceError) as info:
        cat.service("dang-ky-khai-sin")
    assert "unknown service id 'dang-ky-khai-sin'" in str(info.value)
    assert "did you mean dang-ky-khai-sinh" in str(info.value)
    assert info.value.exit_code == 2


def test_unknown_service_id_with_nothing_close_points_at_the_listing() -> None:
    with pytest.raises(UnknownServiceError, match="`dvcwatch catalog` lists them"):
        load_catalog().service("zzz")


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (None, "file not found"),
        (b"\xff\xfe version: 1", "not UTF-8 text"),
        (b"", "version: required field is missing"),
        (b"- just\n- a list\n", "Input should be a valid dictionary"),
    ],
)
def test_unreadable_catalog_files_fail_in_one_line(tmp_path: Path, content: bytes | None, says: str) -> None:
    path = tmp_path / "catalog.yaml"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ConfigError) as info:
        load_catalog(path)
    assert str(info.value).startswith(str(path))
    assert says in str(info.value)


def test_a_directory_is_not_a_catalog(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is a directory"):
        load_catalog(tmp_path)
