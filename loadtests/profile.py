"""Load profiles: the shape of a run, its think times, gates and safety limits, as YAML.

A profile is what a vendor hands over with a capacity report: the exact load that was applied, so
anyone can replay it. The shape section is a tagged union (`kind:`) of the kinds registered in
`loadtests.shapes`, each a module holding its model and its plan.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from dvcwatch.core.yamlconfig import load_model, resolve_named
from loadtests.shapes import ShapeSpec
from loadtests.shapes.base import Strict

PROFILES_DIR = Path(__file__).with_name("profiles")

# Hard ceilings no profile or flag can lift: a typo must not turn into a denial of service.
CEILING_USERS = 20_000
CEILING_SECONDS = 24 * 3600


class Range(Strict):
    """Seconds, drawn uniformly between min and max."""

    min: float = Field(ge=0)
    max: float = Field(ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        if self.max < self.min:
            raise ValueError("max must be at least min")
        return self


class Think(Strict):
    """How long a citizen pauses: reading a page between steps, and between two visits."""

    between_steps: Range = Range(min=2, max=8)
    filling_form: Range = Range(min=20, max=90)
    between_visits: Range = Range(min=5, max=30)


class Limits(Strict):
    """Every run is bounded; `dvcwatch load --max-users/--max-duration` can only lower these."""

    max_users: int = Field(1000, ge=1, le=CEILING_USERS)
    max_duration_seconds: float = Field(3600, gt=0, le=CEILING_SECONDS)


class Analysis(Strict):
    """How stages are read: the first part of each stage is spawn and warm-up, not steady state."""

    warmup_fraction: float = Field(0.3, ge=0, lt=1)
    sample_seconds: float = Field(1.0, gt=0, le=60)


class LoadProfile(Strict):
    version: Literal[1] = 1
    name: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")
    description: str = ""
    shape: ShapeSpec
    think: Think = Think()
    gates: str = Field("default", description="a gates name in loadtests/gates/ or a YAML path")
    limits: Limits = Limits()
    analysis: Analysis = Analysis()
    request_timeout_seconds: float = Field(
        10, gt=0, le=300, description="a hung portal fails the request, never the run"
    )
    max_answer_mb: float = Field(
        10,
        gt=0,
        le=1000,
        description="what one answer may hold (MB, 10⁶ bytes); past it the request fails and nothing "
        "more is read: an endless body fails a request, never the run",
    )

    def capped(self, users: int = 0, seconds: float = 0) -> tuple[int, float]:
        """The profile's caps, lowered (never raised) by the command line (0: not given)."""
        max_users, max_seconds = self.limits.max_users, self.limits.max_duration_seconds
        return (
            min(max_users, users) if users else max_users,
            min(max_seconds, seconds) if seconds else max_seconds,
        )


def profile_path(name_or_file: str) -> Path:
    """A profile name (`stepped-ramp`) resolves in loadtests/profiles/; anything else is a path."""
    return resolve_named(name_or_file, PROFILES_DIR, "load profile")


def load_load_profile(name_or_file: str) -> tuple[LoadProfile, Path]:
    path = profile_path(name_or_file)
    return load_model(LoadProfile, path), path


def builtin_profiles() -> list[str]:
    return sorted(x.stem for x in PROFILES_DIR.glob("*.yaml"))


def gates_reference(profile: LoadProfile, profile_path: Path, override: str | None = None) -> str:
    """The gates to use: the command line's, else the profile's; a relative YAML path in a profile
    is relative to the profile's own file, so a profile and its gates travel together."""
    if override:
        return override
    ref = Path(profile.gates)
    if ref.suffix in (".yaml", ".yml") and not ref.is_absolute():
        return str(profile_path.parent / ref)
    return profile.gates
