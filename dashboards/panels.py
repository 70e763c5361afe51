"""The few panel shapes the dashboards use, so every dashboard reads its data the same way.

Every query goes through the `${datasource}` variable, so the JSON works with whatever the
operator's Prometheus data source is called.
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import common as cb
from grafana_foundation_sdk.builders import dashboard as db
from grafana_foundation_sdk.builders import prometheus, stat, table, timeseries
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models import dashboard as dm
from grafana_foundation_sdk.models import prometheus as pm

DATASOURCE = dm.DataSourceRef(type_val="prometheus", uid="${datasource}")

GREEN, YELLOW, RED = "green", "yellow", "red"

# Traffic light values of service:dvc_traffic_light:state (alerts/rulegen.py).
LIGHTS = {
    "0": dm.ValueMappingResult(text="Lỗi · broken", color=RED, index=0),
    "1": dm.ValueMappingResult(text="Suy giảm · degraded", color=YELLOW, index=1),
    "2": dm.ValueMappingResult(text="Hoạt động · works", color=GREEN, index=2),
}


def query(expr: str, legend: str = "", ref: str = "A", instant: bool = False) -> prometheus.Dataquery:
    q = prometheus.Dataquery().expr(expr).ref_id(ref).datasource(DATASOURCE)
    if legend:
        q = q.legend_format(legend)
    return q.instant() if instant else q.range()


def thresholds(*steps: tuple[float | None, str]) -> db.ThresholdsConfig:
    return (
        db.ThresholdsConfig()
        .mode(dm.ThresholdsMode.ABSOLUTE)
        .steps([dm.Threshold(value=v, color=c) for v, c in steps])
    )


def _last_value() -> cb.ReduceDataOptions:
    return cb.ReduceDataOptions().calcs(["lastNotNull"]).values(False)


def traffic_light(title: str, expr: str, description: str, width: int = 4) -> stat.Panel:
    return (
        stat.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .with_target(query(expr, instant=True))
        .mappings([dm.ValueMap(options=LIGHTS)])
        .thresholds(thresholds((None, RED), (1, YELLOW), (2, GREEN)))
        .color_mode(common.BigValueColorMode.BACKGROUND)
        .graph_mode(common.BigValueGraphMode.NONE)
        .text_mode(common.BigValueTextMode.VALUE)
        .reduce_options(_last_value())
        .no_value("Không có dữ liệu · no data")
        .height(4)
        .span(width)
    )


def big_number(
    title: str,
    expr: str,
    description: str,
    unit: str = "percentunit",
    steps: tuple[tuple[float | None, str], ...] = ((None, RED), (0.9, YELLOW), (0.99, GREEN)),
    width: int = 6,
) -> stat.Panel:
    return (
        stat.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .with_target(query(expr, instant=True))
        .unit(unit)
        .decimals(1 if unit == "percentunit" else 0)
        .thresholds(thresholds(*steps))
        .color_mode(common.BigValueColorMode.BACKGROUND)
        .graph_mode(common.BigValueGraphMode.AREA)
        .reduce_options(_last_value())
        .height(5)
        .span(width)
    )


def graph(
    title: str,
    description: str,
    *queries: tuple[str, str],
    unit: str = "short",
    width: int = 12,
    height: int = 8,
    max_value: float | None = None,
) -> timeseries.Panel:
    p = (
        timeseries.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .unit(unit)
        .height(height)
        .span(width)
        .min(0)
        .line_width(1)
        .fill_opacity(10)
    )
    if max_value is not None:
        p = p.max(max_value)
    for i, (expr, legend) in enumerate(queries):
        p = p.with_target(query(expr, legend, ref=chr(ord("A") + i)))
    return p


def listing(title: str, description: str, expr: str, width: int = 24, height: int = 8) -> table.Panel:
    return (
        table.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .with_target(query(expr, instant=True).format(pm.PromQueryFormat.TABLE))
        .height(height)
        .span(width)
    )


def row(title: str) -> db.Row:
    return db.Row(title)


def datasource_variable() -> db.DatasourceVariable:
    return db.DatasourceVariable("datasource").label("Prometheus").type("prometheus")


def label_variable(name: str, label: str, metric: str) -> db.QueryVariable:
    return (
        db.QueryVariable(name)
        .label(label)
        .datasource(DATASOURCE)
        .query({"query": f"label_values({metric}, {name})", "refId": "PrometheusVariableQueryEditor"})
        .refresh(dm.VariableRefresh.ON_TIME_RANGE_CHANGED)
        .multi(True)
        .include_all(True)
        .all_value(".*")
        .sort(dm.VariableSort.ALPHABETICAL_ASC)
    )


def new_dashboard(uid: str, title: str, description: str, tags: list[str]) -> db.Dashboard:
    return (
        db.Dashboard(title)
        .uid(uid)
        .description(description)
        .tags(["dvcwatch", *tags])
        .timezone("Asia/Ho_Chi_Minh")
        .time("now-6h", "now")
        .refresh("30s")
        .tooltip(dm.DashboardCursorSync.CROSSHAIR)
        .editable()
        .with_variable(datasource_variable())
    )
