"""The committed Alertmanager config, run by the real `prometheus-alertmanager`: routing by owner and
severity, the portal-down inhibition, and delivery to the webhook listener (amtool is not packaged)."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from alerts.amconfig import render
from alerts.webhook import WebhookServer, read_jsonl
from dvcwatch.orchestration import binaries

pytestmark = pytest.mark.prometheus

FAST = {"group_wait": "1s", "group_interval": "1s", "repeat_interval": "1h"}


@pytest.fixture
def listener(tmp_path: Path) -> Iterator[WebhookServer]:
    server = WebhookServer("127.0.0.1", 0, tmp_path / "alerts.jsonl")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def alertmanager(tmp_path: Path, listener: WebhookServer) -> Iterator[str]:
    config = tmp_path / "alertmanager.yml"
    config.write_text(render(listener.url, timings=FAST))
    with binaries.alertmanager(config, tmp_path / "am") as am:
        yield binaries.url_of(am)


def _alert(name: str, ends_in: float = 600, **labels: str) -> dict:
    now = dt.datetime.now(dt.UTC)
    return {
        "labels": {"alertname": name, **labels},
        "annotations": {"summary_vi": f"{name} (vi)", "summary_en": name},
        "startsAt": (now - dt.timedelta(seconds=5)).isoformat(),
        "endsAt": (now + dt.timedelta(seconds=ends_in)).isoformat(),
    }


def _post(am: str, alerts: list[dict]) -> None:
    req = urllib.request.Request(
        f"{am}/api/v2/alerts",
        data=json.dumps(alerts).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(req, timeout=5) as r:
        assert r.status == 200


def _wait_for(listener: WebhookServer, predicate, timeout: float = 15.0) -> list[dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = [(rec, a) for rec in listener.records() for a in rec["alerts"] if predicate(rec, a)]
        if got:
            return got
        time.sleep(0.1)
    raise AssertionError(f"nothing matching arrived in {timeout:.0f} s; got {listener.records()}")


def _am_alerts(am: str) -> list[dict]:
    with urllib.request.urlopen(f"{am}/api/v2/alerts?inhibited=true&active=true", timeout=5) as r:
        return json.loads(r.read())


PAGE_SERVICE = {"severity": "page", "owner": "vendor", "scope": "service"}
CANARY_SCOPE = "canary"


def _canary(alert: dict) -> dict:
    """The same alert with a scope no inhibit rule names: grouped and routed with it, never inhibited."""
    labels = dict(alert["labels"], scope=CANARY_SCOPE)
    return {**alert, "labels": labels}


def _is_canary(alert: dict) -> bool:
    return alert["labels"].get("scope") == CANARY_SCOPE


def _wait_all_canaries(listener: WebhookServer, canaries: list[dict]) -> None:
    for c in canaries:
        _wait_for(listener, lambda r, a, want=c["labels"]: a["labels"] == want)


def test_portal_down_inhibits_per_service_alerts_and_reaches_sre(
    alertmanager: str, listener: WebhookServer, tmp_path: Path
) -> None:
    portal_down = _alert("DvcPortalDown", severity="page", owner="sre", scope="portal")
    _post(alertmanager, [portal_down])
    _wait_for(listener, lambda r, a: a["labels"]["alertname"] == "DvcPortalDown")
    caused = [
        _alert("DvcServiceProbeFailing", service=s, target=f"dich-vu-{s}", **PAGE_SERVICE)
        for s in ("dang-ky-khai-sinh", "cap-ho-chieu", "dang-ky-ket-hon")
    ]
    caused.append(
        _alert(
            "DvcJourneyFailing", service="dang-ky-khai-sinh", severity="page", owner="vendor", scope="journey"
        )
    )
    _post(alertmanager, caused)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        inhibited = [a for a in _am_alerts(alertmanager) if a["status"]["inhibitedBy"]]
        if len(inhibited) == len(caused):
            break
        time.sleep(0.2)
    assert len(inhibited) == len(caused)
    # The positive event that proves each group had its chance: a twin in the same aggregation group
    # (same alertname, service, vantage and route) that no inhibit rule matches. Any notification of that
    # group carries every non-inhibited alert in it, so once each twin arrived, an inhibited alert that
    # was going to be sent has been sent.
    canaries = [_canary(a) for a in caused]
    _post(alertmanager, canaries)
    _wait_all_canaries(listener, canaries)
    received = {
        a["labels"]["alertname"] for rec in listener.records() for a in rec["alerts"] if not _is_canary(a)
    }
    assert received == {"DvcPortalDown"}
    first = listener.records()[0]
    assert first["receiver"] == "sre-page" and first["path"] == "/hooks/sre-page"
    stored = read_jsonl(tmp_path / "alerts.jsonl")
    assert stored and stored[0]["alerts"][0]["labels"]["alertname"] == "DvcPortalDown"


def test_routing_by_owner_and_severity(alertmanager: str, listener: WebhookServer) -> None:
    cases = {
        "DvcVantageLinkDown": (
            {"severity": "page", "owner": "district", "scope": "vantage"},
            "district-office",
        ),
        "DvcServiceProbeFailing": (PAGE_SERVICE, "vendor-page"),
        "DvcSoftFailure": ({"severity": "ticket", "owner": "vendor", "scope": "service"}, "vendor-ticket"),
        "DvcTlsCertificateExpiring": (
            {"severity": "ticket", "owner": "sre", "scope": "portal"},
            "sre-ticket",
        ),
        "DvcProberNotReporting": ({"severity": "page", "owner": "sre", "scope": "harness"}, "sre-page"),
        "DvcProberConfigReloadFailed": (
            {"severity": "ticket", "owner": "sre", "scope": "harness"},
            "sre-ticket",
        ),
    }
    # one service each: a paging service would (rightly) silence another's ticket about the same service
    _post(
        alertmanager,
        [_alert(name, service=f"s{i}", **labels) for i, (name, (labels, _)) in enumerate(cases.items())],
    )
    for name, (_, receiver) in cases.items():
        got = _wait_for(listener, lambda r, a, n=name: a["labels"]["alertname"] == n)
        assert {rec["receiver"] for rec, _ in got} == {receiver}, name


def test_a_paging_service_gets_no_tickets_about_itself(alertmanager: str, listener: WebhookServer) -> None:
    sre = {"owner": "sre", "scope": "service"}
    fast = _alert("DvcAvailabilityFastBurn", service="cap-ho-chieu", severity="page", window="1h", **sre)
    slow = _alert("DvcAvailabilitySlowBurn", service="cap-ho-chieu", severity="ticket", window="1d", **sre)
    other = _alert(
        "DvcAvailabilitySlowBurn", service="dang-ky-ket-hon", severity="ticket", window="1d", **sre
    )
    tls = _alert("DvcTlsCertificateExpiring", severity="ticket", owner="sre", scope="portal", target="tls")
    # Alertmanager's inhibitor learns of a new source alert asynchronously; with the test's near-zero
    # group_wait a ticket posted in the same instant could slip out first. In service the page is
    # already firing (and group_wait is 30 s), so post it first and let it be delivered.
    _post(alertmanager, [fast])
    _wait_for(listener, lambda r, a: a["labels"]["alertname"] == "DvcAvailabilityFastBurn")
    _post(alertmanager, [fast, slow, other, tls])
    _wait_for(listener, lambda r, a: a["labels"].get("service") == "dang-ky-ket-hon")
    _wait_for(listener, lambda r, a: a["labels"]["alertname"] == "DvcTlsCertificateExpiring")
    # the slow burn's own group (same alertname and service, sre-ticket) must have flushed: its twin, which
    # no inhibit rule matches, arrives in the notification that would have carried the slow burn
    canary = _canary(slow)
    _post(alertmanager, [canary])
    _wait_all_canaries(listener, [canary])
    sent = {
        (a["labels"]["alertname"], a["labels"].get("service"))
        for rec in listener.records()
        for a in rec["alerts"]
        if not _is_canary(a)
    }
    assert ("DvcAvailabilitySlowBurn", "cap-ho-chieu") not in sent


def test_a_rejected_prober_reload_tickets_sre_once_per_vantage(
    alertmanager: str, listener: WebhookServer
) -> None:
    """Each vantage's prober has its own config file, so each rejected reload is its own ticket."""
    labels = {"severity": "ticket", "owner": "sre", "scope": "harness", "job": "dvc-probe"}
    vantages = ("trung-tam", "phuong-a")
    _post(
        alertmanager,
        [
            _alert("DvcProberConfigReloadFailed", vantage=v, instance=f"prober-{v}", **labels)
            for v in vantages
        ],
    )
    for v in vantages:
        got = _wait_for(listener, lambda r, a, v=v: a["labels"].get("vantage") == v)
        assert {rec["receiver"] for rec, _ in got} == {"sre-ticket"}
        assert all(len(rec["alerts"]) == 1 for rec, _ in got), "vantages grouped into one ticket"


