"""login and otp: a VNeID-like sign-on (CCCD + password, then a 6-digit SMS code), and registration.

The login form carries `next` (the page it returns to) and so the service the citizen is on the way
to: a fault scoped to that service hits its login and OTP as well.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from aiohttp import web

from sandbox_portal.accounts import masked_phone
from sandbox_portal.attribution import service_from_path, step
from sandbox_portal.rendering import json_response, render
from sandbox_portal.routes.common import SESSION_COOKIE, safe_next, state_of
from sandbox_portal.state import SESSION_ID_KEY, SESSION_KEY


def _ctx(request: web.Request, nxt: str, **extra: object) -> dict[str, object]:
    st = state_of(request)
    svc_id = service_from_path(nxt, st)
    return {"next": nxt, "service": st.services.get(svc_id) if svc_id else None, **extra}


@step("login")
async def login_form(request: web.Request) -> web.Response:
    nxt = safe_next(request.query.get("next"))
    return render(request, "login.html", _ctx(request, nxt))


@step("login")
async def login_submit(request: web.Request) -> web.StreamResponse:
    st = state_of(request)
    form = await request.post()
    nxt = safe_next(str(form.get("next", "")))
    cccd = str(form.get("cccd", "")).strip()
    password = str(form.get("password", ""))
    if not re.fullmatch(r"\d{12}", cccd):
        msg = "Số định danh cá nhân phải gồm đúng 12 chữ số."
        return render(request, "login.html", _ctx(request, nxt, error=msg, cccd=cccd))
    person = st.accounts.check_password(cccd, password)
    if person is None:
        msg = "Số định danh cá nhân hoặc mật khẩu không đúng."
        return render(request, "login.html", _ctx(request, nxt, error=msg, cccd=cccd))
    service = service_from_path(nxt, st)
    lost = st.faults.hits("otp_lost", "otp", service)
    challenge = st.accounts.send_otp(person, service, delivered=lost is None)
    sid = request.get(SESSION_ID_KEY) or st.accounts.new_session()
    st.accounts.sessions[sid] = {"cccd": None, "challenge": challenge.id}
    resp = web.HTTPFound(f"/dang-nhap/otp?next={quote(nxt, safe='/')}")
    resp.set_cookie(SESSION_COOKIE, sid, httponly=True, samesite="Lax")
    raise resp


def _pending(request: web.Request) -> tuple[str | None, str]:
    st = state_of(request)
    sess = request.get(SESSION_KEY) or {}
    ch = st.accounts.challenges.get(sess.get("challenge") or "")
    phone = masked_phone(st.accounts.people[ch.cccd].phone) if ch else ""
    return (ch.id if ch else None), phone


@step("otp")
async def otp_form(request: web.Request) -> web.Response:
    nxt = safe_next(request.query.get("next"))
    challenge, phone = _pending(request)
    if challenge is None:
        raise web.HTTPFound(f"/dang-nhap?next={quote(nxt, safe='/')}")
    return render(request, "otp.html", _ctx(request, nxt, phone=phone))


@step("otp")
async def otp_submit(request: web.Request) -> web.StreamResponse:
    st = state_of(request)
    form = await request.post()
    nxt = safe_next(str(form.get("next", "")))
    challenge, phone = _pending(request)
    if challenge is None:
        raise web.HTTPFound(f"/dang-nhap?next={quote(nxt, safe='/')}")
    ch = st.accounts.verify_otp(challenge, str(form.get("otp", "")))
    if ch is None:
        msg = "Mã OTP không đúng hoặc đã hết hạn."
        return render(request, "otp.html", _ctx(request, nxt, phone=phone, error=msg))
    request[SESSION_KEY].update(cccd=ch.cccd, challenge=None)
    raise web.HTTPFound(nxt)


@step("login")
async def logout(request: web.Request) -> web.StreamResponse:
    sid = request.get(SESSION_ID_KEY)
    if sid:
        state_of(request).accounts.sessions.pop(sid, None)
    resp = web.HTTPFound("/")
    resp.del_cookie(SESSION_COOKIE)
    raise resp


@step("login")
async def register_form(request: web.Request) -> web.Response:
    return render(request, "register.html", {"values": {}, "errors": {}})


REGISTER_RULES = {
    "cccd": (r"\d{12}", "Số định danh cá nhân phải gồm đúng 12 chữ số."),
    "full_name": (r"\S.{1,79}", "Vui lòng nhập họ và tên."),
    "phone": (r"0\d{9}", "Số điện thoại phải gồm 10 chữ số và bắt đầu bằng số 0."),
    "email": (r"[^@\s]+@[^@\s]+\.[^@\s]+", "Địa chỉ thư điện tử không hợp lệ."),
    "password": (r".{8,64}", "Mật khẩu phải có từ 8 ký tự trở lên."),
}


@step("login")
async def register_submit(request: web.Request) -> web.StreamResponse:
    st = state_of(request)
    form = await request.post()
    values = {k: str(form.get(k, "")).strip() for k in REGISTER_RULES}
    errors = {k: msg for k, (rx, msg) in REGISTER_RULES.items() if not re.fullmatch(rx, values[k])}
    if not errors and values["cccd"] in st.accounts.people:
        errors["cccd"] = "Số định danh cá nhân này đã có tài khoản."
    if not errors and str(form.get("password_confirm", "")) != values["password"]:
        errors["password_confirm"] = "Mật khẩu nhập lại không khớp."
    if errors:
        values.pop("password")
        return render(request, "register.html", {"values": values, "errors": errors})
    st.accounts.register(
        values["cccd"], values["full_name"], values["phone"], values["email"], values["password"]
    )
    raise web.HTTPFound("/dang-nhap?registered=1")


@step("otp")
async def sandbox_otp(request: web.Request) -> web.Response:
    """Where tests read the SMS: 404 until one was sent, and never for an OTP lost on the way."""
    otp = state_of(request).accounts.readable_otp(request.query.get("cccd", "").strip())
    if otp is None:
        return json_response({"error": "no OTP has been delivered for this number"}, status=404)
    return json_response({"otp": otp})


def setup(app: web.Application) -> None:
    app.router.add_get("/dang-nhap", login_form)
    app.router.add_post("/dang-nhap", login_submit)
    app.router.add_get("/dang-nhap/otp", otp_form)
    app.router.add_post("/dang-nhap/otp", otp_submit)
    app.router.add_get("/dang-xuat", logout)
    app.router.add_get("/dang-ky", register_form)
    app.router.add_post("/dang-ky", register_submit)
    app.router.add_get("/_sandbox/otp", sandbox_otp)
