"""The built-in steps on a portal the profile describes: a per-service e-form with its own labels,
absent and portal-only fields, options as tiles and radios; login reached only through the service's
own button with a return parameter that is not `next`; and harness mistakes kept apart from the
portal's failures. A small portal is served on loopback; the steps run against it one by one."""

from __future__ import annotations

import html
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

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
SERVICE = CATALOG.service("cap-doi-gplx")
WHO = citizens(42, 1)[0]
HANG = {
    "A1": "Hạng A1 (xe máy)",
    "A2": "Hạng A2",
    "B1": "Hạng B1",
    "B2": "Hạng B2 (ô tô đến 9 chỗ)",
    "C": "Hạng C",
}

PROFILE = """version: 2
name: forms-portal
base_url: {url}
paths:
  service: /thu-tuc/{{code}}
  login: /xac-thuc/dang-nhap
services:
  cap-doi-gplx: {{code: "1.002"}}
selectors:
  content: main
  error_page: section.loi
  error_banner: p.ban
  login_cccd: {{label: Số định danh}}
  login_password: {{label: Mật khẩu}}
  login_submit: {{role: button, name: Đăng nhập}}
  login_error: p.loi-dang-nhap
  start_submission: {{role: link, name: Nộp trực tuyến}}
  field: {{label: "{{label}}"}}
  form_next: null
  declaration: {{label: Tôi xin cam đoan}}
journey:
  login_via: service_button
  field_labels: {{so_dien_thoai: Điện thoại}}
forms:
  default:
    fields: {{ho_ten: "Họ, chữ đệm và tên"}}
  cap-doi-gplx:
    fields:
      so_cccd: Số CCCD
      email: null
      so_gplx: Số giấy phép
      hang_gplx: {{label: Hạng giấy phép, options: {hang}}}
      dia_chi_nhan: {{selector: {{css: "#noiNhan"}}}}
    extra:
      email_nhan: {{label: Email nhận thông báo, value: {{attr: email}}}}
      ngay_hen: {{label: Ngày muốn nhận, value: {{generate: date, offset_days: 7}}}}
      so_ban: {{label: Số bản sao, value: 2}}
      hinh_thuc: {{label: Hình thức nhận, value: {{generate: option, index: 1}}}}
      dong_y: {{label: Tôi đồng ý nhận tin nhắn, value: true}}
"""

TILES_JS = """
for (const t of document.querySelectorAll('[role=radio]')) t.addEventListener('click', () => {
  for (const o of t.parentElement.querySelectorAll('[role=radio]')) o.setAttribute('aria-checked', 'false');
  if (!t.classList.contains('hong')) t.setAttribute('aria-checked', 'true');
});
"""


def _text(label: str, name: str, typ: str = "text", required: bool = True) -> str:
    req = " required" if required else ""
    return f'<p><label for="{name}">{html.escape(label)}</label> <input id="{name}" type="{typ}"{req}></p>'


def form_page(uncovered: bool | str) -> str:
    tiles = "".join(
        f'<div role="radio" aria-checked="false" tabindex="0">{html.escape(w)}</div>' for w in HANG.values()
    )
    parts = [
        _text("Họ, chữ đệm và tên", "ho"),
        _text("Số CCCD", "cccd"),
        _text("Ngày sinh", "ns", "date"),
        '<div role="radiogroup" aria-labelledby="gt"><span id="gt">Giới tính</span>'
        '<label><input type="radio" name="gt" value="1" required>Nam</label>'
        '<label><input type="radio" name="gt" value="2">Nữ</label></div>',
        _text("Điện thoại", "dt", "tel"),
        _text("Nơi thường trú", "tru"),
        _text("Số giấy phép", "gplx"),
        f'<div role="radiogroup" aria-label="Hạng giấy phép">{tiles}</div>',
        '<p><span>Địa chỉ nhận kết quả</span> <textarea id="noiNhan" required></textarea></p>',
        _text("Email nhận thông báo", "emailnhan", "email"),
        _text("Ngày muốn nhận", "ngayhen"),
        _text("Số bản sao", "soban", "number"),
        '<p><label for="ht">Hình thức nhận</label> <select id="ht" required><option value="">-- chọn --</option>'
        '<option value="bd">Qua bưu điện</option><option value="mc">Tại bộ phận một cửa</option></select></p>',
        _text("Tôi đồng ý nhận tin nhắn", "dongy", "checkbox"),
        _text("Tôi xin cam đoan", "camdoan", "checkbox"),
    ]
    if uncovered == "aspnet":  # ASP.NET's unobtrusive mark, no HTML required
        parts.append(
            '<p><label for="mbc">Mã bưu chính <span class="text-danger">(*)</span></label>'
            ' <input id="mbc" data-val="true" data-val-required="Trường Mã bưu chính là bắt buộc.">'
            ' <input type="checkbox" id="nhan" data-val="true" data-val-required="bool"></p>'
        )
    elif uncovered:
        parts.append(_text("Mã bưu chính", "mbc"))
    return "".join(parts)


