"""A probe check kind lives in one module (its model beside its prober) and is registered once, in
`probes.kinds`: the configuration's target union and the runner's dispatch are derived from that map."""

from __future__ import annotations

import re

import pytest

from dvcwatch.core.errors import ConfigError
from probes.config import load_config_text
from probes.kinds import KINDS


def test_each_kind_holds_its_model_and_its_prober_in_one_module() -> None:
    assert set(KINDS) == {"http", "tls", "api_flow", "flow"}
    for name, kind in KINDS.items():
        assert kind.name == name
        assert kind.model.__module__ == kind.check.__module__ == f"probes.checks.{name}"


def test_the_configuration_accepts_exactly_the_registered_kinds() -> None:
    with pytest.raises(ConfigError) as err:
        load_config_text("targets:\n  - {name: a, kind: ftp, url: 'http://127.0.0.1:1/'}\n", secrets=False)
    named = set(re.findall(r"'(\w+)'", str(err.value).split("expected tags:")[1]))
    assert named == set(KINDS)


def test_a_kind_says_for_itself_whether_content_is_judged_and_which_steps_it_walks() -> None:
    config = load_config_text(
        "targets:\n"
        "  - {name: page, module: portal_page, url: 'http://127.0.0.1:1/'}\n"
        "  - {name: bare, kind: http, url: 'http://127.0.0.1:1/'}\n"
        "  - {name: cert, kind: tls, url: '127.0.0.1:1'}\n"
        "  - {name: flow, kind: api_flow, url: 'http://127.0.0.1:1/api/v1', service: cap-ho-chieu,\n"
        "     credentials: {synthetic: {seed: 42, index: 0}}}\n",
        secrets=False,
    )
    judged = {t.name: t.has_content_rule() for t in config.targets}
    assert judged == {"page": True, "bare": False, "cert": False, "flow": True}
    assert {t.name: t.steps for t in config.targets}["flow"] == ("login", "otp", "form", "tracking")
