"""Test accounts for real portals, and keeping their secrets out of everything a run leaves behind.

A profile names its test accounts (the operator's own, never synthetic citizens) and says where each
secret lives: an environment variable, or a key in a secrets file (YAML). A profile never holds a secret
itself: profiles are committed, shared and pasted into tickets. The secrets file must be private to its
owner (mode 600), because a password readable by the whole ward office is a leaked password.

Secrets travel as `Secret`, whose repr and str are masked, so a stray f-string or log line shows `***`;
`Redactor` then scrubs every known secret (password, OTP, TOTP seed) from text and bytes, in the forms
they take on the wire (URL-encoded, JSON-escaped, HTML-escaped), before results, logs or traces are kept.

```yaml
# in a profile
secrets_file: ~/.config/dvcwatch/quan-hoang-mai.secrets.yaml   # optional; chmod 600
accounts:
  - name: can-bo-thu-nghiem-1
    username: "001099012345"
    password: {env: DVC_TESTER1_PASSWORD}
  - name: can-bo-thu-nghiem-2
    username: "001199054321"
    password: {key: tester-2.password}       # dotted path into the secrets file
    totp_secret: {key: tester-2.totp}
```
"""

from __future__ import annotations

import hmac
import html
import json
import os
import stat
import urllib.parse
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from dvcwatch.core.errors import ConfigError

MASK = "***"


class Secret:
    """A secret value that never shows itself by accident: repr, str and format all print `***`.

    Only `reveal()` gives the value, so every place that really sends a password is easy to find.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if isinstance(value, Secret):
            value = value.reveal()
        if not isinstance(value, str):
            raise TypeError("a Secret wraps a str")
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret({MASK!r})"

    def __str__(self) -> str:
        return MASK

    def __format__(self, spec: str) -> str:
        return MASK

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Secret):
            other = other.reveal()
        if not isinstance(other, str):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other.encode())

    def __hash__(self) -> int:
        return hash(("dvcwatch.Secret", self._value))

    def __len__(self) -> int:
        return len(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)

    def __reduce__(self) -> Any:
        raise TypeError("a Secret is not pickled, so it cannot end up in a file by accident")


class SecretRef(BaseModel):
    """Where one secret lives: exactly one of an environment variable or a key in the secrets file."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    env: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    key: str | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _one(self) -> SecretRef:
        if (self.env is None) == (self.key is None):
            raise ValueError("give exactly one of env: VARIABLE or key: path.in.secrets.file")
        return self

    def describe(self) -> str:
        return f"environment variable {self.env}" if self.env else f"key {self.key!r} of the secrets file"


def _no_literal(v: Any) -> Any:
    if isinstance(v, (str, int, float)):
        # Error type "model_type": dvcwatch.core.yamlconfig then leaves the input (the password!) out of
        # the message it prints.
        raise PydanticCustomError(
            "model_type",
            "a secret is never written in the profile; use {env: VARIABLE} or {key: name} "
            "(a key in the secrets file)",
        )
    return v


class AccountSpec(BaseModel):
    """A test account as the profile names it; the secrets are references, resolved at run time."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(pattern=r"^[a-z0-9]+([-_][a-z0-9]+)*$")
    username: str = Field(min_length=1, description="the login name: a 12-digit CCCD on VNeID")
    password: SecretRef
    totp_secret: SecretRef | None = None

    @field_validator("password", "totp_secret", mode="before")
    @classmethod
    def _not_literal(cls, v: Any) -> Any:
        return _no_literal(v)


class AccountsConfig(BaseModel):
    """The `accounts:` and `secrets_file:` part of a profile."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    secrets_file: str | None = None
    accounts: list[AccountSpec] = []

    @model_validator(mode="after")
    def _unique(self) -> AccountsConfig:
        names = [a.name for a in self.accounts]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"duplicate account names: {dup}")
        return self


@dataclass(frozen=True)
class Account:
    """A resolved test account; its repr masks the secrets."""

    name: str
    username: str
    password: Secret
    totp_secret: Secret | None = None

    def secrets(self) -> list[Secret]:
        return [s for s in (self.password, self.totp_secret) if s is not None]


