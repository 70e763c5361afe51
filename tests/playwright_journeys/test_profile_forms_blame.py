"""Who is to blame when the portal refuses: the portal's words next to a field or a document row are
read; a refusal of something the profile does not cover is the profile's gap (a harness error naming
it), a refusal of what was filled is the portal's failure. Portal-only documents are attached like the
catalog's. A gateway that says no is "the payment did not go through", in its words. A small
ASP.NET-MVC-style portal is served on loopback; the steps run against it one by one."""

from __future__ import annotations

import asyncio
import html
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from dvcwatch.core.catalog import load_catalog
from dvcwatch.core.identities import citizens
from dvcwatch.core.profile import load_profile
from playwright_journeys.journey import Errand, Journey, Login, Options, Tab
from playwright_journeys.outcome import HarnessError, StepFailure
from playwright_journeys.personas import load_personas
from playwright_journeys.plugins import step_functions

pytestmark = pytest.mark.browser

CATALOG = load_catalog()
SERVICE = CATALOG.service("lien-thong-khai-tu")
WHO = citizens(42, 1)[0]
TK1 = "Tờ khai tham gia BHYT (Mẫu TK1-TS)"

PROFILE = """version: 2
name: blame-portal
base_url: {url}
selectors:
  content: main
  error_page: section.loi
  error_banner: p.ban
  form_errors: .validation-summary-errors
  upload: {{label: "{{document_name}}"}}
  upload_submit: {{role: button, name: Tiếp tục}}
  submit_button: {{role: button, name: Nộp hồ sơ}}
  confirm_button: {confirm}
  declaration: {{label: Tôi xin cam đoan}}
  dossier_code: "#maHoSo"
  pay_button: null
  payment_offline: null
  payment_amount: "#soTien"
  bank: "#nganHang"
  payment_confirm: {{role: button, name: Thanh toán}}
  payment_status: p.trang-thai
journey:
  payment: after_submit
  paid_statuses: [Giao dịch thành công]
forms:
  lien-thong-khai-tu:
{extra}
"""
EXTRA = f"""    extra_documents:
      to-khai-bhyt: {{name: "{TK1}", file_type: jpg, size_kb: 50}}
"""

ROW = """<tr><td>{name} <span class="text-danger">(*)</span></td>
<td><input type="file" name="{field}" aria-label="{name}">
<span class="text-danger field-validation-{state}" data-valmsg-for="{field}">{message}</span></td></tr>"""

DOCUMENTS = {"GiayBaoTu": "Giấy báo tử", "TK1": TK1}


def page(body: str, script: str = "") -> web.Response:
    doc = f"<!doctype html><meta charset=utf-8><title>p</title><main>{body}</main><script>{script}</script>"
    return web.Response(text=doc, content_type="text/html")


def summary(errors: dict[str, str]) -> str:
    if not errors:
        return ""
    items = "".join(f"<li>{html.escape(m)}</li>" for m in errors.values())
    return f'<div class="validation-summary-errors text-danger"><ul>{items}</ul></div>'


def documents_page(errors: dict[str, str]) -> web.Response:
    rows = "".join(
        ROW.format(
            name=html.escape(name),
            field=field,
            state="error" if field in errors else "valid",
            message=html.escape(errors.get(field, "")),
        )
        for field, name in DOCUMENTS.items()
    )
    return page(
        f"{summary(errors)}<h1>Thành phần hồ sơ</h1><div style='height:2500px'>Hướng dẫn</div>"
        f'<form method="post" action="/ho-so" enctype="multipart/form-data"><table>{rows}</table>'
        "<button>Tiếp tục</button></form>"
    )


