"""The probe configuration: which targets a prober checks, how often, and what counts as healthy.

A target names a *kind* (http, api_flow, tls: one prober each in `probes.checks`) and its parameters.
Reusable parameter sets are *modules*, as in blackbox_exporter: a target inherits from its module, a
module from `defaults`, and a `/probe?module=` request uses a module directly. Inheritance is resolved
here, once, before validation, so every later stage sees complete targets and every error still names
the file, line and field the user wrote.
"""

from __future__ import annotations

import copy
import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    field_validator,
    model_validator,
)
from yarl import URL

from dvcwatch.credentials import Secret
from dvcwatch.errors import ConfigError, LocatedValueError
from dvcwatch.otp_sources import OtpConfig
from dvcwatch.politeness import PolitenessConfig
from dvcwatch.yamlconfig import PathKey, line_for, parse_duration, parse_yaml, read_yaml, validate

SOFT_FAILURE_MARKERS = ('data-testid="error-banner"', "Hệ thống đang bận")
"""What a portal shows when it answers HTTP 200 but cannot serve (contracts §3): a soft failure."""

_STATUS_CLASS_RE = re.compile(r"^[1-5]xx$")
VANTAGE_RE = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_ENV_RE = re.compile(r"^[A-Z_][A-Z0-9_]*$")


