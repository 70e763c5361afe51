"""`dvcwatch sandbox`: run the sandbox portal in the foreground.

The harness never imports `sandbox_portal` (a real portal must work by configuration alone), so this
command replaces itself with `python -m sandbox_portal` and the same options.
"""

from __future__ import annotations

import argparse
import os
import sys

from dvcwatch.commands.cli import HelpFormatter

EXAMPLES = """examples:
  dvcwatch sandbox                                   http://127.0.0.1:8480, healthy
  dvcwatch sandbox --port 0 --ready-file /tmp/sb.json
  dvcwatch sandbox --faults sandbox_portal/scenarios/bad-day.yaml --db /tmp/dvc.sqlite3
  dvcwatch sandbox --capacity-workers 4 --service-time 0.02   knee at 200 req/s
admin API (faults at run time): Authorization: Bearer $DVCWATCH_SANDBOX_TOKEN; see docs/sandbox.md"""

# option, metavar/flag, help: the same surface as `python -m sandbox_portal`
OPTIONS: list[tuple[str, dict[str, object]]] = [
    ("--host", {"default": "127.0.0.1", "help": "address to listen on (default 127.0.0.1)"}),
    ("--port", {"type": int, "default": 8480, "help": "port; 0 picks a free one (default 8480)"}),
    ("--faults", {"metavar": "FILE", "help": "faults YAML to start with"}),
    ("--db", {"metavar": "PATH", "help": "SQLite file; dossiers survive a restart"}),
    ("--seed", {"type": int, "default": 42, "help": "seed of the pre-registered synthetic citizens"}),
    ("--citizens", {"type": int, "default": 200, "help": "how many synthetic citizens"}),
    ("--clock-speed", {"type": float, "metavar": "X", "help": "sandbox seconds per real second"}),
    (
        "--backoffice",
        {"choices": ("fast", "real"), "help": "fast (~1 s, default) or real (the services' processing time)"},
    ),
    ("--capacity-workers", {"type": int, "metavar": "N", "help": "add a capacity model with N workers"}),
    ("--service-time", {"type": float, "metavar": "S", "help": "seconds per request per worker"}),
    ("--queue", {"type": int, "metavar": "N", "help": "capacity queue length before 503"}),
    ("--ready-file", {"metavar": "F", "help": 'write {"url", "pid"} here once listening'}),
]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "sandbox",
        help="run the sandbox portal (25 services, controllable faults)",
        description=(
            "Run the sandbox Cổng dịch vụ công in the foreground; SIGTERM or Ctrl-C stops it (exit 0), "
            "SIGHUP too (its terminal closed: exit 129)."
        ),
        epilog=EXAMPLES,
        formatter_class=HelpFormatter,
    )
    for flag, kwargs in OPTIONS:
        p.add_argument(flag, **kwargs)  # type: ignore[arg-type]
    p.set_defaults(func=run)


def command_line(args: argparse.Namespace) -> list[str]:
    cmd = [sys.executable, "-m", "sandbox_portal"]
    for flag, _ in OPTIONS:
        value = getattr(args, flag.lstrip("-").replace("-", "_"))
        if value is not None:
            cmd += [flag, str(value)]
    return cmd


def run(args: argparse.Namespace) -> int:
    cmd = command_line(args)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(cmd[0], cmd)
    return 0  # not reached: execv replaces this process