def review_page(errors: dict[str, str], phone: str) -> web.Response:
    state = "error" if errors else "valid"
    return page(
        f"{summary(errors)}<h1>Xác nhận</h1><div style='height:2500px'>Thông tin đã khai</div>"
        '<form method="post" action="/nop"><div class="form-group">'
        '<label for="MaBuuChinh">Mã bưu chính</label> <input id="MaBuuChinh" name="MaBuuChinh">'
        f'<span class="text-danger field-validation-{state}" data-valmsg-for="MaBuuChinh">'
        f"{html.escape(errors.get('MaBuuChinh', ''))}</span></div>"
        '<div class="form-group"><label for="Sdt">Số điện thoại</label>'
        f'<input id="Sdt" name="Sdt" value="{phone}">'
        f'<span class="text-danger field-validation-valid" data-valmsg-for="Sdt">{html.escape(errors.get("Sdt", ""))}</span>'
        '</div><label><input type="checkbox" name="CamDoan"> Tôi xin cam đoan</label>'
        "<button>Nộp hồ sơ</button></form>"
    )


CLIENT_CHECKED = """<h1>Xác nhận</h1><mat-form-field class="mat-mdc-form-field"><label for="mbc">Mã bưu chính</label>
<input id="mbc"><mat-error hidden></mat-error></mat-form-field>
<button type="button" id="nop">Nộp hồ sơ</button>
<div id="hoi" hidden><p>Bạn có chắc chắn muốn nộp hồ sơ?</p><button type="button">Đồng ý</button></div>"""
CLIENT_SCRIPT = """document.getElementById('nop').onclick = () => {
  const box = document.getElementById('mbc'), err = document.querySelector('mat-error');
  if (!box.value) { err.textContent = 'Bắt buộc nhập Mã bưu chính'; err.hidden = false; return; }
  document.getElementById('hoi').hidden = false;
};"""


ON_CHOOSE = f"""<h1>Thành phần hồ sơ</h1>
<p><input type="file" aria-label="Giấy báo tử"></p><p><input type="file" aria-label="{TK1}"></p>
<ul id="da-tai"></ul><button>Nộp hồ sơ</button>"""
ON_CHOOSE_SCRIPT = """for (const box of document.querySelectorAll('input[type=file]')) box.onchange = async () => {
  const f = box.files[0], r = await fetch('/tai-len', {method: 'POST', body: f});
  const li = document.createElement('li');
  li.textContent = f.name + (r.ok ? ' ✓' : ' ✗');
  document.getElementById('da-tai').append(li);
};"""


def portal(*, refuse_pdf: bool = False, phone: str = "", gateway: str = "timer") -> web.Application:
    async def documents(r: web.Request) -> web.Response:
        return documents_page({})

    async def documents_post(r: web.Request) -> web.Response:
        sent: dict[str, str] = {}
        async for part in await r.multipart():
            if part.filename and await part.read():
                sent[part.name or ""] = part.filename
        errors = {f: f"Vui lòng đính kèm {n}" for f, n in DOCUMENTS.items() if f not in sent}
        if refuse_pdf and sent.get("GiayBaoTu", "").endswith(".pdf"):
            errors["GiayBaoTu"] = "Giấy báo tử phải là tệp ảnh (jpg, png)"
        if errors:
            return documents_page(errors)
        raise web.HTTPSeeOther("/xac-nhan")

    async def review(r: web.Request) -> web.Response:
        return review_page({}, phone)

    async def file_it(r: web.Request) -> web.Response:
        form = await r.post()
        errors = {}
        if not form.get("MaBuuChinh"):
            errors["MaBuuChinh"] = "Trường Mã bưu chính là bắt buộc."
        if phone and form.get("Sdt") == phone:
            errors["Sdt"] = "Số điện thoại không hợp lệ"
        if errors:
            return review_page(errors, phone)
        raise web.HTTPSeeOther("/bien-nhan")

    async def on_choose(r: web.Request) -> web.Response:
        return page(ON_CHOOSE, ON_CHOOSE_SCRIPT)

    async def upload_hangs(r: web.Request) -> web.Response:
        await r.read()
        await asyncio.sleep(6)  # longer than the step's patience; bounded so the server stops
        return web.Response(text="ok")

    async def client_checked(r: web.Request) -> web.Response:
        return page(CLIENT_CHECKED, CLIENT_SCRIPT)

    async def fee(r: web.Request) -> web.Response:
        return page(
            '<form method="post" action="/cong"><p>Lệ phí: <b id="soTien">50.000 đ</b></p>'
            '<select id="nganHang" name="nh"><option value="">--</option><option value="vcb">vcb</option></select>'
            "<button>Thanh toán</button></form>"
        )

    async def gateway_post(r: web.Request) -> web.Response:
        if gateway == "refuse":
            return page('<div class="alert alert-danger">Giao dịch bị từ chối: thẻ đã hết hạn</div>')
        # the gateway's success page goes back to the portal by itself
        return page('<p class="trang-thai">Giao dịch thành công</p>', "location.replace('/bien-nhan');")

    async def receipt(r: web.Request) -> web.Response:
        return page('<p>Mã hồ sơ: <b id="maHoSo">H42.99-261207-0001</b></p>')

    app = web.Application()
    app.router.add_get("/ho-so", documents)
    app.router.add_post("/ho-so", documents_post)
    app.router.add_get("/xac-nhan", review)
    app.router.add_post("/nop", file_it)
    app.router.add_get("/xac-nhan-js", client_checked)
    app.router.add_get("/ho-so-js", on_choose)
    app.router.add_post("/tai-len", upload_hangs)
    app.router.add_get("/thanh-toan", fee)
    app.router.add_post("/cong", gateway_post)
    app.router.add_get("/bien-nhan", receipt)
    return app


