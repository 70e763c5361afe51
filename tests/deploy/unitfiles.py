"""Read systemd unit files, and lay out a throwaway root that `systemd-analyze --root=` can verify them in.

`systemd-analyze verify` checks that every ExecStart= binary exists, and the units name the deployed
paths (/opt/dvcwatch/.venv/bin/dvcwatch), which a test machine does not have. Under `--root=` it looks
for them inside the root instead, so the root gets a stub for each, plus a copy of the machine's own
units (sysinit.target, Debian's postgresql.service...) that the dvcwatch units lean on.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
UNIT_DIR = ROOT / "deploy" / "systemd"
DEPLOYED_VENV = "/opt/dvcwatch/.venv/bin/"
UNIT_SUFFIXES = (".service", ".target", ".timer")
EXEC_KEYS = ("ExecStartPre", "ExecStart", "ExecStartPost", "ExecReload", "ExecStop", "ExecStopPost")


@dataclass(frozen=True)
class Setting:
    section: str
    key: str
    value: str
    line: int


def read_unit(path: Path) -> list[Setting]:
    """Every `key=value` of a unit in order, continuation lines joined, repeated keys kept (as systemd does)."""
    settings: list[Setting] = []
    section = ""
    pending = ""
    start = 0
    for n, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not pending and (not line or line.startswith(("#", ";"))):
            continue
        if not pending and line.startswith("["):
            section = line.strip("[]")
            continue
        if not pending:
            start = n
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        key, _, value = (pending + line).partition("=")
        settings.append(Setting(section, key.strip(), value.strip(), start))
        pending = ""
    return settings


def values(settings: list[Setting], key: str) -> list[str]:
    """All words given to `key` over every line that sets it (After=, Wants=, ... are lists)."""
    return [word for s in settings if s.key == key for word in s.value.split()]


def unit_files() -> list[Path]:
    return sorted(p for p in UNIT_DIR.iterdir() if p.suffix in UNIT_SUFFIXES)


def instance_name(path: Path) -> str:
    """A template is verified as one of its instances, the way it runs."""
    return path.name.replace("@.", "@phuong-vinh-hung.") if "@." in path.name else path.name


def executables(path: Path) -> list[str]:
    """The binaries a unit's Exec*= lines start (systemd's -@:+! prefixes removed)."""
    found = []
    for s in read_unit(path):
        if s.key in EXEC_KEYS:
            found.append(s.value.split()[0].lstrip("-@:+!"))
    return found


def make_root(root: Path, units: list[Path]) -> Path:
    """A root holding the machine's units, `units` as the administrator installs them, and a stub per binary."""
    shutil.copytree("/usr/lib/systemd/system", root / "usr/lib/systemd/system", symlinks=True)
    etc = root / "etc/systemd/system"
    etc.mkdir(parents=True)
    for unit in units:
        shutil.copy(unit, etc / unit.name)
        for exe in executables(unit):
            stub = root / exe.lstrip("/")
            stub.parent.mkdir(parents=True, exist_ok=True)
            stub.write_text("#!/bin/sh\n", encoding="utf-8")
            stub.chmod(0o755)
    return root


def verify(root: Path, names: list[str]) -> subprocess.CompletedProcess[str]:
    """`systemd-analyze verify` inside `root`; man pages are not looked up (Documentation= is file:)."""
    return subprocess.run(
        ["systemd-analyze", "verify", "--man=no", f"--root={root}", *names],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def exposure(root: Path, name: str, threshold: int) -> subprocess.CompletedProcess[str]:
    """`systemd-analyze security --offline`: exit status non-zero when the unit's exposure is above
    `threshold`, in tenths (45 is a score of 4.5)."""
    return subprocess.run(
        ["systemd-analyze", "security", "--offline=yes", f"--root={root}", f"--threshold={threshold}", name],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


EXAMPLES = ROOT / "deploy" / "examples"
# where docs/deploy.md installs each example environment file
ENV_EXAMPLES = {
    "/etc/dvcwatch/province.env": EXAMPLES / "province.env",
    "/etc/dvcwatch/ward/%i.env": EXAMPLES / "ward.env",
}
VARIABLE = re.compile(r"\$\{(\w+)\}")


def read_env_file(path: Path) -> dict[str, str]:
    pairs = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            pairs[key.strip()] = value.strip()
    return pairs


def unit_environment(path: Path) -> dict[str, str]:
    """What a unit's EnvironmentFile= lines give it, read from the examples docs/deploy.md installs."""
    env: dict[str, str] = {}
    for name in values(read_unit(path), "EnvironmentFile"):
        env |= read_env_file(ENV_EXAMPLES[name.lstrip("-")])
    return env


def command_lines(path: Path, instance: str, env: dict[str, str], credentials: Path) -> list[list[str]]:
    """Each Exec*= line as the process gets it: %i, %d and ${VAR} replaced as systemd does.

    A variable the environment lacks raises KeyError: systemd would pass an empty word without a warning."""
    lines = []
    for s in read_unit(path):
        if s.key in EXEC_KEYS:
            text = s.value.replace("%i", instance).replace("%d", str(credentials))
            lines.append([VARIABLE.sub(lambda m: env[m.group(1)], word) for word in shlex.split(text)])
    return lines


class BrowserUnit:
    """`dvcwatch-browser@`'s command as systemd would start it, its credential folder holding the example
    launch options bound to loopback, a free port and a fresh wsPath; its log in a file."""

    START_SECONDS = 90.0

    def __init__(self, folder: Path, extra_env: dict[str, str] | None = None) -> None:
        import json
        import os
        import secrets
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.path = "/" + secrets.token_hex(16)
        self.url = f"ws://127.0.0.1:{port}{self.path}"
        credentials = folder / "credentials"
        credentials.mkdir(parents=True)
        options = json.loads((EXAMPLES / "launch.json").read_text(encoding="utf-8"))
        options |= {"host": "127.0.0.1", "port": port, "wsPath": self.path}
        (credentials / "launch.json").write_text(json.dumps(options), encoding="utf-8")
        (argv,) = command_lines(UNIT_DIR / "dvcwatch-browser@.service", "1", {}, credentials)
        argv[0] = str(ROOT / ".venv/bin" / argv[0].removeprefix(DEPLOYED_VENV))
        self.log = folder / "server.log"
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                argv,
                stdout=out,
                stderr=subprocess.STDOUT,
                env={**os.environ, **(extra_env or {})},
                start_new_session=True,  # node and chromium: one group to kill
            )

    def wait_listening(self) -> None:
        import time

        deadline = time.monotonic() + self.START_SECONDS
        while self.url not in self.text():
            assert self.proc.poll() is None and time.monotonic() < deadline, self.text()[-2000:]
            time.sleep(0.2)

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        import os
        import signal

        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)
