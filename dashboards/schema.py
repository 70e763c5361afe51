"""Check dashboard JSON against Grafana's dashboard schema, without a Grafana.

Two layers: the JSON must round-trip through grafana-foundation-sdk's generated models of the
dashboard schema (Grafana 11.6) unchanged, and the rules Grafana enforces at load time or that make a
panel silently empty must hold: unique panel ids and refIds, a 24-column grid, a Prometheus query in
every data panel, and no `$variable` that the dashboard does not define.
"""

from __future__ import annotations

import json
import re
from typing import Any

PANEL_TYPES = {"row", "stat", "timeseries", "table", "text", "gauge", "bargauge"}
BUILTIN_VARIABLES = {"__rate_interval", "__interval", "__range", "__interval_ms", "__range_s", "__name"}
VARIABLE_RE = re.compile(r"\$\{?(\w+)")


def _roundtrip(dashboard: dict[str, Any]) -> list[str]:
    from grafana_foundation_sdk.cog.encoder import JSONEncoder
    from grafana_foundation_sdk.cog.plugins import register_default_plugins
    from grafana_foundation_sdk.models import dashboard as dm

    register_default_plugins()
    try:
        model = dm.Dashboard.from_json(dashboard)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        return [f"does not load as a Grafana dashboard model: {exc!r}"]
    back = json.loads(json.dumps(model, cls=JSONEncoder))
    if back == dashboard:
        return []
    lost = sorted(set(dashboard) - set(back))
    return [f"changes when loaded into the dashboard model (unknown or mistyped fields {lost or '...'})"]


def problems(dashboard: dict[str, Any]) -> list[str]:
    """Every problem found; empty means the dashboard is valid."""
    out: list[str] = []
    for key in ("uid", "title", "schemaVersion", "panels"):
        if key not in dashboard:
            out.append(f"missing {key!r}")
    if out:
        return out
    variables = {v["name"] for v in dashboard.get("templating", {}).get("list", [])}
    ids: set[int] = set()
    for panel in dashboard["panels"]:
        where = f"panel {panel.get('id')} ({panel.get('title', '?')})"
        if panel.get("type") not in PANEL_TYPES:
            out.append(f"{where}: unknown type {panel.get('type')!r}")
        pid = panel.get("id")
        if not isinstance(pid, int) or pid in ids:
            out.append(f"{where}: id missing or not unique")
        ids.add(pid if isinstance(pid, int) else -1)
        grid = panel.get("gridPos", {})
        if not (1 <= grid.get("w", 0) <= 24 and grid.get("x", -1) >= 0 and grid["x"] + grid["w"] <= 24):
            out.append(f"{where}: gridPos {grid} does not fit the 24-column grid")
        if panel.get("type") == "row":
            continue
        targets = panel.get("targets") or []
        if not targets:
            out.append(f"{where}: no query")
        refs = [t.get("refId") for t in targets]
        if len(set(refs)) != len(refs) or None in refs:
            out.append(f"{where}: refIds {refs} missing or repeated")
        for t in targets:
            if not t.get("expr"):
                out.append(f"{where}: query {t.get('refId')} has no expr")
            for name in VARIABLE_RE.findall(t.get("expr", "")):
                if name not in variables and name not in BUILTIN_VARIABLES:
                    out.append(f"{where}: uses ${name}, which the dashboard does not define")
            uid = (t.get("datasource") or panel.get("datasource") or {}).get("uid", "")
            for name in VARIABLE_RE.findall(uid):
                if name not in variables:
                    out.append(f"{where}: data source ${name} is not a dashboard variable")
    return out + _roundtrip(dashboard)


def queries(dashboard: dict[str, Any]) -> list[tuple[str, str]]:
    """(panel title, PromQL) for every query of every panel."""
    return [
        (p.get("title", "?"), t["expr"])
        for p in dashboard.get("panels", [])
        for t in p.get("targets") or []
        if t.get("expr")
    ]
