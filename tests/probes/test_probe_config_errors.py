"""Each mistake a user makes in a probe config gives one line naming the file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from dvcwatch.core.errors import ConfigError
from probes.config import load_config, load_config_text

INVALID = Path(__file__).parent / "data" / "invalid"

EXPECTED = {
    "unknown-kind.yaml": (2, "targets[0](home)", "'http', 'tls', 'api_flow'"),
    "timeout-longer-than-interval.yaml": (
        6,
        "targets[0](home).timeout",
        "timeout (30 s) is longer than interval minus jitter (9 s)",
    ),
    "bad-duration.yaml": (5, "targets[0](home).interval", "a duration is a number of seconds"),
    "duplicate-names.yaml": (1, "(top level)", "duplicate target names: ['home']"),
    "unknown-module.yaml": (3, "targets[0].module", "unknown module 'http_200'; defined: http_2xx"),
    "unknown-service.yaml": (4, "targets[0](birth).service", "did you mean dang-ky-khai-sinh"),
    "typo-field.yaml": (5, "targets[0](home).must_contians", "unknown field"),
    "bad-status.yaml": (5, "targets[0](home).expect_status", "use a code like 200 or a class like 2xx"),
    "bad-vantage.yaml": (1, "vantage", "lowercase slug"),
    "missing-secret.yaml": (None, None, "DVCWATCH_TEST_UNSET_PASSWORD not set"),
    "url-without-scheme.yaml": (4, "targets[0](home).url", "must start with http://"),
    "malformed.yaml": (4, None, "malformed YAML"),
    "empty.yaml": (None, None, "the file is empty"),
    "no-targets.yaml": (1, "(top level)", "no targets: a truncated file?"),
    # a module is checked on load as /probe uses it, not at every /probe with a 400
    "module-typo-field.yaml": (4, "modules.page.must_contians", "unknown field"),
    "module-bad-status.yaml": (5, "modules.api.expect_status", "HTTP status 2000 is not between 100 and 599"),
}


def test_every_invalid_file_has_an_expectation() -> None:
    assert sorted(p.name for p in INVALID.glob("*.yaml")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_invalid_config_message(name: str) -> None:
    line, field, text = EXPECTED[name]
    with pytest.raises(ConfigError) as info:
        load_config(INVALID / name)
    err = info.value
    assert err.path == str(INVALID / name)
    assert text in str(err), str(err)
    if line is not None:
        assert err.line == line, str(err)
    if field is not None:
        assert err.field == field, str(err)
    assert "\n" not in str(err)


def test_modules_and_defaults_are_inherited() -> None:
    config = load_config_text(
        """
vantage: phuong-vinh-hung
defaults: {interval: 2m, timeout: 15s}
modules:
  page: {kind: http, must_not_contain: [error-banner], latency_budget_seconds: 500ms}
targets:
  - {name: home, module: page, url: "https://dichvucong.example/"}
  - {name: login, module: page, url: "https://dichvucong.example/dang-nhap", interval: 30s}
"""
    )
    home, login = config.targets
    assert (home.interval, home.timeout, home.latency_budget_seconds) == (120.0, 15.0, 0.5)
    assert home.must_not_contain == ["error-banner"]
    assert login.interval == 30.0 and login.kind == "http"


def test_shipped_example_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    example = Path(__file__).resolve().parents[2] / "probes" / "examples" / "ward-office.yaml"
    with pytest.raises(
        ConfigError, match="DVCWATCH_PROBE_CCCD, DVCWATCH_PROBE_DOSSIER, DVCWATCH_PROBE_PASSWORD"
    ):
        load_config(example)
    for name in ("DVCWATCH_PROBE_CCCD", "DVCWATCH_PROBE_PASSWORD", "DVCWATCH_PROBE_DOSSIER"):
        monkeypatch.setenv(name, "x")
    config = load_config(example)
    assert config.vantage == "phuong-vinh-hung"
    assert {t.kind for t in config.targets} == {"http", "tls", "api_flow", "flow"}
