"""Every step of the shared vocabulary has exactly one registered journey step, and a step's needs
come from its own module (what `profile check` lists as needed)."""

from __future__ import annotations

import pytest

from dvcwatch.core.steps import STEPS
from playwright_journeys.steps import KINDS, REGISTRY, form
from playwright_journeys.steps.kind import JourneyStep


def test_the_registry_covers_the_vocabulary_in_order() -> None:
    assert list(KINDS) == list(STEPS)
    assert all(KINDS[name].name == name and REGISTRY[name] is KINDS[name].run for name in STEPS)


def test_a_step_outside_the_vocabulary_is_refused() -> None:
    with pytest.raises(ValueError, match="not a step of the shared vocabulary"):
        JourneyStep("captcha", form.form, needs=form.needs)
