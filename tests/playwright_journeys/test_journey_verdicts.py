"""One word per journey: the rules a leader relies on when reading the scorecard."""

from __future__ import annotations

from playwright_journeys.verdicts import judge

BASE = dict(
    failed=False,
    harness_error=False,
    level_promised="full",
    level_delivered="full",
    submit_seconds=10.0,
    service_budget_seconds=300.0,
    persona_budget_seconds=60.0,
)


def verdict(**changes: object) -> tuple[str, list[str]]:
    j = judge(**{**BASE, **changes})  # type: ignore[arg-type]
    return j.verdict, j.reasons


def test_completed_within_budget_at_the_promised_level_passes() -> None:
    assert verdict() == ("pass", [])
    assert verdict(level_promised="partial", level_delivered="partial") == ("pass", [])
    assert verdict(level_delivered=None) == ("pass", []), "a result still pending is not a shortfall"


def test_a_full_service_ending_at_the_counter_is_degraded_with_the_reason() -> None:
    assert verdict(level_delivered="partial") == ("degraded", ["level_shortfall"])


def test_slower_than_either_budget_is_degraded() -> None:
    assert verdict(submit_seconds=61.0) == ("degraded", ["over_persona_budget"])
    assert verdict(submit_seconds=301.0) == ("degraded", ["over_service_budget", "over_persona_budget"])


def test_a_failed_step_is_fail_and_a_harness_problem_is_error_never_fail() -> None:
    assert verdict(failed=True, level_delivered="partial") == ("fail", [])
    assert verdict(harness_error=True, failed=True) == ("error", [])
