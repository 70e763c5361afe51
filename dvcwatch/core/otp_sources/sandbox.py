"""`source: sandbox`: the sandbox portal's test endpoint shows the code it sent (JSON field `otp`)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from dvcwatch.core.otp_sources.base import BuildContext, OtpKind, PollingConfig
from dvcwatch.core.otp_sources.polling import HttpPoller


class SandboxOtpConfig(PollingConfig):
    source: Literal["sandbox"] = "sandbox"
    url: str = Field("/_sandbox/otp?cccd={cccd}", description="relative to base_url, or absolute")
    timeout: float = Field(15.0, gt=0, le=900)
    poll_interval: float = Field(0.2, gt=0, le=60)


class SandboxOtp(HttpPoller):
    name = "sandbox"


def build(config: SandboxOtpConfig, ctx: BuildContext) -> SandboxOtp:
    return SandboxOtp(
        ctx.absolute(config.url),
        timeout=config.timeout,
        poll_interval=config.poll_interval,
        regex=config.regex,
        json_field="otp",
    )


KIND = OtpKind(SandboxOtpConfig, build)
