"""The agency's back office: dossier codes, appointment dates, status progress and the result file.

Status is not stored but derived from how long ago (on the sandbox clock) the dossier was received:
received → processing → done. Two paces: `fast` (the default) answers within about a sandbox second,
so a healthy journey sees "done" at once; `real` answers when the service promised to (its catalog
`processing_time`: 12 hours, 5 working days), so with `--clock-speed 3600` a day passes in 24 real
seconds and a follow-up sees dossiers open, then answered. A `backoffice_delay` fault makes a service's
dossiers answer later than that, or never. The due date (ngày hẹn trả) and the time the result came
("Ngày trả kết quả") are both read off the sandbox's calendar (`SandboxClock.calendar`), so lateness is
the sandbox's own. Bundles ("liên thông") finish agency by agency.
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from dvcwatch.core.catalog.models import Service
from sandbox_portal.storage import DossierRow

if TYPE_CHECKING:
    from sandbox_portal.state import PortalState

PROCESSING_AFTER = 0.3  # sandbox seconds after reception
DONE_AFTER = 1.0  # the fast pace
PACES = ("fast", "real")
CODE_PREFIX = "G22.99.08"
DELAY_KIND = "backoffice_delay"

STATUS_VI = {
    "awaiting_payment": "Chờ thanh toán",
    "received": "Đã tiếp nhận",
    "processing": "Đang xử lý",
    "done": "Đã có kết quả",
}


def dossier_code(seq: int, when: datetime) -> str:
    """Like the national portal's `G22.99.08-260921-896048`: agency prefix, yymmdd, number."""
    return f"{CODE_PREFIX}-{when:%y%m%d}-{seq % 1_000_000:06d}"


def add_working_days(start: date, days: int) -> date:
    d = start
    while days > 0:
        d += timedelta(days=1)
        if d.weekday() < 5:
            days -= 1
    return d


def promised_seconds(service: Service, received: datetime) -> float:
    """From reception to the promised moment: the due date at the time of day it was received
    (hours: that many hours later)."""
    pt = service.processing_time
    if pt.unit == "hours":
        return pt.days * 3600
    if pt.unit == "days":
        return math.ceil(pt.days) * 86400
    return (add_working_days(received.date(), math.ceil(pt.days)) - received.date()).days * 86400


def expected_date(service: Service, received: datetime) -> str:
    """The appointment date (ngày hẹn trả) as dd/mm/yyyy; `received` on the portal's calendar."""
    return (received + timedelta(seconds=promised_seconds(service, received))).strftime("%d/%m/%Y")


def done_after(row: DossierRow, state: PortalState) -> float | None:
    """Sandbox seconds from reception to the result, None for never (or not received yet)."""
    if row.received_at is None:
        return None
    service = state.services[row.service]
    base = DONE_AFTER
    if state.backoffice == "real":
        base = promised_seconds(service, state.clock.calendar(row.received_at))
    if not state.faults.faults:
        return base
    delay = state.faults.scheduled(DELAY_KIND, service.id, state.clock.at(row.received_at), row.code)
    if delay is None:
        return base
    late = delay.spec.seconds
    return None if late is None else base + float(late)  # type: ignore[arg-type]


def status_of(row: DossierRow, state: PortalState) -> str:
    if row.received_at is None:
        return "awaiting_payment"
    age = state.clock.elapsed_since(row.received_at)
    done = done_after(row, state)
    if done is not None and age >= done:
        return "done"
    if age >= min(PROCESSING_AFTER, done if done is not None else PROCESSING_AFTER):
        return "processing"
    return "received"


def result_came(row: DossierRow, state: PortalState) -> datetime | None:
    """When the result came on the portal's calendar (what "Ngày trả kết quả" shows); None: not yet."""
    done = done_after(row, state)
    if row.received_at is None or done is None or state.clock.elapsed_since(row.received_at) < done:
        return None
    return state.clock.calendar(row.received_at) + timedelta(seconds=done)


def sub_results(service: Service, row: DossierRow, state: PortalState) -> list[dict[str, str]]:
    """Each agency of a bundle finishes in turn within the dossier's processing time."""
    if not service.sub_results:
        return []
    age = state.clock.elapsed_since(row.received_at) if row.received_at is not None else -1.0
    total = done_after(row, state)
    n = len(service.sub_results)
    out = []
    for i, sub in enumerate(service.sub_results):
        if age < 0:
            status = "awaiting_payment"
        elif total is not None and age >= total * (i + 1) / n:
            status = "done"
        elif i == 0 or (total is not None and age >= total * i / n):
            status = "processing"
        else:
            status = "received"
        out.append({"agency": sub.agency, "name_vi": sub.name_vi, "name_en": sub.name_en, "status": status})
    return out


def result_pdf(code: str, service: Service, holder: str) -> bytes:
    """A small, valid one-page PDF standing in for the signed electronic result."""
    lines = [
        "CONG HOA XA HOI CHU NGHIA VIET NAM",
        "Doc lap - Tu do - Hanh phuc",
        "",
        "KET QUA GIAI QUYET THU TUC HANH CHINH (BAN DIEN TU)",
        f"Ma ho so: {code}",
        f"Thu tuc: {service.id}",
        f"Nguoi nop: {holder}",
        "Ban sandbox cua dvcwatch - khong co gia tri phap ly.",
    ]
    text = (
        "BT /F1 12 Tf 60 780 Td 16 TL "
        + " ".join(
            "(" + ln.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ") '" for ln in lines
        )
        + " ET"
    )
    stream = text.encode("latin-1", "replace")
    objects = [
        b"<</Type/Catalog/Pages 2 0 R>>",
        b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
        b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]/Resources<</Font<</F1 5 0 R>>>>/Contents 4 0 R>>",
        b"<</Length %d>>stream\n" % len(stream) + stream + b"\nendstream",
        b"<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)
