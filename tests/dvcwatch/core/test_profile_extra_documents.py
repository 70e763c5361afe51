"""Portal-only documents (`forms.<service>.extra_documents`): what they resolve to over the default
section, and each mistake named with its file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from dvcwatch.core.catalog import load_catalog
from dvcwatch.core.errors import ConfigError
from dvcwatch.core.formdata import sample_file
from dvcwatch.core.profile import By, load_profile

CATALOG = load_catalog()

GOOD = """version: 2
name: extra-documents
base_url: http://127.0.0.1:9
journey:
  form_identity: account
forms:
  default:
    extra_documents:
      giay-uy-quyen: {name: Giấy ủy quyền, required: false}
  lien-thong-khai-tu:
    extra_documents:
      to-khai-bhyt:
        name: Tờ khai tham gia BHYT (Mẫu TK1-TS)
        file_type: jpg
        size_kb: 200
      so-ho-khau:
        selector: {css: "#fileSHK"}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "p.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_sections_portal_only_documents_go_over_the_default_ones(tmp_path: Path) -> None:
    prof = load_profile(write(tmp_path, GOOD))
    prof.check_forms(CATALOG)
    assert prof.journey.form_identity == "account"
    extra = prof.form_for("lien-thong-khai-tu").extra_documents
    assert list(extra) == ["giay-uy-quyen", "to-khai-bhyt", "so-ho-khau"]
    assert extra["to-khai-bhyt"].name == "Tờ khai tham gia BHYT (Mẫu TK1-TS)"
    assert (extra["to-khai-bhyt"].file_type, extra["to-khai-bhyt"].size_kb) == ("jpg", 200)
    assert extra["to-khai-bhyt"].required and not extra["giay-uy-quyen"].required
    assert extra["so-ho-khau"].selector == By(css="#fileSHK") and extra["so-ho-khau"].file_type == "pdf"
    assert list(prof.form_for("cap-doi-gplx").extra_documents) == ["giay-uy-quyen"]


@pytest.mark.parametrize(
    ("old", "new", "words"),
    [
        (
            '      so-ho-khau:\n        selector: {css: "#fileSHK"}\n',
            "      so-ho-khau: {}\n",
            "give exactly one of name or selector",
        ),
        ("file_type: jpg", "file_type: docx", "file_type"),
        ("size_kb: 200", "size_kb: 0", "size_kb"),
        ("to-khai-bhyt:", "To Khai BHYT:", "an extra document's id is a slug"),
        ("size_kb: 200", "size_kb: 200\n        pages: 2", "pages"),
    ],
)
def test_a_malformed_portal_only_document_is_refused_when_the_file_is_read(
    tmp_path: Path, old: str, new: str, words: str
) -> None:
    assert old in GOOD
    path = write(tmp_path, GOOD.replace(old, new))
    with pytest.raises(ConfigError) as exc:
        load_profile(path)
    message = str(exc.value)
    assert message.startswith(f"{path}:") and "forms.lien-thong-khai-tu.extra_documents" in message, message
    assert words in message


def test_a_portal_only_document_that_the_catalog_has_is_sent_to_documents(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("to-khai-bhyt:", "giay-bao-tu:"))
    with pytest.raises(ConfigError) as exc:
        load_profile(path).check_forms(CATALOG)
    message = str(exc.value)
    assert message.startswith(f"{path}:12: "), message
    assert "forms.lien-thong-khai-tu.extra_documents.giay-bao-tu" in message
    assert "giay-bao-tu is a catalog document: map it under documents:" in message


@pytest.mark.parametrize("kind", ["pdf", "jpg", "png"])
def test_a_sized_sample_file_is_that_size_and_still_its_type(kind: str) -> None:
    name, ctype, data = sample_file("to-khai-bhyt", [kind], size_kb=200)
    small = sample_file("to-khai-bhyt", [kind])[2]
    assert name == f"to-khai-bhyt.{kind}" and ctype.split("/")[1] in ("pdf", "jpeg", "png")
    assert len(data) == 200 * 1024 and data[:4] == small[:4]
    if kind == "pdf":
        assert data.rstrip().endswith(b"%%EOF")
    if kind == "jpg":
        assert data.endswith(b"\xff\xd9")
    if kind == "png":
        assert data.endswith(bytes.fromhex("49454e44ae426082"))  # IEND stays the last chunk
