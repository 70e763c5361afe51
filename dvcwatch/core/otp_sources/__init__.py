"""Where a journey gets the one-time code that the identity provider sends to the account's phone.

On the sandbox the code is read from a test endpoint; on a real portal it arrives by SMS on a phone the
operator holds, so it is forwarded (an SMS-forwarder app's HTTP endpoint), read by a local command (a
modem, `adb`, a mail-to-SMS bridge), computed (TOTP, where a test identity provider offers it), or typed
by a person at the terminal. All five sit behind one interface, `await source.fetch(request)`, so the
journey runner never knows which one it has.

Every source is bounded by its `timeout` (an OTP that never arrives is the portal's `otp` step failing,
not a hung run) and returns the code as a `Secret`: no message here ever contains a code or a body that
may hold one. Polling sources remember the codes they returned and skip them, because a forwarder keeps
showing the last SMS until a new one comes.

```yaml
otp: {source: sandbox, url: "/_sandbox/otp?cccd={cccd}"}
otp: {source: http, url: "http://10.0.0.5:8080/sms/latest", regex: 'OTP[^0-9]*([0-9]{6})', token_env: SMS_TOKEN}
otp: {source: command, command: ["/usr/local/bin/read-otp", "--phone", "{phone}"], timeout: 60}
otp: {source: totp, totp_secret_env: DVC_TESTER1_TOTP}
otp: {source: prompt, timeout: 180}
```

This is the one place a source kind is registered. A new kind is a module here holding its config model
(`SourceConfig` with `source: Literal[name]`), its source class (`async fetch(request) -> Secret`) and
`KIND = OtpKind(Config, build)`, plus one entry in `KINDS` below. `CONFIGS`, the `OtpConfig` union,
`make_source` and the profile's `otp.source` choices derive from it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Union

from pydantic import Field

from dvcwatch.core.credentials import Secret
from dvcwatch.core.otp_sources import command, http, prompt, sandbox, totp
from dvcwatch.core.otp_sources.base import (
    SIX_DIGITS,
    BuildContext,
    OtpKind,
    OtpRequest,
    OtpSource,
    OtpUnavailable,
    SourceConfig,
    extract_code,
)
from dvcwatch.core.otp_sources.command import CommandOtp, CommandOtpConfig
from dvcwatch.core.otp_sources.http import HttpOtp, HttpOtpConfig
from dvcwatch.core.otp_sources.polling import code_in
from dvcwatch.core.otp_sources.prompt import PromptOtp, PromptOtpConfig
from dvcwatch.core.otp_sources.sandbox import SandboxOtp, SandboxOtpConfig
from dvcwatch.core.otp_sources.totp import TotpOtp, TotpOtpConfig, decode_base32

KINDS: dict[str, OtpKind] = {
    k.name: k for k in (sandbox.KIND, http.KIND, command.KIND, totp.KIND, prompt.KIND)
}

CONFIGS: dict[str, type[SourceConfig]] = {name: k.config for name, k in KINDS.items()}
"""Each source's model by name: the keys a profile's `otp:` block may give that source."""

if TYPE_CHECKING:
    OtpConfig = SourceConfig
else:
    OtpConfig = Annotated[Union[tuple(CONFIGS.values())], Field(discriminator="source")]  # noqa: UP007
"""An `otp:` block of any registered source, as pydantic validates it (chosen by its `source`)."""


def make_source(
    config: SourceConfig,
    *,
    base_url: str | None = None,
    environ: Mapping[str, str] | None = None,
    totp_secret: Secret | None = None,
) -> OtpSource:
    """Build the source a profile's `otp:` block describes; a missing env variable is a ConfigError.

    `totp_secret` is the logged-in account's own seed: it wins over the block's `totp_secret_env`."""
    ctx = BuildContext(base_url, os.environ if environ is None else environ, totp_secret)
    return KINDS[config.source].build(config, ctx)  # type: ignore[attr-defined]


__all__ = [
    "CONFIGS",
    "KINDS",
    "SIX_DIGITS",
    "BuildContext",
    "CommandOtp",
    "CommandOtpConfig",
    "HttpOtp",
    "HttpOtpConfig",
    "OtpConfig",
    "OtpKind",
    "OtpRequest",
    "OtpSource",
    "OtpUnavailable",
    "PromptOtp",
    "PromptOtpConfig",
    "SandboxOtp",
    "SandboxOtpConfig",
    "SourceConfig",
    "TotpOtp",
    "TotpOtpConfig",
    "code_in",
    "decode_base32",
    "extract_code",
    "make_source",
    "totp",
]