def check_private(path: Path) -> None:
    """Refuse a secrets file that group or others may read or write."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise ConfigError("secrets file not found", path=str(path)) from None
    if not stat.S_ISREG(mode):
        raise ConfigError("secrets file is not a regular file", path=str(path))
    if mode & 0o077:
        raise ConfigError(
            f"secrets file is readable or writable by group/others (mode {stat.S_IMODE(mode):03o}); "
            f"run: chmod 600 {path}",
            path=str(path),
        )


def load_secrets_file(path: str | Path) -> dict[str, Any]:
    """Read a private YAML mapping of secrets. Errors never quote a value from the file.

    Parsed by the shared YAML reader, so an alias or merge-key bomb is refused like anywhere else."""
    from dvcwatch.core.yamlconfig import parse_yaml

    p = Path(path).expanduser()
    check_private(p)
    from dvcwatch.core.inputfile import read_input_text

    text = read_input_text(p, what="a secrets file")  # names the file and its size, never its content
    try:
        data, _ = parse_yaml(text, str(p))
    except ConfigError as exc:  # the parser's own words may quote the text: say only where
        raise ConfigError(
            "malformed or oversized YAML (the value is not shown)", path=str(p), line=exc.line
        ) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError("expected a mapping of names to secrets at the top level", path=str(p))
    return data


def _lookup(data: Mapping[str, Any], dotted: str, source: str) -> str:
    cur: Any = data
    for part in dotted.split("."):
        if not isinstance(cur, Mapping) or part not in cur:
            raise ConfigError(f"no key {dotted!r} in the secrets file", path=source, field=dotted)
        cur = cur[part]
    if isinstance(cur, bool) or not isinstance(cur, (str, int)):
        raise ConfigError(f"key {dotted!r} must hold a string", path=source, field=dotted)
    return str(cur)


@dataclass
class AccountResolver:
    """Resolves a profile's accounts to `Account`s and knows every secret it handed out."""

    config: AccountsConfig
    base_dir: Path = Path(".")
    environ: Mapping[str, str] = field(default_factory=lambda: os.environ, repr=False)
    _file: dict[str, Any] | None = field(default=None, repr=False)
    _file_path: str = field(default="", repr=False)

    def _secrets_data(self) -> tuple[dict[str, Any], str]:
        if self._file is None:
            if not self.config.secrets_file:
                raise ConfigError(
                    "an account refers to a key of the secrets file, but the profile names no secrets_file"
                )
            p = Path(self.config.secrets_file).expanduser()
            if not p.is_absolute():
                p = self.base_dir / p
            self._file = load_secrets_file(p)
            self._file_path = str(p)
        return self._file, self._file_path

    def _resolve(self, account: str, what: str, ref: SecretRef) -> Secret:
        if ref.env:
            value = self.environ.get(ref.env)
            if not value:
                raise ConfigError(
                    f"account {account}: {what}: environment variable {ref.env} is not set or empty",
                    field=f"accounts.{account}.{what}",
                )
            return Secret(value)
        data, source = self._secrets_data()
        return Secret(_lookup(data, ref.key or "", source))

    def account(self, name: str) -> Account:
        spec = next((a for a in self.config.accounts if a.name == name), None)
        if spec is None:
            known = ", ".join(a.name for a in self.config.accounts) or "none"
            raise ConfigError(f"unknown account {name!r}; the profile names: {known}")
        totp = self._resolve(name, "totp_secret", spec.totp_secret) if spec.totp_secret else None
        return Account(spec.name, spec.username, self._resolve(name, "password", spec.password), totp)

    def all(self) -> list[Account]:
        """Every account, resolved now so that a missing secret stops the run before it starts."""
        return [self.account(a.name) for a in self.config.accounts]


def _forms(value: str) -> set[str]:
    """The spellings a secret takes in logs, form bodies, JSON and HTML."""
    forms = {
        value,
        urllib.parse.quote(value, safe=""),
        urllib.parse.quote_plus(value, safe=""),
        json.dumps(value)[1:-1],
        json.dumps(value, ensure_ascii=False)[1:-1],
        html.escape(value),
    }
    return {f for f in forms if f}


class Redactor:
    """Scrubs known secrets from text, bytes and JSON-like data; longest first so no fragment survives.

    Secrets are added as they appear (the password at start, each OTP when it arrives).
    """

    def __init__(self, secrets: Iterable[Secret | str] = (), mask: str = MASK) -> None:
        self.mask = mask
        self._values: set[str] = set()
        for s in secrets:
            self.add(s)

    def add(self, secret: Secret | str | None) -> None:
        if secret is None:
            return
        value = secret.reveal() if isinstance(secret, Secret) else secret
        if value:
            self._values |= _forms(value)

    def __len__(self) -> int:
        return len(self._values)

    def _ordered(self) -> list[str]:
        return sorted(self._values, key=len, reverse=True)

    def text(self, text: str) -> str:
        for v in self._ordered():
            text = text.replace(v, self.mask)
        return text

    def bytes(self, data: bytes) -> bytes:
        mask = self.mask.encode()
        for v in self._ordered():
            data = data.replace(v.encode("utf-8"), mask)
        return data

    def data(self, obj: Any) -> Any:
        """A copy of JSON-like data (dicts, lists, strings) with secrets masked in keys and values."""
        if isinstance(obj, Secret):
            return self.mask
        if isinstance(obj, str):
            return self.text(obj)
        if isinstance(obj, bytes):
            return self.bytes(obj)
        if isinstance(obj, Mapping):
            return {self.data(k): self.data(v) for k, v in obj.items()}
        if isinstance(obj, (list, tuple)):
            return [self.data(v) for v in obj]
        return obj

    def file(self, path: str | Path) -> bool:
        """Scrub a file in place (a log, a result, a HAR); True when something was masked."""
        p = Path(path)
        raw = p.read_bytes()
        clean = self.bytes(raw)
        if clean != raw:
            p.write_bytes(clean)
            return True
        return False

    def found_in(self, data: str | bytes) -> bool:
        """Whether any known secret is still present: the check a test or an artifact gate runs."""
        if isinstance(data, bytes):
            return any(v.encode("utf-8") in data for v in self._values)
        return any(v in data for v in self._values)
