"""`source: command`: a local command (a modem, `adb`, a mail-to-SMS bridge) prints the code."""

from __future__ import annotations

import asyncio
import os
from typing import Literal

from pydantic import Field

from dvcwatch.core.credentials import Secret
from dvcwatch.core.otp_sources.base import (
    SIX_DIGITS,
    BuildContext,
    OtpKind,
    OtpRequest,
    OtpUnavailable,
    SourceConfig,
    extract_code,
)


class CommandOtpConfig(SourceConfig):
    source: Literal["command"]
    command: list[str] = Field(min_length=1, description="argv; {cccd}, {phone}, {account} are filled in")
    regex: str = SIX_DIGITS


class CommandOtp:
    """Runs a command and reads the code from its standard output; killed when the timeout passes."""

    name = "command"

    def __init__(self, command: list[str], *, timeout: float, regex: str = SIX_DIGITS) -> None:
        self.command = command
        self.timeout = timeout
        self.regex = regex

    async def fetch(self, request: OtpRequest) -> Secret:
        argv = [part.format(**request.params()) for part in self.command]
        env = {**os.environ, "DVCWATCH_CCCD": request.cccd, "DVCWATCH_PHONE": request.phone}
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env=env,
                start_new_session=True,
            )
        except OSError as exc:
            raise OtpUnavailable(f"OTP source command: cannot run {argv[0]}: {exc.strerror}") from None
        try:
            out, _err = await asyncio.wait_for(proc.communicate(), self.timeout)
        except TimeoutError:
            _kill_group(proc)
            await proc.wait()
            raise OtpUnavailable(
                f"OTP source command: {argv[0]} gave no code within {self.timeout:g} s (killed)"
            ) from None
        except BaseException:  # the caller gave up first (a probe's or a step's own timeout)
            _kill_group(proc)
            raise
        if proc.returncode != 0:
            raise OtpUnavailable(f"OTP source command: {argv[0]} exited with code {proc.returncode}")
        code = extract_code(out.decode("utf-8", "replace"), self.regex)
        if code is None:
            raise OtpUnavailable(f"OTP source command: {argv[0]} printed no 6-digit code")
        return Secret(code)


def _kill_group(proc: asyncio.subprocess.Process) -> None:
    import signal

    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        try:
            proc.kill()
        except ProcessLookupError:
            pass


def build(config: CommandOtpConfig, ctx: BuildContext) -> CommandOtp:
    return CommandOtp(config.command, timeout=config.timeout, regex=config.regex)


KIND = OtpKind(CommandOtpConfig, build)