JourneyAt = Callable[..., Awaitable[Journey]]


@pytest.fixture
async def journey_at(tmp_path: Path) -> AsyncIterator[JourneyAt]:
    from playwright.async_api import async_playwright

    from playwright_journeys.browser import BrowserHost

    async with async_playwright() as pw:
        host = BrowserHost(pw)
        contexts: list[Any] = []

        async def make(
            url: str,
            *,
            extra: str = EXTRA,
            confirm: str = "null",
            timeout: float = 10.0,
            on_choose: bool = False,
        ) -> Journey:
            path = tmp_path / "profile.yaml"
            text = PROFILE.format(url=url, extra=extra or "    {}", confirm=confirm)
            if on_choose:  # files go up as soon as they are chosen; the list shows what arrived
                text = text.replace(
                    "upload_submit: {role: button, name: Tiếp tục}",
                    'upload_submit: null\n  upload_done: {text: "{filename} ✓"}\n  upload_error: {text: "{filename} ✗"}',
                )
            path.write_text(text, encoding="utf-8")
            prof = load_profile(path)
            prof.check_forms(CATALOG)
            persona = load_personas().get("desktop")
            context, pg = await host.new_context(persona)
            contexts.append(context)
            j = Journey(
                Tab(pg, context), Errand(prof, CATALOG, SERVICE), Login(WHO), Options(persona, timeout)
            )
            j.watch_navigation()
            return j

        try:
            yield make
        finally:
            for c in contexts:
                await c.close()
            await host.close()


async def run(j: Journey, name: str, path: str) -> None:
    j.begin_step(name)
    await j.goto(j.profile.url(path))
    await step_functions({})[name](j)


async def refused_row_in_view(j: Journey) -> str:
    """The text of the element marked refused, when it is inside the viewport."""
    return await j.page.evaluate(
        """() => { const e = document.querySelector('[data-dvcwatch-refused]');
          if (!e) return 'none marked';
          const r = e.getBoundingClientRect();
          return r.top >= 0 && r.bottom <= innerHeight ? e.innerText : 'out of view: ' + e.innerText; }"""
    )


async def test_a_portal_only_document_is_attached_like_the_catalogs(
    serve_app: Callable[[web.Application], Awaitable[str]], journey_at: JourneyAt
) -> None:
    j = await journey_at(await serve_app(portal()))
    await run(j, "upload", "/ho-so")
    assert j.page.url.endswith("/xac-nhan") and j.detail == "2 document(s) attached"


