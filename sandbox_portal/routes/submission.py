"""form, upload, payment and submit in the HTML flow: the multi-page e-form of one service.

Pages: applicant (thong-tin) → service fields (ho-so) → documents (giay-to) → review (xac-nhan), where
the fee is paid through the gateway before the dossier can be submitted. A draft lives in memory; the
submitted dossier is stored.
"""

from __future__ import annotations

from aiohttp import web

from dvcwatch.core.catalog.models import FormField, Service
from sandbox_portal.accounts import Person
from sandbox_portal.attribution import step
from sandbox_portal.dossiers import create_dossier, new_payment, payment_offline
from sandbox_portal.rendering import error_response, render
from sandbox_portal.routes.common import (
    current_user,
    draft_or_404,
    login_redirect,
    service_or_404,
    state_of,
)
from sandbox_portal.state import Draft, PortalState
from sandbox_portal.validation import check_fields, check_file

PAGES = {
    "thong-tin": ("applicant", "Thông tin người nộp hồ sơ"),
    "ho-so": ("service", "Thông tin hồ sơ"),
}
WIZARD = [
    ("thong-tin", "Thông tin người nộp"),
    ("ho-so", "Thông tin hồ sơ"),
    ("giay-to", "Giấy tờ đính kèm"),
    ("xac-nhan", "Xác nhận và nộp"),
]


def _user(request: web.Request) -> Person:
    user = current_user(request)
    if user is None:
        raise login_redirect(request)
    return user


def _page_fields(state: PortalState, svc: Service, page: str) -> list[FormField]:
    return state.catalog.applicant.fields if page == "applicant" else svc.fields


def _prefill(fields: list[FormField], user: Person, draft: Draft) -> dict[str, str]:
    values: dict[str, str] = {}
    basic = {"so_cccd": user.cccd, "ho_ten": user.full_name, "so_dien_thoai": user.phone, "email": user.email}
    for f in fields:
        if f.name in draft.fields:
            values[f.name] = draft.fields[f.name]
        elif user.citizen is not None and f.source:
            values[f.name] = user.citizen.attr(f.source)
        elif f.name in basic:
            values[f.name] = basic[f.name]
    return values


def _base(request: web.Request, svc: Service, draft: Draft, current: str) -> dict[str, object]:
    return {
        "svc": svc,
        "draft": draft,
        "wizard": WIZARD,
        "current": current,
        "base": f"/nop-ho-so/{svc.id}/{draft.id}",
    }


def _first_incomplete(state: PortalState, svc: Service, draft: Draft) -> str | None:
    if check_fields(state.catalog.applicant.fields, draft.fields):
        return "thong-tin"
    if check_fields(svc.fields, draft.fields):
        return "ho-so"
    if any(d.required and d.id not in draft.documents for d in svc.documents):
        return "giay-to"
    return None


def _review_step(request: web.Request, state: PortalState) -> str:
    """The review page is where the upload lands (first view) and where the payment returns to."""
    draft = state.drafts.get(request.match_info.get("draft", ""))
    return "payment" if draft is not None and draft.payment_status is not None else "upload"


@step("form")
async def start(request: web.Request) -> web.StreamResponse:
    svc = service_or_404(request)
    user = _user(request)
    draft = state_of(request).new_draft(svc.id, user.cccd)
    raise web.HTTPFound(f"/nop-ho-so/{svc.id}/{draft.id}/thong-tin")


@step("form")
async def form_page(request: web.Request) -> web.Response:
    st = state_of(request)
    svc = service_or_404(request)
    user = _user(request)
    draft = draft_or_404(request, user)
    slug = request.match_info["page"]
    page, title = PAGES[slug]
    fields = _page_fields(st, svc, page)
    ctx = _base(request, svc, draft, slug)
    ctx.update(fields=fields, values=_prefill(fields, user, draft), errors={}, title=title)
    if request.method == "POST":
        form = await request.post()
        values = {f.name: str(form.get(f.name, "")).strip() for f in fields}
        errors = check_fields(fields, values)
        if not errors:
            draft.fields.update(values)
            raise web.HTTPFound(f"{ctx['base']}/{'ho-so' if page == 'applicant' else 'giay-to'}")
        ctx.update(values=values, errors=errors)
    return render(request, "form.html", ctx)


@step("upload")
async def upload_page(request: web.Request) -> web.Response:
    svc = service_or_404(request)
    user = _user(request)
    draft = draft_or_404(request, user)
    ctx = _base(request, svc, draft, "giay-to")
    errors: dict[str, str] = {}
    if request.method == "POST":
        form = await request.post()
        for doc in svc.documents:
            part = form.get(doc.id)
            filename = getattr(part, "filename", None) or None
            content = part.file.read() if filename else None  # type: ignore[union-attr]
            if filename is None and doc.id in draft.documents:
                continue  # already attached earlier
            msg = check_file(doc, filename, content)
            if msg:
                errors[doc.id] = msg
            elif filename:
                draft.documents[doc.id] = filename
        if not errors:
            raise web.HTTPFound(f"{ctx['base']}/xac-nhan")
    ctx.update(errors=errors)
    return render(request, "upload.html", ctx)


