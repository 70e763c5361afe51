"""Read a file a user names, after checking what it is and how big.

A config, a HAR, a steps file or a report to import is read whole. Read blindly, `/dev/zero` grows the
process by gigabytes a second, a named pipe blocks the command (or a running prober's reload) for good,
and a mistaken multi-megabyte file freezes a prober for minutes. So the file is opened without
blocking, checked on the open descriptor (a regular file, within a size cap), and read no further than
the cap, whatever it grows to meanwhile. Every refusal is one `ConfigError` naming the file, what it
is or its size, and the cap.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from dvcwatch.core.errors import ConfigError

MAX_CONFIG_BYTES = 4 * 1024 * 1024
"""A config file (probes, profiles, load profiles, faults): the largest real ones, probe configs of
20 000 targets, are about 2 MB; a file twice that size is a mistake, and parsing it would take
minutes."""

_KINDS = (
    (stat.S_ISDIR, "is a directory"),
    (stat.S_ISFIFO, "is a named pipe (FIFO)"),
    (stat.S_ISCHR, "is a character device"),
    (stat.S_ISBLK, "is a block device"),
    (stat.S_ISSOCK, "is a socket"),
)


def _size(n: int) -> str:
    return f"{n / 1_048_576:.1f} MB" if n >= 1_048_576 else f"{n:,} bytes"


def _refuse_kind(mode: int, what: str, path: str) -> None:
    if stat.S_ISREG(mode):
        return
    kind = next((text for test, text in _KINDS if test(mode)), "is not a regular file")
    raise ConfigError(f"{kind}, expected {what} (a regular file)", path=path)


def read_input_bytes(path: str | Path, *, limit: int = MAX_CONFIG_BYTES, what: str = "a YAML file") -> bytes:
    """The file's bytes, if it is a regular file of at most `limit` bytes; `what` names what was
    expected in the message ("a YAML file", "a HAR file")."""
    p = str(path)
    try:
        fd = os.open(p, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)  # a FIFO opens at once, unread
    except FileNotFoundError:
        raise ConfigError("file not found", path=p) from None
    except OSError as exc:
        raise ConfigError(f"cannot read it: {exc.strerror or exc}", path=p) from None
    try:
        info = os.fstat(fd)
        _refuse_kind(info.st_mode, what, p)
        if info.st_size > limit:
            raise ConfigError(
                f"{_size(info.st_size)}, over the {_size(limit)} limit for {what}; is it the right file?",
                path=p,
            )
        chunks: list[bytes] = []
        got = 0
        while got <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - got))
            if not chunk:
                break
            chunks.append(chunk)
            got += len(chunk)
        if got > limit:  # it grew while being read
            raise ConfigError(
                f"more than {_size(limit)}, the limit for {what}; is it the right file?", path=p
            )
        return b"".join(chunks)
    except IsADirectoryError:
        raise ConfigError(f"is a directory, expected {what} (a regular file)", path=p) from None
    except OSError as exc:
        raise ConfigError(f"cannot read it: {exc.strerror or exc}", path=p) from None
    finally:
        os.close(fd)


def read_input_text(path: str | Path, *, limit: int = MAX_CONFIG_BYTES, what: str = "a YAML file") -> str:
    """`read_input_bytes` decoded as UTF-8 (one line when it is not)."""
    raw = read_input_bytes(path, limit=limit, what=what)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError("not UTF-8 text", path=str(path)) from None
