"""Personas are data: the shipped file loads, names its devices correctly, and a bad one is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from dvcwatch.errors import ConfigError
from playwright_journeys.personas import load_personas


def test_the_three_personas_ship_and_their_devices_exist_in_playwright() -> None:
    from playwright.sync_api import sync_playwright

    personas = load_personas()
    assert [p.name for p in personas.personas] == ["desktop", "phone", "slow-3g"]
    slow = personas.get("slow-3g")
    assert slow.network is not None and slow.network.cdp()["latency"] == 150
    with sync_playwright() as pw:
        for p in personas.personas:
            assert p.device is None or p.device in pw.devices


def test_an_unknown_persona_names_the_known_ones() -> None:
    with pytest.raises(ConfigError, match="unknown persona 'tablet'; one of desktop, phone, slow-3g"):
        load_personas().get("tablet")


def test_a_bad_personas_file_names_line_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "personas.yaml"
    bad.write_text(
        "personas:\n  - name: kiosk\n    label_vi: Ki-ốt\n    label_en: Kiosk\n    budget_seconds: -5\n"
    )
    with pytest.raises(ConfigError) as info:
        load_personas(bad)
    assert (info.value.line, info.value.field) == (5, "personas[0](kiosk).budget_seconds")
