"""The flow file format: the hand-written example loads, and mistakes are lines in the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from dvcwatch.core.errors import ConfigError
from dvcwatch.core.flows import load_flow, load_flows

EXAMPLE = Path(__file__).parents[1] / "data" / "flows"


def test_example_flow_loads_with_steps_in_order():
    flows = load_flows(EXAMPLE)
    flow = flows["example-service"]
    assert [s.step for s in flow.steps] == ["login", "otp", "form", "upload", "submit", "tracking"]
    assert flow.steps[3].requests[0].files[0].content_type == "application/pdf"


def test_an_undefined_name_is_reported_at_its_line(tmp_path):
    text = (EXAMPLE / "example-service.flow.yaml").read_text()
    bad = tmp_path / "example-service.flow.yaml"
    bad.write_text(text.replace("/ho-so/${dossier_code}", "/ho-so/${dosier_code}"))
    with pytest.raises(ConfigError) as err:
        load_flow(bad)
    assert "dosier_code" in str(err.value)
    line = next(i for i, s in enumerate(bad.read_text().splitlines(), 1) if "dosier_code" in s)
    assert f":{line}:" in str(err.value) or f":{line - 2}:" in str(err.value)


def test_a_citizen_value_must_be_a_declared_param(tmp_path):
    text = (EXAMPLE / "example-service.flow.yaml").read_text()
    bad = tmp_path / "example-service.flow.yaml"
    bad.write_text(text.replace("params: [citizen.cccd, ", "params: ["))
    with pytest.raises(ConfigError, match=r"citizen\.cccd"):
        load_flow(bad)


def test_a_file_named_for_another_service_is_refused(tmp_path):
    (tmp_path / "other.flow.yaml").write_text((EXAMPLE / "example-service.flow.yaml").read_text())
    with pytest.raises(ConfigError, match="named for 'other'"):
        load_flows(tmp_path)


def test_an_empty_directory_is_refused(tmp_path):
    with pytest.raises(ConfigError, match=r"no \*\.flow\.yaml"):
        load_flows(tmp_path)
