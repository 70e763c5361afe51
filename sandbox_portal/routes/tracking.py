"""submit's receipt, tracking and result: what a citizen sees after the dossier is in."""

from __future__ import annotations

from aiohttp import web

from sandbox_portal.attribution import step
from sandbox_portal.backoffice import STATUS_VI, result_came, result_pdf, status_of, sub_results
from sandbox_portal.dossiers import electronic_result
from sandbox_portal.rendering import error_response, render
from sandbox_portal.routes.common import state_of
from sandbox_portal.state import PortalState
from sandbox_portal.storage import DossierRow


def _dossier_or_404(request: web.Request) -> DossierRow:
    d = state_of(request).storage.dossiers.get(request.match_info["code"])
    if d is None:
        raise web.HTTPNotFound()
    return d


def _came(d: DossierRow, st: PortalState) -> str | None:
    """ "Ngày trả kết quả" as real portals print it, on the sandbox's calendar (Vietnam time)."""
    came = result_came(d, st)
    return came.strftime("%d/%m/%Y %H:%M:%S") if came else None


@step("submit")
async def receipt(request: web.Request) -> web.Response:
    st = state_of(request)
    d = _dossier_or_404(request)
    svc = st.services[d.service]
    person = st.accounts.people.get(d.cccd)
    ctx = {
        "d": d,
        "svc": svc,
        "agency": st.agencies[svc.agency],
        "holder": person.full_name if person else d.cccd,
        "submitted": st.clock.calendar(d.created_at).strftime("%H:%M ngày %d/%m/%Y"),
        "payment": st.storage.payments.get(d.payment_txn) if d.payment_txn else None,
        "status": status_of(d, st),
        "labels": STATUS_VI,
    }
    return render(request, "receipt.html", ctx)


@step("tracking")
async def track(request: web.Request) -> web.Response:
    st = state_of(request)
    code = request.query.get("ma", "").strip()
    ctx: dict[str, object] = {"code": code, "labels": STATUS_VI}
    if code:
        d = st.storage.dossiers.get(code)
        if d is None:
            ctx["error"] = f"Không tìm thấy hồ sơ có mã «{code}». Vui lòng kiểm tra lại."
        else:
            svc = st.services[d.service]
            ctx.update(d=d, svc=svc, status=status_of(d, st), subs=sub_results(svc, d, st), came=_came(d, st))
    return render(request, "tracking.html", ctx)


@step("result")
async def result_page(request: web.Request) -> web.Response:
    st = state_of(request)
    d = _dossier_or_404(request)
    svc = st.services[d.service]
    status = status_of(d, st)
    mode = "pending" if status != "done" else ("download" if electronic_result(st, svc) else "in_person")
    ctx = {"d": d, "svc": svc, "status": status, "mode": mode, "labels": STATUS_VI, "came": _came(d, st)}
    return render(request, "result.html", ctx)


@step("result")
async def result_file(request: web.Request) -> web.StreamResponse:
    st = state_of(request)
    d = _dossier_or_404(request)
    svc = st.services[d.service]
    if status_of(d, st) != "done":
        return error_response(request, 409, "Hồ sơ chưa có kết quả.")
    if not electronic_result(st, svc):
        return error_response(request, 409, "Kết quả được trả trực tiếp tại Bộ phận Một cửa.")
    person = st.accounts.people.get(d.cccd)
    pdf = result_pdf(d.code, svc, person.full_name if person else d.cccd)
    return web.Response(
        body=pdf,
        content_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="ket-qua-{d.code}.pdf"'},
    )


def setup(app: web.Application) -> None:
    app.router.add_get("/ho-so/{code}", receipt)
    app.router.add_get("/tra-cuu", track)
    app.router.add_get("/ho-so/{code}/ket-qua", result_page)
    app.router.add_get("/ho-so/{code}/ket-qua.pdf", result_file)
