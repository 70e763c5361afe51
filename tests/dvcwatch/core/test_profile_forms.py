"""The profile's per-service e-form sections (`forms:`) and how a citizen reaches the login: what they
resolve to, and every mistake named with its file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from dvcwatch.core.catalog import load_catalog
from dvcwatch.core.errors import ConfigError
from dvcwatch.core.profile import FromIdentity, Generated, load_profile

CATALOG = load_catalog()

HEAD = """version: 2
name: forms-test
base_url: http://127.0.0.1:9
"""

GOOD = (
    HEAD
    + """journey:
  field_labels: {so_dien_thoai: Điện thoại di động}
forms:
  default:
    fields:
      ho_ten: Họ, chữ đệm và tên
    documents: {anh-chan-dung: Ảnh chân dung 4x6}
  cap-doi-gplx:
    fields:
      email: null                                   # this portal does not ask it
      hang_gplx: {label: Hạng giấy phép, options: {B2: "Hạng B2 (ô tô đến 9 chỗ)"}}
      dia_chi_nhan: {selector: {css: "#noiNhan"}}
    extra:
      email_nhan: {label: Email nhận thông báo, value: {attr: email}}
      ngay_hen: {label: Ngày muốn nhận, value: {generate: date, offset_days: 7}}
      so_ban: {label: Số bản sao, value: 2}
      hinh_thuc: {selector: {role: radiogroup, name: Hình thức nhận}, value: {generate: option}}
    documents: {giay-kham-suc-khoe: Giấy khám sức khỏe của người lái xe}
  lien-thong-khai-sinh:
    documents: {giay-chung-sinh: null}
    agencies: {mps: Công an xã, labour: ""}
