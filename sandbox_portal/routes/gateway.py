"""payment: the national payment platform's page (pick a bank or wallet, confirm, signed redirect back).

A `payment_failed` fault lets the citizen go through the bank step and fails the transaction after
it, which is how these outages look from outside: the money question is left open.
"""

from __future__ import annotations

import time
from urllib.parse import urlencode

from aiohttp import web

from sandbox_portal.attribution import step
from sandbox_portal.rendering import error_response, render
from sandbox_portal.routes.common import state_of
from sandbox_portal.state import PortalState
from sandbox_portal.storage import PaymentRow

BANKS = {
    "vcb": "Vietcombank",
    "bidv": "BIDV",
    "vietinbank": "VietinBank",
    "agribank": "Agribank",
    "momo": "Ví MoMo",
}
FAILED_TEXT = "Giao dịch không thành công: ngân hàng không phản hồi kết quả. Vui lòng thử lại sau."


def settle(state: PortalState, payment: PaymentRow, bank: str) -> str:
    """Run the bank step and decide the outcome: paid, or failed when a fault says so."""
    failed = state.faults.hits("payment_failed", "payment", payment.service)
    status = "failed" if failed else "paid"
    state.storage.settle_payment(payment.txn, status, bank)
    if status == "paid" and payment.dossier_code:
        state.storage.mark_received(payment.dossier_code, time.time())
    return status


def _payment_or_404(request: web.Request) -> PaymentRow:
    p = state_of(request).storage.payments.get(request.match_info["txn"])
    if p is None:
        raise web.HTTPNotFound()
    return p


@step("payment")
async def gateway_page(request: web.Request) -> web.Response:
    st = state_of(request)
    p = _payment_or_404(request)
    return render(request, "gateway.html", {"p": p, "svc": st.services[p.service], "banks": BANKS})


@step("payment")
async def gateway_confirm(request: web.Request) -> web.StreamResponse:
    st = state_of(request)
    p = _payment_or_404(request)
    form = await request.post()
    bank = str(form.get("bank", ""))
    if bank not in BANKS:
        return render(
            request,
            "gateway.html",
            {
                "p": p,
                "svc": st.services[p.service],
                "banks": BANKS,
                "error": "Vui lòng chọn ngân hàng hoặc ví điện tử.",
            },
        )
    if p.status != "pending":
        return error_response(request, 409, "Giao dịch này đã được xử lý.")
    status = settle(st, p, bank)
    if not p.draft_id:
        return render(request, "gateway_done.html", {"p": p, "status": status})
    draft = st.drafts.get(p.draft_id)
    if draft is None:
        return error_response(request, 404, "Hồ sơ nháp không còn tồn tại.")
    query = urlencode({"txn": p.txn, "status": status, "sig": st.sign(p.txn, status)})
    raise web.HTTPFound(f"/nop-ho-so/{draft.service}/{draft.id}/ket-qua-thanh-toan?{query}")


def setup(app: web.Application) -> None:
    app.router.add_get("/cong-thanh-toan/giao-dich/{txn}", gateway_page)
    app.router.add_post("/cong-thanh-toan/giao-dich/{txn}", gateway_confirm)
