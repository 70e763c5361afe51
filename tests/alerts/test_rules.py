"""The generated rules: fresh, complete (labels, bilingual summaries, runbooks), tested by promtool."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from alerts import PROMTOOL_TESTS_DIR, RULES_DIR, RUNBOOKS_DIR, SLO_PATH
from dvcwatch.commands.cli import main


def _alert_rules() -> list[dict]:
    rules = []
    for path in sorted(RULES_DIR.glob("*.yaml")):
        for group in yaml.safe_load(path.read_text())["groups"]:
            rules.extend(r for r in group["rules"] if "alert" in r)
    return rules


def test_committed_rules_match_the_slo_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["alerts", "generate", "--check"]) == 0, capsys.readouterr().out


def test_generate_writes_rules_elsewhere(tmp_path: Path) -> None:
    assert main(["alerts", "generate", "--out", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in RULES_DIR.glob("*.yaml"))
    for p in tmp_path.iterdir():
        assert p.read_text() == (RULES_DIR / p.name).read_text()


def test_stale_rules_are_reported(tmp_path: Path) -> None:
    main(["alerts", "generate", "--out", str(tmp_path)])
    (tmp_path / "availability.yaml").write_text("groups: []\n")
    assert main(["alerts", "generate", "--check", "--out", str(tmp_path)]) == 1


# Always firing by design (the dead man's switch): it has no silent case and pages nobody itself.
WATCHDOG = "DvcWatchdog"


def test_every_alert_is_labelled_summarized_and_has_a_runbook() -> None:
    rules = _alert_rules()
    assert len({r["alert"] for r in rules}) >= 15
    for r in rules:
        labels, ann = r["labels"], r["annotations"]
        assert labels["severity"] in (("none",) if r["alert"] == WATCHDOG else ("page", "ticket")), r["alert"]
        assert labels["owner"] in ("sre", "district", "vendor"), r["alert"]
        assert labels["scope"] in ("portal", "vantage", "service", "journey", "harness"), r["alert"]
        assert ann["summary_vi"] and ann["summary_en"] and ann["summary_vi"] != ann["summary_en"]
        assert ann["runbook_url"].endswith(f"/{r['alert']}.md")
        runbook = RUNBOOKS_DIR / f"{r['alert']}.md"
        assert runbook.exists(), f"missing runbook {runbook}"
        assert runbook.read_text().startswith(f"# {r['alert']}")


def test_every_alert_has_a_firing_and_a_silent_promtool_case() -> None:
    firing: set[str] = set()
    silent: set[str] = set()
    for path in PROMTOOL_TESTS_DIR.glob("*.yaml"):
        for test in yaml.safe_load(path.read_text())["tests"]:
            for case in test.get("alert_rule_test", []):
                (firing if case.get("exp_alerts") else silent).add(case["alertname"])
    names = {r["alert"] for r in _alert_rules()}
    assert names - firing == set(), "alerts never shown to fire"
    assert names - silent == {WATCHDOG}, "alerts never shown to stay silent"


def test_the_watchdog_always_fires_and_the_supervisor_alerts_have_runbooks() -> None:
    watchdog = next(r for r in _alert_rules() if r["alert"] == WATCHDOG)
    assert watchdog["expr"] == "vector(1)" and "for" not in watchdog
    # posted by `dvcwatch stack`'s supervisor to Alertmanager's API, not by a rule
    for name in (WATCHDOG, "DvcStackComponentRestarted", "DvcStackComponentFailed"):
        assert (RUNBOOKS_DIR / f"{name}.md").read_text().startswith(f"# {name}")


@pytest.mark.prometheus
def test_promtool_checks_and_unit_tests_pass() -> None:
    from dvcwatch.core.processes import binary

    promtool = binary("promtool")
    rules = sorted(str(p) for p in RULES_DIR.glob("*.yaml"))
    check = subprocess.run([promtool, "check", "rules", *rules], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    tests = sorted(p.name for p in PROMTOOL_TESTS_DIR.glob("*.yaml"))
    unit = subprocess.run(
        [promtool, "test", "rules", *tests], cwd=PROMTOOL_TESTS_DIR, capture_output=True, text=True
    )
    assert unit.returncode == 0, unit.stdout + unit.stderr
    assert unit.stdout.count("SUCCESS") == len(tests)


def _slo_with(tmp_path: Path, old: str, new: str) -> Path:
    text = SLO_PATH.read_text()
    assert old in text
    p = tmp_path / "slo.yaml"
    p.write_text(text.replace(old, new))
    return p


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("  for: 5s\n", "  for: 5 seconds\n", "portal_down.for"),
        ("  agree: 2\n", "  agree: 0\n", "portal_down.agree"),
        (
            "thong-bao-luu-tru: {availability: 0.999}",
            "thong-bao-luu-tr: {availability: 0.999}",
            "not in the catalog",
        ),
        ("    availability: 0.995", "    availability: 99.5", "slo.defaults.availability"),
        ("long: 1h, short: 5m", "long: 5m, short: 1h", "shorter"),
        ("prober_job: dvc-probe", "prober_jobs: dvc-probe", "prober_jobs"),
    ],
)
def test_a_wrong_slo_file_is_one_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], old: str, new: str, message: str
) -> None:
    slo = _slo_with(tmp_path, old, new)
    assert main(["alerts", "generate", "--slo", str(slo), "--out", str(tmp_path / "rules")]) == 2
    err = capsys.readouterr().err
    assert str(slo) in err and message in err
    assert not (tmp_path / "rules").exists()
