"""`dvcwatch rehearse`: campaigns are reproducible and fit their services; scoring is strict."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from dvcwatch.core.catalog import load_catalog
from dvcwatch.orchestration.rehearse import PlacedFault, campaign, load_pool, score_journeys, score_probes

ROOT = Path(__file__).resolve().parents[3]


def test_same_seed_same_campaign_and_different_seeds_differ() -> None:
    cat, pool = load_catalog(), load_pool()
    assert campaign(3, cat, pool) == campaign(3, cat, pool)
    assert campaign(3, cat, pool) != campaign(4, cat, pool)


def test_campaign_faults_fit_their_services() -> None:
    cat, pool = load_catalog(), load_pool()
    for seed in range(60):
        placed = campaign(seed, cat, pool, 10)
        assert len({f.service for f in placed}) == 10
        for f in placed:
            svc = cat.service(f.service)
            if f.kind == "payment_failed" or f.step == "payment":
                assert svc.charges_fee, f
            if f.kind == "downgrade":
                assert svc.level == "full", f
            fault = f.as_fault()
            assert fault["service"] == f.service and fault["kind"] == f.kind


def _result(service: str, verdict: str = "pass", step: str | None = None) -> dict[str, object]:
    return {"service": service, "verdict": verdict, "failed_step": step}


def test_journey_scoring_counts_found_wrong_step_missed_and_false_alarms() -> None:
    placed = [
        PlacedFault("dang-ky-khai-sinh", "error", "submit", {"status": 500}),
        PlacedFault("cap-ho-chieu", "payment_failed", "payment", {}),
        PlacedFault("dang-ky-ket-hon", "hang", "form", {}),
        PlacedFault("cap-dien-moi", "downgrade", None, {"what": "both"}),
    ]
    results = [
        _result("dang-ky-khai-sinh", "fail", "submit"),  # found
        _result("cap-ho-chieu", "fail", "submit"),  # wrong step
        _result("dang-ky-ket-hon"),  # missed
        _result("cap-dien-moi", "degraded"),  # found (downgrade → degraded)
        _result("dang-ky-xe", "fail", "login"),  # false alarm
        _result("dang-ky-khai-tu"),
    ]
    m = score_journeys(placed, results)
    assert len(m.found) == 2 and len(m.wrong_step) == 1 and len(m.missed) == 1
    assert len(m.false_alarms) == 1 and m.quiet_ok == 1 and not m.clean


def test_probe_scoring_holds_probes_only_to_what_they_observe() -> None:
    cat = load_catalog()
    placed = [
        PlacedFault("dang-ky-ket-hon", "error", "find_service", {"status": 503}),  # observable, seen
        PlacedFault("cap-doi-cccd", "soft_failure", "form", {}),  # observable, missed
        PlacedFault("khai-bao-tam-vang", "reset", "submit", {}),  # not observable by probes
    ]
    rows = [
        {"name": f"page-{s.id}", "service": s.id, "kind": "http", "success": s.id != "dang-ky-ket-hon"}
        for s in cat.services
    ]
    rows.append({"name": "home", "service": "", "kind": "http", "success": True})
    m = score_probes(placed, rows, cat)
    assert len(m.found) == 1 and len(m.missed) == 1 and len(m.out_of_scope) == 1
    assert not m.false_alarms and m.quiet_ok == 22
    rows[-1]["success"] = False
    assert score_probes(placed, rows, cat).false_alarms == ["home: failed with no fault placed"]


@pytest.mark.browser
@pytest.mark.slow
def test_rehearse_end_to_end_finds_a_seeded_campaign(tmp_path: Path) -> None:
    """A real campaign: sandbox, a probe round and the full journey sweep; exit 0 only if clean."""
    out = tmp_path / "rehearse"
    proc = subprocess.run(
        [sys.executable, "-m", "dvcwatch", "rehearse", "--seed", "7", "--faults", "4", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    report = json.loads((out / "rehearse.json").read_text(encoding="utf-8"))
    journeys = next(i for i in report["instruments"] if i["instrument"] == "journeys")
    assert len(report["campaign"]) == 4
    assert len(journeys["found"]) == 4, proc.stdout[-3000:]
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "seed 7" in proc.stdout
