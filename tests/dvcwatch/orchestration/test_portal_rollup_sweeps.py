"""Issue 30.3 end to end on SQLite: real `dvcwatch shop` sweeps of two portals (the sandbox under two
profile names) from two vantage points write one history, and `report --by portal` counts every journey
they wrote, per portal and per vantage point, each portal's row linking its own weekly report."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from dvcwatch_process import run_dvcwatch

from dvcwatch.core.history_store import HistoryStore

SANDBOX_PROFILE = Path(__file__).resolve().parents[3] / "dvcwatch/core/profiles/sandbox.yaml"
SERVICES = ("khai-bao-tam-vang", "dang-ky-khai-tu")
SWEEPS = (("tinh-a", "phuong-1"), ("tinh-a", "phuong-2"), ("tinh-b", "phuong-2"))


def profile(tmp: Path, name: str, url: str) -> Path:
    path = tmp / f"{name}.yaml"
    path.write_text(
        SANDBOX_PROFILE.read_text(encoding="utf-8")
        .replace("name: sandbox", f"name: {name}", 1)
        .replace("base_url: http://127.0.0.1:8480", f"base_url: {url}", 1),
        encoding="utf-8",
    )
    return path


def dvcwatch(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_dvcwatch(list(argv), cwd, 240)


@pytest.mark.slow
def test_sweeps_of_two_portals_from_two_vantages_are_all_counted(
    sandbox_factory: Callable[..., object], tmp_path: Path
) -> None:
    sandbox = sandbox_factory()
    for n, (portal, vantage) in enumerate(SWEEPS):
        target = profile(tmp_path, portal, sandbox.url)  # type: ignore[attr-defined]
        proc = dvcwatch(
            "shop", "--target", str(target), *(a for s in SERVICES for a in ("--service", s)),
            "--vantage", vantage, "--parallel", "2", "--out", str(tmp_path / "sweeps" / f"s{n}"), cwd=tmp_path,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr[-2000:]
    history = tmp_path / "sweeps" / "history.sqlite3"  # shop keeps it beside its results
    with HistoryStore.open(history, readonly=True) as store:
        rows = store.journeys()
    assert len(rows) == len(SWEEPS) * len(SERVICES)

    out = tmp_path / "roll-up"
    proc = dvcwatch("report", "--by", "portal", "--history", str(history), "--out", str(out), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    roll = json.loads((out / "portals.json").read_text(encoding="utf-8"))
    lines = {p["portal"]: p for p in roll["portals"]}
    assert set(lines) == {"tinh-a", "tinh-b"}
    for portal, line in lines.items():
        mine = [r for r in rows if r.portal == portal]
        assert line["this"]["journeys"] == len(mine), portal
        assert line["this"]["worked"] == sum(1 for r in mine if r.verdict in ("pass", "degraded"))
        assert line["vantages"] == sorted({r.vantage for r in mine})
        own = json.loads((out / line["report"]).with_suffix(".json").read_text(encoding="utf-8"))
        assert own["portals"] == [portal] and own["overall_this"]["journeys"] == len(mine)
    assert lines["tinh-a"]["vantages"] == ["phuong-1", "phuong-2"]
    assert roll["overall_this"]["journeys"] == len(rows)
    assert "tinh-a: 4 journeys" in proc.stderr and "tinh-b: 2 journeys" in proc.stderr
