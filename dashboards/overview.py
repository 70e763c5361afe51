"""The leaders' overview: are the 25 essential services really online, today and over time?

Written for a district chairman, in Vietnamese first: one traffic light per service (generated from
the catalog, grouped by agency), the share working end to end, and the trend. No latency histograms.
For an office that watches many portals (Project 06 watches 63), a row per portal repeats over the
journeys' `portal` label: the same figures `dvcwatch report --by portal` puts on its page.
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as db

from dashboards import panels as p
from dvcwatch.core.catalog import Catalog

UID = "dvcwatch-overview"


def _short(name: str, limit: int = 48) -> str:
    return name if len(name) <= limit else name[: limit - 1].rstrip() + "…"


def build(catalog: Catalog) -> db.Dashboard:
    d = p.new_dashboard(
        UID,
        "DVC · Tổng quan cho lãnh đạo (Leaders' overview)",
        "Có thực sự làm được trực tuyến không? 25 dịch vụ thiết yếu (Đề án 06): đèn xanh/vàng/đỏ theo "
        "kết quả đo và hành trình vào vai người dân.",
        ["leaders", "overview"],
    )
    d = _at_a_glance(d)
    d = _traffic_lights(d, catalog)
    d = _trend(d)
    d = _per_portal(d)
    return d


def _at_a_glance(d: db.Dashboard) -> db.Dashboard:
    d = d.with_row(p.row("Toàn cảnh · At a glance"))
    d = d.with_panel(
        p.big_number(
            "Cổng dịch vụ công truy cập được · Portal reachable",
            "portal:dvc_probe_success_best_vantage:max",
            "Tỷ lệ phép đo thành công tại điểm đo tốt nhất. Share of probes succeeding at the best vantage.",
            steps=((None, p.RED), (0.5, p.YELLOW), (0.95, p.GREEN)),
        )
    )
    d = d.with_panel(
        p.big_number(
            "Dịch vụ hoạt động tốt · Services working",
            "avg(service:dvc_traffic_light:state == bool 2)",
            "Tỷ lệ trong 25 dịch vụ đang đèn xanh. Share of the 25 services whose light is green.",
            steps=((None, p.RED), (0.8, p.YELLOW), (1, p.GREEN)),
        )
    )
    d = d.with_panel(
        p.big_number(
            "Hoàn thành trọn vẹn · Done end to end",
            "avg(min by (service) (dvc_journey_success))",
            "Tỷ lệ dịch vụ mà hành trình vào vai người dân gần nhất hoàn thành (đăng nhập → nộp → kết quả). "
            "Share of services whose last mystery-shopper journey got from login to a result.",
            steps=((None, p.RED), (0.8, p.YELLOW), (1, p.GREEN)),
        )
    )
    d = d.with_panel(
        p.big_number(
            "Cảnh báo khẩn · Pages firing",
            'count(ALERTS{alertstate="firing", severity="page"}) or vector(0)',
            "Số cảnh báo khẩn đang kích hoạt. Alerts paging someone now.",
            unit="none",
            steps=((None, p.GREEN), (1, p.RED)),
        )
    )
    return d


def _traffic_lights(d: db.Dashboard, catalog: Catalog) -> db.Dashboard:
    for agency, services in catalog.by_agency().items():
        d = d.with_row(p.row(f"{catalog.agency(agency).name_vi} · {catalog.agency(agency).name_en}"))
        for s in services:
            level = "toàn trình (fully online)" if s.level == "full" else "một phần (partly online)"
            d = d.with_panel(
                p.traffic_light(
                    _short(s.name_vi),
                    f'service:dvc_traffic_light:state{{service="{s.id}"}}',
                    f"{s.name_vi} — {s.name_en}. Mức độ: {level}. Mã: {s.id}.",
                )
            )
    return d


def _trend(d: db.Dashboard) -> db.Dashboard:
    d = d.with_row(p.row("Xu hướng · Trend"))
    d = d.with_panel(
        p.graph(
            "Tỷ lệ dịch vụ hoạt động · Share of services working",
            "Đèn xanh (đo + hành trình) và hành trình hoàn thành theo thời gian. "
            "Green lights and completed journeys over time.",
            ("avg(service:dvc_traffic_light:state == bool 2)", "đèn xanh · green"),
            ("avg(min by (service) (dvc_journey_success))", "hành trình hoàn thành · journeys done"),
            unit="percentunit",
            width=24,
            max_value=1,
        )
    )
    return d


PORTAL = 'portal=~"$portal"'


def _per_portal(d: db.Dashboard) -> db.Dashboard:
    """One row per portal (Grafana repeats it for each value of $portal), from the journeys' metrics."""
    d = d.with_variable(p.label_variable("portal", "Cổng · Portal", "dvc_journey_success"))
    d = d.with_row(p.row("Cổng · Portal: $portal").repeat("portal"))
    d = d.with_panel(
        p.big_number(
            "Hành trình hoàn thành · Journeys done",
            f"avg(dvc_journey_success{{{PORTAL}}})",
            "Tỷ lệ hành trình gần nhất của cổng này hoàn thành, mọi điểm đo. "
            "Share of this portal's latest journeys that got through, every vantage point.",
            steps=((None, p.RED), (0.8, p.YELLOW), (1, p.GREEN)),
        )
    )
    d = d.with_panel(
        p.big_number(
            "Dịch vụ hỏng · Services broken",
            f"count(min by (service) (dvc_journey_success{{{PORTAL}}}) == 0) or vector(0)",
            "Số dịch vụ có hành trình gần nhất không hoàn thành ở ít nhất một điểm đo. "
            "Services whose latest journey failed from at least one vantage point.",
            unit="none",
            steps=((None, p.GREEN), (1, p.RED)),
        )
    )
    d = d.with_panel(
        p.big_number(
            "Lượt đo gần nhất · Last sweep",
            f"time() - max(dvc_journey_last_run_timestamp_seconds{{{PORTAL}}})",
            "Bao lâu từ lượt hành trình gần nhất của cổng này. How long since this portal's last journey.",
            unit="s",
            steps=((None, p.GREEN), (7200, p.YELLOW), (86400, p.RED)),
        )
    )
    d = d.with_panel(
        p.graph(
            "Theo điểm đo · By vantage point",
            "Tỷ lệ hành trình hoàn thành theo điểm đo. Share of journeys done, per vantage point.",
            (f"avg by (vantage) (dvc_journey_success{{{PORTAL}}})", "{{vantage}}"),
            unit="percentunit",
            width=6,
            height=5,
            max_value=1,
        )
    )
    return d
