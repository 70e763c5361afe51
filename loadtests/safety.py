"""Which hosts may be loaded, and the limits every run carries.

A load test is indistinguishable from an attack to the portal's operator. So by default only
loopback and the staging hosts listed in `allowed_hosts.yaml` can be targeted; anything else needs
`--i-have-authorisation`, a flag that says a person took responsibility in writing.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict

from dvcwatch.core.errors import ConfigError
from dvcwatch.core.politeness import is_loopback
from dvcwatch.core.yamlconfig import load_model

DEFAULT_ALLOWLIST = Path(__file__).with_name("allowed_hosts.yaml")


class AllowList(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: int = 1
    staging_hosts: list[str] = []

    def allows(self, host: str) -> bool:
        host = host.lower().rstrip(".")
        for entry in self.staging_hosts:
            e = entry.lower().rstrip(".")
            if e.startswith("*.") and (host.endswith(e[1:]) or host == e[2:]):
                return True
            if host == e:
                return True
        return False


def load_allowlist(path: str | Path | None = None) -> tuple[AllowList, Path]:
    chosen = Path(path or os.environ.get("DVCWATCH_LOAD_ALLOWLIST") or DEFAULT_ALLOWLIST)
    return load_model(AllowList, chosen), chosen


def check_target(url: str, allow: AllowList, allow_path: Path, authorised: bool) -> str:
    """The host of `url` if it may be loaded; otherwise a ConfigError that says what to do."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"--host must be an http(s):// URL, got {url!r}")
    try:
        port = parts.port
    except ValueError:  # not a number, or above 65535
        port = 0
    if port == 0:
        raise ConfigError(f"--host {url!r}: the port must be a number from 1 to 65535")
    host = parts.hostname
    if is_loopback(host) or allow.allows(host) or authorised:
        return host
    raise ConfigError(
        f"refusing to load {host}: it is neither loopback nor a staging host in {allow_path}; "
        "add it there, or pass --i-have-authorisation if the portal's operator authorised this test in writing"
    )


def refuse_unless_allowed(url: str, allowlist: str | Path | None, authorised: bool) -> str:
    """The one check both entry points make before any load starts: `dvcwatch load` in the parent,
    and the locustfile's hooks in every Locust process (so `locust -f loadtests/locustfile.py --host
    URL` is held to the same rule). Returns the host; raises ConfigError when it may not be loaded."""
    allow, allow_path = load_allowlist(allowlist or None)
    return check_target(url, allow, allow_path, authorised)
