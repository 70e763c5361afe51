"""The Done-when of issue #7, end to end on real processes with short intervals.

A ward's link is cut: only the district's DvcVantageLinkDown arrives. The portal hangs: DvcPortalDown
reaches the webhook listener, the per-service alerts it causes are inhibited, and it resolves once the
fault is cleared. The vantage case runs first so that the portal outage's burned error budget cannot
leak into it. Times from fault to notification are printed (`pytest -s` shows them).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from dvcwatch.orchestration.stack import Stack, fast_settings

pytestmark = [pytest.mark.prometheus, pytest.mark.slow]

WARD = "phuong-a"


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    s = Stack(fast_settings(tmp_path / "stack", wards=[WARD]))
    try:
        s.up()
        yield s
    finally:
        stopped = s.down()
        assert "prometheus" in stopped and "sandbox" in stopped
        assert not s.running(), "a stack process outlived `down`"


def _wait(what: str, check: Callable[[], object], timeout: float) -> tuple[object, float]:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        got = check()
        if got:
            return got, time.monotonic() - t0
        time.sleep(0.2)
    raise AssertionError(f"{what}: not within {timeout:.0f} s")


def _notified(stack: Stack, since: float, status: str, name: str, **labels: str) -> list[dict]:
    return [
        (rec, a)
        for rec in stack.notifications()
        if rec["received_at"] >= since
        for a in rec["alerts"]
        if a["status"] == status
        and a["labels"]["alertname"] == name
        and all(a["labels"].get(k) == v for k, v in labels.items())
    ]


def _names_since(stack: Stack, since: float) -> set[str]:
    return {
        a["labels"]["alertname"]
        for rec in stack.notifications()
        if rec["received_at"] >= since
        for a in rec["alerts"]
        if a["status"] == "firing"
    }


def test_ward_outage_then_portal_outage(stack: Stack) -> None:
    _wait(
        "both vantages see a healthy portal",
        lambda: (
            len([r for r in stack.query("vantage:dvc_probe_success:avg") if float(r["value"][1]) > 0.9]) == 2
        ),
        60,
    )

    # --- one ward's link is cut: the local alert only
    t_cut = time.time()
    stack.cut_link(WARD)
    got, took = _wait(
        "DvcVantageLinkDown reaches the district office",
        lambda: _notified(stack, t_cut, "firing", "DvcVantageLinkDown", vantage=WARD),
        60,
    )
    print(f"\nward link cut → DvcVantageLinkDown notified in {took:.1f} s")
    assert got[0][0]["receiver"] == "district-office"
    firing = {r["metric"]["alertname"] for r in stack.query('ALERTS{alertstate="firing"}')}
    assert "DvcPortalDown" not in firing and "DvcServiceProbeFailing" not in firing
    stack.cut_link(WARD, cut=False)
    _, took = _wait(
        "the link alert resolves",
        lambda: _notified(stack, t_cut, "resolved", "DvcVantageLinkDown", vantage=WARD),
        60,
    )
    print(f"ward link restored → resolved in {took:.1f} s")
    assert _names_since(stack, t_cut) == {"DvcVantageLinkDown"}

    # --- the portal hangs: DvcPortalDown, per-service alerts inhibited
    t_fault = time.time()
    stack.set_faults([{"kind": "hang", "seconds": 30}])
    got, took = _wait(
        "DvcPortalDown reaches the SRE pager",
        lambda: _notified(stack, t_fault, "firing", "DvcPortalDown"),
        60,
    )
    print(f"portal hangs → DvcPortalDown notified in {took:.1f} s")
    assert got[0][0]["receiver"] == "sre-page"

    def inhibited_services() -> set[str]:
        return {
            a["labels"]["service"]
            for a in stack.alerts()
            if a["labels"]["alertname"] == "DvcServiceProbeFailing" and a["status"]["inhibitedBy"]
        }

    _wait("per-service alerts fire in Alertmanager, inhibited", lambda: len(inhibited_services()) >= 10, 30)
    # Alertmanager marks an alert inhibited when its group is flushed: allow one group_wait
    _wait(
        "every per-service alert held back",
        lambda: (
            not [
                a
                for a in stack.alerts()
                if a["labels"].get("scope") in ("service", "journey") and not a["status"]["inhibitedBy"]
            ]
        ),
        10,
    )
    assert _names_since(stack, t_fault) == {"DvcPortalDown"}
    assert "DvcVantageLinkDown" not in {r["metric"]["alertname"] for r in stack.query("ALERTS")}

    t_clear = time.time()
    stack.set_faults([])
    _, took = _wait(
        "DvcPortalDown resolves",
        lambda: _notified(stack, t_clear, "resolved", "DvcPortalDown"),
        60,
    )
    print(f"fault cleared → DvcPortalDown resolved in {took:.1f} s")
