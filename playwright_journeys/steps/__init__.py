"""The one place a journey step is registered: its module's `STEP` (function and needs) goes here.

A new step is a name in the shared vocabulary (`dvcwatch/core/steps.py`, one row: it is also the fault
key, metric label and report id), a module here exporting `STEP = JourneyStep(name, run, needs=...)`,
and one entry below. The runner's dispatch (`REGISTRY`), step plugins and `profile check`'s needed
selectors derive from this map, as the prober's check kinds derive from `probes/kinds.py`.
A step drives the page through `Journey` helpers and raises `StepFailure` with what the citizen saw;
the runner does the timing, screenshots and reporting, so steps stay short.
"""

from __future__ import annotations

from playwright_journeys.steps import (
    find_service,
    form,
    login,
    otp,
    payment,
    result,
    submit,
    tracking,
    upload,
)
from playwright_journeys.steps.kind import JourneyStep, StepFn

KINDS: dict[str, JourneyStep] = {
    s.name: s
    for s in (
        login.STEP,
        otp.STEP,
        find_service.STEP,
        form.STEP,
        upload.STEP,
        payment.STEP,
        submit.STEP,
        tracking.STEP,
        result.STEP,
    )
}
REGISTRY: dict[str, StepFn] = {name: s.run for name, s in KINDS.items()}


def get(name: str) -> StepFn:
    return REGISTRY[name]


__all__ = ["KINDS", "REGISTRY", "JourneyStep", "StepFn", "get"]
