"""The faults YAML as typed data: where a wrong file is caught, with file, line and field named.

Other tools write this format, so it is strict (unknown keys are errors, a parameter that does not
belong to the kind is an error) and stable. Service ids are checked against the catalog and steps
against the shared vocabulary, so a typo cannot silently declare a fault that never fires.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from dvcwatch.core.steps import Step

Kind = Literal[
    "latency", "error", "hang", "reset", "soft_failure", "otp_lost", "payment_failed", "downgrade", "capacity"
]
KINDS: tuple[str, ...] = Kind.__args__  # type: ignore[attr-defined]

# Which kind-specific parameters each kind accepts.
PARAMS: dict[str, set[str]] = {
    "latency": {"seconds"},
    "error": {"status", "message"},
    "hang": {"seconds"},
    "reset": set(),
    "soft_failure": {"message"},
    "otp_lost": set(),
    "payment_failed": {"message"},
    "downgrade": {"what"},
    "capacity": {"workers", "service_time", "queue"},
}
ALL_PARAMS = set().union(*PARAMS.values())

DEFAULT_BANNER = "Hệ thống đang bận, vui lòng thử lại sau"
CAPACITY_DEFAULTS = {"workers": 4, "service_time": 0.02, "queue": 100}


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Window(Strict):
    """Seconds on the sandbox clock (seconds since start × clock speed); `end` omitted = open-ended."""

    start: float = Field(0, ge=0)
    end: float | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Window:
        if self.end is not None and self.end <= self.start:
            raise ValueError("window end must be after its start")
        return self


class Distribution(Strict):
    """A latency drawn per request. lognormal: median + p99; uniform: min + max; exponential: mean."""

    distribution: Literal["lognormal", "uniform", "exponential"]
    median: float | None = Field(None, gt=0)
    p99: float | None = Field(None, gt=0)
    min: float | None = Field(None, ge=0)
    max: float | None = Field(None, gt=0)
    mean: float | None = Field(None, gt=0)

    @model_validator(mode="after")
    def _complete(self) -> Distribution:
        need = {"lognormal": ("median", "p99"), "uniform": ("min", "max"), "exponential": ("mean",)}
        missing = [k for k in need[self.distribution] if getattr(self, k) is None]
        if missing:
            raise ValueError(f"a {self.distribution} distribution needs {' and '.join(missing)}")
        if self.distribution == "lognormal" and self.p99 < self.median:  # type: ignore[operator]
            raise ValueError("p99 must be at least the median")
        if self.distribution == "uniform" and self.max < self.min:  # type: ignore[operator]
            raise ValueError("max must be at least min")
        return self

    def sigma(self) -> float:
        return math.log(self.p99 / self.median) / 2.3263478740408408  # type: ignore[operator]


class FaultSpec(Strict):
    kind: Kind
    service: str | None = None
    step: Step | None = None
    endpoint: str | None = Field(None, description="path prefix, e.g. /api/v1/health")
    ratio: float = Field(1.0, gt=0, le=1)
    window: Window | None = None
    seconds: float | Distribution | None = None
    status: int | None = Field(None, ge=400, le=599)
    message: str | None = None
    what: Literal["payment", "result", "both"] | None = None
    workers: int | None = Field(None, ge=1, le=10_000)
    service_time: float | None = Field(None, gt=0, le=60)
    queue: int | None = Field(None, ge=0, le=1_000_000)

    @field_validator("service")
    @classmethod
    def _known_service(cls, v: str | None) -> str | None:
        if v is not None:
            from dvcwatch.core.catalog import load_catalog
            from dvcwatch.core.errors import ConfigError

            try:
                load_catalog().service(v)
            except ConfigError as exc:  # pydantic reports ValueErrors only
                raise ValueError(str(exc)) from None
        return v

    @field_validator("endpoint")
    @classmethod
    def _path(cls, v: str | None) -> str | None:
        if v is not None and not v.startswith("/"):
            raise ValueError("endpoint is a path prefix starting with /")
        return v

    @model_validator(mode="after")
    def _params_fit_kind(self) -> FaultSpec:
        given = {p for p in ALL_PARAMS if getattr(self, p) is not None}
        foreign = sorted(given - PARAMS[self.kind])
        if foreign:
            raise ValueError(f"{', '.join(foreign)} is not a parameter of kind {self.kind}")
        if self.kind == "latency" and self.seconds is None:
            raise ValueError("a latency fault needs seconds (a number or a distribution)")
        if self.kind == "hang" and isinstance(self.seconds, Distribution):
            raise ValueError("hang takes a number of seconds (or none: until the client gives up)")
        if isinstance(self.seconds, float | int) and self.seconds < 0:
            raise ValueError("seconds must not be negative")
        if self.service is not None and self.kind in ("downgrade", "payment_failed"):
            self._fits_service()
        return self

    def _fits_service(self) -> None:
        """A fault that can never fire on its service is refused, like a typo: nobody would see it."""
        from dvcwatch.core.catalog import load_catalog

        svc = load_catalog().service(self.service or "")
        if self.kind == "downgrade" and svc.level != "full":
            raise ValueError(f"downgrade needs a full (toàn trình) service; {svc.id} is partial")
        if svc.charges_fee:
            return
        if self.kind == "payment_failed":
            raise ValueError(f"payment_failed needs a service that charges a fee; {svc.id} is free")
        if self.what == "payment":
            raise ValueError(f"downgrade of the payment needs a fee; {svc.id} is free (what: result or both)")

    def param(self, name: str) -> object:
        value = getattr(self, name)
        if value is None and self.kind == "capacity":
            return CAPACITY_DEFAULTS[name]
        return value

    def public(self) -> dict[str, object]:
        return self.model_dump(exclude_none=True, exclude_defaults=False)


class FaultFile(Strict):
    """A faults file: `faults:` plus optional notes and the clock speed a scenario is written for."""

    name: str | None = None
    description: str | None = None
    clock_speed: float | None = Field(None, gt=0, description="sandbox seconds per real second")
    faults: list[FaultSpec] = []
