"""A real PostgreSQL for the tests of the shared history: Debian's `postgresql` package (scripts/bootstrap
installs it), a cluster initialised in a temporary folder, listening on loopback only, stopped at teardown.

Missing binaries are a failure, not a skip: a machine without them has not been bootstrapped, and a
history test that silently skipped would hide it. `initdb` refuses to run as root (CI runs as root), so
there the cluster belongs to the `postgres` user and its commands run through `runuser`.

Import the fixture where it is used: `from postgres_server import postgres  # noqa: F401`.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

USER = "dvcwatch"
PASSWORD = "s3cret-Hist0ry"  # the tests check that it never reaches output or reports
DATABASE = "dvcwatch"


@dataclass(frozen=True)
class Postgres:
    host: str
    port: int
    passfile: Path  # PGPASSFILE for the server's user: URLs without a password

    @property
    def url(self) -> str:
        """Without the password: the client finds it in `passfile` (set PGPASSFILE)."""
        return f"postgresql://{USER}@{self.host}:{self.port}/{DATABASE}"

    @property
    def url_with_password(self) -> str:
        return f"postgresql://{USER}:{PASSWORD}@{self.host}:{self.port}/{DATABASE}"

    def env(self) -> dict[str, str]:
        return {**os.environ, "PGPASSFILE": str(self.passfile)}

    def fresh_database(self, name: str) -> str:
        """A database of its own for one test (a URL with the password): tests do not see each other's rows."""
        import psycopg

        with psycopg.connect(self.url_with_password, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}" OWNER {USER}')
        return f"postgresql://{USER}:{PASSWORD}@{self.host}:{self.port}/{name}"


def bin_dir() -> Path:
    """The newest installed server version's binaries (/usr/lib/postgresql/<version>/bin)."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3].split(".")[0])
    )
    if not found:
        pytest.fail(
            "PostgreSQL's server binaries are missing (/usr/lib/postgresql/*/bin/initdb): "
            "run scripts/bootstrap, which installs Debian's postgresql package"
        )
    return Path(found[-1]).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_owner(argv: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    bins = bin_dir()
    root = Path(tempfile.mkdtemp(prefix="dvcwatch-pg-"))
    data, sock = root / "data", root / "sock"
    sock.mkdir()
    pwfile = root / "pw"
    pwfile.write_text(PASSWORD + "\n")
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        for p in (sock, pwfile):
            shutil.chown(p, "postgres")
    port = free_port()
    run = dict(check=True, capture_output=True, text=True, timeout=120)
    subprocess.run(
        _as_owner(
            [
                str(bins / "initdb"),
                "-D",
                str(data),
                "-U",
                USER,
                f"--pwfile={pwfile}",
                "--auth=scram-sha-256",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            ]
        ),
        **run,  # type: ignore[arg-type]
    )
    options = f"-k {sock} -c listen_addresses=127.0.0.1 -p {port} -c max_connections=60 -c fsync=off"
    subprocess.run(
        _as_owner(
            [str(bins / "pg_ctl"), "-D", str(data), "-l", str(root / "log"), "-w", "-o", options, "start"]
        ),
        **run,  # type: ignore[arg-type]
    )
    passfile = Path(tempfile.mkdtemp(prefix="dvcwatch-pgpass-")) / "pgpass"
    passfile.write_text(f"127.0.0.1:{port}:*:{USER}:{PASSWORD}\n")
    passfile.chmod(0o600)
    server = Postgres("127.0.0.1", port, passfile)
    try:
        import psycopg

        with psycopg.connect(server.url_with_password, dbname="postgres", autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {DATABASE}")
        yield server
    finally:
        subprocess.run(
            _as_owner([str(bins / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]),
            capture_output=True,
            timeout=120,
            check=False,
        )
        shutil.rmtree(root, ignore_errors=True)
        shutil.rmtree(passfile.parent, ignore_errors=True)
