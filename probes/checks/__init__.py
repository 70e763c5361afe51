"""One prober per kind, one signature, one registry (as blackbox_exporter's `prober/*.go`).

A check receives the target and a `CheckContext` and returns an `Observation`: only what it saw. The
runner (`probes.runner`) owns the hard timeout, the total duration and every metric, so a new kind
never has to know about Prometheus or scheduling.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import aiohttp

from probes.phases import PhaseTimer


@dataclass
class Observation:
    success: bool = False
    failure: str = ""
    """Short reason when it failed: the table of `--once` and the logs show it."""
    status_code: int | None = None
    content_match: bool | None = None
    tls_expiry: float | None = None
    failed_step: str | None = None
    steps: dict[str, float] = field(default_factory=dict)
    """Seconds per step of the shared vocabulary (api_flow): login, otp, form, tracking."""
    current_step: str | None = None
    """The step in progress, so a probe cut off by its timeout still says where it hung."""

    def fail(self, reason: str, step: str | None = None) -> Observation:
        self.success = False
        self.failure = self.failure or reason
        if step and not self.failed_step:
            self.failed_step = step
        return self


@dataclass
class CheckContext:
    """What a check works with. It fills `observation` as it goes (rather than returning a new one
    at the end) so that what it saw before a timeout cut it off is not lost."""

    session: aiohttp.ClientSession
    timer: PhaseTimer
    observation: Observation = field(default_factory=Observation)


Check = Callable[..., Awaitable[Observation]]
"""async def check(target, ctx: CheckContext) -> Observation"""


def registry() -> dict[str, Check]:
    from probes.checks import api_flow, http, tls

    return {"http": http.check, "tls": tls.check, "api_flow": api_flow.check}
