"""`scorecard.html`: one page a district leader reads without help, Vietnamese first, English on a switch.

It answers, in order: how many services truly work online end to end; which ones (a traffic light per
service, grouped by agency); where each broken one breaks and what the citizen saw; and where the
promised level (toàn trình) was not delivered. Self-contained HTML, images linked beside it.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from dvcwatch.core.atomic import write_text
from dvcwatch.core.catalog.models import Catalog
from dvcwatch.core.steps import STEP_LABELS
from playwright_journeys.personas import Personas
from playwright_journeys.results import RunResults, ServiceResult, summarize

TEMPLATES = Path(__file__).with_name("templates")

LEVELS = {"full": ("Toàn trình", "Fully online"), "partial": ("Một phần", "Partly online")}

# The harness speaks English in results.json; the leader reads Vietnamese. Unknown messages stay English.
MESSAGES_VI: list[tuple[str, str]] = [
    (r"no answer in (\S+) s", "Cổng không phản hồi sau {0} giây"),
    (r"step not done in (\S+) s", "Bước này chưa xong sau {0} giây (cổng trả lời quá chậm)"),
    (r"the portal showed an error page", "Cổng hiện trang báo lỗi"),
    (r"the portal said it is busy \(soft failure\)", "Cổng báo hệ thống đang bận"),
    (r"the portal answered HTTP (\d+)", "Cổng trả lỗi HTTP {0}"),
    (r"no one-time code arrived in (\S+) s", "Không nhận được mã OTP sau {0} giây"),
    (r"the one-time code was refused", "Mã OTP bị từ chối"),
    (r"the login was refused", "Không đăng nhập được"),
    (r"the payment did not go through", "Thanh toán không thành công"),
    (r"the review page offers no way to pay the fee", "Không có cách nộp lệ phí trực tuyến"),
    (r"the e-form refused the answers", "Tờ khai bị từ chối"),
    (r"the portal refused the form: (.+)", "Cổng không nhận tờ khai: {0}"),
    (r"the portal refused the documents: (.+)", "Cổng không nhận giấy tờ: {0}"),
    (r"the portal refused the dossier: (.+)", "Cổng không nhận hồ sơ: {0}"),
    (r"the portal refused (.+)", "Cổng không nhận giấy tờ: {0}"),
    (r"the receipt shows no valid dossier code.*", "Không nhận được mã hồ sơ"),
    (r"the page did not show (.+)", "Trang không hiện ra như mong đợi ({0})"),
    (r"the page broke: (.+)", "Trang bị lỗi kết nối ({0})"),
    (r"browser crashed: .*", "Trình duyệt của công cụ bị sập"),
]

REASONS = {
    "level_shortfall": ("phải đến Bộ phận Một cửa", "must go to the One-Stop counter"),
    "over_service_budget": ("quá chậm so với mục tiêu", "slower than its target"),
    "over_persona_budget": ("quá chậm với thiết bị này", "too slow on this device"),
    "fee_differs": ("lệ phí thu khác lệ phí công bố", "the fee charged is not the published one"),
}


def message_vi(message: str) -> str:
    for pattern, vi in MESSAGES_VI:
        m = re.fullmatch(pattern, message)
        if m:
            return vi.format(*m.groups())
    return message


def _headline(results: list[ServiceResult]) -> dict[str, Any]:
    """`summarize`, as the template reads it: counts by verdict and the end-to-end share in percent."""
    summary = summarize(results).model_dump(by_alias=True)
    # not_filed journeys (production) could not be tried end to end: the share is of the others
    return {
        **summary,
        "tried": summary["total"] - summary["not_filed"],
        "share": round(100 * summary["share_end_to_end"]),
    }


def _when(iso: str) -> str:
    """26/11/2026 18:01 (giờ Việt Nam): the way a district office writes dates."""
    from datetime import datetime, timedelta, timezone

    try:
        at = datetime.fromisoformat(iso).astimezone(timezone(timedelta(hours=7)))
    except ValueError:
        return iso
    return at.strftime("%d/%m/%Y %H:%M") + " (UTC+7)"


def build_context(run: RunResults, catalog: Catalog, personas: Personas) -> dict[str, Any]:
    by_key = {(r.service, r.persona): r for r in run.results}
    persona_names = [p for p in run.personas if any(r.persona == p for r in run.results)]
    labels = {p.name: (p.label_vi, p.label_en) for p in personas.personas}
    groups = []
    for agency_id, services in catalog.by_agency().items():
        rows = []
        for s in services:
            cells = [by_key.get((s.id, p)) for p in persona_names]
            if not any(cells):
                continue
            rows.append({"service": s, "cells": list(zip(persona_names, cells, strict=True))})
        if rows:
            a = catalog.agency(agency_id)
            groups.append({"id": agency_id, "name_vi": a.name_vi, "name_en": a.name_en, "rows": rows})
    heads = {p: _headline([r for r in run.results if r.persona == p]) for p in persona_names}
    broken_at = Counter(r.failed_step for r in run.results if r.verdict == "fail" and r.failed_step)
    shortfalls = [r for r in run.results if r.level_shortfall]
    order = {"fail": 0, "error": 1, "degraded": 2}
    problems = sorted((r for r in run.results if r.verdict in order), key=lambda r: order[r.verdict])
    return {
        "run": run,
        "finished": _when(run.finished_at),
        "problems": problems,
        "groups": groups,
        "personas": persona_names,
        "persona_labels": labels,
        "heads": heads,
        "broken_at": broken_at.most_common(),
        "shortfalls": shortfalls,
        "steps": STEP_LABELS,
        "levels": LEVELS,
        "reasons": REASONS,
        "message_vi": message_vi,
    }


def render(run: RunResults, catalog: Catalog, personas: Personas) -> str:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env.get_template("scorecard.html.j2").render(**build_context(run, catalog, personas))


def write_scorecard(run: RunResults, catalog: Catalog, personas: Personas, out_dir: Path) -> Path:
    path = out_dir / "scorecard.html"
    write_text(path, render(run, catalog, personas))  # rewritten after every journey: never half a page
    return path
