"""The faults YAML as typed data: where a wrong file is caught, with file, line and field named.

Other tools write this format, so it is strict (unknown keys are errors, a parameter that does not
belong to the kind is an error) and stable. Service ids are checked against the catalog and steps
against the shared vocabulary, so a typo cannot silently declare a fault that never fires.

Each kind (its parameters, checks and behaviour) is a module of `sandbox_portal/faults/kinds/`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from dvcwatch.core.steps import Step
from sandbox_portal.faults.kinds import KINDS
from sandbox_portal.faults.params import Distribution, Strict, Window

Kind = Literal[tuple(KINDS)]  # type: ignore[valid-type]  # the registered kinds, in their order
KIND_NAMES: tuple[str, ...] = tuple(KINDS)

# Which kind-specific parameters each kind accepts.
PARAMS: dict[str, set[str]] = {name: set(k.params) for name, k in KINDS.items()}
ALL_PARAMS = set().union(*PARAMS.values())


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
        check = KINDS[self.kind].check
        if check is not None:
            check(self)
        if isinstance(self.seconds, float | int) and self.seconds < 0:
            raise ValueError("seconds must not be negative")
        return self

    def param(self, name: str) -> object:
        value = getattr(self, name)
        if value is None:
            return KINDS[self.kind].defaults.get(name)
        return value

    def public(self) -> dict[str, object]:
        return self.model_dump(exclude_none=True, exclude_defaults=False)


class FaultFile(Strict):
    """A faults file: `faults:` plus optional notes and the clock speed a scenario is written for."""

    name: str | None = None
    description: str | None = None
    clock_speed: float | None = Field(None, gt=0, description="sandbox seconds per real second")
    backoffice: Literal["fast", "real"] | None = Field(
        None,
        description="how fast dossiers are answered: fast (~1 s) or real (the service's processing time)",
    )
    faults: list[FaultSpec] = []
