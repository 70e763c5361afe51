"""poll_until: returns as soon as the condition holds, checks once more at the deadline, stops on error."""

from __future__ import annotations

import time

import pytest

from dvcwatch.core.waiting import poll_until


def test_returns_the_first_true_value() -> None:
    calls = []

    def third_time() -> str:
        calls.append(1)
        return "ready" if len(calls) == 3 else ""

    assert poll_until(third_time, timeout=60, interval=0.01) == "ready"
    assert len(calls) == 3


def test_gives_the_last_false_value_at_the_deadline() -> None:
    calls = []

    def never() -> None:
        calls.append(1)

    assert poll_until(never, timeout=0.05, interval=0.01) is None
    assert len(calls) >= 2  # the first check and the one at the deadline


def test_a_condition_met_during_the_last_sleep_is_not_a_timeout() -> None:
    start = time.monotonic()
    # true only once the deadline has passed: only the check at the deadline can see it
    assert poll_until(lambda: time.monotonic() - start >= 0.1, timeout=0.1, interval=10)


def test_an_error_ends_the_wait_at_once() -> None:
    calls = []

    def died() -> bool:
        calls.append(1)
        raise RuntimeError("the process exited")

    with pytest.raises(RuntimeError, match="exited"):
        poll_until(died, timeout=60)
    assert len(calls) == 1
