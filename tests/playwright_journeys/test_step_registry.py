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


def test_the_login_steps_are_those_registered_as_logging_in_in_order() -> None:
    from playwright_journeys.runner import LOGIN_STEPS

    assert LOGIN_STEPS == ("login", "otp")
    assert [name for name, s in KINDS.items() if s.logs_in] == list(LOGIN_STEPS)
