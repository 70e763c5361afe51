"""`source: totp`: the code computed from the account's seed (RFC 6238), where a test identity provider
offers an authenticator instead of SMS."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any, Literal

import pyotp
from pydantic import Field

from dvcwatch.core.credentials import Secret
from dvcwatch.core.errors import ConfigError
from dvcwatch.core.otp_sources.base import BuildContext, OtpKind, OtpRequest, OtpUnavailable, SourceConfig


class TotpOtpConfig(SourceConfig):
    source: Literal["totp"]
    totp_secret_env: str | None = Field(
        None,
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="environment variable with the base32 seed; else the account's `totp_secret`",
    )
    digits: int = Field(6, ge=6, le=8)
    period: int = Field(30, ge=10, le=300)
    algorithm: Literal["sha1", "sha256", "sha512"] = "sha1"
    min_validity: float = Field(3.0, ge=0, description="wait for the next code if this one ends sooner")


class _ProviderHotp(pyotp.HOTP):
    """pyotp refuses seeds under 112 bits; the seed is the identity provider's (authenticator apps still
    get 80-bit ones), not ours to lengthen, so any length it issued is accepted."""

    min_secret_length_bits = 0


def totp(key: bytes, for_time: float, digits: int = 6, period: int = 30, algorithm: str = "sha1") -> str:
    """RFC 6238 TOTP (pyotp's HOTP over the `period`-second steps since the epoch; not pyotp.TOTP, which
    refuses periods over 120 s that a provider may still use)."""
    seed = base64.b32encode(key).decode()
    return _ProviderHotp(seed, digits=digits, digest=getattr(hashlib, algorithm)).at(int(for_time // period))


def decode_base32(secret: str) -> bytes:
    """Decode a base32 secret as authenticator apps show it: any case, spaces, padding optional (pyotp
    decodes without spaces or dashes, and only when the code is computed, too late for a ConfigError)."""
    s = re.sub(r"[\s-]", "", secret).upper()
    s += "=" * (-len(s) % 8)
    try:
        return base64.b32decode(s)
    except (ValueError, base64.binascii.Error):
        raise ValueError("not a base32 secret") from None


class TotpOtp:
    name = "totp"

    def __init__(
        self,
        key: bytes,
        *,
        digits: int = 6,
        period: int = 30,
        algorithm: str = "sha1",
        min_validity: float = 3.0,
        timeout: float = 60.0,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self._key = key
        self.sleep = sleep
        self.digits = digits
        self.period = period
        self.algorithm = algorithm
        self.min_validity = min_validity
        self.timeout = timeout
        self.clock = clock
        self._used: set[str] = set()

    async def fetch(self, request: OtpRequest) -> Secret:
        """The current code, or the next one when this one is about to expire or was already used."""
        start = self.clock()
        while True:
            now = self.clock()
            left_in_period = self.period - (now % self.period)
            code = totp(self._key, now, self.digits, self.period, self.algorithm)
            if left_in_period >= self.min_validity and code not in self._used:
                self._used.add(code)
                return Secret(code)
            if self.clock() + left_in_period > start + self.timeout:
                raise OtpUnavailable(f"OTP source totp: no fresh code within {self.timeout:g} s")
            await self.sleep(left_in_period + 0.01)


def build(config: TotpOtpConfig, ctx: BuildContext) -> TotpOtp:
    """The account's own seed (from the environment or the secrets file, see `dvcwatch.core.credentials`)
    wins over the block's `totp_secret_env`: each test account has its own authenticator."""
    if ctx.totp_secret is not None:
        raw, where = ctx.totp_secret.reveal(), "the account's totp_secret"
    elif config.totp_secret_env:
        raw = ctx.environ.get(config.totp_secret_env, "")
        where = f"environment variable {config.totp_secret_env}"
        if not raw:
            raise ConfigError(f"otp: {where} (totp_secret_env) is not set")
    else:
        raise ConfigError(
            "otp: a totp source needs totp_secret_env, or an account with totp_secret (accounts:)"
        )
    try:
        key = decode_base32(raw)
    except ValueError:
        raise ConfigError(f"otp: {where} does not hold a base32 secret") from None
    return TotpOtp(
        key,
        digits=config.digits,
        period=config.period,
        algorithm=config.algorithm,
        min_validity=config.min_validity,
        timeout=config.timeout,
    )


KIND = OtpKind(TotpOtpConfig, build)
