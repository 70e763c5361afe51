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
from typing import Any, Literal

from pydantic import Field, TypeAdapter, ValidationError, field_validator, model_validator
from yarl import URL

from dvcwatch.core.errors import ConfigError, LocatedValueError
from dvcwatch.core.politeness import PolitenessConfig
from dvcwatch.core.yamlconfig import (
    PathKey,
    line_for,
    parse_yaml,
    read_yaml,
    validate,
    validation_to_config_error,
)
from probes.checks import SOFT_FAILURE_MARKERS, UNSCHEDULED, Duration, Strict, TargetBase
from probes.kinds import AnyTarget

VANTAGE_RE = re.compile(r"^[a-z0-9][a-z0-9._-]*$")


class ProbeConfig(Strict):
    version: Literal[1] = 1
    vantage: str = Field("default", description="where this prober runs: the `vantage` label")
    concurrency: int = Field(100, ge=1, le=10_000, description="probes in flight at once")
    late_after: Duration = Field(1.0, description="a start later than this past its slot counts as late")
    defaults: dict[str, Any] = {}
    modules: dict[str, dict[str, Any]] = {}
    targets: list[AnyTarget] = []
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

    def target(self, name: str) -> TargetBase:
        return next(t for t in self.targets if t.name == name)

    def env_names(self) -> list[str]:
        return [n for t in self.targets for n in t.env_names()]


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


def _allowed_origins(
    config: ProbeConfig, module: str, fields: dict[str, Any], secrets: tuple[Any, ...]
) -> list[Origin]:
    """A module's `allowed_targets`, or else where the config already sends the same secrets: the
    hosts of its targets that carry them, and the module's own `url`."""
    if ALLOWED_KEY in fields:
        return parse_allowed(fields[ALLOWED_KEY])
    origins = [t_origin for t in config.targets if t.secrets() == secrets and (t_origin := _origin(t.url))]
    own = fields.get("url")
    if isinstance(own, str) and (own_origin := _origin(own)):
        origins.append(own_origin)
    return origins


def _matches(origin: Origin, allowed: Origin) -> bool:
    scheme, host, port = allowed
    return origin[1] == host and scheme in (None, origin[0]) and port in (None, origin[2])


def check_allowed(config: ProbeConfig, module: str, fields: dict[str, Any], target: TargetBase) -> None:
    """blackbox_exporter's maintainers wanted an allow-list "for when auth is added and you don't want to
    send credentials out to arbitrary hosts" (its issue #5): a module carrying secrets is only ever used
    against the hosts it was configured for, and anything else is refused before a byte is sent."""
    secrets = target.secrets()
    if not secrets:
        return
    origin = _origin(target.url)
    if origin is not None and any(
        _matches(origin, a) for a in _allowed_origins(config, module, fields, secrets)
    ):
        return
    what = "an account" if secrets[0] in ("api_flow", "flow") else "secret headers or a body"
    where = f"{origin[1]}:{origin[2]}" if origin else repr(target.url)
    raise TargetRefused(
        f"module {module!r} carries {what} and is only used against the hosts it is configured for "
        f"(its targets' hosts, or the module's {ALLOWED_KEY}); {where} is not one of them, nothing was sent"
    )


_TARGET: TypeAdapter[TargetBase] = TypeAdapter(AnyTarget)
# (id(config), module, url) -> (config, target); holding the config keeps its id from being reused
_MODULE_TARGETS: dict[tuple[int, str, str], tuple[ProbeConfig, TargetBase]] = {}
_MODULE_TARGETS_MAX = 4096


def module_target(config: ProbeConfig, module: str, url: str) -> TargetBase:
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
    target = _TARGET.validate_python(request, context={UNSCHEDULED: True})
    check_allowed(config, module, fields, target)
    if len(_MODULE_TARGETS) >= _MODULE_TARGETS_MAX:
        _MODULE_TARGETS.clear()  # a reload or a scan of many targets: start over rather than grow
    _MODULE_TARGETS[key] = (config, target)
    return target


