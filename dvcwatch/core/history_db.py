"""Where the history lives, and the two databases it can live in.

One runner keeps its history in an SQLite file beside its results; several runners (a province's wards)
share one PostgreSQL, so the history is named by a URL: `sqlite:///abs/path` or a plain path (the file,
or a folder for its history.sqlite3), or `postgresql://user@host:port/db`. A password in the URL is
accepted but never shown: every place that prints the location prints `shown` (password masked), and
errors from the driver are scrubbed of it. A password file (`PGPASSFILE`, or `passfile=` in the URL)
keeps it out of the command line altogether.

The two backends differ in what the store needs to know only: placeholders, the schema's types, how a
write transaction starts and which failures are worth another try. Concurrent writers never fail on a
lock: SQLite waits (busy_timeout, WAL) and a write that still meets a lock is tried again; PostgreSQL
runs each write in a transaction and retries a deadlock or serialisation failure. Every retry is
bounded in count.
"""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from dvcwatch.core.errors import ConfigError

FILE_NAME = "history.sqlite3"
PG_SCHEMES = ("postgresql", "postgres")
WRITE_ATTEMPTS = (
    20  # a write that met a lock or a deadlock this many times in a row is said, not lost silently
)
LOCK_WAIT_S = 30.0  # SQLite's busy_timeout for one attempt
SCHEMA_LOCK_KEY = 0x64766377  # "dvcw": PostgreSQL advisory lock held while one runner creates the schema

T = TypeVar("T")


@dataclass(frozen=True)
class HistoryLocation:
    """`path` for SQLite (the file itself), `url` for PostgreSQL; `shown` is safe to print."""

    kind: str  # "sqlite" or "postgresql"
    path: Path | None = None
    url: str | None = None

    @property
    def shown(self) -> str:
        return str(self.path) if self.path is not None else mask_password(self.url or "")

    def __str__(self) -> str:
        return self.shown

    def scrub(self, text: str) -> str:
        """`text` (a driver's error) without this location's password."""
        secret = password_of(self.url) if self.url else None
        if not secret:
            return text
        for form in {secret, unquote(secret)}:  # as written in the URL, and as the server saw it
            text = text.replace(form, "***")
        return text


def parse_location(where: str | Path | HistoryLocation) -> HistoryLocation:
    """A --history value or $DVCWATCH_HISTORY. A folder means its history.sqlite3; another scheme than
    sqlite or postgresql is a ConfigError naming the ones that work."""
    if isinstance(where, HistoryLocation):
        return where
    if isinstance(where, Path):
        return _sqlite(where)
    text = where.strip()
    m = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*)://", text)
    if not m:
        if not text:
            raise ConfigError("the history location is empty: give a path, sqlite:///path or postgresql://…")
        return _sqlite(Path(text))
    scheme = m.group(1).lower()
    if scheme in PG_SCHEMES:
        parts = urlsplit(text)
        if not parts.hostname and "host=" not in (parts.query or ""):
            raise ConfigError(
                f"history {mask_password(text)}: give a host, e.g. postgresql://dvcwatch@db:5432/dvcwatch"
            )
        return HistoryLocation("postgresql", url=text)
    if scheme == "sqlite":
        rest = text[len("sqlite://") :]
        if not rest.startswith("/") or rest == "/":
            raise ConfigError(
                f"history {text!r}: give sqlite:///absolute/path (three slashes), or a plain relative path"
            )
        return _sqlite(Path(rest))
    raise ConfigError(
        f"history {mask_password(text)}: a {scheme}:// history is not supported; "
        "give a path, sqlite:///path or postgresql://user@host/db"
    )


def _sqlite(p: Path) -> HistoryLocation:
    return HistoryLocation("sqlite", path=p / FILE_NAME if p.is_dir() else p)


def password_of(url: str) -> str | None:
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return None
    if password:
        return password
    return dict(parse_qsl(parts.query)).get("password") or None


def mask_password(url: str) -> str:
    """The URL with its password (in the authority or as `password=`) replaced by ***."""
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        if parts.password is not None:
            userinfo, _, hostport = netloc.rpartition("@")
            user = userinfo.split(":", 1)[0]
            netloc = f"{user}:***@{hostport}"
        query = parts.query
        if "password=" in query:
            query = urlencode([(k, "***" if k == "password" else v) for k, v in parse_qsl(query)], safe="*")
        return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
    except ValueError:
        return re.sub(r"(//[^:/@]*:)[^@]*@", r"\1***@", url)


