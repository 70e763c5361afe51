"""`load --flows`: recorded flows replayed at scale read like the built-in citizens (knee, gates,
report), go to workers by message, and are held to the same safety rules."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from sandbox_flows import write_sandbox_flows

from dvcwatch.core.profile import SANDBOX_PROFILE
from loadtests.counts import split_name

DATA = Path(__file__).with_name("data")


def test_a_flow_requests_name_gives_service_and_step_before_its_label() -> None:
    assert split_name("dang-ky-xe:submit POST /api/v1/dossiers") == ("dang-ky-xe", "submit")
    assert split_name("dang-ky-xe:login GET http://127.0.0.2:8601/dang-nhap?next=/x:y") == (
        "dang-ky-xe",
        "login",
    )
    assert split_name("dang-ky-xe:submit") == ("dang-ky-xe", "submit")


@pytest.mark.slow
@pytest.mark.browser
def test_recorded_flows_and_the_built_in_citizens_find_the_same_knee(
    sandbox_factory: Any, tmp_path: Path, run_load: Any, recorded_flows: Any, sandbox_admin: Any
) -> None:
    """A journey recorded with `shop --record` and compiled untouched, against the same capacity as
    the built-in citizens (6 workers × 0.15 s = 40 req/s), one load each: the knees agree within 10 %."""
    flows = recorded_flows("sandbox", "dang-ky-thuong-tru").flows  # shared with the run's other tests
    knees, delivered = {}, {}  # what each load's sandbox really served, to read a failure by
    for kind, extra in (("citizens", []), ("flows", ["--flows", str(flows)])):
        portal = sandbox_factory(capacity_workers=6, service_time=0.15)
        out = tmp_path / f"out-{kind}"
        code, report = run_load(
            "--profile", str(DATA / "knee-ramp.yaml"), "--host", portal.url, "--out", str(out), *extra
        )
        assert report is not None, (code, (out / "locust-master.out").read_text()[-2000:])
        seen = [(s["users_measured"], s["successes_per_second"], s["p95"]) for s in report["stages"]]
        assert report["knee"]["found"], (kind, report["knee"], seen)
        knees[kind] = report["knee"]["requests_per_second"]
        faults = sandbox_admin(portal, "/_sandbox/faults")["faults"]
        delivered[kind] = next(f for f in faults if f["kind"] == "capacity")["delivered_rps"]
        if kind == "flows":
            assert report["flows"]["services"] == ["dang-ky-thuong-tru"] and report["flows"]["sha256"]
            steps = {r["step"] for r in report["requests"] if not r["harness"]}
            assert {"login", "otp", "form", "upload", "submit", "payment"} <= steps, steps
            assert all(" " in r["name"] for r in report["requests"] if not r["harness"])
    assert knees["flows"] == pytest.approx(knees["citizens"], rel=0.10), (knees, delivered)


@pytest.mark.slow
def test_workers_receive_the_flows_from_their_master(tmp_path: Path, sandbox: Any, run_load: Any) -> None:
    """The workers are given no --dvc-flows: every request they make comes from the master's files."""
    flows = write_sandbox_flows(tmp_path / "flows", services=["thong-bao-luu-tru", "dang-ky-xe"])
    code, report = run_load(
        "--profile", str(DATA / "short-steady.yaml"), "--host", sandbox.url, "--flows", str(flows),
        "--workers", "2", "--out", str(tmp_path / "out"),
    )  # fmt: skip
    assert report is not None, (tmp_path / "out" / "locust-master.log").read_text()[-2000:]
    assert "flows from the master do not load" not in (tmp_path / "out" / "locust-worker-0.log").read_text()
    assert len(report["workers"]) == 2 and all(w["requests"] > 0 for w in report["workers"]), report[
        "workers"
    ]
    services = {r["service"] for r in report["requests"] if not r["harness"]}
    assert services == {"thong-bao-luu-tru", "dang-ky-xe"}
    assert report["totals"]["error_ratio"] == 0, report["errors"]
    assert code == 0, report["broken_gates"]


def _profile(tmp_path: Path, **changes: Any) -> Path:
    data = yaml.safe_load(Path(SANDBOX_PROFILE).read_text(encoding="utf-8"))
    data.update(changes)
    path = tmp_path / "target.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_flows_are_refused_on_a_production_profile(
    tmp_path: Path, run_load: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    flows = write_sandbox_flows(tmp_path / "flows", services=["dang-ky-xe"])
    target = _profile(tmp_path, environment="production", base_url="http://127.0.0.1:9")
    code, report = run_load(
        "--profile", "smoke", "--host", "http://127.0.0.1:9", "--target", str(target), "--flows", str(flows),
        "--i-have-authorisation", "--out", str(tmp_path / "out"),
    )  # fmt: skip
    assert (code, report) == (2, None)
    assert "production" in capsys.readouterr().err


def test_an_origin_the_flows_reach_passes_the_same_allow_list_as_the_host(
    tmp_path: Path, run_load: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    flows = write_sandbox_flows(tmp_path / "flows", services=["dang-ky-xe"])
    path = flows / "dang-ky-xe.flow.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("${base}/dich-vu/", "https://sso.portal.invalid/dich-vu/"),
        encoding="utf-8",
    )
    code, report = run_load(
        "--profile", "smoke", "--host", "http://127.0.0.1:9", "--flows", str(flows), "--out", str(tmp_path / "o")
    )  # fmt: skip
    assert (code, report) == (2, None)
    err = capsys.readouterr().err
    assert "refusing to load sso.portal.invalid" in err and "--i-have-authorisation" in err


def test_a_flow_for_a_service_the_catalog_does_not_know_is_a_config_error(
    tmp_path: Path, run_load: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    flows = write_sandbox_flows(tmp_path / "flows", services=["dang-ky-xe"])
    text = (flows / "dang-ky-xe.flow.yaml").read_text(encoding="utf-8").replace("dang-ky-xe", "khong-co")
    (flows / "khong-co.flow.yaml").write_text(text, encoding="utf-8")
    code, _ = run_load(
        "--profile", "smoke", "--host", "http://127.0.0.1:9", "--flows", str(flows), "--out", str(tmp_path / "o")
    )  # fmt: skip
    assert code == 2
    assert "khong-co" in capsys.readouterr().err


def test_workers_started_for_a_remote_master_take_no_flows_of_their_own(
    tmp_path: Path, run_load: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    flows = write_sandbox_flows(tmp_path / "flows", services=["dang-ky-xe"])
    code, _ = run_load(
        "--profile", "smoke", "--master-host", "127.0.0.1", "--flows", str(flows), "--out", str(tmp_path / "o")
    )  # fmt: skip
    assert code == 2
    assert "workers receive the flows from it" in capsys.readouterr().err
