"""The JSON API a modern portal's pages call; what probes and load tests exercise without a browser.

Catalog answers are serialised once at start-up: they are the hottest, and never change while the
portal runs.
"""

from __future__ import annotations

import json
import re

from aiohttp import web

from sandbox_portal.accounts import TOKEN_TTL, masked_phone
from sandbox_portal.attribution import part_text, step
from sandbox_portal.backoffice import result_pdf, status_of
from sandbox_portal.dossiers import (
    create_dossier,
    dossier_view,
    electronic_result,
    new_payment,
    payment_offline,
)
from sandbox_portal.rendering import json_response
from sandbox_portal.routes.common import state_of
from sandbox_portal.routes.gateway import BANKS, settle
from sandbox_portal.routes.openapi import openapi_spec
from sandbox_portal.validation import check_fields, check_file

CACHE_KEY = web.AppKey("api_cache", dict)


def _bytes(data: object) -> bytes:
    return json.dumps(data, ensure_ascii=False).encode()


def build_cache(app: web.Application) -> dict[str, bytes]:
    from sandbox_portal.state import STATE_KEY

    st = app[STATE_KEY]
    cache = {
        "services": _bytes(
            [
                {
                    "id": s.id,
                    "name_vi": s.name_vi,
                    "name_en": s.name_en,
                    "agency": s.agency,
                    "level": s.level,
                    "fee": s.fee.amount,
                }
                for s in st.catalog.services
            ]
        ),
        "openapi": _bytes(openapi_spec()),
        "health": _bytes({"status": "ok"}),
    }
    for s in st.catalog.services:
        cache[f"service:{s.id}"] = _bytes(s.model_dump())
        cache[f"form:{s.id}"] = _bytes(
            {
                "service": s.id,
                "pages": [
                    {"id": "applicant", "fields": [_field(f) for f in st.catalog.applicant.fields]},
                    {"id": "service", "fields": [_field(f) for f in s.fields]},
                ],
                "documents": [d.model_dump() for d in s.documents],
            }
        )
    return cache


def _field(f) -> dict[str, object]:  # type: ignore[no-untyped-def]
    d = f.model_dump(exclude_none=True)
    rule = f.rule()
    if rule:
        d["rule"] = rule
    return d


def _cached(request: web.Request, key: str) -> web.Response:
    body = request.app[CACHE_KEY].get(key)
    if body is None:
        return json_response({"error": "không tìm thấy"}, status=404)
    return web.Response(body=body, content_type="application/json", charset="utf-8")


async def health(request: web.Request) -> web.Response:
    return _cached(request, "health")


async def openapi(request: web.Request) -> web.Response:
    return _cached(request, "openapi")


@step("find_service")
async def services(request: web.Request) -> web.Response:
    return _cached(request, "services")


@step("find_service")
async def service(request: web.Request) -> web.Response:
    return _cached(request, f"service:{request.match_info['service']}")


@step("form")
async def form_schema(request: web.Request) -> web.Response:
    return _cached(request, f"form:{request.match_info['service']}")


async def _json_body(request: web.Request) -> dict[str, object]:
    try:
        body = await request.json()
    except ValueError:
        raise web.HTTPBadRequest(
            text='{"error": "body must be JSON"}', content_type="application/json"
        ) from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(
            text='{"error": "body must be a JSON object"}', content_type="application/json"
        )
    return body


@step("login")
async def login(request: web.Request) -> web.Response:
    st = state_of(request)
    body = await _json_body(request)
    cccd, password = str(body.get("cccd", "")).strip(), str(body.get("password", ""))
    service = body.get("service")
    if service is not None and service not in st.services:
        return json_response({"error": f"unknown service {service!r}"}, status=400)
    if not re.fullmatch(r"\d{12}", cccd):
        return json_response({"error": "Số định danh cá nhân phải gồm đúng 12 chữ số."}, status=400)
    person = st.accounts.check_password(cccd, password)
    if person is None:
        return json_response({"error": "Số định danh cá nhân hoặc mật khẩu không đúng."}, status=401)
    lost = st.faults.hits("otp_lost", "otp", service)  # type: ignore[arg-type]
    ch = st.accounts.send_otp(person, service, delivered=lost is None)  # type: ignore[arg-type]
    return json_response({"challenge": ch.id, "otp_sent_to": masked_phone(person.phone)})


@step("otp")
async def otp(request: web.Request) -> web.Response:
    st = state_of(request)
    body = await _json_body(request)
    ch = st.accounts.verify_otp(str(body.get("challenge", "")), str(body.get("otp", "")))
    if ch is None:
        return json_response({"error": "Mã OTP không đúng hoặc đã hết hạn."}, status=401)
    return json_response({"token": st.accounts.issue_token(ch.cccd), "expires_in": TOKEN_TTL})


