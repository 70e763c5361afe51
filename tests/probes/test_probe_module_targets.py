"""`/probe` targets are built from modules once per config: a reload's new modules apply at once."""

from __future__ import annotations

import pytest

from probes.config import load_config_text, module_target


def test_a_reloaded_module_is_used_for_the_next_probe_and_the_same_target_is_reused() -> None:
    first = load_config_text("modules: {quick: {kind: http, timeout: 2s}}\nprobe_only: true\n")
    a = module_target(first, "quick", "http://127.0.0.1:1/")
    assert a.timeout == 2.0
    assert module_target(first, "quick", "http://127.0.0.1:1/") is a
    assert module_target(first, "quick", "http://127.0.0.1:2/").url == "http://127.0.0.1:2/"
    reloaded = load_config_text("modules: {quick: {kind: http, timeout: 7s}}\nprobe_only: true\n")
    assert module_target(reloaded, "quick", "http://127.0.0.1:1/").timeout == 7.0
    with pytest.raises(KeyError):
        module_target(reloaded, "slow", "http://127.0.0.1:1/")
