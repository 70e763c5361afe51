"""The dashboards as files: generated from the catalog, fresh, valid against Grafana's schema."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable

import pytest

from dashboards import JSON_DIR
from dashboards.build import build_all
from dashboards.schema import problems, queries
from dvcwatch.commands.cli import main
from dvcwatch.core.catalog import load_catalog


def test_committed_dashboards_are_fresh(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dashboards", "generate", "--check"]) == 0, capsys.readouterr().out


@pytest.mark.parametrize("name", ["overview.json", "sre.json", "load-test.json"])
def test_committed_json_passes_the_schema_check(name: str) -> None:
    dashboard = json.loads((JSON_DIR / name).read_text())
    assert problems(dashboard) == []
    assert queries(dashboard)


def test_the_overview_has_one_traffic_light_per_catalog_service() -> None:
    overview = build_all()["overview.json"]
    lights = [p for p in overview["panels"] if "dvc_traffic_light" in json.dumps(p.get("targets", []))]
    lights = [p for p in lights if p["type"] == "stat" and 'service="' in p["targets"][0]["expr"]]
    assert len(lights) == len(load_catalog().services) == 25
    described = {p["targets"][0]["expr"].split('service="')[1].split('"')[0] for p in lights}
    assert described == {s.id for s in load_catalog().services}
    agencies = {p["title"] for p in overview["panels"] if p["type"] == "row"}
    assert any(t.startswith("Bộ Tư pháp") for t in agencies)


def _broken(mutate: Callable[[dict], object]) -> list[str]:
    d = copy.deepcopy(build_all()["sre.json"])
    mutate(d)
    return problems(d)


def test_the_schema_check_catches_mistakes() -> None:
    def data_panel(d: dict) -> dict:
        return next(p for p in d["panels"] if p["type"] == "timeseries")

    assert any("not unique" in m for m in _broken(lambda d: d["panels"][1].update(id=d["panels"][2]["id"])))
    assert any("24-column" in m for m in _broken(lambda d: data_panel(d)["gridPos"].update(x=20, w=12)))
    assert any(
        "$ward" in m for m in _broken(lambda d: data_panel(d)["targets"][0].update(expr='up{v=~"$ward"}'))
    )
    assert any("no query" in m for m in _broken(lambda d: data_panel(d).update(targets=[])))
    assert any("unknown type" in m for m in _broken(lambda d: data_panel(d).update(type="graph2")))
    assert any("model" in m for m in _broken(lambda d: d.update(panelz=[])))
    assert any("missing 'uid'" in m for m in _broken(lambda d: d.pop("uid")))


def test_the_overview_repeats_a_row_per_portal_whose_panels_read_that_portal() -> None:
    overview = build_all()["overview.json"]
    (portal_var,) = [v for v in overview["templating"]["list"] if v["name"] == "portal"]
    assert portal_var["query"]["query"] == "label_values(dvc_journey_success, portal)"
    panels = overview["panels"]
    (at,) = [i for i, p in enumerate(panels) if p["type"] == "row" and p.get("repeat") == "portal"]
    assert "$portal" in panels[at]["title"]
    in_row = panels[at + 1 :]
    assert len(in_row) >= 3 and all(p["type"] != "row" for p in in_row), "the portal row is the last"
    for p in in_row:
        assert all('portal=~"$portal"' in t["expr"] for t in p["targets"]), p["title"]
