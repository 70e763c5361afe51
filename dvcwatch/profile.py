"""Target profiles: everything portal-specific the harness needs, as data.

A profile names the portal's base URL, its paths, how to get an OTP, which test identities to use,
and (for journeys) the selectors of each step. The sandbox's profile ships in `dvcwatch/profiles/`;
a real portal needs only a new profile, never code. Journeys, probes and load tests all read it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from dvcwatch.errors import ConfigError
from dvcwatch.yamlconfig import load_model

PROFILES_DIR = Path(__file__).with_name("profiles")
SANDBOX_PROFILE = PROFILES_DIR / "sandbox.yaml"


class Paths(BaseModel):
    """URL paths (relative to base_url, or absolute URLs on another origin)."""

    model_config = ConfigDict(extra="forbid")
    home: str = "/"
    login: str = "/dang-nhap"
    service: str = Field("/dich-vu/{service}", description="a service's page; {service} or {code}")
    search: str = "/tim-kiem?q={query}"
    tracking: str = "/tra-cuu?ma={dossier}"
    payment_gateway: str = "/cong-thanh-toan/"
    api_base: str = "/api/v1"
    health: str = "/api/v1/health"


class OtpSource(BaseModel):
    model_config = ConfigDict(extra="forbid")
    source: Literal["sandbox", "http", "command", "totp", "prompt"] = "sandbox"
    url: str | None = "/_sandbox/otp?cccd={cccd}"
    command: str | None = None
    totp_secret_env: str | None = None


class Identities(BaseModel):
    """Synthetic citizens (sandbox) are derived from a seed; the sandbox pre-registers the same ones."""

    model_config = ConfigDict(extra="forbid")
    seed: int = 42
    count: int = Field(200, ge=1, le=100_000)


class Profile(BaseModel):
    model_config = ConfigDict(extra="allow")
    version: Literal[1, 2] = 1
    name: str
    base_url: str
    environment: Literal["sandbox", "staging", "production"] = "sandbox"
    paths: Paths = Paths()
    otp: OtpSource = OtpSource()
    identities: Identities = Identities()
    selectors: dict[str, Any] = {}

    @field_validator("base_url")
    @classmethod
    def _url(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")):
            raise ValueError("base_url must start with http:// or https://")
        return v.rstrip("/")

    def url(self, path: str, **params: str) -> str:
        p = path.format(**params) if params else path
        if p.startswith(("http://", "https://")):
            return p
        return self.base_url + (p if p.startswith("/") else "/" + p)


def load_profile(target: str | Path | None = None) -> Profile:
    """`target` is a profile file, or a base URL (the sandbox profile pointed at that address)."""
    if target is None:
        return load_model(Profile, SANDBOX_PROFILE)
    t = str(target)
    if t.startswith(("http://", "https://")):
        prof = load_model(Profile, SANDBOX_PROFILE)
        return prof.model_copy(update={"base_url": t.rstrip("/")})
    if not Path(t).exists():
        raise ConfigError("profile file not found (give a YAML file or an http(s):// base URL)", path=t)
    return load_model(Profile, t)
