"""Grafana dashboards for dvcwatch, generated from the catalog with grafana-foundation-sdk builders.

Three audiences: district and province leaders (are the 25 services really online?), SRE (where and
why it fails, how fast the error budget burns, what is firing), and whoever runs a load test (load
beside the portal's own latency and errors as the probes see them).
"""

from pathlib import Path

DASHBOARDS_DIR = Path(__file__).resolve().parent
JSON_DIR = DASHBOARDS_DIR / "json"
PROVISIONING_DIR = DASHBOARDS_DIR / "provisioning"