def portal(uncovered: bool | str = False) -> web.Application:
    def page(body: str, script: str = "") -> web.Response:
        doc = (
            f"<!doctype html><meta charset=utf-8><title>p</title><main>{body}</main><script>{script}</script>"
        )
        return web.Response(text=doc, content_type="text/html")

    async def service(r: web.Request) -> web.Response:
        code = r.match_info["code"]
        return page(f'<h1>Cấp đổi GPLX {code}</h1><a href="/nop/{code}">Nộp trực tuyến</a>')

    async def start(r: web.Request) -> web.Response:
        if r.cookies.get("phien") != "1":
            raise web.HTTPFound(f"/xac-thuc/dang-nhap?quay_lai={quote(r.path)}")
        return page(form_page(uncovered), TILES_JS)

    async def login_page(r: web.Request) -> web.Response:
        back = html.escape(r.query.get("quay_lai", ""))
        return page(
            f'<form method="post" action="/xac-thuc/dang-nhap?quay_lai={back}">'
            '<label>Số định danh <input name="u"></label><label>Mật khẩu <input name="p" type="password"></label>'
            "<button>Đăng nhập</button></form>"
        )

    async def login_post(r: web.Request) -> web.Response:
        back = r.query.get("quay_lai", "")
        if not back.startswith("/nop/"):  # the portal ties the login to the service it came from
            return page('<p class="loi-dang-nhap">Không rõ thủ tục</p>')
        resp = web.HTTPFound(back)
        resp.set_cookie("phien", "1")
        raise resp

    app = web.Application()
    app.router.add_get("/thu-tuc/{code}", service)
    app.router.add_get("/nop/{code}", start)
    app.router.add_get("/xac-thuc/dang-nhap", login_page)
    app.router.add_post("/xac-thuc/dang-nhap", login_post)
    return app


JourneyAt = Callable[[str], Awaitable[Journey]]


@pytest.fixture
async def journey_at(tmp_path: Path) -> AsyncIterator[JourneyAt]:
    from playwright.async_api import async_playwright

    from playwright_journeys.browser import BrowserHost

    async with async_playwright() as pw:
        host = BrowserHost(pw)
        contexts: list[Any] = []

        async def make(url: str) -> Journey:
            path = tmp_path / "profile.yaml"
            path.write_text(
                PROFILE.format(url=url, hang="{" + ", ".join(f'{k}: "{v}"' for k, v in HANG.items()) + "}")
            )
            prof = load_profile(path)
            prof.check_forms(CATALOG)
            context, page = await host.new_context(load_personas().get("desktop"))
            contexts.append(context)
            j = Journey(
                Tab(page, context),
                Errand(prof, CATALOG, SERVICE),
                Login(WHO),
                Options(load_personas().get("desktop"), 10.0),
            )
            j.watch_navigation()
            return j

        try:
            yield make
        finally:
            for c in contexts:
                await c.close()
            await host.close()


async def run(j: Journey, name: str) -> None:
    j.begin_step(name)
    await step_functions({})[name](j)


async def values(j: Journey) -> dict[str, Any]:
    return await j.page.evaluate(
        """() => { const v = {};
          for (const e of document.querySelectorAll('input, select, textarea'))
            v[e.id || e.name + ':' + e.value] = (e.type === 'checkbox' || e.type === 'radio') ? e.checked : e.value;
          v.hang = [...document.querySelectorAll('[role=radio][aria-checked=true]')].map(t => t.innerText);
          return v; }"""
    )


async def test_login_through_the_services_own_button_then_the_form_as_the_profile_says(
    serve_app: Callable[[web.Application], Awaitable[str]], journey_at: JourneyAt
) -> None:
    j = await journey_at(await serve_app(portal()))
    await run(j, "login")
    assert j.page.url.endswith("/nop/1.002"), j.page.url  # back on the service's form, logged in
    await j.goto(j.profile.url("/thu-tuc/1.002"))
    await run(j, "form")
    v = await values(j)
    assert v["ho"] == WHO.full_name and v["cccd"] == WHO.cccd and v["dt"] == WHO.phone
    d, m, y = WHO.birth_date.split("/")
    assert v["ns"] == f"{y}-{m}-{d}"  # a date picker takes ISO
    assert v[f"gt:{'1' if WHO.sex_vi == 'Nam' else '2'}"] is True  # the catalog's select, drawn as radios
    assert v["hang"] == [HANG["A1"]]  # the catalog's first option, as a tile, in the portal's words
    assert v["gplx"] == "010123456789" and v["noiNhan"].startswith("Số 3 phố Trần Duy Hưng")
    assert v["emailnhan"] == WHO.email and v["soban"] == "2" and v["ht"] == "mc" and v["dongy"] is True
    assert v["ngayhen"].count("/") == 2  # generated, typed in date_format
    assert v["camdoan"] is False  # the declaration is the submit step's
    assert "not asked" not in j.detail