"""
)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "p.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def error_of(tmp_path: Path, text: str) -> str:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as exc:
        load_profile(path).check_forms(CATALOG)
    return str(exc.value)


def test_a_service_section_goes_over_the_default_and_field_labels(tmp_path: Path) -> None:
    prof = load_profile(write(tmp_path, GOOD.replace('labour: ""', "justice: Tư pháp")))
    prof.check_forms(CATALOG)
    gplx = CATALOG.service("cap-doi-gplx")
    fields = {f.name: f for f in CATALOG.all_fields(gplx)}
    assert prof.field_label("cap-doi-gplx", fields["ho_ten"]) == "Họ, chữ đệm và tên"  # default section
    assert prof.field_label("cap-doi-gplx", fields["so_dien_thoai"]) == "Điện thoại di động"  # field_labels
    assert prof.field_label("cap-doi-gplx", fields["ngay_sinh"]) == "Ngày sinh"  # the catalog's own
    assert prof.field_label("cap-doi-gplx", fields["hang_gplx"]) == "Hạng giấy phép"
    assert prof.form_absent("cap-doi-gplx", fields["email"])
    assert not prof.form_absent("dang-ky-xe", fields["email"])  # only that service's section says so
    section = prof.form_for("cap-doi-gplx")
    assert section.fields["hang_gplx"].options == {"B2": "Hạng B2 (ô tô đến 9 chỗ)"}
    assert section.extra["email_nhan"].value == FromIdentity(attr="email")
    assert section.extra["ngay_hen"].value == Generated(generate="date", offset_days=7)
    assert section.extra["so_ban"].value == "2"  # a YAML number is typed as the portal reads it
    docs = {d.id: d for d in gplx.documents}
    assert prof.document_name("cap-doi-gplx", docs["anh-chan-dung"]) == "Ảnh chân dung 4x6"
    assert prof.document_name("cap-doi-gplx", docs["giay-kham-suc-khoe"]).startswith("Giấy khám sức khỏe của")
    birth = CATALOG.service("lien-thong-khai-sinh")
    assert prof.document_name(birth.id, birth.documents[0]) is None  # not asked on this portal
    assert prof.agency_name(birth.id, "mps") == "Công an xã"
    assert prof.agency_name(birth.id, "social-insurance") == "social-insurance"


@pytest.mark.parametrize(
    ("old", "new", "line", "words"),
    [
        (
            "  cap-doi-gplx:\n",
            "  cap-doi-glpx:\n",
            11,
            "forms.cap-doi-glpx: no service 'cap-doi-glpx' in the catalog; did you mean cap-doi-gplx?",
        ),
        (
            "      hang_gplx: {label",
            "      hang_gpl: {label",
            14,
            "forms.cap-doi-gplx.fields.hang_gpl: the catalog's cap-doi-gplx form has no field 'hang_gpl'; did you mean hang_gplx?",
        ),
        (
            "{B2: ",
            "{B9: ",
            14,
            "forms.cap-doi-gplx.fields.hang_gplx.options.B9: 'B9' is not a catalog option of hang_gplx",
        ),
        (
            "      so_ban:",
            "      ho_ten:",
            19,
            "forms.cap-doi-gplx.extra.ho_ten: ho_ten is a catalog field: map it under fields:",
        ),
        (
            "{giay-kham-suc-khoe:",
            "{giay-kham:",
            21,
            "forms.cap-doi-gplx.documents.giay-kham: the catalog's cap-doi-gplx documents have no 'giay-kham'",
        ),
        (
            'labour: ""',
            "lao-dong: x",
            24,
            "forms.lien-thong-khai-sinh.agencies.lao-dong: no agency 'lao-dong' in the catalog",
        ),
    ],
)
def test_a_name_the_catalog_does_not_know_is_refused_with_file_line_and_field(
    tmp_path: Path, old: str, new: str, line: int, words: str
) -> None:
    assert old in GOOD
    message = error_of(tmp_path, GOOD.replace(old, new))
    assert message.startswith(f"{tmp_path / 'p.yaml'}:{line}: "), message
    assert words in message


@pytest.mark.parametrize(
    ("section", "words"),
    [
        ("fields: {ho_ten: {label: A, selector: '#a'}}", "give label or selector, not both"),
        ("fields: {ho_ten: {absent: true, label: A}}", "an absent field takes nothing else"),
        ("extra: {x: {value: 1}}", "give exactly one of label or selector"),
        ("extra: {x: {label: A}}", "value"),
        ("extra: {x: {label: A, value: {attr: password}}}", "unknown identity attribute 'password'"),
        ("extra: {x: {label: A, value: {generate: colour}}}", "generate"),
        ("extra: {x: {label: A, value: {generate: number, min: 5, max: 2}}}", "max 2 is below min 5"),
        (
            "extra: {x: {label: A, value: {pick: 1}}}",
            "a value is a fixed string, {attr: <identity attribute>} or {generate: <type>}",
        ),
        ("fieldz: {}", "fieldz"),
    ],
)
def test_a_malformed_section_is_refused_when_the_file_is_read(
    tmp_path: Path, section: str, words: str
) -> None:
    path = write(tmp_path, HEAD + "forms:\n  cap-doi-gplx:\n    " + section + "\n")
    with pytest.raises(ConfigError) as exc:
        load_profile(path)
    assert f"{path}:" in str(exc.value) and "forms.cap-doi-gplx" in str(exc.value)
    assert words in str(exc.value)


def test_forms_need_version_2(tmp_path: Path) -> None:
    path = write(tmp_path, HEAD.replace("version: 2", "version: 1") + "forms: {}\n")
    with pytest.raises(ConfigError, match="set version: 2"):
        load_profile(path)


@pytest.mark.parametrize(
    ("paths", "journey", "url"),
    [
        ("", "", "http://127.0.0.1:9/dang-nhap?next=/dich-vu/cap-doi-gplx"),
        (
            "login: /sso/start?app=dvc",
            "login_return_param: returnUrl",
            "http://127.0.0.1:9/sso/start?app=dvc&returnUrl=/dich-vu/cap-doi-gplx",
        ),
        ("login: /dang-nhap", "login_return_param: null", "http://127.0.0.1:9/dang-nhap"),
        (
            "login: 'http://127.0.0.2:8/auth?ReturnUrl={service_url}&thu_tuc={code}'",
            "",
            "http://127.0.0.2:8/auth?ReturnUrl=http%3A%2F%2F127.0.0.1%3A9%2Fthu-tuc%2F1.001&thu_tuc=1.001",
        ),
        ("login: '/login?back={service_path}'", "", "http://127.0.0.1:9/login?back=%2Fthu-tuc%2F1.001"),
    ],
)
def test_the_login_url_names_the_service_as_the_profile_says(
    tmp_path: Path, paths: str, journey: str, url: str
) -> None:
    service_path = "/thu-tuc/{code}" if "{service" in paths else "/dich-vu/{service}"
    text = HEAD + f"paths:\n  service: '{service_path}'\n" + (f"  {paths}\n" if paths else "")
    text += f"journey:\n  {journey}\n" if journey else ""
    prof = load_profile(write(tmp_path, text))
    assert prof.login_url({"service": "cap-doi-gplx", "code": "1.001"}) == url
