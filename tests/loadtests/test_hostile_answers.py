"""What load counts when the portal is busy or hostile (issue 31): a busy JSON API, an answer without
what the next step needs, an endless body, a gzip bomb, a redirect loop, and a flow led to another
origin. Each is a failed request with its reason, counted in the report, never a success, a log line
or a process grown without bound. Real load runs against loopback portals."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hostile import hostile_portal
from sandbox_flows import write_sandbox_flows

pytestmark = pytest.mark.slow

DATA = Path(__file__).with_name("data")
PROFILE = str(DATA / "hostile-portal.yaml")


def errors_of(report: dict[str, Any], step: str) -> list[str]:
    return [e["error"] for e in report["errors"] if e["name"].split(" ")[0].endswith(f":{step}")]


def requests_of(report: dict[str, Any], step: str) -> tuple[int, int]:
    rows = [r for r in report["requests"] if r["step"] == step]
    return sum(r["requests"] for r in rows), sum(r["failures"] for r in rows)


def no_traceback(out: Path) -> None:
    for log in out.glob("locust-*"):
        text = log.read_text(errors="replace")
        assert "Traceback" not in text and "KeyError" not in text, (log.name, text[-3000:])


def test_a_busy_json_api_fails_its_requests_and_breaks_the_gates(
    sandbox_factory: Any, tmp_path: Path, run_load: Any
) -> None:
    """The sandbox's API answers 200 {"status": "busy"} to every form call and half the logins."""
    faults = tmp_path / "faults.yaml"
    faults.write_text(
        yaml.safe_dump(
            {
                "faults": [
                    {"kind": "soft_failure", "step": "form", "ratio": 1.0},
                    {"kind": "soft_failure", "step": "login", "ratio": 0.5},
                ]
            }
        )
    )
    sandbox = sandbox_factory(faults_path=faults)
    out = tmp_path / "out"
    code, report = run_load("--profile", PROFILE, "--host", sandbox.url, "--out", str(out))
    assert report is not None
    forms, failed_forms = requests_of(report, "form")
    assert forms > 0 and failed_forms == forms, report["requests"]
    logins, failed_logins = requests_of(report, "login")
    assert 0 < failed_logins < logins
    assert requests_of(report, "submit")[0] == 0, "a visit ends at its busy step"
    assert all("soft failure: busy answer: status busy" in e for e in errors_of(report, "form"))
    assert all("soft failure: busy answer" in e for e in errors_of(report, "login"))
    assert report["totals"]["error_ratio"] > 0.2
    assert code == 1 and "errors.ratio" in report["broken_gates"]
    no_traceback(out)


def test_an_answer_without_what_the_next_step_needs_is_a_failed_request(
    tmp_path: Path, run_load: Any
) -> None:
    """A login answered 200 `{}`: no challenge to answer. Counted on the login step, not a KeyError."""
    out = tmp_path / "out"
    with hostile_portal("empty-json") as portal:
        code, report = run_load("--profile", PROFILE, "--host", portal.url, "--out", str(out))
    assert report is not None
    logins, failed = requests_of(report, "login")
    assert logins > 0 and failed == logins
    assert all("the answer has no challenge" in e for e in errors_of(report, "login"))
    assert code == 1
    no_traceback(out)


@pytest.mark.parametrize("mode", ["endless", "gzip-bomb"])
def test_an_oversized_answer_fails_its_request_past_the_cap(mode: str, tmp_path: Path, run_load: Any) -> None:
    """The profile caps answers at 1 MB: an endless body, or 50 KB that inflate to 50 MB, fail the
    service page with that reason, and the run ends on time with a report."""
    out = tmp_path / "out"
    with hostile_portal(mode) as portal:
        code, report = run_load("--profile", PROFILE, "--host", portal.url, "--out", str(out))
    assert report is not None and code == 1
    pages, failed = requests_of(report, "find_service")
    assert pages > 0 and failed == pages
    assert all("answer larger than 1 MB" in e for e in errors_of(report, "find_service"))
    assert report["stop_reason"] == "completed"
    no_traceback(out)


