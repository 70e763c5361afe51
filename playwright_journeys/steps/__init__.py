"""The step registry: one async function per step name of the shared vocabulary.

Like blackbox_exporter's prober map, a name picks the function; each lives in its own module here.
A step drives the page through `Journey` helpers and raises `StepFailure` with what the citizen saw;
the runner does the timing, screenshots and reporting, so steps stay short.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from dvcwatch.core.steps import STEPS
from playwright_journeys.journey import Journey

StepFn = Callable[[Journey], Awaitable[None]]
REGISTRY: dict[str, StepFn] = {}


def step(name: str) -> Callable[[StepFn], StepFn]:
    if name not in STEPS:
        raise ValueError(f"{name!r} is not a step of the shared vocabulary {STEPS}")

    def register(fn: StepFn) -> StepFn:
        REGISTRY[name] = fn
        return fn

    return register


def get(name: str) -> StepFn:
    return REGISTRY[name]


# Importing the modules fills the registry.
from playwright_journeys.steps import (  # noqa: E402
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

__all__ = [
    "REGISTRY",
    "StepFn",
    "find_service",
    "form",
    "get",
    "login",
    "otp",
    "payment",
    "result",
    "step",
    "submit",
    "tracking",
    "upload",
]
