"""`python -m sandbox_portal` (and `dvcwatch sandbox`, `dvcwatch-sandbox`): serve the sandbox portal."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import signal
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from dvcwatch.core.errors import DvcwatchError
from dvcwatch.core.interrupts import STOP_SIGNALS
from sandbox_portal.options import SandboxOptions

EXAMPLES = """examples:
  python -m sandbox_portal                                  healthy portal on http://127.0.0.1:8480
  python -m sandbox_portal --port 0 --ready-file /tmp/sb.json
  python -m sandbox_portal --faults sandbox_portal/scenarios/bad-day.yaml
  python -m sandbox_portal --capacity-workers 4 --service-time 0.02   a knee at 200 req/s
admin API: Authorization: Bearer $DVCWATCH_SANDBOX_TOKEN (random and printed when unset)"""


def build_parser(prog: str = "python -m sandbox_portal") -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=prog,
        description="A sandbox Cổng dịch vụ công with the 25 services and controllable faults.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(p)
    return p


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8480, help="port; 0 picks a free one (default 8480)")
    p.add_argument("--faults", metavar="FILE", help="faults YAML to start with (docs/sandbox.md)")
    p.add_argument(
        "--db", metavar="PATH", help="SQLite file; dossiers survive a restart (default: in memory)"
    )
    p.add_argument("--seed", type=int, default=42, help="seed of the pre-registered synthetic citizens")
    p.add_argument("--citizens", type=int, default=200, help="how many synthetic citizens (default 200)")
    p.add_argument(
        "--clock-speed",
        type=float,
        metavar="X",
        help="sandbox seconds per real second (fault windows, back office); default 1",
    )
    p.add_argument(
        "--backoffice",
        choices=("fast", "real"),
        help="fast: dossiers answered within ~1 sandbox second (default); real: in the service's "
        "processing time on the sandbox clock (use with --clock-speed)",
    )
    p.add_argument("--capacity-workers", type=int, metavar="N", help="add a capacity model with N workers")
    p.add_argument("--service-time", type=float, metavar="S", help="seconds per request per worker")
    p.add_argument("--queue", type=int, metavar="N", help="capacity queue length before 503")
    p.add_argument("--ready-file", metavar="F", help='write {"url", "pid"} here once listening')
    p.add_argument(
        "--owned-dir",
        metavar="DIR",
        help="remove this folder when the portal exits (the embedded sandbox's temporary folder: "
        "its parent may be killed before it can)",
    )


def options_from(args: argparse.Namespace, token: str) -> SandboxOptions:
    return SandboxOptions(
        host=args.host,
        port=args.port,
        db_path=args.db,
        faults_path=args.faults,
        seed=args.seed,
        citizens=args.citizens,
        clock_speed=args.clock_speed,
        backoffice=args.backoffice,
        capacity_workers=args.capacity_workers,
        service_time=args.service_time,
        capacity_queue=args.queue,
        admin_token=token,
    )


def write_ready(path: str, url: str) -> None:
    """Atomically: a reader never sees half a file."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".ready-")
    with os.fdopen(fd, "w") as fh:
        json.dump({"url": url, "pid": os.getpid()}, fh)
    os.replace(tmp, target)


def _check(args: argparse.Namespace) -> None:
    if args.port < 0 or args.port > 65535:
        raise DvcwatchError(f"--port must be 0..65535, got {args.port}")
    if args.clock_speed is not None and args.clock_speed <= 0:
        raise DvcwatchError("--clock-speed must be positive")
    if args.citizens < 1 or args.citizens > 100_000:
        raise DvcwatchError("--citizens must be 1..100000")
    if args.capacity_workers is not None and args.capacity_workers < 1:
        raise DvcwatchError("--capacity-workers must be at least 1")
    if args.service_time is not None and args.service_time <= 0:
        raise DvcwatchError("--service-time must be positive")
    if args.db:
        folder = Path(args.db).resolve().parent
        if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
            raise DvcwatchError(f"--db {args.db}: cannot create a file in {folder}")


async def serve(opts: SandboxOptions, ready_file: str | None, token_printed: bool) -> int:
    """Serve until SIGTERM, Ctrl-C or SIGHUP; the exit code: 0 for the first two, the way it is meant
    to stop, 129 for SIGHUP (its terminal or SSH session closed), which stops it just as cleanly."""
    from sandbox_portal.server import start_site
    from sandbox_portal.state import PortalState

    state = PortalState(opts)
    runner, url = await start_site(opts, state)
    stop = asyncio.Event()
    seen: list[int] = []
    loop = asyncio.get_running_loop()

    def stopped_by(signum: int) -> None:
        seen.append(signum)
        stop.set()

    for sig in STOP_SIGNALS:
        loop.add_signal_handler(sig, stopped_by, sig)
    print(f"Cổng dịch vụ công (sandbox) đang chạy: {url}", flush=True)
    print(
        f"admin token: {opts.admin_token if token_printed else '(from DVCWATCH_SANDBOX_TOKEN)'}", flush=True
    )
    if state.faults.faults:
        print(f"faults active: {len(state.faults.faults)} (GET {url}/_sandbox/faults)", flush=True)
    if ready_file:
        write_ready(ready_file, url)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
    return 128 + signal.SIGHUP if seen[0] == signal.SIGHUP else 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # until the event loop takes SIGTERM and SIGHUP over, they still unwind through `finally` (the
    # owned folder)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    signal.signal(signal.SIGHUP, lambda *_: sys.exit(129))
    env_token = os.environ.get("DVCWATCH_SANDBOX_TOKEN")
    token = env_token or secrets.token_urlsafe(18)
    try:
        _check(args)
        opts = options_from(args, token)
        code = asyncio.run(serve(opts, args.ready_file, token_printed=not env_token))
    except DvcwatchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except OSError as exc:
        print(f"error: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    finally:
        if args.owned_dir:
            remove_owned_dir(args.owned_dir)
    return code


def remove_owned_dir(path: str) -> None:
    """The last thing the portal does. Once the event loop is closed SIGTERM is back to its default
    and SIGINT raises again, so a second signal (a double Ctrl-C, a supervisor's follow-up SIGTERM, a
    hang-up) would cut the removal short and leave half a folder: all are ignored now, the process is
    ending anyway. A pass that meets a file written meanwhile (ENOTEMPTY) is tried again."""
    for sig in STOP_SIGNALS:
        signal.signal(sig, signal.SIG_IGN)
    for _ in range(3):
        shutil.rmtree(path, ignore_errors=True)
        if not os.path.exists(path):
            return
    sys.stderr.write(f"sandbox: could not remove its folder {path}\n")


if __name__ == "__main__":
    sys.exit(main())
