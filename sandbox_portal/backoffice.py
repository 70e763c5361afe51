"""The agency's back office: dossier codes, appointment dates, status progress and the result file.

Status is not stored but derived from how long ago (on the sandbox clock) the dossier was received:
received → processing → done, fast by default so a healthy journey sees "done" within about two
seconds, and slower or faster with `--clock-speed`. Bundles ("liên thông") finish agency by agency.
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta

from dvcwatch.core.catalog.models import Service
from sandbox_portal.clock import SandboxClock
from sandbox_portal.storage import DossierRow

PROCESSING_AFTER = 0.3  # sandbox seconds after reception
DONE_AFTER = 1.0
CODE_PREFIX = "G22.99.08"

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


def expected_date(service: Service, received: datetime) -> str:
    """The appointment date (ngày hẹn trả) as dd/mm/yyyy."""
    pt = service.processing_time
    if pt.unit == "hours":
        due = (received + timedelta(hours=pt.days)).date()
    elif pt.unit == "days":
        due = received.date() + timedelta(days=math.ceil(pt.days))
    else:
        due = add_working_days(received.date(), math.ceil(pt.days))
    return due.strftime("%d/%m/%Y")


def status_of(row: DossierRow, clock: SandboxClock) -> str:
    if row.received_at is None:
        return "awaiting_payment"
    age = clock.elapsed_since(row.received_at)
    if age >= DONE_AFTER:
        return "done"
    if age >= PROCESSING_AFTER:
        return "processing"
    return "received"


def sub_results(service: Service, row: DossierRow, clock: SandboxClock) -> list[dict[str, str]]:
    """Each agency of a bundle finishes in turn within the dossier's processing time."""
    if not service.sub_results:
        return []
    age = clock.elapsed_since(row.received_at) if row.received_at is not None else -1.0
    n = len(service.sub_results)
    out = []
    for i, sub in enumerate(service.sub_results):
        if age < 0:
            status = "awaiting_payment"
        elif age >= DONE_AFTER * (i + 1) / n:
            status = "done"
        elif i == 0 or age >= DONE_AFTER * i / n:
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