def test_resolution_is_delivered(alertmanager: str, listener: WebhookServer) -> None:
    _post(alertmanager, [_alert("DvcPortalDown", severity="page", owner="sre", scope="portal")])
    _wait_for(listener, lambda r, a: a["status"] == "firing")
    _post(alertmanager, [_alert("DvcPortalDown", ends_in=-1, severity="page", owner="sre", scope="portal")])
    got = _wait_for(listener, lambda r, a: a["status"] == "resolved")
    assert got[0][0]["receiver"] == "sre-page"


def test_the_watchdog_goes_to_the_dead_mans_switch_only_and_repeats(tmp_path: Path) -> None:
    """DvcWatchdog reaches `deadmans-switch` and no other receiver, and is sent again and again: the
    external switch pages when it stops. The committed route is kept as is (render never changes its
    timings), so this runs it with a repeat interval shortened in a copy of the committed file."""
    import yaml

    from alerts import ALERTMANAGER_PATH
    from alerts.amconfig import HEARTBEAT_RECEIVER

    committed = yaml.safe_load(ALERTMANAGER_PATH.read_text())
    route = committed["route"]["routes"][0]
    assert route["receiver"] == HEARTBEAT_RECEIVER and route["matchers"] == ['alertname="DvcWatchdog"']
    assert not route.get("continue")
    source = tmp_path / "committed-but-fast.yml"
    route.update(group_wait="0s", group_interval="1s", repeat_interval="2s")
    source.write_text(yaml.safe_dump(committed, sort_keys=False))

    server = WebhookServer("127.0.0.1", 0, tmp_path / "alerts.jsonl")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    config = tmp_path / "alertmanager.yml"
    rendered = render(server.url, timings=FAST, source=source)
    assert yaml.safe_load(rendered)["route"]["routes"][0]["repeat_interval"] == "2s"
    config.write_text(rendered)
    try:
        with binaries.alertmanager(config, tmp_path / "am") as am:
            url = binaries.url_of(am)
            heartbeat = _alert("DvcWatchdog", severity="none", owner="sre", scope="harness")
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                _post(url, [heartbeat])  # as Prometheus does: re-sent while it fires
                beats = [r for r in server.records() if r["receiver"] == HEARTBEAT_RECEIVER]
                if len(beats) >= 2:
                    break
                time.sleep(0.5)
            assert len(beats) >= 2, "the heartbeat was not repeated"
            assert {r["receiver"] for r in server.records()} == {HEARTBEAT_RECEIVER}
            assert beats[0]["path"] == "/hooks/deadmans-switch"
    finally:
        server.shutdown()
        server.server_close()
