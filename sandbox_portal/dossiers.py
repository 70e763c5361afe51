"""Turning a complete e-form into a dossier and a fee into a payment: shared by pages and API."""

from __future__ import annotations

import secrets
import time

from dvcwatch.core.catalog.models import Service
from sandbox_portal.backoffice import dossier_code, expected_date, status_of, sub_results
from sandbox_portal.state import PortalState
from sandbox_portal.storage import DossierRow, PaymentRow


def payment_offline(state: PortalState, service: Service) -> bool:
    """A downgraded full service quietly stops taking the fee online (pay at the office)."""
    return (
        service.charges_fee
        and state.faults.hits("downgrade", "payment", service.id, what="payment") is not None
    )


def electronic_result(state: PortalState, service: Service) -> bool:
    if service.level != "full":
        return False
    return state.faults.hits("downgrade", "result", service.id, what="result") is None


def new_payment(state: PortalState, service: Service, draft_id: str | None = None) -> PaymentRow:
    row = PaymentRow(
        txn="GD" + secrets.token_hex(6).upper(),
        service=service.id,
        amount=service.fee.amount,
        status="pending",
        created_at=time.time(),
        draft_id=draft_id,
    )
    state.storage.add_payment(row)
    return row


def create_dossier(
    state: PortalState,
    service: Service,
    cccd: str,
    fields: dict[str, str],
    documents: list[str],
    *,
    received: bool,
    payment_txn: str | None = None,
    offline: bool = False,
) -> DossierRow:
    now = time.time()
    today = state.clock.calendar(now)  # the portal's calendar: the due date moves with the sandbox clock
    seq = state.storage.next_seq()
    row = DossierRow(
        seq=seq,
        code=dossier_code(seq, today),
        service=service.id,
        cccd=cccd,
        created_at=now,
        received_at=now if received else None,
        expected_date=expected_date(service, today),
        payment_txn=payment_txn,
        payment_offline=offline,
        documents=documents,
    )
    state.storage.add_dossier(row, fields)
    if payment_txn:
        state.storage.link_payment(payment_txn, row.code)
    return row


def dossier_view(state: PortalState, row: DossierRow) -> dict[str, object]:
    svc = state.services[row.service]
    return {
        "code": row.code,
        "service": row.service,
        "status": status_of(row, state),
        "received_at": state.clock.calendar(row.received_at).isoformat(timespec="seconds")
        if row.received_at
        else None,
        "expected_date": row.expected_date,
        "sub_results": sub_results(svc, row, state),
    }
