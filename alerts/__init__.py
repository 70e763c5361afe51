"""Prometheus rules, Alertmanager routing and the webhook listener of dvcwatch.

Everything an on-call person is told comes from here: `slo.yaml` (the one parameter file), the rules
generated from it under `rules/`, the runbooks, and `alertmanager.yml`.
"""

from pathlib import Path

ALERTS_DIR = Path(__file__).resolve().parent
SLO_PATH = ALERTS_DIR / "slo.yaml"
RULES_DIR = ALERTS_DIR / "rules"
RUNBOOKS_DIR = ALERTS_DIR / "runbooks"
PROMTOOL_TESTS_DIR = ALERTS_DIR / "tests"
ALERTMANAGER_PATH = ALERTS_DIR / "alertmanager.yml"
