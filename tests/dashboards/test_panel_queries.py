"""Every panel's query, run against a real Prometheus holding data from a real run.

The stack (sandbox, a real prober, Prometheus with the generated rules) runs with short intervals; a
soft failure is injected so an alert fires, a real `dvcwatch shop` run pushes journey metrics to the
Pushgateway, and a real `dvcwatch load` run is scraped while it runs. Then each panel's query is run
as Grafana would (a range query over the run, dashboard variables set to "All") and must return series.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from dashboards.build import build_all
from dashboards.schema import queries
from dvcwatch.orchestration.stack import Stack, fast_settings

pytestmark = [pytest.mark.prometheus, pytest.mark.browser, pytest.mark.slow]

SANDBOX_PROFILE = Path(__file__).resolve().parents[2] / "dvcwatch/core/profiles/sandbox.yaml"
OTHER_PORTAL = "tinh-b"
SOFT_FAILURE_FIRING = 'ALERTS{alertstate="firing", alertname="DvcSoftFailure"}'
GRAFANA_VARIABLES = {"$__rate_interval": "15s", "$__interval": "2s", "$__range": "5m"}


def _as_grafana_would(expr: str) -> str:
    for var, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(var, value)
    return re.sub(r"\$\{?\w+\}?", ".*", expr)  # every other variable set to "All" (allValue .*)


def _range(stack: Stack, expr: str, start: float) -> list[dict]:
    params = {"query": expr, "start": f"{start:.3f}", "end": f"{time.time():.3f}", "step": "2"}
    url = f"{stack.urls['prometheus']}/api/v1/query_range?" + urllib.parse.urlencode(params)
    with urllib.request.urlopen(url, timeout=30) as r:
        answer = json.loads(r.read())
    assert answer["status"] == "success", answer
    return answer["data"]["result"]


@pytest.fixture
def run(tmp_path: Path) -> Iterator[tuple[Stack, float]]:
    stack = Stack(fast_settings(tmp_path / "stack"))
    try:
        stack.up()
        start = time.time()
        stack.set_faults([{"kind": "soft_failure", "service": "cap-ho-chieu"}])
        cli = [sys.executable, "-m", "dvcwatch"]
        shop = subprocess.run(
            [*cli, "shop", "--target", stack.urls["sandbox"], "--service", "dang-ky-khai-sinh",
             "--service", "cap-ho-chieu", "--parallel", "2", "--vantage", "trung-tam",
             "--pushgateway", stack.urls["pushgateway"], "--out", str(tmp_path / "shop")],
            capture_output=True, text=True, timeout=240, check=False,
        )  # fmt: skip
        assert shop.returncode in (0, 1), shop.stderr[-2000:]
        # a second portal: the same sandbox under another profile name, from another vantage point
        other = tmp_path / "tinh-b.yaml"
        other.write_text(
            SANDBOX_PROFILE.read_text(encoding="utf-8")
            .replace("name: sandbox", f"name: {OTHER_PORTAL}", 1)
            .replace("base_url: http://127.0.0.1:8480", f"base_url: {stack.urls['sandbox']}", 1),
            encoding="utf-8",
        )
        shop = subprocess.run(
            [*cli, "shop", "--target", str(other), "--service", "dang-ky-khai-sinh", "--vantage", "phuong-2",
             "--pushgateway", stack.urls["pushgateway"], "--out", str(tmp_path / "shop-b")],
            capture_output=True, text=True, timeout=240, check=False,
        )  # fmt: skip
        assert shop.returncode == 0, shop.stderr[-2000:]
        load = subprocess.run(
            [*cli, "load", "--profile", "smoke", "--host", stack.urls["sandbox"], "--max-duration", "20",
             "--max-users", "10", "--metrics-port", str(stack.load_metrics_port), "--out", str(tmp_path / "load")],
            capture_output=True, text=True, timeout=180, check=False,
        )  # fmt: skip
        assert load.returncode in (0, 1), load.stderr[-2000:]
        # the injected fault's alert, not just any: DvcWatchdog fires from the first evaluation on, and
        # the "Firing alerts" panel leaves it out
        deadline = time.time() + 60
        while time.time() < deadline and not stack.query(SOFT_FAILURE_FIRING):
            time.sleep(0.5)
        yield stack, start
    finally:
        stack.down()


def _variables_without_values(stack: Stack) -> list[str]:
    empty = []
    for d in build_all().values():
        for var in d.get("templating", {}).get("list", []):
            if var["type"] != "query":
                continue
            metric = var["query"]["query"].removeprefix("label_values(").rsplit(",", 1)[0]
            url = f"{stack.urls['prometheus']}/api/v1/label/{var['name']}/values?" + urllib.parse.urlencode(
                {"match[]": metric}
            )
            with urllib.request.urlopen(url, timeout=10) as r:
                if not json.loads(r.read())["data"]:
                    empty.append(f"{d['uid']}: ${var['name']}")
    return empty


def test_every_panel_query_returns_series_on_a_real_run(run: tuple[Stack, float]) -> None:
    """One test, one stack: under xdist, separate tests would each start their own."""
    stack, start = run
    checked, empty = 0, []
    for name, dashboard in build_all().items():
        for panel, expr in queries(dashboard):
            checked += 1
            if not _range(stack, _as_grafana_would(expr), start):
                empty.append(f"{name} / {panel}: {_as_grafana_would(expr)}")
    assert checked >= 45
    assert empty == [], "queries without series:\n" + "\n".join(empty)
    assert _variables_without_values(stack) == []
    # the injected soft failure is what the leaders see, and only on that service
    lights = {
        r["metric"]["service"]: float(r["value"][1]) for r in stack.query("service:dvc_traffic_light:state")
    }
    assert lights["cap-ho-chieu"] == 0
    assert lights["dang-ky-ket-hon"] == 2
    assert stack.query(SOFT_FAILURE_FIRING)
    # the heartbeat fires all the time; the SRE's list of firing alerts shows the problems only
    assert stack.query('ALERTS{alertstate="firing", alertname="DvcWatchdog"}')
    (firing_panel,) = [e for t, e in queries(build_all()["sre.json"]) if t == "Firing alerts"]
    shown = {r["metric"]["alertname"] for r in _range(stack, _as_grafana_would(firing_panel), start)}
    assert "DvcSoftFailure" in shown and "DvcWatchdog" not in shown
    # the leaders' row per portal, as Grafana repeats it: each query with $portal set to one of the two
    # portals swept (their profiles' names) returns that portal's series, and none for a portal never swept
    overview = build_all()["overview.json"]
    at = next(i for i, p in enumerate(overview["panels"]) if p.get("repeat") == "portal")
    portals = {r["metric"]["portal"] for r in stack.query("dvc_journey_success")}
    assert portals == {"sandbox", OTHER_PORTAL}
    for p in overview["panels"][at + 1 :]:
        for t in p["targets"]:
            for portal in (*portals, "never-swept"):
                expr = _as_grafana_would(t["expr"].replace("$portal", portal))
                series = _range(stack, expr, start)
                assert bool(series) == (portal in portals or "or vector(0)" in expr), (p["title"], expr)
    done = {r["metric"].get("vantage"): r["value"][1] for r in stack.query(
        f'avg by (vantage) (dvc_journey_success{{portal="{OTHER_PORTAL}"}})')}  # fmt: skip
    assert done == {"phuong-2": "1"}, "the second portal's one journey worked, from its own vantage point"
