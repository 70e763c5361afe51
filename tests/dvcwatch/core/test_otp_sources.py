"""OTP sources: each returns a fresh code as a Secret within its timeout, or fails the otp step clearly."""

from __future__ import annotations

import asyncio
import io
import os
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
import yaml
from aiohttp import web
from pydantic import TypeAdapter

from dvcwatch.core.errors import ConfigError
from dvcwatch.core.otp_sources import (
    CommandOtp,
    OtpConfig,
    OtpRequest,
    OtpUnavailable,
    PromptOtp,
    TotpOtp,
    decode_base32,
    extract_code,
    make_source,
)
from dvcwatch.core.otp_sources.totp import totp
from dvcwatch.core.yamlconfig import load_model_text

WHO = OtpRequest(cccd="001099012345", phone="0912345678", account="tester-1")

# RFC 6238 appendix B: seeds are ASCII "1234567890" repeated to the hash's key length; 8 digits.
RFC6238 = [
    (59, "94287082", "46119246", "90693936"),
    (1111111109, "07081804", "68084774", "25091201"),
    (1111111111, "14050471", "67062674", "99943326"),
    (1234567890, "89005924", "91819424", "93441116"),
    (2000000000, "69279037", "90698825", "38618901"),
    (20000000000, "65353130", "77737706", "47863826"),
]
SEEDS = {
    "sha1": b"12345678901234567890",
    "sha256": b"12345678901234567890123456789012",
    "sha512": b"1234567890123456789012345678901234567890123456789012345678901234",
}
# RFC 4226 appendix D
RFC4226 = ["755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"]


def config(text: str) -> object:
    """An `otp:` block as a profile would hold it."""
    return TypeAdapter(OtpConfig).validate_python(yaml.safe_load(text))


@pytest.mark.parametrize(("t", "sha1", "sha256", "sha512"), RFC6238)
def test_totp_matches_rfc6238_vectors(t: int, sha1: str, sha256: str, sha512: str) -> None:
    assert totp(SEEDS["sha1"], t, 8, 30, "sha1") == sha1
    assert totp(SEEDS["sha256"], t, 8, 30, "sha256") == sha256
    assert totp(SEEDS["sha512"], t, 8, 30, "sha512") == sha512


def test_hotp_matches_rfc4226_vectors() -> None:
    # a 1-second period makes the step counter the Unix time itself
    assert [totp(SEEDS["sha1"], c, period=1) for c in range(10)] == RFC4226


def test_a_short_seed_and_a_long_period_still_give_codes() -> None:
    # an 80-bit seed (what many authenticator apps were given) and a 300 s period, both refused by pyotp
    # by default, stay usable: the seed and period are the identity provider's choice
    assert totp(SEEDS["sha1"][:10], 0, period=300) == totp(SEEDS["sha1"][:10], 299, period=300)
    assert totp(SEEDS["sha1"][:10], 0, period=300).isdigit()


def test_base32_as_apps_show_it() -> None:
    assert decode_base32("gezd gnbv gy3t qojq gezd gnbv gy3t qojq") == SEEDS["sha1"]
    with pytest.raises(ValueError):
        decode_base32("not base32 !!")


async def test_totp_source_from_env_waits_for_a_fresh_code() -> None:
    import base64

    env = {"DVC_TOTP": base64.b32encode(SEEDS["sha1"]).decode()}
    src = make_source(config("{source: totp, totp_secret_env: DVC_TOTP}"), environ=env)
    code = await src.fetch(WHO)
    assert len(code) == 6 and code.reveal().isdigit() and str(code) == "***"
    now = [59.5]  # 0.5 s before the window ends: below min_validity, so the next window's code
    slept: list[float] = []

    async def no_wait(s: float) -> None:
        slept.append(s)
        now[0] += s

    fake = TotpOtp(SEEDS["sha1"], clock=lambda: now[0], sleep=no_wait, min_validity=3, timeout=60)
    first = await fake.fetch(WHO)
    second = await fake.fetch(WHO)  # same window already used: waits for the next one
    assert first.reveal() == totp(SEEDS["sha1"], 60)
    assert second.reveal() == totp(SEEDS["sha1"], 90)
    assert len(slept) == 2


def test_totp_missing_or_bad_env_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="DVC_TOTP"):
        make_source(config("{source: totp, totp_secret_env: DVC_TOTP}"), environ={})
    with pytest.raises(ConfigError, match="base32"):
        make_source(config("{source: totp, totp_secret_env: DVC_TOTP}"), environ={"DVC_TOTP": "1!"})


