"""The prober against the sandbox portal with faults on (contracts §5): every metric tells the truth."""

from __future__ import annotations

import json
from pathlib import Path

from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from probes.prober import Prober

FAULTS = {
    "faults": [
        {"kind": "hang", "endpoint": "/dich-vu/dang-ky-khai-sinh"},
        {"kind": "error", "status": 503, "endpoint": "/dich-vu/dang-ky-ket-hon"},
        {"kind": "soft_failure", "endpoint": "/dich-vu/cap-ho-chieu"},
        {"kind": "latency", "seconds": 0.5, "endpoint": "/dich-vu/dang-ky-khai-tu"},
        {"kind": "reset", "endpoint": "/dich-vu/dang-ky-xe"},
        {"kind": "error", "status": 503, "endpoint": "/api/v1/auth/otp"},
    ]
}

PAGES = {
    "hang": "dang-ky-khai-sinh",
    "error": "dang-ky-ket-hon",
    "soft": "cap-ho-chieu",
    "slow": "dang-ky-khai-tu",
    "reset": "dang-ky-xe",
    "healthy": "cap-doi-gplx",
}


def scrape(prober: Prober) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    out: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for fam in text_string_to_metric_families(generate_latest(prober.registry).decode()):
        for s in fam.samples:
            key = tuple(sorted((k, v) for k, v in s.labels.items() if k not in ("vantage", "service")))
            out.setdefault(s.name, {})[key] = s.value
    return out


async def test_faults_show_in_the_metrics(sandbox, put_faults, tmp_path: Path) -> None:
    put_faults(sandbox, FAULTS)
    targets = "".join(
        f"  - {{name: {name}, module: portal_page, service: {sid}, url: '{sandbox.url}/dich-vu/{sid}'}}\n"
        for name, sid in PAGES.items()
    )
    flow = (
        f"  - {{name: flow, kind: api_flow, service: dang-ky-khai-sinh, url: '{sandbox.url}/api/v1',"
        " credentials: {synthetic: {seed: 42, index: 0}}}\n"
    )
    cfg = tmp_path / "probes.yaml"
    cfg.write_text(
        "vantage: phuong-vinh-hung\nconcurrency: 16\n"
        "defaults: {interval: 1.2, timeout: 1, jitter: 0, latency_budget_seconds: 0.3}\n"
        f"targets:\n{targets}{flow}"
    )
    prober = Prober(cfg, port=0)
    await prober.run(duration=2.6)
    m = scrape(prober)

    def value(metric: str, target: str, **extra: str) -> float:
        return m[metric][tuple(sorted({"target": target, **extra}.items()))]

    for name in ("hang", "error", "soft", "slow", "reset", "flow"):
        assert value("dvc_probe_success", name) == 0, name
    assert value("dvc_probe_success", "healthy") == 1
    assert value("dvc_probe_content_match", "healthy") == 1
    assert value("dvc_probe_latency_budget_exceeded", "healthy") == 0

    # hang: no answer at all, and it cost exactly one timeout each time
    assert value("dvc_probe_http_status_code", "hang") == 0
    runs = value("dvc_probe_duration_seconds_count", "hang", phase="total")
    per_run = value("dvc_probe_duration_seconds_sum", "hang", phase="total") / runs
    # a timeout cannot end early; fewer than two timeouts a run means no retry stacked a second one
    assert per_run >= 1.0 and per_run < 2 * 1.0
    # 5xx
    assert value("dvc_probe_http_status_code", "error") == 503
    # soft failure: HTTP 200 with the banner
    assert value("dvc_probe_http_status_code", "soft") == 200
    assert value("dvc_probe_content_match", "soft") == 0
    # latency: the right answer, too late, and the time is in ttfb (the portal), not connect
    assert value("dvc_probe_http_status_code", "slow") == 200
    assert value("dvc_probe_content_match", "slow") == 1
    assert value("dvc_probe_latency_budget_exceeded", "slow") == 1
    slow_runs = value("dvc_probe_duration_seconds_count", "slow", phase="ttfb")
    assert value("dvc_probe_duration_seconds_sum", "slow", phase="ttfb") / slow_runs >= 0.5
    # the delay is the portal's: connecting is a small share of the wait for the first byte (a ratio,
    # so a busy machine slows both sides alike)
    connect = value("dvc_probe_duration_seconds_sum", "slow", phase="connect")
    assert connect < 0.2 * value("dvc_probe_duration_seconds_sum", "slow", phase="ttfb")
    # reset: no status
    assert value("dvc_probe_http_status_code", "reset") == 0
    # the API flow names the step that broke
    assert value("dvc_probe_failed_step", "flow", step="otp") == 1
    assert value("dvc_probe_failed_step", "flow", step="login") == 0
    assert value("dvc_probe_http_status_code", "flow") == 503
    # and the prober itself kept its schedule
    assert m["dvc_prober_probes_late_total"][()] == 0
    assert m["dvc_prober_probes_dropped_total"][()] == 0
    assert all(v > 0 for k, v in m["dvc_probe_last_run_timestamp_seconds"].items())


async def submit_dossier(base: str) -> str:
    """A real dossier in the sandbox, submitted through its API as a citizen would."""
    import aiohttp

    from dvcwatch.core.catalog import load_catalog
    from dvcwatch.core.formdata import fill, sample_file
    from dvcwatch.core.identities import citizen

    catalog = load_catalog()
    service = catalog.service("dang-ky-khai-sinh")
    who = citizen(42, 1)
    async with aiohttp.ClientSession() as s:
        async with s.post(
            f"{base}/api/v1/auth/login", json={"cccd": who.cccd, "password": who.password}
        ) as r:
            challenge = (await r.json())["challenge"]
        async with s.get(f"{base}/_sandbox/otp", params={"cccd": who.cccd}) as r:
            otp = (await r.json())["otp"]
        async with s.post(f"{base}/api/v1/auth/otp", json={"challenge": challenge, "otp": otp}) as r:
            token = (await r.json())["token"]
        form = aiohttp.FormData()
        form.add_field("data", json.dumps({"service": service.id, "fields": fill(catalog, service, who)}))
        for doc in service.documents:
            name, ctype, data = sample_file(doc.id, list(doc.types))
            form.add_field(doc.id, data, filename=name, content_type=ctype)
        async with s.post(
            f"{base}/api/v1/dossiers", data=form, headers={"Authorization": f"Bearer {token}"}
        ) as r:
            assert r.status == 201, await r.text()
            return (await r.json())["code"]


async def test_api_flow_tracks_a_real_dossier(sandbox) -> None:
    from probes.config import load_config_text
    from probes.runner import new_session, run_probe

    code = await submit_dossier(sandbox.url)

    def flow(dossier: str):  # type: ignore[no-untyped-def]
        return load_config_text(
            f"targets:\n  - {{name: flow, kind: api_flow, service: dang-ky-khai-sinh, url: '{sandbox.url}/api/v1',"
            f" dossier: '{dossier}', credentials: {{synthetic: {{seed: 42, index: 0}}}}}}\n"
        ).targets[0]

    async with new_session() as session:
        ok = await run_probe(flow(code), session)
        missing = await run_probe(flow("G22.99.08-000000-000000"), session)
    assert ok.success, ok.observation.failure
    assert set(ok.observation.steps) == {"login", "otp", "form", "tracking"}
    assert not missing.success and missing.observation.failed_step == "tracking"
    assert missing.observation.status_code == 404
