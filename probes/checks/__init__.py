"""What every probe check kind shares: the target's base model, the observation, the context, `Kind`.

One module per kind (`http`, `tls`, `api_flow`) holds its pydantic model (a `TargetBase` with a
`kind: Literal[...]`) and its prober, and exports them as `KIND`; `probes.kinds` registers each once
(as blackbox_exporter's map from module prober name to `prober/*.go`). A check receives the target and
a `CheckContext` and returns an `Observation`: only what it saw. The runner (`probes.runner`) owns the
hard timeout, the total duration and every metric, so a new kind never has to know about Prometheus or
scheduling. Nothing here imports a kind, so the kinds and `probes.config` import this without a loop.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, ClassVar

import aiohttp
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, model_validator

from dvcwatch.core.errors import LocatedValueError
from dvcwatch.core.yamlconfig import parse_duration
from probes.phases import PhaseTimer

SOFT_FAILURE_MARKERS = ('data-testid="error-banner"', "Hệ thống đang bận")
"""What a portal shows when it answers HTTP 200 but cannot serve (contracts §3): a soft failure."""

ENV_RE = re.compile(r"^[A-Z_][A-Z0-9_]*$")
HARMLESS_HEADERS = frozenset(
    {"accept", "accept-language", "accept-encoding", "cache-control", "pragma", "content-type", "user-agent"}
)
"""Headers that say nothing about who asks; any other header (Authorization, Cookie, X-Api-Key, …)
is treated as a secret, so an unknown one is protected rather than leaked."""

UNSCHEDULED = "unscheduled"
"""Validation context key: the target is a `/probe` request's, run once, never on a schedule."""

Duration = Annotated[float, BeforeValidator(parse_duration), Field(gt=0)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TargetBase(Strict):
    """The fields every kind has. A kind's model adds `kind: Literal["<name>"]` and its own fields, and
    overrides the hooks below where the defaults (no content rule, no steps, no secrets) do not hold."""

    steps: ClassVar[tuple[str, ...]] = ()
    """The shared-vocabulary steps this kind walks; `dvc_probe_failed_step` has one series per step."""

    name: str = Field(min_length=1, max_length=100, description="unique; the `target` label")
    url: str = Field(description="what is probed; each kind says which form it takes")
    service: str = Field("", description="catalog service id, the `service` label; '' when none")
    module: str | None = Field(None, description="the module it inherits from (resolved on load)")
    interval: Duration = 30.0
    timeout: Duration = 10.0
    jitter: float = Field(0.1, ge=0, le=0.5, description="share of the interval the start may move")
    latency_budget_seconds: Duration | None = None
    insecure_skip_verify: bool = Field(False, description="accept any certificate (self-signed test hosts)")
    ca_file: str | None = None

    @model_validator(mode="after")
    def _timeout_fits(self, info: ValidationInfo) -> TargetBase:
        # consecutive starts can be as close as interval × (1 − jitter); a hang must end before then.
        # A /probe request has no schedule: its timeout is bounded by the scrape's, not an interval.
        if info.context and info.context.get(UNSCHEDULED):
            return self
        room = self.interval * (1 - self.jitter)
        if self.timeout > room:
            raise LocatedValueError(
                f"timeout ({self.timeout:g} s) is longer than interval minus jitter ({room:g} s): "
                "a hanging target would skip its own runs",
                ("timeout",),
            )
        return self

    def has_content_rule(self) -> bool:
        """Whether `dvc_probe_content_match` is exported for this target (docs/probes.md)."""
        return False

    def secrets(self) -> tuple[Any, ...]:
        """What of this target would reach the probed host and must not reach any other (an account, a
        request body, headers beyond the harmless ones); empty when there is nothing."""
        return ()

    def env_names(self) -> list[str]:
        """Environment variables this target cannot run without, checked on load."""
        return []

    def check_on_load(self) -> None:
        """Resolve on load what would otherwise fail every round (accounts, OTP sources); raise a
        `ConfigError` whose `field` is the target's key that is wrong."""


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


@dataclass(frozen=True)
class Kind:
    """A check kind as registered in `probes.kinds`: its target model and its prober."""

    model: type[TargetBase]
    check: Check

    @property
    def name(self) -> str:
        return str(self.model.model_fields["kind"].annotation.__args__[0])  # type: ignore[union-attr]
