"""What a `--target` names: a portal's base URL or a profile file, decided once for every command.

Deciding it by a prefix (`startswith("http")`) took `https-portals/tinh-x.yaml` for a URL, so the
profile loaded but its relative `secrets_file` was looked up from the working directory. A URL here
has an http(s) scheme, `://` and a host; anything else must be a file that exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from dvcwatch.core.errors import ConfigError


@dataclass(frozen=True)
class Target:
    """Exactly one of `url` (the sandbox profile pointed at that address) or `path` (a profile file)."""

    url: str | None = None
    path: Path | None = None

    @property
    def profile_dir(self) -> Path:
        """Where the profile's relative paths (its `secrets_file`) are looked up: beside the file."""
        return self.path.parent if self.path is not None else Path(".")


def resolve_target(spec: str | Path) -> Target:
    """A URL if `spec` has an http(s) scheme, `://` and a host; an existing file otherwise; else a
    ConfigError saying which of the two was expected."""
    text = str(spec)
    if "://" in text:
        parts = urlsplit(text)
        if parts.scheme in ("http", "https") and parts.netloc:
            return Target(url=text.rstrip("/"))
        if not Path(text).is_file():
            raise ConfigError("not an http(s):// base URL with a host, nor a profile file", path=text)
    path = Path(text)
    if not path.is_file():
        raise ConfigError("profile file not found (give a YAML file or an http(s):// base URL)", path=text)
    return Target(path=path)