Duration = Annotated[float, BeforeValidator(parse_duration), Field(gt=0)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TargetBase(Strict):
    name: str = Field(min_length=1, max_length=100, description="unique; the `target` label")
    service: str = Field("", description="catalog service id, the `service` label; '' when none")
    module: str | None = Field(None, description="the module it inherits from (resolved on load)")
    interval: Duration = 30.0
    timeout: Duration = 10.0
    jitter: float = Field(0.1, ge=0, le=0.5, description="share of the interval the start may move")
    latency_budget_seconds: Duration | None = None
    insecure_skip_verify: bool = Field(False, description="accept any certificate (self-signed test hosts)")
    ca_file: str | None = None

    @model_validator(mode="after")
    def _timeout_fits(self) -> TargetBase:
        # consecutive starts can be as close as interval × (1 − jitter); a hang must end before then
        room = self.interval * (1 - self.jitter)
        if self.timeout > room:
            raise ValueError(
                f"timeout ({self.timeout:g} s) is longer than interval minus jitter ({room:g} s): "
                "a hanging target would skip its own runs"
            )
        return self


class HttpTarget(TargetBase):
    """One HTTP request; healthy when the status, content and latency are as expected."""

    kind: Literal["http"]
    url: str
    method: Literal["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS"] = "GET"
    headers: dict[str, str] = {}
    body: str | None = None
    expect_status: list[int | str] = Field(default_factory=lambda: ["2xx"], min_length=1)
    must_contain: list[str] = []
    must_not_contain: list[str] = []
    follow_redirects: bool = True

    @field_validator("url")
    @classmethod
    def _http_url(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")):
            raise ValueError("url must start with http:// or https://")
        return v

    @field_validator("expect_status")
    @classmethod
    def _statuses(cls, v: list[int | str]) -> list[int | str]:
        for s in v:
            if isinstance(s, int) and not 100 <= s <= 599:
                raise ValueError(f"HTTP status {s} is not between 100 and 599")
            if isinstance(s, str) and not _STATUS_CLASS_RE.match(s):
                raise ValueError(f"status {s!r}: use a code like 200 or a class like 2xx")
        return v

    def status_ok(self, status: int) -> bool:
        return any(s == status or (isinstance(s, str) and str(status)[0] == s[0]) for s in self.expect_status)


class TlsTarget(TargetBase):
    """A TLS handshake only: certificate expiry and handshake time, without an HTTP request."""

    kind: Literal["tls"]
    url: str = Field(description="https://host[:port] or host:port")
    server_name: str | None = Field(None, description="SNI name when it differs from the host")
    min_days_left: float = Field(14, ge=0, description="fail when the certificate expires sooner")

    def host_port(self) -> tuple[str, int]:
        rest = self.url.split("://", 1)[-1].split("/", 1)[0]
        host, _, port = rest.rpartition(":")
        if not host or not port.isdigit():
            return rest, 443
        return host.strip("[]"), int(port)


class Credentials(Strict):
    """Who logs in. Secrets live in environment variables named here and are never printed.

    `synthetic` picks a deterministic test citizen (dvcwatch.identities) and is only for the sandbox,
    whose pre-registered citizens are derived from the same seed. `profile` + `account` log in as one
    of a target profile's test accounts (its `accounts:`, secrets from the environment or its private
    secrets file), so the prober and the mystery shopper share one place where credentials are kept."""

    cccd: str | None = Field(None, pattern=r"^\d{12}$")
    cccd_env: str | None = Field(None, pattern=_ENV_RE.pattern)
    password_env: str | None = Field(None, pattern=_ENV_RE.pattern)
    synthetic: dict[str, int] | None = Field(None, description="{seed: 42, index: 0}")
    profile: str | None = Field(None, description="a target profile file; relative to this config")
    account: str | None = Field(None, description="one of the profile's accounts; default its `account`")

    @model_validator(mode="after")
    def _one_source(self) -> Credentials:
        direct = bool(self.cccd or self.cccd_env or self.password_env)
        given = [
            n for n, on in (("synthetic", self.synthetic is not None), ("profile", bool(self.profile))) if on
        ]
        if direct:
            given.append("cccd/password_env")
        if len(given) > 1:
            raise ValueError(f"one source of credentials, not {' and '.join(given)}")
        if self.account and not self.profile:
            raise ValueError("account names one of a profile's accounts: give profile too")
        if self.synthetic is not None:
            if set(self.synthetic) - {"seed", "index"}:
                raise ValueError("synthetic takes only seed and index")
            return self
        if self.profile:
            return self
        if not (self.cccd or self.cccd_env) or not self.password_env:
            raise ValueError(
                "give cccd (or cccd_env) and password_env, profile (+ account), or synthetic: {seed, index}"
            )
        return self

    def env_names(self) -> list[str]:
        return [n for n in (self.cccd_env, self.password_env) if n]


class ApiFlowTarget(TargetBase):
    """A citizen's API path as one probe: log in, OTP, fetch a form schema, check a dossier."""

    kind: Literal["api_flow"]
    url: str = Field(description="the API base, e.g. https://portal/api/v1")
    credentials: Credentials
    otp_url: str = Field(
        "/_sandbox/otp?cccd={cccd}", description="where the OTP is read; relative to the portal origin"
    )
    otp: OtpConfig | None = Field(
        None,
        description="an OTP source as in a profile's `otp:` block (http, command, totp…); wins over otp_url",
    )
    form_service: str | None = Field(None, description="whose form schema to fetch; default `service`")
    dossier: str | None = Field(None, description="a dossier code whose status is checked")
    dossier_env: str | None = Field(None, pattern=_ENV_RE.pattern)
    headers: dict[str, str] = {}

    @field_validator("url")
    @classmethod
    def _http_url(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")):
            raise ValueError("url must start with http:// or https://")
        return v.rstrip("/")

    @model_validator(mode="after")
    def _has_form(self) -> ApiFlowTarget:
        if not (self.form_service or self.service):
            raise ValueError("an api_flow needs `service` (or `form_service`) to fetch a form schema")
        if self.otp is not None and self.otp.source == "prompt":
            raise ValueError("a prober runs unattended: an OTP source of `prompt` cannot work here")
        return self

    def env_names(self) -> list[str]:
        otp_env = [n for n in (getattr(self.otp, k, None) for k in ("token_env", "totp_secret_env")) if n]
        return [*self.credentials.env_names(), *([self.dossier_env] if self.dossier_env else []), *otp_env]


Target = Annotated[HttpTarget | TlsTarget | ApiFlowTarget, Field(discriminator="kind")]
KINDS = ("http", "tls", "api_flow")


class ProbeConfig(Strict):
    version: Literal[1] = 1
    vantage: str = Field("default", description="where this prober runs: the `vantage` label")
    concurrency: int = Field(100, ge=1, le=10_000, description="probes in flight at once")
    late_after: Duration = Field(1.0, description="a start later than this past its slot counts as late")
    defaults: dict[str, Any] = {}
    modules: dict[str, dict[str, Any]] = {}
    targets: list[Target] = []
    probe_only: bool = Field(
        False,
        description="this prober only answers /probe (blackbox_exporter style): no targets is intended",
    )
    politeness: PolitenessConfig = Field(
        PolitenessConfig(),
        description="per-host limits and the operator's contact toward hosts that are not loopback "
        "(read at start; a reload does not change it)",
    )

    @field_validator("vantage")
    @classmethod
    def _vantage(cls, v: str) -> str:
        if not VANTAGE_RE.match(v):
            raise ValueError("vantage must be a lowercase slug like phuong-vinh-hung")
        return v

    @model_validator(mode="after")
    def _unique(self) -> ProbeConfig:
        names = [t.name for t in self.targets]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"duplicate target names: {dup}")
        return self

    @model_validator(mode="after")
    def _has_targets(self) -> ProbeConfig:
        # An editor that truncates the file while saving leaves a valid-looking config with no
        # targets; taking it would delete every series and resolve every alert. Say so instead.
        if not self.targets and not self.probe_only:
            raise LocatedValueError(
                "no targets: a truncated file? (a prober that only answers /probe says `probe_only: true`)",
                ("targets",),
            )
        return self

    def target(self, name: str) -> HttpTarget | TlsTarget | ApiFlowTarget:
        return next(t for t in self.targets if t.name == name)

    def env_names(self) -> list[str]:
        return [n for t in self.targets if isinstance(t, ApiFlowTarget) for n in t.env_names()]


BUILTIN_MODULES: dict[str, dict[str, Any]] = {
    # blackbox_exporter's stock module, so a Prometheus job written for it works unchanged
    "http_2xx": {"kind": "http"},
    # a portal page: an HTTP 200 carrying the error banner is still a failure
    "portal_page": {"kind": "http", "must_not_contain": list(SOFT_FAILURE_MARKERS)},
    "tls": {"kind": "tls"},
}


def _merge(data: dict[str, Any], lines: dict[PathKey, int], source: str) -> dict[str, Any]:
    """defaults < module < target, so that validation sees complete targets."""
    out = copy.deepcopy(data)
    defaults = out.get("defaults") or {}
    modules = {**BUILTIN_MODULES, **(out.get("modules") or {})}
    if not isinstance(defaults, dict):
        raise ConfigError(
            "must be a mapping", path=source, line=line_for(lines, ("defaults",)), field="defaults"
        )
    for name, mod in modules.items():
        if not isinstance(mod, dict):
            raise ConfigError(
                "a module is a mapping of target fields",
                path=source,
                line=line_for(lines, ("modules", name)),
                field=f"modules.{name}",
            )
        if ALLOWED_KEY in mod:
            try:
                parse_allowed(mod[ALLOWED_KEY])
            except ValueError as exc:
                raise ConfigError(
                    str(exc),
                    path=source,
                    line=line_for(lines, ("modules", name, ALLOWED_KEY)),
                    field=f"modules.{name}.{ALLOWED_KEY}",
                ) from None
    targets = out.get("targets")
    if targets is None:
        return out
    if not isinstance(targets, list):
        raise ConfigError("must be a list", path=source, line=line_for(lines, ("targets",)), field="targets")
    merged = []
    for i, t in enumerate(targets):
        if not isinstance(t, dict):
            merged.append(t)
            continue
        mod_name = t.get("module")
        mod: dict[str, Any] = {}
        if mod_name is not None:
            if mod_name not in modules:
                raise ConfigError(
                    f"unknown module {mod_name!r}; defined: {', '.join(sorted(modules))}",
                    path=source,
                    line=line_for(lines, ("targets", i, "module")),
                    field=f"targets[{i}].module",
                )
            mod = {k: v for k, v in modules[mod_name].items() if k != ALLOWED_KEY}
        merged.append({**defaults, **mod, **t})
    out["targets"] = merged
    return out


ALLOWED_KEY = "allowed_targets"
HARMLESS_HEADERS = frozenset(
    {"accept", "accept-language", "accept-encoding", "cache-control", "pragma", "content-type", "user-agent"}
)
"""Headers that say nothing about who asks; any other header (Authorization, Cookie, X-Api-Key, …)
is treated as a secret, so an unknown one is protected rather than leaked."""


class TargetRefused(Exception):
    """A `/probe` request would send a module's secrets to a host the config does not send them to."""


Origin = tuple[str | None, str, int | None]
"""(scheme, host, port) a secret may go to; None matches any scheme or port."""


def _host(host: str) -> str:
    return host.lower().rstrip(".")


def parse_allowed(entries: Any) -> list[Origin]:
    """`allowed_targets`: URLs (scheme, host and port must match), `host:port` or a bare `host`."""
    if not isinstance(entries, list) or not all(isinstance(e, str) and e.strip() for e in entries):
        raise ValueError(
            "a list of hosts: `https://portal.example`, `portal.example:8443` or `portal.example`"
        )
    out: list[Origin] = []
    for entry in entries:
        entry = entry.strip()
        try:
            if "://" in entry:
                url = URL(entry)
                if url.scheme not in ("http", "https") or not url.host:
                    raise ValueError
                out.append((url.scheme, _host(url.host), url.port))
                continue
            url = URL(f"//{entry}")
            if not url.host or url.path not in ("", "/") or url.user or url.query_string:
                raise ValueError
            out.append((None, _host(url.host), url.explicit_port))
        except ValueError:
            raise ValueError(
                f"{entry!r} is not a host: use `https://portal.example`, `portal.example:8443` or `portal.example`"
            ) from None
    return out


def _origin(url: str) -> Origin | None:
    try:
        u = URL(url)
    except ValueError:
        return None
    return (u.scheme, _host(u.host), u.port) if u.host else None


def secrets_of(target: HttpTarget | TlsTarget | ApiFlowTarget) -> tuple[Any, ...]:
    """What of a target would reach the probed host and must not reach any other: an account, its OTP,
    a dossier code, a request body, headers beyond the harmless ones. Empty when there is nothing."""
    headers = {k: v for k, v in getattr(target, "headers", {}).items() if k.lower() not in HARMLESS_HEADERS}
    if isinstance(target, ApiFlowTarget):
        return (
            "api_flow",
            target.credentials,
            target.otp,
            target.otp_url,
            target.dossier,
            target.dossier_env,
            headers,
        )
    if isinstance(target, HttpTarget) and (headers or target.body):
        return ("http", headers, target.body)
    return ()


def _allowed_origins(
    config: ProbeConfig, module: str, fields: dict[str, Any], secrets: tuple[Any, ...]
) -> list[Origin]:
    """A module's `allowed_targets`, or else where the config already sends the same secrets: the
    hosts of its targets that carry them, and the module's own `url`."""
    if ALLOWED_KEY in fields:
        return parse_allowed(fields[ALLOWED_KEY])
    origins = [t_origin for t in config.targets if secrets_of(t) == secrets and (t_origin := _origin(t.url))]
    own = fields.get("url")
    if isinstance(own, str) and (own_origin := _origin(own)):
        origins.append(own_origin)
    return origins


def _matches(origin: Origin, allowed: Origin) -> bool:
    scheme, host, port = allowed
    return origin[1] == host and scheme in (None, origin[0]) and port in (None, origin[2])


def check_allowed(
    config: ProbeConfig, module: str, fields: dict[str, Any], target: HttpTarget | TlsTarget | ApiFlowTarget
) -> None:
    """blackbox_exporter's maintainers wanted an allow-list "for when auth is added and you don't want to
    send credentials out to arbitrary hosts" (its issue #5): a module carrying secrets is only ever used
    against the hosts it was configured for, and anything else is refused before a byte is sent."""
    secrets = secrets_of(target)
    if not secrets:
        return
    origin = _origin(target.url)
    if origin is not None and any(
        _matches(origin, a) for a in _allowed_origins(config, module, fields, secrets)
    ):
        return
    what = "an account" if secrets[0] == "api_flow" else "secret headers or a body"
    where = f"{origin[1]}:{origin[2]}" if origin else repr(target.url)
    raise TargetRefused(
        f"module {module!r} carries {what} and is only used against the hosts it is configured for "
        f"(its targets' hosts, or the module's {ALLOWED_KEY}); {where} is not one of them, nothing was sent"
    )


_TARGET = TypeAdapter(Target)
# (id(config), module, url) -> (config, target); holding the config keeps its id from being reused
_MODULE_TARGETS: dict[tuple[int, str, str], tuple[ProbeConfig, HttpTarget | TlsTarget | ApiFlowTarget]] = {}
_MODULE_TARGETS_MAX = 4096


def module_target(config: ProbeConfig, module: str, url: str) -> HttpTarget | TlsTarget | ApiFlowTarget:
    """The ad-hoc target of a `/probe?target=…&module=…` request, as blackbox_exporter builds one.

    Prometheus asks for the same few (module, target) pairs every scrape interval, so the validated
    target is kept per config: validation would otherwise cost more CPU than the probe itself. Only
    allowed targets are kept; a module's secrets never go to a host it was not configured for
    (`TargetRefused`)."""
    key = (id(config), module, url)
    hit = _MODULE_TARGETS.get(key)
    if hit is not None and hit[0] is config:
        return hit[1]
    modules = {**BUILTIN_MODULES, **config.modules}
    if module not in modules:
        raise KeyError(module)
    fields = {**config.defaults, **modules[module]}
    request = {k: v for k, v in fields.items() if k != ALLOWED_KEY} | {"name": "probe", "url": url}
    if "://" not in url and request.get("kind") == "http":
        request["url"] = f"http://{url}"  # blackbox_exporter accepts a bare host:port for http too
    target = _TARGET.validate_python(request)
    check_allowed(config, module, fields, target)
    if len(_MODULE_TARGETS) >= _MODULE_TARGETS_MAX:
        _MODULE_TARGETS.clear()  # a reload or a scan of many targets: start over rather than grow
    _MODULE_TARGETS[key] = (config, target)
    return target


def check_secrets(config: ProbeConfig, source: str) -> None:
    """An api_flow without its secrets cannot run; say so on load, not at 3 a.m. as a portal failure."""
    missing = [n for n in config.env_names() if not os.environ.get(n)]
    if missing:
        raise ConfigError(f"environment variable(s) {', '.join(sorted(set(missing)))} not set", path=source)


def check_services(config: ProbeConfig, source: str, lines: dict[PathKey, int] | None = None) -> None:
    """The `service` label must be a catalog id, so probes line up with journeys and load tests."""
    from dvcwatch.catalog import load_catalog

    catalog = load_catalog()
    for i, t in enumerate(config.targets):
        for key in ("service", "form_service"):
            sid = getattr(t, key, None)
            if not sid:
                continue
            try:
                catalog.service(sid)
            except ConfigError as exc:
                raise ConfigError(
                    exc.detail,
                    path=source,
                    line=line_for(lines or {}, ("targets", i, key)),
                    field=f"targets[{i}]({t.name}).{key}",
                ) from None


def _profiles_beside(merged: dict[str, Any], base_dir: Path | None) -> None:
    """A `credentials.profile` is written relative to the probe config, wherever the prober runs:
    in a target, a module (`/probe` targets are built from modules) or the defaults."""
    if base_dir is None:
        return
    holders = [t for t in merged.get("targets") or [] if isinstance(t, dict)]
    holders += [m for m in (merged.get("modules") or {}).values() if isinstance(m, dict)]
    if isinstance(merged.get("defaults"), dict):
        holders.append(merged["defaults"])
    for h in holders:
        creds = h.get("credentials")
        if isinstance(creds, dict) and isinstance(creds.get("profile"), str):
            p = Path(creds["profile"]).expanduser()
            p = p if p.is_absolute() else Path(os.path.normpath(base_dir / p))
            h["credentials"] = {**creds, "profile": str(p)}


def check_accounts(config: ProbeConfig, source: str, lines: dict[PathKey, int]) -> None:
    """Accounts and OTP sources are resolved on load, so a missing secret, a private file others may
    read or a TOTP source without a seed stops the prober before it starts, not every round after."""
    from urllib.parse import urlsplit

    from probes.checks.api_flow import Login, build_otp_source, profile_login

    for i, t in enumerate(config.targets):
        if not isinstance(t, ApiFlowTarget) or not (t.credentials.profile or t.otp is not None):
            continue
        key = "credentials"
        try:
            login = profile_login(t.credentials) if t.credentials.profile else None
            if t.otp is not None:
                key = "otp"
                parts = urlsplit(t.url)
                build_otp_source(t, login or Login("", Secret("")), f"{parts.scheme}://{parts.netloc}")
        except ConfigError as exc:
            raise ConfigError(
                str(exc),
                path=source,
                line=line_for(lines, ("targets", i, key)),
                field=f"targets[{i}]({t.name}).{key}",
            ) from None


def _finish(
    data: Any, lines: dict[PathKey, int], source: str, secrets: bool, base_dir: Path | None = None
) -> ProbeConfig:
    if data is None or data == {}:
        raise ConfigError(
            "the file is empty (truncated while saving?); a probe config is a mapping with `targets:`",
            path=source,
        )
    if not isinstance(data, dict):
        raise ConfigError("a probe config is a mapping with `targets:`", path=source, line=1)
    merged = _merge(data, lines, source)
    _profiles_beside(merged, base_dir)
    config = validate(ProbeConfig, merged, lines, source)
    check_services(config, source, lines)
    if secrets:
        check_secrets(config, source)
        check_accounts(config, source, lines)
    return config


def load_config(path: str | Path, *, secrets: bool = True) -> ProbeConfig:
    """Read, merge and validate a probe config; any problem is one ConfigError naming file and line."""
    data, lines = read_yaml(path)
    return _finish(data, lines, str(path), secrets, Path(path).resolve().parent)


def load_config_text(text: str, source: str = "<text>", *, secrets: bool = True) -> ProbeConfig:
    data, lines = parse_yaml(text, source)
    return _finish(data, lines, source, secrets)
