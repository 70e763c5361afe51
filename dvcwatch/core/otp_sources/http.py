"""`source: http`: an SMS-forwarder app's HTTP endpoint, polled for the latest message."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from dvcwatch.core.errors import ConfigError
from dvcwatch.core.otp_sources.base import BuildContext, OtpKind, PollingConfig
from dvcwatch.core.otp_sources.polling import HttpPoller


class HttpOtpConfig(PollingConfig):
    source: Literal["http"]
    url: str
    json_field: str | None = Field(None, description="dotted path of the message in a JSON answer")
    token_env: str | None = Field(None, description="environment variable holding a bearer token")


class HttpOtp(HttpPoller):
    name = "http"


def build(config: HttpOtpConfig, ctx: BuildContext) -> HttpOtp:
    headers: dict[str, str] = {}
    if config.token_env:
        token = ctx.environ.get(config.token_env)
        if not token:
            raise ConfigError(f"otp: environment variable {config.token_env} (token_env) is not set")
        headers["Authorization"] = f"Bearer {token}"
    return HttpOtp(
        ctx.absolute(config.url),
        timeout=config.timeout,
        poll_interval=config.poll_interval,
        regex=config.regex,
        json_field=config.json_field,
        headers=headers,
    )


KIND = OtpKind(HttpOtpConfig, build)
