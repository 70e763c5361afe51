"""The province's central Prometheus config (deploy/prometheus/prometheus.yml) loads in the real
`promtool` with the committed alert rules, and scrapes under every job name those rules select on: a rule
on `job="dvc-probe"` against a config that calls the job something else would never fire.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "deploy" / "prometheus" / "prometheus.yml"
RULES = ROOT / "alerts" / "rules"
JOB_SELECTOR = re.compile(r'\bjob\s*=~?\s*"([^"]+)"')

pytestmark = pytest.mark.prometheus


def test_promtool_loads_the_config_with_the_alert_rules(tmp_path: Path) -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.fail("promtool is missing: install Debian's `prometheus` package (./scripts/bootstrap does)")
    config = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    assert config["rule_files"] == ["/opt/dvcwatch/alerts/rules/*.yaml"]
    config["rule_files"] = [str(RULES / "*.yaml")]  # the checkout stands for /opt/dvcwatch
    for job in config["scrape_configs"]:  # files the central host holds, stand-ins here
        if "ca_file" in job.get("tls_config", {}):
            job["tls_config"]["ca_file"] = str(_touch(tmp_path / "ca.crt"))
        if "password_file" in job.get("basic_auth", {}):
            job["basic_auth"]["password_file"] = str(_touch(tmp_path / "password"))
    checked = tmp_path / "prometheus.yml"
    checked.write_text(yaml.safe_dump(config), encoding="utf-8")
    done = subprocess.run(
        [promtool, "check", "config", str(checked)], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"SUCCESS: {len(list(RULES.glob('*.yaml')))} rule files found" in done.stdout


def _touch(path: Path) -> Path:
    path.write_text("x\n", encoding="utf-8")
    return path


def test_every_job_the_rules_select_is_scraped() -> None:
    config = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    scraped = {job["job_name"] for job in config["scrape_configs"]}
    wanted = {
        m for path in RULES.glob("*.yaml") for m in JOB_SELECTOR.findall(path.read_text(encoding="utf-8"))
    }
    assert wanted, "the rules select no job: the pattern no longer matches them"
    assert wanted <= scraped, wanted - scraped
