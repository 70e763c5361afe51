"""Production is look-don't-touch: journeys stop at each service's last reversible point and leave
no dossier and no payment behind; submitting needs the profile's allow_submit AND the operator's flag."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from dvcwatch.commands.cli import main
from dvcwatch.core.catalog import load_catalog
from dvcwatch.core.profile import SANDBOX_PROFILE


def production_profile(path: Path, base_url: str, *, allow_submit: bool = False) -> Path:
    text = SANDBOX_PROFILE.read_text(encoding="utf-8")
    text = text.replace("environment: sandbox", "environment: production")
    text = text.replace("base_url: http://127.0.0.1:8480", f"base_url: {base_url}")
    if allow_submit:
        text = text.replace("allow_submit: false", "allow_submit: true")
    # documents go up too (journey.production_uploads; by default production stops before them):
    # these tests follow journeys to payment and submit
    text = text.replace("journey:\n", "journey:\n  production_uploads: true\n", 1)
    path.write_text(text, encoding="utf-8")
    return path


def db_counts(db: Path) -> tuple[int, int]:
    with sqlite3.connect(db) as conn:
        dossiers = conn.execute("SELECT count(*) FROM dossiers").fetchone()[0]
        payments = conn.execute("SELECT count(*) FROM payments").fetchone()[0]
    return dossiers, payments


@pytest.mark.browser
def test_production_reaches_every_last_reversible_point_and_files_nothing(
    sandbox_factory: Callable[..., Any], tmp_path: Path
) -> None:
    server = sandbox_factory()
    profile = production_profile(tmp_path / "production.yaml", server.url)
    out = tmp_path / "out"
    code = main(["shop", "--target", str(profile), "--parallel", "4", "--out", str(out)])
    results = {r["service"]: r for r in json.loads((out / "results.json").read_text())["results"]}
    catalog = load_catalog()
    assert sorted(results) == sorted(s.id for s in catalog.services)
    not_filed = {
        s: (r["verdict"], r["failed_step"], r["failure"])
        for s, r in results.items()
        if r["verdict"] != "not_filed"
    }
    assert not_filed == {}, "production files nothing, so no journey may claim end to end"
    assert code == 0
    summary = json.loads((out / "results.json").read_text())["summary"]
    assert summary["pass"] == 0 and summary["not_filed"] == 25 and summary["share_end_to_end"] == 0.0
    the_scorecard_says_not_filed(out / "scorecard.html")
    end_to_end_metrics_leave_them_out(out)
    for s in catalog.services:
        r = results[s.id]
        steps = {st["name"]: st for st in r["steps"]}
        last = "payment" if s.charges_fee else "submit"
        assert r["checked_to"] == last, (s.id, r["steps"])
        assert steps[last]["status"] == "passed" and "not " in steps[last]["detail"]
        after = [
            st for st in r["steps"] if st["name"] in ("submit", "tracking", "result") and st["name"] != last
        ]
        assert after and all(st["status"] == "not_run" and "look don't touch" in st["detail"] for st in after)
        assert r["dossier_code"] is None
        if s.charges_fee:
            assert "ready to pay" in steps["payment"]["detail"]
    assert db_counts(Path(server.db_path)) == (0, 0)


def the_scorecard_says_not_filed(path: Path) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        page = browser.new_page()
        page.goto(path.as_uri())
        headline = page.get_by_test_id("headline-desktop").inner_text()
        assert "25/25" in " ".join(headline.split())
        assert "Làm được đến bước nộp, chưa nộp: môi trường thật".lower() in headline.lower()
        assert "trọn vẹn trực tuyến" not in headline.split("(")[0]
        tile = page.get_by_test_id("tile-cap-ho-chieu")
        assert tile.get_attribute("data-verdict") == "not_filed"
        text = " ".join(tile.inner_text().split())
        assert "Làm được đến bước nộp, chưa nộp: môi trường thật" in text
        assert "đã kiểm tra đến bước «Thanh toán lệ phí»" in text, text
        page.get_by_role("button", name="English").click()
        en = " ".join(tile.inner_text().split())
        assert "Works up to filing, not filed: production" in en and "checked up to «Pay the fee»" in en, en
        browser.close()


def end_to_end_metrics_leave_them_out(out: Path) -> None:
    from playwright_journeys.metrics import registry_for
    from playwright_journeys.results import read_results

    registry = registry_for(read_results(out), 0.0)
    families = {m.name: m.samples for m in registry.collect()}
    assert families["dvc_journey_success"] == [], "a journey that filed nothing is not a success"
    not_filed = {s.labels["service"]: s.labels["step"] for s in families["dvc_journey_not_filed"]}
    assert len(not_filed) == 25 and not_filed["cap-ho-chieu"] == "payment"


def test_submitting_in_production_needs_both_keys(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    flag_only = production_profile(tmp_path / "a.yaml", "http://127.0.0.1:1")
    assert main(["shop", "--target", str(flag_only), "--i-have-authorisation"]) == 2
    assert "does not say allow_submit: true" in " ".join(capsys.readouterr().err.split())
    profile_only = production_profile(tmp_path / "b.yaml", "http://127.0.0.1:1", allow_submit=True)
    assert main(["shop", "--target", str(profile_only)]) == 2
    assert "also needs --i-have-authorisation" in " ".join(capsys.readouterr().err.split())
    staging = tmp_path / "c.yaml"
    staging.write_text(flag_only.read_text().replace("environment: production", "environment: staging"))
    assert main(["shop", "--target", str(staging), "--i-have-authorisation"]) == 2
    assert "is for production profiles" in capsys.readouterr().err


def test_allow_submit_outside_production_is_a_config_error_with_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    p = production_profile(tmp_path / "d.yaml", "http://127.0.0.1:1", allow_submit=True)
    p.write_text(p.read_text().replace("environment: production", "environment: staging"))
    assert main(["shop", "--target", str(p)]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "allow_submit only means something in production" in err and f"{p}:" in err
