"""What every OTP source shares: who the code is for, the interface, the config base, code extraction."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator

from dvcwatch.core.credentials import Secret
from dvcwatch.core.errors import ConfigError, DvcwatchError
from dvcwatch.core.yamlconfig import check_regex

SIX_DIGITS = r"(?<!\d)(\d{6})(?!\d)"


class OtpUnavailable(DvcwatchError):
    """No code arrived in time, or the source answered with an error: the `otp` step failed."""

    exit_code = 1


@dataclass(frozen=True)
class OtpRequest:
    """Who the code is for; sources fill `{cccd}`, `{phone}` and `{account}` into URLs and commands."""

    cccd: str
    phone: str = ""
    account: str = ""

    def params(self) -> dict[str, str]:
        return {"cccd": self.cccd, "phone": self.phone, "account": self.account}


class OtpSource(Protocol):
    name: str

    async def fetch(self, request: OtpRequest) -> Secret: ...


class SourceConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    timeout: float = Field(60.0, gt=0, le=900, description="seconds before the otp step fails")


class PollingConfig(SourceConfig):
    poll_interval: float = Field(1.0, gt=0, le=60)
    regex: str = Field(SIX_DIGITS, description="first group (or whole match) is the code")

    @field_validator("regex")
    @classmethod
    def _compiles(cls, v: str) -> str:
        return check_regex(v)


def extract_code(text: str, regex: str = SIX_DIGITS) -> str | None:
    m = re.search(regex, text)
    if not m:
        return None
    code = m.group(1) if m.groups() else m.group(0)
    return code if re.fullmatch(r"\d{6,8}", code) else None


@dataclass(frozen=True)
class BuildContext:
    """What a source may need beyond its `otp:` block: the profile's base URL (for relative URLs), the
    environment (tokens, seeds) and the logged-in account's own TOTP seed."""

    base_url: str | None = None
    environ: Mapping[str, str] = field(default_factory=lambda: os.environ)
    totp_secret: Secret | None = None

    def absolute(self, url: str) -> str:
        if url.startswith(("http://", "https://")):
            return url
        if not self.base_url:
            raise ConfigError(f"otp url {url!r} is relative but the profile has no base_url")
        return self.base_url.rstrip("/") + (url if url.startswith("/") else "/" + url)


@dataclass(frozen=True)
class OtpKind:
    """One source kind: the model of its `otp:` block (with `source: Literal[name]`) and how to build it."""

    config: type[SourceConfig]
    build: Callable[[Any, BuildContext], OtpSource]

    @property
    def name(self) -> str:
        return str(get_args(self.config.model_fields["source"].annotation)[0])
