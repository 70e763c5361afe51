"""The dvc_journey_* metrics (contracts §7) as Prometheus scrapes them, built from a sweep."""

from __future__ import annotations

from pathlib import Path

from journey_samples import sample_run
from prometheus_client import generate_latest

from playwright_journeys.metrics import registry_for


def scrape(tmp_path: Path) -> str:
    return generate_latest(registry_for(sample_run(tmp_path), now=1_800_000_000.0)).decode()


def line(service: str, extra: str = "") -> str:
    return f'persona="desktop",portal="sandbox",service="{service}"{extra},vantage="test"}}'


def test_success_degraded_shortfall_and_harness_error_per_service(tmp_path: Path) -> None:
    text = scrape(tmp_path)
    assert f"dvc_journey_success{{{line('xac-nhan-so-cmnd')} 1.0" in text
    assert f"dvc_journey_success{{{line('dang-ky-khai-sinh')} 0.0" in text
    assert f"dvc_journey_success{{{line('cap-doi-gplx')} 1.0" in text, "degraded still completed"
    assert f"dvc_journey_degraded{{{line('cap-doi-gplx')} 1.0" in text
    assert f"dvc_journey_level_shortfall{{{line('cap-doi-gplx')} 1.0" in text
    assert f"dvc_journey_level_shortfall{{{line('dang-ky-ket-hon')} 0.0" in text
    assert f"dvc_journey_harness_error{{{line('cap-dien-moi')} 1.0" in text
    assert f"dvc_journey_harness_error{{{line('dang-ky-khai-sinh')} 0.0" in text
    assert f"dvc_journey_last_run_timestamp_seconds{{{line('dang-ky-khai-sinh')} 1.8e+09" in text


def test_the_failed_step_is_1_on_that_step_only_and_steps_are_timed(tmp_path: Path) -> None:
    text = scrape(tmp_path)
    failed = [
        ln for ln in text.splitlines() if ln.startswith("dvc_journey_failed_step{") and ln.endswith(" 1.0")
    ]
    assert sorted(failed) == sorted(
        [
            'dvc_journey_failed_step{persona="desktop",portal="sandbox",service="cap-dien-moi",step="form",vantage="test"} 1.0',
            'dvc_journey_failed_step{persona="desktop",portal="sandbox",service="cap-ho-chieu",step="payment",vantage="test"} 1.0',
            'dvc_journey_failed_step{persona="desktop",portal="sandbox",service="dang-ky-khai-sinh",step="submit",vantage="test"} 1.0',
            'dvc_journey_failed_step{persona="desktop",portal="sandbox",service="dang-ky-thuong-tru",step="upload",vantage="test"} 1.0',
        ]
    )
    assert (
        'dvc_journey_step_duration_seconds{persona="desktop",portal="sandbox",service="dang-ky-khai-sinh",step="submit",vantage="test"} 5.0'
        in text
    )
    assert 'step="tracking",vantage="test"' not in "".join(
        ln for ln in text.splitlines() if "dang-ky-khai-sinh" in ln and "step_duration" in ln
    ), "steps never reached have no duration"
    names = {ln.split("{")[0] for ln in text.splitlines() if ln and not ln.startswith("#")}
    assert all(n.startswith("dvc_journey_") for n in names)
