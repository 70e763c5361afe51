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
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import re
import sys
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Protocol, TextIO

import pyotp
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


# ---- configuration (the `otp:` block of a profile) ------------------------------------------------


class _Base(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    timeout: float = Field(60.0, gt=0, le=900, description="seconds before the otp step fails")


class _Polling(_Base):
    poll_interval: float = Field(1.0, gt=0, le=60)
    regex: str = Field(SIX_DIGITS, description="first group (or whole match) is the code")

    @field_validator("regex")
    @classmethod
    def _compiles(cls, v: str) -> str:
        return check_regex(v)


class SandboxOtpConfig(_Polling):
    source: Literal["sandbox"] = "sandbox"
    url: str = Field("/_sandbox/otp?cccd={cccd}", description="relative to base_url, or absolute")
    timeout: float = Field(15.0, gt=0, le=900)
    poll_interval: float = Field(0.2, gt=0, le=60)


class HttpOtpConfig(_Polling):
    source: Literal["http"]
    url: str
    json_field: str | None = Field(None, description="dotted path of the message in a JSON answer")
    token_env: str | None = Field(None, description="environment variable holding a bearer token")


class CommandOtpConfig(_Base):
    source: Literal["command"]
    command: list[str] = Field(min_length=1, description="argv; {cccd}, {phone}, {account} are filled in")
    regex: str = SIX_DIGITS


class TotpOtpConfig(_Base):
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


class PromptOtpConfig(_Base):
    source: Literal["prompt"]
    timeout: float = Field(180.0, gt=0, le=900)


CONFIGS: dict[str, type[_Base]] = {
    "sandbox": SandboxOtpConfig,
    "http": HttpOtpConfig,
    "command": CommandOtpConfig,
    "totp": TotpOtpConfig,
    "prompt": PromptOtpConfig,
}
"""Each source's model by name: the keys a profile's `otp:` block may give that source."""

OtpConfig = Annotated[
    SandboxOtpConfig | HttpOtpConfig | CommandOtpConfig | TotpOtpConfig | PromptOtpConfig,
    Field(discriminator="source"),
]


def extract_code(text: str, regex: str = SIX_DIGITS) -> str | None:
    m = re.search(regex, text)
    if not m:
        return None
    code = m.group(1) if m.groups() else m.group(0)
    return code if re.fullmatch(r"\d{6,8}", code) else None


# ---- polling over HTTP: sandbox and SMS forwarder --------------------------------------------------


def code_in(
    body: str, content_type: str, regex: str = SIX_DIGITS, json_field: str | None = None
) -> str | None:
    """The code in an OTP endpoint's answer: in `json_field` of a JSON answer (or anywhere in it),
    else anywhere in the text; shared by the polling sources and the load test's citizens."""
    text = body
    if "json" in content_type or body.lstrip().startswith(("{", "[")):
        try:
            data = json.loads(body)
        except ValueError:
            data = None
        if data is not None:
            picked = _dig(data, json_field) if json_field else data
            if picked is None:
                return None
            text = picked if isinstance(picked, str) else json.dumps(picked)
    return extract_code(text, regex)


def _dig(data: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        elif isinstance(data, dict) and part in data:
            data = data[part]
        else:
            return None
    return data


class _HttpPoller:
    """GETs a URL until a fresh code shows up or the timeout passes."""

    name = "http"

    def __init__(
        self,
        url: str,
        *,
        timeout: float,
        poll_interval: float,
        regex: str,
        json_field: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.url = url
        self.timeout = timeout
        self.poll_interval = poll_interval
        self.regex = regex
        self.json_field = json_field
        self.headers = dict(headers or {})
        self._used: dict[str, set[str]] = {}  # per filled-in URL: one citizen's codes, or one phone's

    def _code_in(self, body: str, content_type: str) -> str | None:
        return code_in(body, content_type, self.regex, self.json_field)

    async def fetch(self, request: OtpRequest) -> Secret:
        import aiohttp

        url = self.url.format(**request.params())
        used = self._used.setdefault(url, set())
        deadline = time.monotonic() + self.timeout
        last = "no answer yet"
        timeout = aiohttp.ClientTimeout(total=min(10.0, self.timeout))
        async with aiohttp.ClientSession(timeout=timeout, headers=self.headers) as http:
            while True:
                try:
                    async with http.get(url) as resp:
                        body = await resp.text(errors="replace")
                        if resp.status == 200:
                            code = self._code_in(body, resp.headers.get("Content-Type", ""))
                            if code and code not in used:
                                used.add(code)
                                return Secret(code)
                            last = "answered, but with no new code"
                        else:
                            last = f"HTTP {resp.status}"
                except (TimeoutError, aiohttp.ClientError, OSError) as exc:
                    last = type(exc).__name__
                left = deadline - time.monotonic()
                if left <= 0:
                    raise OtpUnavailable(
                        f"OTP source {self.name}: no code within {self.timeout:g} s from "
                        f"{_strip_query(url)} (last: {last})"
                    )
                await asyncio.sleep(min(self.poll_interval, left))


def _strip_query(url: str) -> str:
    """The URL without its query string, which may carry a phone number or a token."""
    return url.split("?", 1)[0]


class SandboxOtp(_HttpPoller):
    name = "sandbox"


class HttpOtp(_HttpPoller):
    name = "http"


# ---- a local command -------------------------------------------------------------------------------


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


# ---- TOTP (RFC 6238) ----------------------------------------------------------------------------------


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


# ---- a person at the terminal ------------------------------------------------------------------------


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


# ---- from configuration --------------------------------------------------------------------------------


def _absolute(url: str, base_url: str | None) -> str:
    if url.startswith(("http://", "https://")):
        return url
    if not base_url:
        raise ConfigError(f"otp url {url!r} is relative but the profile has no base_url")
    return base_url.rstrip("/") + (url if url.startswith("/") else "/" + url)


def make_source(
    config: SandboxOtpConfig | HttpOtpConfig | CommandOtpConfig | TotpOtpConfig | PromptOtpConfig,
    *,
    base_url: str | None = None,
    environ: Mapping[str, str] | None = None,
    totp_secret: Secret | None = None,
) -> OtpSource:
    """Build the source a profile's `otp:` block describes; a missing env variable is a ConfigError.

    `totp_secret` is the logged-in account's own seed (from the environment or the secrets file, see
    `dvcwatch.core.credentials`): each test account has its own authenticator, so it wins over the block's
    `totp_secret_env`."""
    env = os.environ if environ is None else environ
    if isinstance(config, SandboxOtpConfig):
        return SandboxOtp(
            _absolute(config.url, base_url),
            timeout=config.timeout,
            poll_interval=config.poll_interval,
            regex=config.regex,
            json_field="otp",
        )
    if isinstance(config, HttpOtpConfig):
        headers: dict[str, str] = {}
        if config.token_env:
            token = env.get(config.token_env)
            if not token:
                raise ConfigError(f"otp: environment variable {config.token_env} (token_env) is not set")
            headers["Authorization"] = f"Bearer {token}"
        return HttpOtp(
            _absolute(config.url, base_url),
            timeout=config.timeout,
            poll_interval=config.poll_interval,
            regex=config.regex,
            json_field=config.json_field,
            headers=headers,
        )
    if isinstance(config, CommandOtpConfig):
        return CommandOtp(config.command, timeout=config.timeout, regex=config.regex)
    if isinstance(config, TotpOtpConfig):
        if totp_secret is not None:
            raw, where = totp_secret.reveal(), "the account's totp_secret"
        elif config.totp_secret_env:
            raw = env.get(config.totp_secret_env, "")
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
    return PromptOtp(timeout=config.timeout)