async def test_an_accounts_own_totp_seed_wins_over_the_env_and_never_shows() -> None:
    import base64

    from dvcwatch.core.credentials import Secret

    seed = Secret(base64.b32encode(SEEDS["sha256"]).decode())
    other = {"DVC_TOTP": base64.b32encode(SEEDS["sha1"]).decode()}
    src = make_source(config("{source: totp, totp_secret_env: DVC_TOTP}"), environ=other, totp_secret=seed)
    code = (await src.fetch(WHO)).reveal()
    now = time.time()
    assert code in {totp(SEEDS["sha256"], t) for t in (now, now + 30)}
    with pytest.raises(ConfigError, match="needs totp_secret_env, or an account") as exc:
        make_source(config("{source: totp}"), environ={})
    bad = Secret("1!")
    with pytest.raises(ConfigError, match="account's totp_secret") as exc:
        make_source(config("{source: totp}"), environ={}, totp_secret=bad)
    assert "1!" not in str(exc.value)


def test_extract_code() -> None:
    assert extract_code("Ma OTP cua ban la 123456. Het han sau 5 phut") == "123456"
    assert extract_code("tel 0912345678 only") is None
    assert extract_code("OTP: 654321 (ref 111111)", r"OTP:\s*(\d{6})") == "654321"


@pytest.fixture
async def forwarder(serve_app) -> AsyncIterator[tuple[str, dict]]:
    """A fake SMS forwarder: answers with whatever `state` holds."""
    state: dict = {"status": 200, "body": "", "type": "text/plain", "hits": 0, "auth": None}

    async def latest(request: web.Request) -> web.Response:
        state["hits"] += 1
        state["auth"] = request.headers.get("Authorization")
        state["cccd"] = request.query.get("cccd")
        if callable(state["body"]):
            state["body"](state)
        return web.Response(
            status=state["status"],
            text=state["body"] if isinstance(state["body"], str) else "",
            content_type=state["type"],
        )

    app = web.Application()
    app.router.add_get("/sms", latest)
    yield await serve_app(app), state


async def test_http_source_reads_json_field_with_token(forwarder: tuple[str, dict]) -> None:
    url, state = forwarder
    state.update(body='{"messages": [{"text": "VNeID: ma xac thuc 246810"}]}', type="application/json")
    cfg = config(
        f"{{source: http, url: '{url}/sms?cccd={{cccd}}', json_field: messages.0.text, token_env: SMS_TOKEN}}"
    )
    src = make_source(cfg, environ={"SMS_TOKEN": "tok"})
    code = await src.fetch(WHO)
    assert code.reveal() == "246810"
    assert state["auth"] == "Bearer tok" and state["cccd"] == WHO.cccd


async def test_http_source_polls_until_a_new_code(forwarder: tuple[str, dict]) -> None:
    url, state = forwarder
    state.update(status=404, body="chưa có")
    src = make_source(config(f"{{source: http, url: '{url}/sms', poll_interval: 0.05, timeout: 5}}"))

    async def later() -> None:
        await asyncio.sleep(0.2)
        state.update(status=200, body="Ma OTP: 135790")

    task = asyncio.create_task(later())
    assert (await src.fetch(WHO)).reveal() == "135790"
    await task
    # the forwarder still shows the old SMS: the source must not hand the used code out again
    t0 = time.monotonic()
    asyncio.get_running_loop().call_later(0.2, lambda: state.update(body="Ma OTP: 975310"))
    assert (await src.fetch(WHO)).reveal() == "975310"
    assert time.monotonic() - t0 >= 0.15 and state["hits"] > 3


async def test_http_source_times_out_without_showing_the_body(forwarder: tuple[str, dict]) -> None:
    url, state = forwarder
    state.update(status=200, body="no digits here, secret-ish text")
    src = make_source(
        config(f"{{source: http, url: '{url}/sms?phone=0912', poll_interval: 0.05, timeout: 0.3}}")
    )
    with pytest.raises(OtpUnavailable) as err:
        await src.fetch(WHO)
    assert "0.3 s" in str(err.value) and "secret-ish" not in str(err.value) and "0912" not in str(err.value)


async def test_sandbox_source_relative_url_and_404_until_sent(forwarder: tuple[str, dict]) -> None:
    url, state = forwarder
    calls = {"n": 0}

    def appear(s: dict) -> None:
        calls["n"] += 1
        if calls["n"] >= 3:
            s.update(status=200, body='{"otp": "112233"}', type="application/json")

    state.update(status=404, body=appear)
    src = make_source(config("{source: sandbox, url: '/sms?cccd={cccd}', poll_interval: 0.02}"), base_url=url)
    assert (await src.fetch(WHO)).reveal() == "112233"
    with pytest.raises(ConfigError, match="relative"):
        make_source(config("{source: sandbox}"))


