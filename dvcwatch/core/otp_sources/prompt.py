"""`source: prompt`: the person holding the test phone types the code at the terminal."""

from __future__ import annotations

import asyncio
import re
import sys
from typing import Literal, TextIO

from pydantic import Field

from dvcwatch.core.credentials import Secret
from dvcwatch.core.errors import ConfigError
from dvcwatch.core.otp_sources.base import BuildContext, OtpKind, OtpRequest, OtpUnavailable, SourceConfig


class PromptOtpConfig(SourceConfig):
    source: Literal["prompt"]
    timeout: float = Field(180.0, gt=0, le=900)


class PromptOtp:
    """Asks the person holding the test phone; refuses at once when nobody can answer."""

    name = "prompt"

    def __init__(
        self,
        *,
        timeout: float = 180.0,
        stdin: TextIO | None = None,
        stdout: TextIO | None = None,
        attempts: int = 3,
    ) -> None:
        self.timeout = timeout
        self.stdin = stdin or sys.stdin
        self.stdout = stdout or sys.stderr
        self.attempts = attempts

    def check_terminal(self) -> None:
        try:
            tty = self.stdin.isatty()
        except (AttributeError, ValueError):
            tty = False
        if not tty:
            raise ConfigError(
                "OTP source 'prompt' needs a person at a terminal, but standard input is not a TTY "
                "(cron, CI or a pipe); use source: http, command or totp for unattended runs"
            )

    def _ask(self, request: OtpRequest) -> str | None:
        who = request.account or (request.cccd[:3] + "*" * 6 + request.cccd[-3:])
        for _ in range(self.attempts):
            self.stdout.write(f"Mã OTP gửi tới điện thoại của tài khoản {who} (6 chữ số): ")
            self.stdout.flush()
            line = _read_hidden(self.stdin)
            self.stdout.write("\n")
            if line == "":
                return None
            code = line.strip().replace(" ", "")
            if re.fullmatch(r"\d{6}", code):
                return code
            self.stdout.write("Cần đúng 6 chữ số / exactly 6 digits, please.\n")
        return None

    async def fetch(self, request: OtpRequest) -> Secret:
        self.check_terminal()
        try:
            code = await asyncio.wait_for(asyncio.to_thread(self._ask, request), self.timeout)
        except TimeoutError:
            # The reading thread stays blocked on the terminal until the person presses Enter;
            # the journey has moved on and will not use what it reads.
            raise OtpUnavailable(
                f"OTP source prompt: nobody typed a code within {self.timeout:g} s"
            ) from None
        if code is None:
            raise OtpUnavailable("OTP source prompt: no valid 6-digit code was typed")
        return Secret(code)


def _read_hidden(stream: TextIO) -> str:
    """Read one line without echoing it, so the code is not left on the screen or in a recording."""
    try:
        import termios

        fd = stream.fileno()
        old = termios.tcgetattr(fd)
    except (ImportError, AttributeError, ValueError, OSError):
        return stream.readline()
    new = termios.tcgetattr(fd)
    new[3] &= ~termios.ECHO
    try:
        termios.tcsetattr(fd, termios.TCSANOW, new)
        return stream.readline()
    finally:
        termios.tcsetattr(fd, termios.TCSANOW, old)


def build(config: PromptOtpConfig, ctx: BuildContext) -> PromptOtp:
    return PromptOtp(timeout=config.timeout)


KIND = OtpKind(PromptOtpConfig, build)
