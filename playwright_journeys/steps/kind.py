"""What a journey step is: its name in the shared vocabulary, the function that walks it, and what it
needs of a profile. Each step module exports one `STEP = JourneyStep(...)`; `steps/__init__.py` lists them.

`needs` is read by `profile check` (`playwright_journeys.doctor`): the selectors a healthy walk of the
step cannot pass without, so a step's code and its requirements on a profile sit in one module.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from dvcwatch.core.catalog.models import Service
from dvcwatch.core.profile import Profile
from dvcwatch.core.steps import STEPS
from playwright_journeys.journey import Journey

StepFn = Callable[[Journey], Awaitable[None]]
Needs = Callable[[Profile, Service], list[tuple[str, ...]]]
"""(names, ...) per needed selector; several names in one tuple are alternatives (one appears)."""


@dataclass(frozen=True)
class JourneyStep:
    name: str
    run: StepFn
    needs: Needs
    # part of logging in: one account logs in and types its OTP at a time; a reused session skips it
    logs_in: bool = False

    def __post_init__(self) -> None:
        if self.name not in STEPS:
            raise ValueError(f"{self.name!r} is not a step of the shared vocabulary {STEPS}")


def have(profile: Profile, *names: str) -> list[tuple[str, ...]]:
    """The named selectors the profile sets, each needed on its own."""
    return [(n,) for n in names if profile.selectors.has(n)]
