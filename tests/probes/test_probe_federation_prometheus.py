"""The deploy example in a real Prometheus: two probers at two vantages, scraped centrally over HTTPS
with basic auth (`--web.config.file`), as the example's jobs say."""

from __future__ import annotations

import base64
import json
import ssl
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import bcrypt
import pytest
import yaml

from dvcwatch.core import processes
from dvcwatch.orchestration import binaries

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "probes" / "deploy"

pytestmark = pytest.mark.prometheus


def query(base: str, promql: str) -> list[dict]:
    url = f"{base}/api/v1/query?" + urllib.parse.urlencode({"query": promql})
    with urllib.request.urlopen(url, timeout=5) as r:
        return json.load(r)["data"]["result"]


def test_example_configs_are_valid() -> None:
    promtool = processes.binary("promtool")
    subprocess.run(
        [promtool, "check", "config", str(DEPLOY / "prometheus-central.yml")], check=True, capture_output=True
    )
    subprocess.run(
        [promtool, "check", "config", "--agent", str(DEPLOY / "prometheus-agent.yml")],
        check=True,
        capture_output=True,
    )


def wait_https(url: str, ca_file: Path, password: str, proc: subprocess.Popen[bytes]) -> None:
    ctx = ssl.create_default_context(cafile=str(ca_file))
    auth = "Basic " + base64.b64encode(f"prometheus:{password}".encode()).decode()
    deadline = time.monotonic() + 20
    while True:
        assert proc.poll() is None, f"the prober for {url} exited"
        try:
            req = urllib.request.Request(url, headers={"Authorization": auth})
            with urllib.request.urlopen(req, timeout=2, context=ctx) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        assert time.monotonic() < deadline, f"{url} did not answer"
        time.sleep(0.1)


def test_central_prometheus_sees_both_vantages(
    portal, tmp_path: Path, self_signed: tuple[Path, Path]
) -> None:
    password = "mat-khau-trung-tam"
    web = tmp_path / "web.yml"
    hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4)).decode()
    web.write_text(
        f"tls_server_config: {{cert_file: '{self_signed[0]}', key_file: '{self_signed[1]}'}}\n"
        f"basic_auth_users: {{prometheus: '{hashed}'}}\n"
    )
    password_file = tmp_path / "prometheus.password"
    password_file.write_text(password)
    cfg = tmp_path / "probes.yaml"
    cfg.write_text(
        "vantage: default\ndefaults: {interval: 1, timeout: 0.9}\n"
        f"targets:\n  - {{name: home, module: portal_page, url: '{portal.url}/ok'}}\n"
        f"  - {{name: birth, module: portal_page, service: dang-ky-khai-sinh, url: '{portal.url}/soft'}}\n"
    )
    probers = []
    try:
        addrs = []
        for vantage in ("phuong-vinh-hung", "kiosk-hoang-mai"):
            port = processes.free_port()
            log = open(tmp_path / f"{vantage}.log", "wb")  # noqa: SIM115
            p = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "dvcwatch",
                    "probe",
                    "--config",
                    str(cfg),
                    "--vantage",
                    vantage,
                    "--listen",
                    f"127.0.0.1:{port}",
                    "--web.config.file",
                    str(web),
                ],
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            probers.append(p)
            wait_https(f"https://127.0.0.1:{port}/-/healthy", self_signed[0], password, p)
            addrs.append(f"127.0.0.1:{port}")

        central = yaml.safe_load((DEPLOY / "prometheus-central.yml").read_text())
        central["global"].update(scrape_interval="1s", scrape_timeout="1s", evaluation_interval="1s")
        jobs = {j["job_name"]: j for j in central["scrape_configs"]}
        for job in jobs.values():
            assert job["scheme"] == "https" and job["basic_auth"]["username"] == "prometheus"
            job["tls_config"]["ca_file"] = str(self_signed[0])
            job["basic_auth"]["password_file"] = str(password_file)
        jobs["dvc-probe"]["scrape_interval"] = "1s"
        jobs["dvc-probe"]["static_configs"] = [
            {"targets": [a], "labels": {"district": "hoang-mai"}} for a in addrs
        ]
        jobs["dvc-probe-endpoint"]["scrape_interval"] = "1s"
        jobs["dvc-probe-endpoint"]["static_configs"] = [{"targets": [f"{portal.url}/ok"]}]
        jobs["dvc-probe-endpoint"]["relabel_configs"][-1]["replacement"] = addrs[0]
        prom_cfg = tmp_path / "prometheus.yml"
        prom_cfg.write_text(yaml.safe_dump(central))

        with binaries.prometheus(prom_cfg, tmp_path / "prom") as prom:
            base = binaries.url_of(prom)
            expected = {
                ("phuong-vinh-hung", "home"): "1",
                ("phuong-vinh-hung", "birth"): "0",
                ("kiosk-hoang-mai", "home"): "1",
                ("kiosk-hoang-mai", "birth"): "0",
            }
            # the latest sample of each series, until all agree: one probe of the healthy page slowed
            # past its timeout by a busy machine is a sample, not the answer
            deadline = time.monotonic() + 30
            series: list[dict] = []
            got: dict[tuple[str, str], str] = {}
            while time.monotonic() < deadline:
                series = query(base, 'dvc_probe_success{job="dvc-probe"}')
                endpoint = query(base, 'probe_success{job="dvc-probe-endpoint"}')
                got = {(s["metric"]["vantage"], s["metric"]["target"]): s["value"][1] for s in series}
                if got == expected and endpoint and endpoint[0]["value"][1] == "1":
                    break
                time.sleep(0.5)
            assert got == expected
            assert {s["metric"]["district"] for s in series} == {"hoang-mai"}
            birth = query(base, 'dvc_probe_content_match{target="birth"}')
            assert {s["metric"]["service"] for s in birth} == {"dang-ky-khai-sinh"}
            assert endpoint and endpoint[0]["value"][1] == "1"
            assert endpoint[0]["metric"]["instance"] == f"{portal.url}/ok"
            buckets = query(base, 'dvc_probe_duration_seconds_bucket{phase="ttfb",le="+Inf"}')
            assert {s["metric"]["vantage"] for s in buckets} == {"phuong-vinh-hung", "kiosk-hoang-mai"}
    finally:
        for p in probers:
            p.terminate()
            p.wait(10)
