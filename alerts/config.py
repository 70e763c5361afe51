"""The SLO and threshold file (`alerts/slo.yaml`) as typed data.

Rules are generated from this file rather than written 25 times, so a wrong value must be caught here,
with file, line and field named, before it becomes a silent rule that never fires.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from alerts import SLO_PATH
from dvcwatch.core.yamlconfig import load_model

DURATION_RE = re.compile(r"^(\d+)(ms|s|m|h|d|w|y)$")
UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}


def duration_seconds(text: str) -> float:
    m = DURATION_RE.match(text)
    if not m:
        raise ValueError(f"not a Prometheus duration like 30s, 5m, 1h: {text!r}")
    return int(m.group(1)) * UNIT_SECONDS[m.group(2)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _check_duration(v: str) -> str:
    duration_seconds(v)
    return v


# A Prometheus duration string, checked when the model is built.
Duration = Annotated[str, AfterValidator(_check_duration)]


class Threshold(Strict):
    below: float = Field(gt=0, le=1)
    for_: Duration = Field(alias="for")


class PortalDown(Threshold):
    # More than one vantage must agree before the whole portal pages: one prober's own stall, or its
    # host's network, is not the portal. Capped at the number of probers Prometheus scrapes, so a
    # single-vantage deployment still pages; a prober that cannot be scraped still counts, so a lone
    # remaining vantage cannot page for the portal by itself.
    agree: int = Field(default=2, ge=1)


class ForOnly(Strict):
    for_: Duration = Field(alias="for")


class Journeys(Strict):
    window: Duration
    stale_after: Duration


class Prober(Strict):
    stale_after: Duration
    for_: Duration = Field(alias="for")


class Tls(Strict):
    expires_within: Duration


class Selectors(Strict):
    prober_job: str = Field(pattern=r"^[A-Za-z0-9_.:-]+$")


class LatencySlo(Strict):
    threshold_seconds: float = Field(gt=0)
    target: float = Field(gt=0, lt=1)


class ServiceSlo(Strict):
    availability: float | None = Field(default=None, gt=0, lt=1)
    latency: LatencySlo | None = None


class DefaultSlo(Strict):
    availability: float = Field(gt=0, lt=1)
    latency: LatencySlo


class Slo(Strict):
    defaults: DefaultSlo
    services: dict[str, ServiceSlo] = {}


class BurnRate(Strict):
    speed: Literal["fast", "slow"]
    long: Duration
    short: Duration
    factor: float = Field(gt=0)
    for_: Duration = Field(alias="for")

    @model_validator(mode="after")
    def _short_is_shorter(self) -> BurnRate:
        if duration_seconds(self.short) >= duration_seconds(self.long):
            raise ValueError("the short window must be shorter than the long one")
        return self


class AlertsConfig(Strict):
    version: Literal[1]
    runbook_base_url: str = Field(pattern=r"^https?://")
    selectors: Selectors
    portal_down: PortalDown
    vantage_down: Threshold
    service_probe_failing: ForOnly
    soft_failure: ForOnly
    journeys: Journeys
    prober: Prober
    prober_config_reload: ForOnly
    tls: Tls
    slo: Slo
    burn_rates: list[BurnRate] = Field(min_length=1)

    @model_validator(mode="after")
    def _known_services(self) -> AlertsConfig:
        from dvcwatch.core.catalog import load_catalog

        known = {s.id for s in load_catalog().services}
        unknown = sorted(set(self.slo.services) - known)
        if unknown:
            raise ValueError(f"slo.services names services not in the catalog: {', '.join(unknown)}")
        return self

    def windows(self) -> list[str]:
        """Every SLO window the burn-rate alerts need, shortest first."""
        ws = {w for b in self.burn_rates for w in (b.long, b.short)}
        return sorted(ws, key=duration_seconds)

    def availability_target(self, service: str) -> float:
        own = self.slo.services.get(service)
        return own.availability if own and own.availability else self.slo.defaults.availability

    def latency_slo(self, service: str) -> LatencySlo:
        own = self.slo.services.get(service)
        return own.latency if own and own.latency else self.slo.defaults.latency


def load_config(path: str | Path | None = None) -> AlertsConfig:
    return load_model(AlertsConfig, path or SLO_PATH)