@step(_review_step)
async def review_page(request: web.Request) -> web.Response:
    st = state_of(request)
    svc = service_or_404(request)
    user = _user(request)
    draft = draft_or_404(request, user)
    missing = _first_incomplete(st, svc, draft)
    if missing:
        raise web.HTTPFound(f"/nop-ho-so/{svc.id}/{draft.id}/{missing}")
    return render(request, "review.html", _review_ctx(request, st, svc, draft))


def _review_ctx(
    request: web.Request, st: PortalState, svc: Service, draft: Draft, **extra: object
) -> dict[str, object]:
    ctx = _base(request, svc, draft, "xac-nhan")
    offline = payment_offline(st, svc)
    ctx.update(
        fields=st.fields[svc.id],
        values=draft.fields,
        offline=offline,
        needs_payment=svc.charges_fee and not offline,
        paid=draft.payment_status == "paid",
        **extra,
    )
    return ctx


@step("payment")
async def pay(request: web.Request) -> web.StreamResponse:
    st = state_of(request)
    svc = service_or_404(request)
    user = _user(request)
    draft = draft_or_404(request, user)
    if not svc.charges_fee or payment_offline(st, svc) or draft.payment_status == "paid":
        raise web.HTTPFound(f"/nop-ho-so/{svc.id}/{draft.id}/xac-nhan")
    txn = new_payment(st, svc, draft.id)
    draft.payment_txn, draft.payment_status = txn.txn, "pending"
    raise web.HTTPFound(f"/cong-thanh-toan/giao-dich/{txn.txn}")


@step("payment")
async def payment_return(request: web.Request) -> web.StreamResponse:
    """The gateway's signed redirect back: trusted only if the HMAC matches."""
    st = state_of(request)
    svc = service_or_404(request)
    user = _user(request)
    draft = draft_or_404(request, user)
    q = request.query
    txn, status, sig = q.get("txn", ""), q.get("status", ""), q.get("sig", "")
    if txn != draft.payment_txn or status not in ("paid", "failed") or not st.signature_ok(txn, status, sig):
        return error_response(request, 400, "Kết quả thanh toán không hợp lệ (sai chữ ký).")
    draft.payment_status = status
    raise web.HTTPFound(f"/nop-ho-so/{svc.id}/{draft.id}/xac-nhan")


@step("submit")
async def submit(request: web.Request) -> web.StreamResponse:
    st = state_of(request)
    svc = service_or_404(request)
    user = _user(request)
    draft = draft_or_404(request, user)
    if draft.submitted_code:
        raise web.HTTPFound(f"/ho-so/{draft.submitted_code}")
    missing = _first_incomplete(st, svc, draft)
    if missing:
        raise web.HTTPFound(f"/nop-ho-so/{svc.id}/{draft.id}/{missing}")
    form = await request.post()
    offline = payment_offline(st, svc)
    problem = None
    if svc.charges_fee and not offline and draft.payment_status != "paid":
        problem = "Vui lòng thanh toán lệ phí trước khi nộp hồ sơ."
    elif form.get("declaration") != "on":
        problem = "Vui lòng xác nhận cam đoan trước khi nộp hồ sơ."
    if problem:
        return render(request, "review.html", _review_ctx(request, st, svc, draft, submit_error=problem))
    row = create_dossier(
        st,
        svc,
        user.cccd,
        dict(draft.fields),
        sorted(draft.documents),
        received=True,
        payment_txn=draft.payment_txn if draft.payment_status == "paid" else None,
        offline=offline,
    )
    draft.submitted_code = row.code
    raise web.HTTPFound(f"/ho-so/{row.code}")


def setup(app: web.Application) -> None:
    r = app.router
    r.add_get("/nop-ho-so/{service}", start)
    for page in PAGES:
        r.add_route("GET", f"/nop-ho-so/{{service}}/{{draft}}/{{page:{page}}}", form_page)
        r.add_route("POST", f"/nop-ho-so/{{service}}/{{draft}}/{{page:{page}}}", form_page)
    r.add_get("/nop-ho-so/{service}/{draft}/giay-to", upload_page)
    r.add_post("/nop-ho-so/{service}/{draft}/giay-to", upload_page)
    r.add_get("/nop-ho-so/{service}/{draft}/xac-nhan", review_page)
    r.add_post("/nop-ho-so/{service}/{draft}/thanh-toan", pay)
    r.add_get("/nop-ho-so/{service}/{draft}/ket-qua-thanh-toan", payment_return)
    r.add_post("/nop-ho-so/{service}/{draft}/nop", submit)