@pytest.mark.parametrize("mark", [True, "aspnet"])
async def test_a_required_field_the_profile_does_not_cover_is_the_profiles_gap_by_name(
    serve_app: Callable[[web.Application], Awaitable[str]], journey_at: JourneyAt, mark: bool | str
) -> None:
    url = await serve_app(portal(uncovered=mark))
    j = await journey_at(url)
    await j.context.add_cookies([{"name": "phien", "value": "1", "url": url}])
    j.begin_step("find_service")
    await j.goto(f"{url}/thu-tuc/1.002")
    with pytest.raises(HarnessError) as exc:
        await run(j, "form")
    assert "«Mã bưu chính»" in str(exc.value) and "forms.cap-doi-gplx.extra" in str(exc.value)
    assert "Tôi xin cam đoan" not in str(exc.value) and "Email" not in str(exc.value)


CHOICES = """<main>
<label><input type=radio name=bank value=vcb> Vietcombank</label>
<select id=s aria-label="Ngân hàng"><option value="">--</option><option value="bidv">BIDV</option>
  <option value="ctg">Ngân hàng Công Thương</option></select>
<div role=radiogroup aria-label="Ví"><div role=radio aria-checked=false>MoMo</div>
  <div role=radio aria-checked=false class=hong>ZaloPay</div></div>
<label class=tile><input type=radio name=t value=agri style="display:none"> Agribank</label>
<a href="#x" id=lien>Thẻ nội địa</a>
<button id=two>a</button><button id=three>b</button><div id=plain>chữ</div>
</main>"""


async def test_one_choose_action_does_what_each_element_needs_and_checks_it_took(
    serve_app: Callable[[web.Application], Awaitable[str]], journey_at: JourneyAt
) -> None:
    from playwright_journeys.steps.choose import choose

    j = await journey_at("http://127.0.0.1:9")
    j.begin_step("payment")
    await j.page.set_content(CHOICES)
    await j.page.add_script_tag(content=TILES_JS)
    page = j.page

    async def pick(sel: str, option: str | None) -> str:
        return await choose(j, page.locator(sel).first, option, what="the bank", selector=sel)

    await pick("input[value=vcb]", None)
    assert await page.locator("input[value=vcb]").is_checked()
    assert await pick("#s", "ngan hang cong thuong") == "Ngân hàng Công Thương"  # wording, any case/accents
    assert await page.locator("#s").input_value() == "ctg"
    assert await pick("#s", "bidv") == "BIDV"  # or the option's value
    await pick("[role=radiogroup]", "momo")  # the wording, ignoring case
    assert await page.get_by_text("MoMo").get_attribute("aria-checked") == "true"
    await pick("label.tile", None)  # a tile hiding its radio: clicked, and the radio is checked
    assert await page.locator("input[value=agri]").is_checked()
    await pick("#lien", None)  # a link says nothing about being chosen: clicked, not verifiable
    with pytest.raises(StepFailure, match="does not show it chosen"):
        await pick("[role=radiogroup]", "ZaloPay")  # the page refused the tile
    with pytest.raises(StepFailure, match="offers no 'VNPay'"):
        await pick("[role=radiogroup]", "VNPay")
    with pytest.raises(StepFailure, match="offers no 'Sacombank'"):
        await pick("#s", "Sacombank")


async def test_playwright_usage_errors_are_harness_errors_with_their_words_and_others_are_not(
    journey_at: JourneyAt,
) -> None:
    from playwright.async_api import Error as PlaywrightError

    from playwright_journeys.plugins import guarded

    j = await journey_at("http://127.0.0.1:9")
    await j.page.set_content(CHOICES)
    j.begin_step("payment")

    async def strict(jj: Journey) -> None:
        await jj.page.locator("button").click(timeout=2000)

    async def not_a_checkbox(jj: Journey) -> None:
        await jj.page.locator("#plain").check(timeout=2000)

    async def not_a_select(jj: Journey) -> None:
        await jj.page.locator("#plain").select_option("x", timeout=2000)

    async def bad_selector(jj: Journey) -> None:
        await jj.page.locator("div[[x").count()

    for fn, words in [
        (strict, "strict mode violation"),
        (not_a_checkbox, "Not a checkbox or radio button"),
        (not_a_select, "Element is not a <select> element"),
        (bad_selector, 'while parsing css selector "div[[x"'),
    ]:
        with pytest.raises(HarnessError) as exc:
            await guarded(fn)(j)
        assert words in str(exc.value) and str(exc.value).startswith(
            "harness or profile error, not the portal"
        )

    async def no_answer(jj: Journey) -> None:
        await jj.page.locator("#nowhere").click(timeout=300)

    with pytest.raises(PlaywrightError) as other:  # a timeout stays the portal's business
        await guarded(no_answer)(j)
    assert not isinstance(other.value, HarnessError)
