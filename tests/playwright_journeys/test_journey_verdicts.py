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


def test_a_fee_charged_other_than_the_published_one_is_degraded_and_a_case_priced_fee_is_not_judged() -> None:
    assert verdict(fee_published=30_000, fee_charged=50_000) == ("degraded", ["fee_differs"])
    assert verdict(fee_published=0, fee_charged=10_000) == ("degraded", ["fee_differs"])  # a free service
    assert verdict(fee_published=30_000, fee_charged=30_000) == ("pass", [])
    assert verdict(fee_published=None, fee_charged=1_263_600) == (
        "pass",
        [],
    )  # the premium depends on the case
    assert verdict(fee_published=30_000, fee_charged=None) == (
        "pass",
        [],
    )  # not paid online: nothing to compare