def _bearer_owner(request: web.Request) -> str | None:
    auth = request.headers.get("Authorization", "")
    if not auth.startswith("Bearer "):
        return None
    return state_of(request).accounts.token_owner(auth[7:].strip())


@step("submit")
async def submit(request: web.Request) -> web.Response:
    st = state_of(request)
    cccd = _bearer_owner(request)
    if cccd is None:
        return json_response({"error": "Cần đăng nhập (Authorization: Bearer <token>)."}, status=401)
    if request.content_type != "multipart/form-data":
        return json_response({"error": "body must be multipart/form-data with a `data` part"}, status=400)
    form = await request.post()
    try:
        data = json.loads(part_text(form.get("data")))
    except ValueError:
        return json_response({"error": "part `data` must be JSON {service, fields}"}, status=400)
    svc = st.services.get(data.get("service", "")) if isinstance(data, dict) else None
    if svc is None:
        return json_response({"error": "unknown or missing service"}, status=400)
    fields = {k: str(v) for k, v in (data.get("fields") or {}).items()}
    errors = check_fields(st.fields[svc.id], fields)
    documents = []
    for doc in svc.documents:
        part = form.get(doc.id)
        filename = getattr(part, "filename", None) or None
        content = part.file.read() if filename else None  # type: ignore[union-attr]
        msg = check_file(doc, filename, content)
        if msg:
            errors[doc.id] = msg
        elif filename:
            documents.append(doc.id)
    if errors:
        return json_response({"errors": errors}, status=422)
    offline = payment_offline(st, svc)
    needs_payment = svc.charges_fee and not offline
    payment = new_payment(st, svc) if needs_payment else None
    row = create_dossier(
        st,
        svc,
        cccd,
        fields,
        documents,
        received=not needs_payment,
        payment_txn=payment.txn if payment else None,
        offline=offline,
    )
    return json_response(
        {
            "code": row.code,
            "status": status_of(row, st),
            "payment": {"txn": payment.txn, "amount": payment.amount} if payment else None,
            "expected_date": row.expected_date,
        },
        status=201,
    )


@step("payment")
async def confirm_payment(request: web.Request) -> web.Response:
    st = state_of(request)
    p = st.storage.payments.get(request.match_info["txn"])
    if p is None:
        return json_response({"error": "không tìm thấy giao dịch"}, status=404)
    body = await _json_body(request)
    bank = str(body.get("bank", ""))
    if bank not in BANKS:
        return json_response({"error": f"bank must be one of {', '.join(BANKS)}"}, status=400)
    if p.status != "pending":
        return json_response({"error": "giao dịch đã được xử lý", "status": p.status}, status=409)
    status = settle(st, p, bank)
    if status != "paid":
        return json_response(
            {"status": "failed", "dossier": p.dossier_code, "error": "Giao dịch không thành công."},
            status=402,
        )
    return json_response({"status": "paid", "dossier": p.dossier_code})


@step("tracking")
async def dossier(request: web.Request) -> web.Response:
    st = state_of(request)
    d = st.storage.dossiers.get(request.match_info["code"])
    if d is None:
        return json_response({"error": "không tìm thấy hồ sơ"}, status=404)
    return json_response(dossier_view(st, d))


@step("result")
async def result(request: web.Request) -> web.StreamResponse:
    st = state_of(request)
    d = st.storage.dossiers.get(request.match_info["code"])
    if d is None:
        return json_response({"error": "không tìm thấy hồ sơ"}, status=404)
    svc = st.services[d.service]
    status = status_of(d, st)
    if status != "done":
        return json_response({"status": status}, status=409)
    if not electronic_result(st, svc):
        return json_response({"delivery": "in_person"}, status=409)
    person = st.accounts.people.get(d.cccd)
    return web.Response(
        body=result_pdf(d.code, svc, person.full_name if person else d.cccd), content_type="application/pdf"
    )


def setup(app: web.Application) -> None:
    app[CACHE_KEY] = build_cache(app)
    r = app.router
    r.add_get("/api/openapi.json", openapi)
    r.add_get("/api/v1/health", health)
    r.add_get("/api/v1/services", services)
    r.add_get("/api/v1/services/{service}", service)
    r.add_get("/api/v1/services/{service}/form", form_schema)
    r.add_post("/api/v1/auth/login", login)
    r.add_post("/api/v1/auth/otp", otp)
    r.add_post("/api/v1/dossiers", submit)
    r.add_post("/api/v1/payments/{txn}/confirm", confirm_payment)
    r.add_get("/api/v1/dossiers/{code}", dossier)
    r.add_get("/api/v1/dossiers/{code}/result", result)