async def test_a_required_document_the_profile_leaves_out_is_its_gap_in_the_portals_words(
    serve_app: Callable[[web.Application], Awaitable[str]], journey_at: JourneyAt
) -> None:
    j = await journey_at(await serve_app(portal()), extra="")
    with pytest.raises(HarnessError) as exc:
        await run(j, "upload", "/ho-so")
    message = str(exc.value)
    assert f"«{TK1}»: «Vui lòng đính kèm {TK1}»" in message, message
    assert "extra_documents" in message and "Giấy báo tử" not in message
    assert exc.value.selector == f"forms.lien-thong-khai-tu: «{TK1}»"
    assert await refused_row_in_view(j) == f"Vui lòng đính kèm {TK1}"  # the row, not the top


async def test_a_document_the_portal_refuses_once_attached_is_its_failure_in_its_words(
    serve_app: Callable[[web.Application], Awaitable[str]], journey_at: JourneyAt
) -> None:
    j = await journey_at(await serve_app(portal(refuse_pdf=True)))
    with pytest.raises(StepFailure) as exc:
        await run(j, "upload", "/ho-so")
    assert exc.value.message == (
        "the portal refused the documents: «Giấy báo tử»: «Giấy báo tử phải là tệp ảnh (jpg, png)»"
    )
    assert "Giấy báo tử phải là tệp ảnh" in exc.value.seen


async def test_a_refused_field_the_profile_does_not_fill_is_its_gap_and_a_filled_one_the_portals(
    serve_app: Callable[[web.Application], Awaitable[str]], journey_at: JourneyAt
) -> None:
    j = await journey_at(await serve_app(portal()))
    with pytest.raises(HarnessError) as gap:
        await run(j, "submit", "/xac-nhan")
    assert "«Mã bưu chính»: «Trường Mã bưu chính là bắt buộc.»" in str(gap.value)
    assert await refused_row_in_view(j) == "Trường Mã bưu chính là bắt buộc."

    j = await journey_at(await serve_app(portal(phone="0912")))
    j.begin_step("submit")
    await j.goto(j.profile.url("/xac-nhan"))
    await j.page.fill("#MaBuuChinh", "100000")  # as if the profile covered it: only the phone is refused
    with pytest.raises(StepFailure) as fail:
        await step_functions({})["submit"](j)
    assert (
        fail.value.message == "the portal refused the dossier: «Số điện thoại»: «Số điện thoại không hợp lệ»"
    )


async def test_a_form_refused_before_the_confirmation_dialog_is_not_a_missing_dialog(
    serve_app: Callable[[web.Application], Awaitable[str]], journey_at: JourneyAt
) -> None:
    confirm = "{role: button, name: Đồng ý}"
    j = await journey_at(await serve_app(portal()), confirm=confirm, timeout=2.0)
    with pytest.raises(HarnessError) as exc:
        await run(j, "submit", "/xac-nhan-js")
    assert "«Mã bưu chính»: «Bắt buộc nhập Mã bưu chính»" in str(exc.value)
    assert "dialog" not in str(exc.value)


async def test_a_gateway_that_returns_by_itself_is_followed_and_one_that_refuses_is_quoted(
    serve_app: Callable[[web.Application], Awaitable[str]], journey_at: JourneyAt
) -> None:
    j = await journey_at(await serve_app(portal()))
    await run(j, "payment", "/thanh-toan")
    assert j.fee_charged == 50_000 and j.dossier_code == "H42.99-261207-0001"

    j = await journey_at(await serve_app(portal(gateway="refuse")), timeout=2.0)
    with pytest.raises(StepFailure) as exc:
        await run(j, "payment", "/thanh-toan")
    assert exc.value.message == "the payment did not go through" and exc.value.selector is None
    assert exc.value.seen == "Giao dịch bị từ chối: thẻ đã hết hạn"


async def test_an_upload_the_portal_never_answers_is_no_answer_not_its_selectors(
    serve_app: Callable[[web.Application], Awaitable[str]], journey_at: JourneyAt
) -> None:
    j = await journey_at(await serve_app(portal()), on_choose=True, timeout=2.0)
    with pytest.raises(StepFailure) as exc:
        await run(j, "upload", "/ho-so-js")
    assert exc.value.message == "no answer in 2 s" and exc.value.selector is None
