"""TLS and basic auth for the prober's HTTP face, configured the way Prometheus exporters are.

A prober at a ward office or a kiosk is often scraped across a network, and its `/probe` runs requests
on anyone's behalf. Prometheus exporters protect themselves with a *web config file*
(`--web.config.file`, prometheus/exporter-toolkit): a server certificate and bcrypt-hashed users. The
same file works here unchanged, so an operator who runs node_exporter beside the prober keeps one
format, and Prometheus scrapes both with the same `tls_config` and `basic_auth`.

Supported: `tls_server_config` (`cert_file`, `key_file`, `client_auth_type`, `client_ca_file`,
`min_version`, `max_version`), `http_server_config.headers`, `basic_auth_users`. Relative paths are read
beside the web config file, as exporter-toolkit reads them. The file is read once at start.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import ipaddress
import re
import ssl
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from dvcwatch.core.errors import ConfigError
from dvcwatch.core.yamlconfig import load_model

_BCRYPT_RE = re.compile(r"^\$2[aby]?\$\d\d\$[./A-Za-z0-9]{53}$")
_TLS_VERSIONS = {
    "TLS10": ssl.TLSVersion.TLSv1,
    "TLS11": ssl.TLSVersion.TLSv1_1,
    "TLS12": ssl.TLSVersion.TLSv1_2,
    "TLS13": ssl.TLSVersion.TLSv1_3,
}
TlsVersion = Literal["TLS10", "TLS11", "TLS12", "TLS13"]
REALM = 'Basic realm="dvcwatch prober", charset="UTF-8"'
# exporter-toolkit's list: the response headers an operator may set
_SETTABLE_HEADERS = {
    "content-security-policy",
    "x-frame-options",
    "x-content-type-options",
    "x-xss-protection",
    "strict-transport-security",
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TlsServerConfig(_Strict):
    cert_file: str = Field(min_length=1)
    key_file: str = Field(min_length=1)
    client_auth_type: Literal["NoClientCert", "VerifyClientCertIfGiven", "RequireAndVerifyClientCert"] = (
        "NoClientCert"
    )
    client_ca_file: str | None = None
    min_version: TlsVersion = "TLS12"
    max_version: TlsVersion | None = None

    @model_validator(mode="after")
    def _ca_for_clients(self) -> TlsServerConfig:
        if self.client_auth_type != "NoClientCert" and not self.client_ca_file:
            raise ValueError(f"client_auth_type {self.client_auth_type} needs client_ca_file")
        return self


class HttpServerConfig(_Strict):
    http2: bool = Field(True, description="accepted for exporter-toolkit files; the prober speaks HTTP/1.1")
    headers: dict[str, str] = {}

    @field_validator("headers")
    @classmethod
    def _settable(cls, v: dict[str, str]) -> dict[str, str]:
        bad = sorted(k for k in v if k.lower() not in _SETTABLE_HEADERS)
        if bad:
            raise ValueError(
                f"headers {bad} cannot be set; these can: {', '.join(sorted(_SETTABLE_HEADERS))}"
            )
        return v


class WebConfig(_Strict):
    tls_server_config: TlsServerConfig | None = None
    http_server_config: HttpServerConfig = HttpServerConfig()
    basic_auth_users: dict[str, str] = Field(default_factory=dict, description="user: bcrypt hash")

    @field_validator("basic_auth_users")
    @classmethod
    def _bcrypt_hashes(cls, v: dict[str, str]) -> dict[str, str]:
        for user, hashed in v.items():
            if not user or ":" in user:
                raise ValueError(f"user {user!r}: a user name is not empty and has no ':'")
            if not isinstance(hashed, str) or not _BCRYPT_RE.match(hashed):
                # the value is a hash, not a secret, but it is not echoed: it may be a pasted password
                raise ValueError(
                    f"user {user!r}: the value is a bcrypt hash ($2y$10$…, e.g. from `htpasswd -nBC 10 ''`), "
                    "never the password itself"
                )
        return v

    @model_validator(mode="after")
    def _protects_something(self) -> WebConfig:
        if self.tls_server_config is None and not self.basic_auth_users:
            raise ValueError("sets neither tls_server_config nor basic_auth_users: it would protect nothing")
        return self


def load_web_config(path: str | Path) -> tuple[WebConfig, ssl.SSLContext | None]:
    """The web config and, when it has TLS, a server SSL context: every file is read now, so a wrong
    path or a key that does not match its certificate stops the prober before it listens."""
    path = Path(path)
    config = load_model(WebConfig, path)
    tls = config.tls_server_config
    if tls is None:
        return config, None
    base = path.resolve().parent

    def beside(name: str) -> str:
        p = Path(name).expanduser()
        return str(p if p.is_absolute() else base / p)

    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.minimum_version = _TLS_VERSIONS[tls.min_version]
    if tls.max_version:
        ctx.maximum_version = _TLS_VERSIONS[tls.max_version]
    field = "tls_server_config.cert_file"
    try:
        ctx.load_cert_chain(beside(tls.cert_file), beside(tls.key_file))
        if tls.client_ca_file:
            field = "tls_server_config.client_ca_file"
            ctx.load_verify_locations(cafile=beside(tls.client_ca_file))
    except (OSError, ssl.SSLError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ConfigError(
            f"cannot load the certificate, key or CA: {reason}", path=str(path), field=field
        ) from None
    ctx.verify_mode = {
        "NoClientCert": ssl.CERT_NONE,
        "VerifyClientCertIfGiven": ssl.CERT_OPTIONAL,
        "RequireAndVerifyClientCert": ssl.CERT_REQUIRED,
    }[tls.client_auth_type]
    return config, ctx


def is_loopback(host: str) -> bool:
    """Only addresses no other machine can reach; a name other than localhost is not trusted to be one."""
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Middleware = Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]


class BasicAuth:
    """Checks `Authorization: Basic` against bcrypt hashes, off the event loop (a bcrypt check takes
    tens of milliseconds, long enough to make probes late), remembering passwords that matched so that
    a Prometheus scraping every 15 s costs one bcrypt check, not one per scrape."""

    CACHE_MAX = 1024

    def __init__(self, users: dict[str, str]) -> None:
        import bcrypt

        self._bcrypt = bcrypt
        self.users = {u: h.encode() for u, h in users.items()}
        # an unknown user costs a bcrypt check too, so timing does not tell which users exist
        self._decoy = bcrypt.hashpw(b"decoy", bcrypt.gensalt(rounds=10))
        self._good: set[bytes] = set()

    def _credentials(self, header: str) -> tuple[str, bytes] | None:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            user, sep, password = (
                base64.b64decode(value.strip(), validate=True).decode("utf-8").partition(":")
            )
        except (binascii.Error, UnicodeDecodeError):
            return None
        return (user, password.encode()) if sep else None

    async def allowed(self, header: str) -> bool:
        given = self._credentials(header)
        if given is None:
            return False
        user, password = given
        hashed = self.users.get(user)
        key = hashlib.sha256(user.encode() + b"\0" + password + b"\0" + (hashed or b"")).digest()
        if hashed is not None and key in self._good:
            return True
        if len(password) > 72:  # bcrypt's limit; the library raises rather than answer
            return False
        ok = await asyncio.to_thread(self._bcrypt.checkpw, password, hashed or self._decoy)
        if ok and hashed is not None:
            if len(self._good) >= self.CACHE_MAX:
                self._good.clear()
            self._good.add(key)
            return True
        return False

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if await self.allowed(request.headers.get("Authorization", "")):
            return await handler(request)
        return web.Response(status=401, text="Unauthorized\n", headers={"WWW-Authenticate": REALM})


def middlewares(config: WebConfig | None) -> list[Middleware]:
    """What the web config asks of every response: basic auth, then the configured headers."""
    if config is None:
        return []
    out: list[Middleware] = []
    headers = config.http_server_config.headers
    if headers:

        @web.middleware
        async def add_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
            response = await handler(request)
            response.headers.update(headers)
            return response

        out.append(add_headers)
    if config.basic_auth_users:
        out.append(BasicAuth(config.basic_auth_users).middleware)
    return out
