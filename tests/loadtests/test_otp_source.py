"""Load-test citizens read their OTP the way the target profile says: the sandbox's endpoint, or an
HTTP source with its own field, pattern and bearer token (here the sandbox's endpoint described as
such a source)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

DATA = Path(__file__).with_name("data")

pytestmark = pytest.mark.slow


def http_source_target(tmp_path: Path, base_url: str, **otp: object) -> Path:
    doc = {
        "version": 2,
        "name": "staging",
        "base_url": base_url,
        "environment": "staging",
        "otp": {"source": "http", "url": "/_sandbox/otp?cccd={cccd}&phone={phone}", **otp},
    }
    path = tmp_path / "target.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    return path


def test_an_http_otp_source_with_a_token_logs_every_citizen_in(
    sandbox: Any, tmp_path: Path, run_load: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOAD_OTP_TOKEN", "t0k3n")
    target = http_source_target(tmp_path, sandbox.url, json_field="otp", token_env="LOAD_OTP_TOKEN")
    out = tmp_path / "out"
    code, report = run_load(
        "--profile", str(DATA / "short-steady.yaml"), "--host", sandbox.url, "--target", str(target),
        "--out", str(out),
    )  # fmt: skip
    assert report is not None, code
    rows = report["requests"]
    otp = [r for r in rows if r["step"] == "otp"]
    assert sum(r["requests"] for r in otp) > 0
    assert sum(r["failures"] for r in rows) == 0, report["errors"]


def test_an_http_otp_source_whose_token_is_not_set_stops_before_any_load(
    sandbox: Any, tmp_path: Path, run_load: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LOAD_OTP_TOKEN", raising=False)
    target = http_source_target(tmp_path, sandbox.url, token_env="LOAD_OTP_TOKEN")
    code, report = run_load(
        "--profile", str(DATA / "short-steady.yaml"), "--host", sandbox.url, "--target", str(target),
        "--out", str(tmp_path / "out"),
    )  # fmt: skip
    assert code == 2 and report is None