class Backend(Protocol):
    """A connection the store talks to with `?` placeholders and dict-like rows."""

    kind: str
    location: HistoryLocation

    def execute(self, sql: str, args: Sequence[Any] = ()) -> Any: ...

    def write(self, body: Callable[[Any], T]) -> T:
        """`body` in one write transaction, run again (bounded) when it met a lock or a deadlock."""
        ...

    def tables(self) -> set[str]: ...

    def close(self) -> None: ...


class SqliteBackend:
    kind = "sqlite"

    def __init__(self, location: HistoryLocation, readonly: bool) -> None:
        self.location = location
        p = location.path
        assert p is not None
        if readonly:
            if not p.is_file():
                raise ConfigError(
                    "no history here yet: run `dvcwatch shop` or `dvcwatch report import`", path=str(p)
                )
            self.conn = sqlite3.connect(
                f"{p.resolve().as_uri()}?mode=ro", uri=True, timeout=LOCK_WAIT_S, isolation_level=None
            )
        else:
            p.parent.mkdir(parents=True, exist_ok=True)
            self.conn = sqlite3.connect(p, timeout=LOCK_WAIT_S, isolation_level=None)
        self.conn.row_factory = sqlite3.Row

    def execute(self, sql: str, args: Sequence[Any] = ()) -> Any:
        return self.conn.execute(sql, tuple(args))

    def write(self, body: Callable[[SqliteBackend], T]) -> T:
        for attempt in range(WRITE_ATTEMPTS):
            try:
                with self._immediate():
                    return body(self)
            except sqlite3.OperationalError as exc:
                if not _sqlite_busy(exc) or attempt == WRITE_ATTEMPTS - 1:
                    raise
                time.sleep(min(0.05 * 2**attempt, 2.0))
        raise AssertionError("unreachable")  # the loop returns or raises

    @contextmanager
    def _immediate(self) -> Iterator[None]:
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def wal(self) -> None:
        """Readers never wait for a writer, and a killed writer leaves the file whole."""
        for attempt in range(WRITE_ATTEMPTS):
            try:
                self.conn.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as exc:
                if not _sqlite_busy(exc) or attempt == WRITE_ATTEMPTS - 1:
                    raise
                time.sleep(min(0.05 * 2**attempt, 2.0))

    def tables(self) -> set[str]:
        rows = self.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {r[0] for r in rows if not r[0].startswith("sqlite_")}

    def close(self) -> None:
        self.conn.close()


def _sqlite_busy(exc: sqlite3.OperationalError) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


class PostgresBackend:
    kind = "postgresql"

    def __init__(self, location: HistoryLocation, readonly: bool) -> None:
        import psycopg
        from psycopg.rows import dict_row

        self.location = location
        options = {"options": "-c default_transaction_read_only=on"} if readonly else {}
        try:
            self.conn = psycopg.connect(
                location.url or "",
                autocommit=True,
                row_factory=dict_row,
                connect_timeout=20,
                application_name="dvcwatch",
                **options,
            )
        except psycopg.Error as exc:
            raise ConfigError(
                f"cannot reach the history ({location.scrub(str(exc).strip().splitlines()[0])})",
                path=location.shown,
            ) from None

    def execute(self, sql: str, args: Sequence[Any] = ()) -> Any:
        return self.conn.execute(sql.replace("?", "%s"), tuple(args))  # type: ignore[arg-type]

    def write(self, body: Callable[[PostgresBackend], T]) -> T:
        import psycopg.errors as e

        for attempt in range(WRITE_ATTEMPTS):
            try:
                with self.conn.transaction():
                    return body(self)
            except (e.DeadlockDetected, e.SerializationFailure, e.LockNotAvailable):
                if attempt == WRITE_ATTEMPTS - 1:
                    raise
                time.sleep(min(0.05 * 2**attempt, 2.0))
        raise AssertionError("unreachable")  # the loop returns or raises

    def schema_lock(self) -> None:
        """Inside a write: one runner at a time creates or migrates the tables (the lock ends with it)."""
        self.execute("SELECT pg_advisory_xact_lock(?)", (SCHEMA_LOCK_KEY,))

    def tables(self) -> set[str]:
        rows = self.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
        )
        return {r["table_name"] for r in rows}

    def close(self) -> None:
        self.conn.close()


def connect(location: HistoryLocation, readonly: bool) -> Backend:
    if location.kind == "postgresql":
        return PostgresBackend(location, readonly)
    return SqliteBackend(location, readonly)


def database_errors() -> tuple[type[BaseException], ...]:
    """What a history write may raise from the driver (for a caller that must outlive it)."""
    try:
        import psycopg
    except ImportError:
        return (sqlite3.Error,)
    return (sqlite3.Error, psycopg.Error)