def test_a_busy_answer_with_two_content_types_is_judged_not_a_crash(tmp_path: Path, run_load: Any) -> None:
    out = tmp_path / "out"
    with hostile_portal("busy-twice-typed") as portal:
        code, report = run_load("--profile", PROFILE, "--host", portal.url, "--out", str(out))
    assert report is not None and code == 1
    pages, failed = requests_of(report, "find_service")
    assert pages > 0 and failed == pages
    assert all("soft failure: busy answer: status busy" in e for e in errors_of(report, "find_service"))
    no_traceback(out)


def test_a_redirect_loop_is_named_as_one(tmp_path: Path, run_load: Any) -> None:
    out = tmp_path / "out"
    with hostile_portal("redirect-loop") as portal:
        code, report = run_load("--profile", PROFILE, "--host", portal.url, "--out", str(out))
    assert report is not None and code == 1
    errors = errors_of(report, "find_service")
    assert errors and all("too many redirects" in e for e in errors), errors


def test_a_flow_reads_no_more_than_the_cap(tmp_path: Path, run_load: Any) -> None:
    flows = write_sandbox_flows(tmp_path / "flows", think=0.05, services=["thong-bao-luu-tru"])
    out = tmp_path / "out"
    with hostile_portal("endless") as portal:
        code, report = run_load(
            "--profile", PROFILE, "--host", portal.url, "--flows", str(flows), "--out", str(out)
        )
    assert report is not None and code == 1
    pages, failed = requests_of(report, "find_service")
    assert pages > 0 and failed == pages
    assert all("answer larger than 1 MB" in e for e in errors_of(report, "find_service"))
    no_traceback(out)


def test_a_flow_request_to_another_origin_is_refused_and_counted(
    sandbox: Any, tmp_path: Path, run_load: Any
) -> None:
    """A flow whose tracking request names another loopback origin (same host, another port: the
    portal's cookies would go with it), one the profile does not list: nothing reaches it."""
    flows = write_sandbox_flows(tmp_path / "flows", think=0.05, services=["thong-bao-luu-tru"])
    path = flows / "thong-bao-luu-tru.flow.yaml"
    with hostile_portal("ok") as elsewhere:
        flow = yaml.safe_load(path.read_text())
        tracking = next(s for s in flow["steps"] if s["step"] == "tracking")
        tracking["requests"][0]["url"] = elsewhere.url + "/api/v1/dossiers/${code}"
        path.write_text(yaml.safe_dump(flow, allow_unicode=True, sort_keys=False))
        out = tmp_path / "out"
        code, report = run_load(
            "--profile", PROFILE, "--host", sandbox.url, "--flows", str(flows), "--out", str(out)
        )
        assert elsewhere.count == 0
    assert report is not None and code == 1
    tracked, failed = requests_of(report, "tracking")
    assert tracked > 0 and failed == tracked
    port = elsewhere.url.rsplit(":", 1)[1]
    assert all(
        f"refused: 127.0.0.1:{port} is not the portal's origin" in e for e in errors_of(report, "tracking")
    )
    assert requests_of(report, "submit")[1] == 0, "the steps before it went on as usual"


def test_a_timed_out_request_is_one_error_row_whatever_its_url(
    sandbox_factory: Any, tmp_path: Path, run_load: Any
) -> None:
    """Tracking hangs past the profile's 2 s timeout: each dossier's URL differs, and the error says
    why without it, so the report holds one row, not one per dossier."""
    faults = tmp_path / "faults.yaml"
    faults.write_text(yaml.safe_dump({"faults": [{"kind": "hang", "step": "tracking"}]}))
    sandbox = sandbox_factory(faults_path=faults)
    code, report = run_load(
        "--profile", str(DATA / "faulty-portal.yaml"), "--host", sandbox.url, "--out", str(tmp_path / "out")
    )
    assert report is not None and code == 1
    rows = [e for e in report["errors"] if e["name"].endswith(":tracking")]
    assert rows and all("http://" not in e["error"] and "no answer" in e["error"] for e in rows), rows
    assert len({e["name"] for e in rows}) == len(rows), rows