PLACEHOLDER_URL = "https://probe.invalid/"
"""A module is checked as a /probe request would use it; the request brings its own target URL."""


def check_modules(data: dict[str, Any], lines: dict[PathKey, int], source: str) -> None:
    """Every module, with the defaults under it, is validated on load as `/probe` builds its target
    (no schedule, so no interval rule), so a module that would answer every /probe with 400 is
    refused here, naming its file, line and field."""
    defaults = data.get("defaults") or {}
    for name, mod in (data.get("modules") or {}).items():
        fields = {k: v for k, v in {**defaults, **mod}.items() if k != ALLOWED_KEY}
        request = {"url": PLACEHOLDER_URL, **fields, "name": "probe"}
        try:
            _TARGET.validate_python(request, context={UNSCHEDULED: True})
        except ValidationError as exc:
            local = {(key,): line_for(lines, ("modules", name, key)) for key in mod}
            local |= {(key,): line_for(lines, ("defaults", key)) for key in defaults if key not in mod}
            local[()] = line_for(lines, ("modules", name)) or 1
            err = validation_to_config_error(exc, request, local, source)
            key = str(err.field or "").split(".", 1)[0].split("[", 1)[0]
            where = "defaults" if key in defaults and key not in mod else f"modules.{name}"
            field = where if err.field in (None, "(top level)") else f"{where}.{err.field}"
            raise ConfigError(err.detail, path=source, line=err.line, field=field) from None


def check_secrets(config: ProbeConfig, source: str) -> None:
    """An api_flow without its secrets cannot run; say so on load, not at 3 a.m. as a portal failure."""
    missing = [n for n in config.env_names() if not os.environ.get(n)]
    if missing:
        raise ConfigError(f"environment variable(s) {', '.join(sorted(set(missing)))} not set", path=source)


def check_services(config: ProbeConfig, source: str, lines: dict[PathKey, int] | None = None) -> None:
    """The `service` label must be a catalog id, so probes line up with journeys and load tests."""
    from dvcwatch.core.catalog import load_catalog

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
    """A `credentials.profile` and a flow kind's `flow` file are written relative to the probe config,
    wherever the prober runs: in a target, a module (`/probe` targets are built from modules) or the
    defaults."""
    if base_dir is None:
        return
    holders = [t for t in merged.get("targets") or [] if isinstance(t, dict)]
    holders += [m for m in (merged.get("modules") or {}).values() if isinstance(m, dict)]
    if isinstance(merged.get("defaults"), dict):
        holders.append(merged["defaults"])

    def beside(path: str) -> str:
        p = Path(path).expanduser()
        return str(p if p.is_absolute() else Path(os.path.normpath(base_dir / p)))

    for h in holders:
        creds = h.get("credentials")
        if isinstance(creds, dict) and isinstance(creds.get("profile"), str):
            h["credentials"] = {**creds, "profile": beside(creds["profile"])}
        if h.get("kind") == "flow" and isinstance(h.get("flow"), str):
            h["flow"] = beside(h["flow"])


def check_accounts(config: ProbeConfig, source: str, lines: dict[PathKey, int]) -> None:
    """What each kind resolves on load (accounts, OTP sources: `TargetBase.check_on_load`), its error
    placed at the target's line and field."""
    for i, t in enumerate(config.targets):
        try:
            t.check_on_load()
        except ConfigError as exc:
            key = exc.field or "kind"
            raise ConfigError(
                exc.detail,
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
    check_modules(merged, lines, source)
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


def load_config_bytes(raw: bytes, path: str | Path) -> ProbeConfig:
    """`load_config` of content already read (by `read_input_bytes`, as a reload reads it once for its
    fingerprint and its parse)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError("not UTF-8 text", path=str(path)) from None
    data, lines = parse_yaml(text, str(path))
    return _finish(data, lines, str(path), True, Path(path).resolve().parent)