def _script(tmp_path: Path, body: str) -> list[str]:
    p = tmp_path / "otp.py"
    p.write_text(body, encoding="utf-8")
    return [sys.executable, str(p), "{cccd}"]


async def test_command_source_reads_stdout_and_gets_arguments(tmp_path: Path) -> None:
    argv = _script(
        tmp_path,
        "import os,sys\nprint('SMS for', sys.argv[1], os.environ['DVCWATCH_PHONE'], 'code 864209')\n",
    )
    code = await CommandOtp(argv, timeout=10).fetch(WHO)
    assert code.reveal() == "864209"


async def test_command_source_is_killed_at_timeout(tmp_path: Path) -> None:
    argv = _script(tmp_path, "import time\ntime.sleep(30)\nprint('123456')\n")
    with pytest.raises(OtpUnavailable, match="killed"):  # had it run its 30 s, it would have printed a code
        await CommandOtp(argv, timeout=0.5).fetch(WHO)


async def test_a_command_whose_caller_gives_up_is_killed_too(tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    argv = _script(
        tmp_path, f"import os,time\nopen({str(pidfile)!r},'w').write(str(os.getpid()))\ntime.sleep(60)\n"
    )
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(CommandOtp(argv, timeout=60).fetch(WHO), 5.0)
    pid = int(pidfile.read_text())
    for _ in range(50):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        await asyncio.sleep(0.1)
    else:
        pytest.fail("the OTP command outlived the step that gave up on it")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("import sys\nprint('999999', file=sys.stderr)\nsys.exit(3)\n", "exited with code 3"),
        ("print('no code')\n", "no 6-digit code"),
    ],
)
async def test_command_source_failures_never_show_output(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(OtpUnavailable, match=message) as err:
        await CommandOtp(_script(tmp_path, body), timeout=10).fetch(WHO)
    assert "999999" not in str(err.value)


async def test_command_source_missing_program() -> None:
    with pytest.raises(OtpUnavailable, match="cannot run"):
        await CommandOtp(["/nonexistent/read-otp"], timeout=1).fetch(WHO)


async def test_prompt_refuses_without_a_terminal() -> None:
    src = PromptOtp(stdin=io.StringIO("123456\n"), stdout=io.StringIO())
    with pytest.raises(ConfigError, match="not a TTY"):
        await src.fetch(WHO)


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
async def test_prompt_reads_a_code_from_a_terminal_without_echo() -> None:
    master, slave = os.openpty()
    stdin = os.fdopen(slave, "r", encoding="utf-8", closefd=True)
    out = io.StringIO()
    try:
        src = PromptOtp(stdin=stdin, stdout=out, timeout=5)
        loop = asyncio.get_running_loop()
        loop.call_later(0.2, os.write, master, b"12a\n")  # not 6 digits: asked again
        loop.call_later(0.4, os.write, master, b"707070\n")
        code = await src.fetch(WHO)
        assert code.reveal() == "707070"
        assert "tester-1" in out.getvalue() and "707070" not in out.getvalue()
        echoed = os.read(master, 1000) if _readable(master) else b""
        assert b"707070" not in echoed
    finally:
        stdin.close()
        os.close(master)


def _readable(fd: int) -> bool:
    import select

    return bool(select.select([fd], [], [], 0.1)[0])


async def test_prompt_times_out(monkeypatch: pytest.MonkeyPatch) -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    src = PromptOtp(stdin=Tty(""), stdout=io.StringIO(), timeout=0.2)
    monkeypatch.setattr(src, "_ask", _blocking(0.5))
    with pytest.raises(OtpUnavailable, match=r"within 0\.2 s"):
        await src.fetch(WHO)


def _blocking(seconds: float) -> Callable[[OtpRequest], str]:
    def ask(_request: OtpRequest) -> str:
        time.sleep(seconds)
        return "123456"

    return ask


def test_profile_otp_block_is_validated_with_file_and_line() -> None:
    from pydantic import BaseModel

    class Holder(BaseModel):
        otp: OtpConfig

    with pytest.raises(ConfigError) as err:
        load_model_text(Holder, "otp:\n  source: http\n  url: http://x/sms\n  regex: '(['\n", "p.yaml")
    assert "p.yaml:" in str(err.value) and "regular expression" in str(err.value)
    with pytest.raises(ConfigError, match=r"p\.yaml:1: otp: .*'carrier-pigeon'.*'totp', 'prompt'"):
        load_model_text(Holder, "otp:\n  source: carrier-pigeon\n", "p.yaml")
