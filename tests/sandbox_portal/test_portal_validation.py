"""Server-side validation: Vietnamese messages per field, uploads checked by extension, content and size."""

from __future__ import annotations

import json

import aiohttp
from portal_flows import CATALOG, api_login, dossier_form, session

from dvcwatch.core.formdata import fill
from dvcwatch.core.identities import citizen


async def _submit(base: str, form: aiohttp.FormData, who_index: int = 20) -> tuple[int, dict]:
    async with session() as s:
        token = await api_login(s, base, citizen(42, who_index))
        async with s.post(
            f"{base}/api/v1/dossiers", data=form, headers={"Authorization": f"Bearer {token}"}
        ) as r:
            return r.status, await r.json()


async def test_field_rules_give_vietnamese_messages(sandbox) -> None:
    svc = CATALOG.service("dang-ky-tam-tru")
    who = citizen(42, 20)
    values = fill(CATALOG, svc, who)
    values.update(
        so_cccd="12345", ngay_sinh="31/02/1990", gioi_tinh="Khác", thoi_han_thang="99", dia_chi_tam_tru=""
    )
    status, body = await _submit(sandbox.url, dossier_form(svc, who, values))
    assert status == 422
    errors = body["errors"]
    assert errors["so_cccd"] == "Số định danh cá nhân phải gồm đúng 12 chữ số."
    assert "dd/mm/yyyy" in errors["ngay_sinh"]
    assert "không có trong danh sách" in errors["gioi_tinh"]
    assert errors["thoi_han_thang"] == "Thời hạn tạm trú (tháng) phải nằm trong khoảng từ 1 đến 24."
    assert errors["dia_chi_tam_tru"] == "Vui lòng nhập địa chỉ tạm trú."
    assert "email" not in errors  # optional and valid


def _form_with(svc, who, doc_id: str, name: str, ctype: str, content: bytes) -> aiohttp.FormData:  # type: ignore[no-untyped-def]
    form = aiohttp.FormData()
    form.add_field("data", json.dumps({"service": svc.id, "fields": fill(CATALOG, svc, who)}))
    form.add_field(doc_id, content, filename=name, content_type=ctype)
    return form


async def test_uploads_are_checked_by_extension_content_and_size(sandbox) -> None:
    svc = CATALOG.service("khai-bao-tam-vang")  # one document: pdf or jpg
    who = citizen(42, 21)
    doc = svc.documents[0]
    cases = [
        ("to-khai.docx", b"PK\x03\x04", "không đúng loại cho phép (chỉ chấp nhận PDF, JPG)"),
        ("to-khai.pdf", b"GIF89a not a pdf", "không phải là tệp PDF hợp lệ"),
        ("to-khai.jpg", b"%PDF-1.4", "không phải là tệp JPG hợp lệ"),
        ("to-khai.pdf", b"%PDF-" + b"0" * (doc.max_bytes + 1), "vượt quá dung lượng cho phép (tối đa 5 MB)"),
        ("to-khai.pdf", b"", "rỗng"),
    ]
    for name, content, message in cases:
        status, body = await _submit(
            sandbox.url, _form_with(svc, who, doc.id, name, "application/octet-stream", content)
        )
        assert status == 422, name
        assert message in body["errors"][doc.id], (name, body)
    form = aiohttp.FormData(default_to_multipart=True)
    form.add_field("data", json.dumps({"service": svc.id, "fields": fill(CATALOG, svc, who)}))
    status, body = await _submit(sandbox.url, form)
    assert status == 422 and body["errors"][doc.id].startswith("Vui lòng đính kèm")
    status, _ = await _submit(
        sandbox.url, _form_with(svc, who, doc.id, "TO-KHAI.JPEG", "image/jpeg", b"\xff\xd8\xff\xe0xx")
    )
    assert status == 201


async def test_api_needs_the_otp_token(sandbox) -> None:
    svc = CATALOG.service("khai-bao-tam-vang")
    async with session() as s:
        async with s.post(f"{sandbox.url}/api/v1/dossiers", data=dossier_form(svc, citizen(42, 22))) as r:
            assert r.status == 401
        async with s.post(
            f"{sandbox.url}/api/v1/auth/login", json={"cccd": "001001001001", "password": "x"}
        ) as r:
            assert r.status == 401
        async with s.post(f"{sandbox.url}/api/v1/auth/otp", json={"challenge": "nope", "otp": "000000"}) as r:
            assert r.status == 401


async def test_html_upload_errors_are_shown_per_document(sandbox) -> None:
    from portal_flows import html_login

    svc = CATALOG.service("khai-bao-tam-vang")
    who = citizen(42, 23)
    values = fill(CATALOG, svc, who)
    async with session() as s:
        await html_login(s, sandbox.url, who, f"/nop-ho-so/{svc.id}")
        async with s.get(f"{sandbox.url}/nop-ho-so/{svc.id}") as r:
            base = str(r.url).rsplit("/", 1)[0]
        for slug, fields in (("thong-tin", CATALOG.applicant.fields), ("ho-so", svc.fields)):
            async with s.post(f"{base}/{slug}", data={f.name: values[f.name] for f in fields}) as r:
                assert r.status == 200
        form = aiohttp.FormData()
        form.add_field(svc.documents[0].id, b"not a pdf", filename="x.pdf", content_type="application/pdf")
        async with s.post(f"{base}/giay-to", data=form) as r:
            body = await r.text()
        assert f'data-testid="upload-error-{svc.documents[0].id}"' in body
        assert r.url.path.endswith("/giay-to")
        async with s.get(f"{base}/xac-nhan") as r:  # cannot skip ahead
            assert r.url.path.endswith("/giay-to")
