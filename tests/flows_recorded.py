"""One recording per portal and service per test run, shared by every test that replays it.

Recording a journey (`dvcwatch shop --record`, a real chromium) is the slowest thing most flow tests do,
and several of them recorded the same service on the same portal only to compile and replay it. A flow
holds no instance-specific value (origins are `${base}`/`${origin.<role>}`, tokens are correlated at
replay, the fixtures' citizens and accounts come from fixed seeds), so a recording made on one portal
instance replays on another: tests keep starting their own portal in the state they need and take the
recording from here. Tests *about* recording (what a HAR holds, an interrupted record) still record.

Both xdist workers of one run share the cache folder (the run's base temp, which pytest rotates); a
lock per recording makes the second worker wait for the first instead of recording again.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

PORTALS = ("sandbox", "other", "third")


@dataclass(frozen=True)
class Recorded:
    """`rec`: the `shop --record` folder; `flows`: `flows compile` of it, untouched. Both read-only.
    `otp`: the code the recording portal showed last, when it keeps showing it (the third portal), so a
    test can search the files for it."""

    rec: Path
    flows: Path
    otp: str | None


def recorded(cache: Path, portal: str, service: str) -> Recorded:
    """The recording of `service` on a fresh `portal` ("sandbox", "other" or "third"), made at most once
    per `cache` folder; the caller waits while another process is making it."""
    if portal not in PORTALS:
        raise ValueError(f"portal {portal!r}: one of {PORTALS}")
    cache.mkdir(parents=True, exist_ok=True)
    home = cache / f"{portal}--{service}"
    with (cache / f"{portal}--{service}.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not (home / "recorded.json").exists():
                _record(home, portal, service)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    meta = json.loads((home / "recorded.json").read_text(encoding="utf-8"))
    return Recorded(rec=home / "rec", flows=home / "flows", otp=meta["otp"])


def _record(home: Path, portal: str, service: str) -> None:
    """Record and compile into a partial folder, renamed into place only once both succeeded, so a
    failed recording is tried again by the next test rather than handed out half made."""
    from dvcwatch.commands.cli import main

    partial = home.with_name(home.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    rec, flows = partial / "rec", partial / "flows"
    with _portal(portal, partial) as (target, otp):
        argv = ["shop", "--target", target, "--out", str(partial / "shop"), "--service", service]
        assert main([*argv, "--record", str(rec)]) == 0, f"recording {service} on the {portal} portal"
        assert main(["flows", "compile", str(rec), "--out", str(flows), "--target", target]) == 0
        shown = otp()
    (partial / "recorded.json").write_text(json.dumps({"otp": shown}), encoding="utf-8")
    for path in (*rec.rglob("*"), *flows.rglob("*")):
        if path.is_file():
            path.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
    partial.rename(home)


@contextlib.contextmanager
def _portal(portal: str, where: Path) -> Iterator[tuple[str, object]]:
    """A fresh portal of that kind → (the `--target` to give shop and compile, a function giving the
    OTP the portal still shows, or None)."""
    if portal == "sandbox":
        from sandbox_portal.server import SandboxServer

        server = SandboxServer(db_path=where / "sandbox.sqlite3", admin_token="test-token")
        server.start()
        try:
            yield server.url, lambda: None  # the sandbox forgets a code once used
        finally:
            server.stop()
    elif portal == "other":
        from fixtures.other_portal import OtherPortal
        from fixtures.other_portal.target import profile_for

        with OtherPortal(citizens_count=20) as other:
            yield str(profile_for(other, where / "profile.yaml")), lambda: None  # forgets it once used
    else:
        from fixtures.third_portal import ThirdPortal
        from fixtures.third_portal.target import password_env, profile_for

        with ThirdPortal(result_delay=0.2) as third, _environ(password_env(third)):
            yield str(profile_for(third, where / "profile.yaml")), third.otp


@contextlib.contextmanager
def _environ(values: dict[str, str]) -> Iterator[None]:
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
